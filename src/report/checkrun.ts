// The `causal-review` check run's output from a verdict: title, summary, text and annotations.
// Pure: no GitHub calls here. Everything taken from a PR is escaped before it reaches markdown.

import { PR_TEXT_PATH, type Acceptance, type ReviewedFinding, type Verdict } from '../engine/types.js';

export const CHECK_NAME = 'causal-review';
/** GitHub's limit on `output.summary` and `output.text`. */
export const OUTPUT_LIMIT = 65_535;
/** GitHub takes at most 50 annotations per create or update request. */
export const ANNOTATIONS_PER_REQUEST = 50;
/** Past this many annotations the rest are left out (and a note says so): work per run stays bounded. */
export const MAX_ANNOTATIONS = 1_000;
const TITLE_LIMIT = 255;
const MESSAGE_LIMIT = 4_000;
const CELL_LIMIT = 300;

/** An acceptance as the app records it: who accepted what, why and when. */
export interface AcceptanceRecord extends Acceptance {
  login: string;
  at: string;
}

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: 'notice' | 'warning' | 'failure';
  message: string;
  title: string;
  raw_details?: string;
}

export interface CheckRunOutput {
  title: string;
  summary: string;
  text: string;
  annotations: Annotation[];
}

export interface RenderOptions {
  /** acceptances on record, carried forward in the output's hidden marker */
  acceptances?: readonly AcceptanceRecord[];
  /** where the finding's documentation lives, by check id */
  docsUrl?: (checkId: string) => string | undefined;
}

const ZERO_WIDTH_SPACE = '\u200b';
const MARKDOWN_SPECIAL = new Set(['\\', '`', '*', '_', '{', '}', '[', ']', '(', ')', '#', '+', '-', '!', '|', '~', '>', '<']);

/**
 * PR-derived text made inert in GitHub markdown: no HTML, no @-mentions, no links or emphasis,
 * no table breaks; one line, at most `limit` characters.
 */
export function escapeMarkdown(text: string, limit = CELL_LIMIT): string {
  const cut = text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
  let out = '';
  for (const ch of cut) {
    if (ch === '\n' || ch === '\r' || ch === '\t') out += ' ';
    else if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '@') out += `@${ZERO_WIDTH_SPACE}`;
    else if (MARKDOWN_SPECIAL.has(ch)) out += `\\${ch}`;
    else out += ch;
  }
  return out;
}

/** PR-derived text inside a fenced block: the fence is longer than any backtick run in the text. */
export function fenced(text: string, info = ''): string {
  let longest = 0;
  let run = 0;
  for (const ch of text) {
    run = ch === '`' ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${text.replaceAll('@', `@${ZERO_WIDTH_SPACE}`)}\n${fence}`;
}

function where(finding: ReviewedFinding): string {
  if (finding.path === PR_TEXT_PATH) return 'PR text';
  const lines = finding.endLine && finding.endLine !== finding.line ? `${finding.line}-${finding.endLine}` : `${finding.line}`;
  return `${escapeMarkdown(finding.path, 200)}:${lines}`;
}

function status(finding: ReviewedFinding): string {
  if (finding.accepted) return 'accepted';
  if (finding.blocking) return '**blocking**';
  return finding.severity === 'error' ? 'advisory (error)' : finding.severity;
}

function annotationLevel(finding: ReviewedFinding): Annotation['annotation_level'] {
  if (finding.accepted) return 'notice';
  if (finding.blocking) return 'failure';
  return finding.severity === 'notice' ? 'notice' : 'warning';
}

/** Annotations for findings on files: PR-text findings have no line to sit on, so they live in the summary only. */
export function annotationsFor(findings: readonly ReviewedFinding[]): Annotation[] {
  return findings
    .filter((f) => f.path !== PR_TEXT_PATH)
    .slice(0, MAX_ANNOTATIONS)
    .map((f) => {
      const annotation: Annotation = {
        path: f.path,
        start_line: f.line,
        end_line: Math.max(f.line, f.endLine ?? f.line),
        annotation_level: annotationLevel(f),
        title: `${f.checkId}${f.accepted ? ' (accepted)' : ''}`.slice(0, TITLE_LIMIT),
        message: f.message.slice(0, MESSAGE_LIMIT),
      };
      if (f.evidence) annotation.raw_details = f.evidence.slice(0, MESSAGE_LIMIT);
      return annotation;
    });
}

/** The check run's title: short, no PR text in it. */
export function titleFor(verdict: Verdict): string {
  const n = verdict.blocking.length;
  if (verdict.conclusion === 'success') {
    return verdict.findings.length === 0 ? 'No findings' : `No blocking findings (${verdict.findings.length} advisory or accepted)`;
  }
  return `${n} blocking finding${n === 1 ? '' : 's'}${verdict.conclusion === 'neutral' ? ' (advisory on this PR)' : ''}`;
}

/**
 * Lines joined until the next would pass `limit`; what is left out is counted in a closing note,
 * so a reader knows the list is not complete.
 */
function boundedLines(head: string[], rows: string[], tail: string[], limit: number, leftOut: (n: number) => string): string {
  const fixed = [...head, ...tail].join('\n').length + 200;
  const kept: string[] = [];
  let size = fixed;
  for (const row of rows) {
    if (size + row.length + 1 > limit) break;
    kept.push(row);
    size += row.length + 1;
  }
  const note = kept.length < rows.length ? ['', leftOut(rows.length - kept.length)] : [];
  const joined = [...head, ...kept, ...note, ...tail].join('\n');
  // the fixed part alone may be too long (hostile notes): cut it hard rather than be rejected by GitHub
  return joined.length <= limit ? joined : `${joined.slice(0, limit - 40)}\n\n… (output cut at GitHub's limit)`;
}

function findingsTable(verdict: Verdict): string[] {
  return verdict.findings.map(
    (f) => `| ${status(f)} | ${escapeMarkdown(f.checkId, 60)} | ${where(f)} | ${escapeMarkdown(f.message)} |`,
  );
}

function acceptedSection(records: readonly AcceptanceRecord[], verdict: Verdict): string[] {
  const used = new Set(verdict.accepted.map((f) => (f.accepted as AcceptanceRecord | undefined)?.fingerprint));
  if (records.length === 0) return [];
  return [
    '',
    '### Accepted',
    '',
    '| accepted | by | why | when | matches a finding now |',
    '|---|---|---|---|---|',
    ...records.map(
      (r) =>
        `| ${escapeMarkdown(r.fingerprint, 80)} | ${escapeMarkdown(r.login, 60)} | ${escapeMarkdown(r.reason)} | ${escapeMarkdown(r.at, 40)} | ${used.has(r.fingerprint) ? 'yes' : 'no'} |`,
    ),
  ];
}

export function renderSummary(verdict: Verdict, options: RenderOptions = {}): string {
  const ai = verdict.authorship.aiAuthored
    ? `yes: ${verdict.authorship.reasons.slice(0, 5).map((r) => escapeMarkdown(r, 200)).join('; ')}`
    : 'no (no agent trailer, bot author, generated-with marker, label or branch prefix)';
  const head = [
    `**Verdict: ${verdict.conclusion}.** ${escapeMarkdown(verdict.why, 500)}`,
    '',
    `**AI-authored:** ${ai}`,
  ];
  if (verdict.conclusion === 'neutral' && verdict.blocking.length > 0) {
    head.push('', 'The blocking findings are reported as advice here; under `enforce: all` they fail the check.');
  }
  const rows = findingsTable(verdict);
  if (rows.length > 0) head.push('', '| status | check | where | finding |', '|---|---|---|---|');
  const tail = [...acceptedSection(options.acceptances ?? [], verdict)];
  if (verdict.notes.length > 0) {
    tail.push('', '### Notes', '', ...verdict.notes.slice(0, 50).map((n) => `- ${escapeMarkdown(n, 500)}`));
  }
  return boundedLines(head, rows, tail, OUTPUT_LIMIT, (n) => `${n} more finding${n === 1 ? '' : 's'} left out of this table to stay within GitHub's ${OUTPUT_LIMIT}-character limit; see the annotations and the details.`);
}

function findingDetails(f: ReviewedFinding, docsUrl: RenderOptions['docsUrl']): string {
  const parts = [`#### ${escapeMarkdown(f.checkId, 60)} at ${where(f)} (${status(f)})`, '', escapeMarkdown(f.message, MESSAGE_LIMIT)];
  if (f.evidence) parts.push('', fenced(f.evidence.slice(0, 2_000)));
  if (f.accepted) {
    const record = f.accepted as Partial<AcceptanceRecord>;
    parts.push('', `Accepted by ${escapeMarkdown(record.login ?? 'unknown', 60)}: ${escapeMarkdown(f.accepted.reason)}`);
  }
  const url = docsUrl?.(f.checkId);
  if (url) parts.push('', `[About ${escapeMarkdown(f.checkId, 60)}](${url})`);
  parts.push('', `Fingerprint: \`${f.fingerprint}\` (to accept: \`/causal-review accept ${f.fingerprint} -- <reason>\`)`);
  return parts.join('\n');
}

/** The details, ending with the hidden record of acceptances the next analysis reads back. */
export function renderText(verdict: Verdict, options: RenderOptions = {}): string {
  const marker = encodeAcceptances(options.acceptances ?? []);
  const rows = verdict.findings.map((f) => `${findingDetails(f, options.docsUrl)}\n`);
  return boundedLines([], rows, ['', marker], OUTPUT_LIMIT, (n) => `${n} more finding${n === 1 ? '' : 's'} left out of the details to stay within GitHub's ${OUTPUT_LIMIT}-character limit.`);
}

export function renderCheckRun(verdict: Verdict, options: RenderOptions = {}): CheckRunOutput {
  const annotations = annotationsFor(verdict.findings);
  const notes = verdict.findings.filter((f) => f.path !== PR_TEXT_PATH).length > MAX_ANNOTATIONS
    ? [...verdict.notes, `Only the first ${MAX_ANNOTATIONS} findings are annotated.`]
    : verdict.notes;
  const shown = { ...verdict, notes };
  return { title: titleFor(verdict), summary: renderSummary(shown, options), text: renderText(shown, options), annotations };
}

/** The output of a run that could not finish: what failed, and what the reader can do. */
export function renderError(kind: 'internal' | 'config', detail: string, conclusion: string, aiAuthored: boolean | undefined, acceptances: readonly AcceptanceRecord[] = []): Omit<CheckRunOutput, 'annotations'> {
  const what = kind === 'config' ? 'The configuration file .github/causal-review.yml is not valid' : 'The analysis failed';
  const policy = conclusion === 'failure'
    ? 'The PR is not passed while its findings are unknown (onInternalError: failure).'
    : 'The check is neutral: the PR does not count as AI-authored, or the configuration says onInternalError: neutral.';
  return {
    title: kind === 'config' ? 'Configuration error' : 'Internal error',
    summary: [`**${what}.**`, '', fenced(detail.slice(0, 4_000)), '', policy, '', `AI-authored: ${aiAuthored === undefined ? 'unknown (the commits could not be read), so treated as yes' : aiAuthored ? 'yes' : 'no'}. Use "Re-run" to try again.`].join('\n'),
    text: encodeAcceptances(acceptances),
  };
}

// --- the acceptance record, carried in the output text ---

const MARKER_OPEN = '<!-- causal-review:acceptances ';
const MARKER_CLOSE = ' -->';
export const MAX_ACCEPTANCES = 50;

/**
 * A hidden marker with the acceptances as base64 JSON: base64 cannot close the HTML comment, and
 * PR text in the output is escaped (`<` becomes `&lt;`), so a PR cannot plant a marker of its own.
 */
export function encodeAcceptances(records: readonly AcceptanceRecord[]): string {
  const bounded = records.slice(-MAX_ACCEPTANCES).map((r) => ({
    fingerprint: r.fingerprint.slice(0, 100),
    by: r.by.slice(0, 100),
    reason: r.reason.slice(0, 500),
    at: r.at.slice(0, 40),
    login: r.login.slice(0, 100),
  }));
  return `${MARKER_OPEN}${Buffer.from(JSON.stringify(bounded)).toString('base64')}${MARKER_CLOSE}`;
}

/** The acceptances recorded in a check run's text; anything malformed counts as none. */
export function decodeAcceptances(text: string | null | undefined): AcceptanceRecord[] {
  if (!text) return [];
  const at = text.lastIndexOf(MARKER_OPEN);
  if (at === -1) return [];
  const end = text.indexOf(MARKER_CLOSE, at + MARKER_OPEN.length);
  if (end === -1 || end - at > 60_000) return [];
  try {
    const value: unknown = JSON.parse(Buffer.from(text.slice(at + MARKER_OPEN.length, end), 'base64').toString('utf8'));
    if (!Array.isArray(value)) return [];
    return value
      .filter(
        (r): r is AcceptanceRecord =>
          typeof r === 'object' && r !== null && ['fingerprint', 'by', 'reason', 'at', 'login'].every((k) => typeof (r as Record<string, unknown>)[k] === 'string'),
      )
      .slice(-MAX_ACCEPTANCES);
  } catch {
    return [];
  }
}
