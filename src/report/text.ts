// The CLI's report for people: findings grouped by file with the flagged source line, then the
// verdict and why, then whether the PR counts as AI-authored. ANSI colour only on a TTY without NO_COLOR.

import { PR_TEXT_PATH, type Check, type ReviewedFinding, type Revision, type Verdict } from '../engine/types.js';

export interface TextOptions {
  color: boolean;
  /** the head source line of a finding, keyed `path:line` (see sourceLines) */
  sources?: Map<string, string>;
  checks?: readonly Check[];
}

/** Colour on an interactive terminal unless NO_COLOR is set (https://no-color.org: any non-empty value). */
export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** Read the flagged head lines once, before rendering, so rendering stays synchronous and pure. */
export async function sourceLines(
  verdict: Verdict,
  read: (path: string, rev: Revision) => Promise<string | undefined>,
): Promise<Map<string, string>> {
  const lines = new Map<string, string>();
  const paths = new Set(verdict.findings.filter((f) => f.path !== PR_TEXT_PATH).map((f) => f.path));
  for (const path of paths) {
    const text = await read(path, 'head');
    if (text === undefined) continue;
    const all = text.split('\n');
    for (const f of verdict.findings) {
      if (f.path === path && all[f.line - 1] !== undefined) lines.set(`${path}:${f.line}`, all[f.line - 1]!);
    }
  }
  return lines;
}

const CODES = { red: 31, yellow: 33, cyan: 36, green: 32, dim: 2, bold: 1 } as const;
type Style = keyof typeof CODES;

/** Control characters from PR text must not reach a terminal: they could rewrite what is shown. */
function printable(text: string): string {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f\x9b]/g, '?');
}

export function renderText(verdict: Verdict, options: TextOptions): string {
  const paint = (style: Style, text: string) => (options.color ? `\x1b[${CODES[style]}m${text}\x1b[0m` : text);
  const out: string[] = [];
  const byPath = new Map<string, ReviewedFinding[]>();
  for (const f of verdict.findings) {
    const list = byPath.get(f.path);
    if (list) list.push(f);
    else byPath.set(f.path, [f]);
  }
  for (const [path, findings] of byPath) {
    // a path is the PR's too: a file named with a terminal escape must not reach the terminal as one
    const shown = printable(path);
    out.push(paint('bold', path === PR_TEXT_PATH ? 'PR title, description and commit messages' : shown));
    for (const f of findings) {
      const where = path === PR_TEXT_PATH ? `${shown}:${f.line}` : `${shown}:${f.line}${f.endLine && f.endLine !== f.line ? `-${f.endLine}` : ''}`;
      const status = f.accepted ? 'accepted' : f.blocking ? 'blocking' : 'advisory';
      const color: Style = f.accepted ? 'green' : f.severity === 'error' ? 'red' : f.severity === 'warning' ? 'yellow' : 'cyan';
      out.push(`  ${where}  ${paint(color, `${f.checkId} (${f.severity}, ${status})`)}`);
      const source = options.sources?.get(`${f.path}:${f.line}`);
      if (source !== undefined) out.push(paint('dim', `    | ${printable(source.trim()).slice(0, 200)}`));
      else if (f.evidence) out.push(paint('dim', `    | ${printable(f.evidence).split('\n')[0]!.slice(0, 200)}`));
      out.push(...wrap(printable(f.message), 96).map((l) => `    ${l}`));
      const advice = adviceFor(f, options.checks);
      if (advice) out.push(...wrap(printable(advice), 96).map((l, i) => `    ${i === 0 ? paint('bold', 'advice: ') : '        '}${l}`));
      if (f.accepted) out.push(`    accepted by ${printable(f.accepted.by)}: ${printable(f.accepted.reason)}`);
    }
    out.push('');
  }
  if (verdict.findings.length === 0) out.push('No findings.', '');
  const conclusionColor: Style = verdict.conclusion === 'failure' ? 'red' : verdict.conclusion === 'neutral' ? 'yellow' : 'green';
  out.push(`${paint(conclusionColor, paint('bold', verdict.conclusion))}: ${verdict.why}`);
  const { aiAuthored, reasons } = verdict.authorship;
  out.push(
    aiAuthored
      ? `AI-authored: yes (${printable(reasons.join('; '))})`
      : 'AI-authored: no (no agent trailer, bot author, "Generated with" marker, label or branch prefix)',
  );
  for (const note of verdict.notes) out.push(paint('dim', `note: ${printable(note)}`));
  return `${out.join('\n')}\n`;
}

/** What to do beyond the message: the finding's own replacement, else where the check's docs are. */
function adviceFor(f: ReviewedFinding, checks: readonly Check[] | undefined): string | undefined {
  if (f.suggestion) {
    const first = f.suggestion.replacement.split('\n').find((l) => l.trim()) ?? '';
    const range = f.suggestion.startLine === f.suggestion.endLine ? `line ${f.suggestion.startLine}` : `lines ${f.suggestion.startLine}-${f.suggestion.endLine}`;
    return `replace ${range} with: ${first.trim()}${f.suggestion.replacement.trim().includes('\n') ? ' ...' : ''}`;
  }
  const check = checks?.find((c) => c.id === f.checkId);
  return check ? `flagged and accepted examples in docs/checks.md#${check.id}` : undefined;
}

/** Greedy word wrap; a word longer than the width stays whole on its own line. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    lines.push(line);
  }
  return lines;
}
