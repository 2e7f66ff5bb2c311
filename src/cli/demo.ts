// `causal-review demo`: review the bundled example PR (examples/demo: an agent's time.Sleep
// "fix" of a status-update race, blamed on API server latency) and show what the check run would say.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHECKS } from '../../checks/index.js';
import { DEFAULT_CONFIG, parseConfig } from '../config/schema.js';
import { review } from '../engine/engine.js';
import { memorySnapshot, parsePrMarkdown, type FileTree } from '../engine/memory.js';
import type { Verdict } from '../engine/types.js';
import { renderCheckRun } from '../report/checkrun.js';
import { exitCodeOf, FORMATS, parseFormat, writeVerdict } from './analyze.js';
import { parseOptions } from './args.js';
import { DEMO_HELP } from './help.js';
import { EXIT, UsageError, type CliIo } from './io.js';

export const DEMO_DIR = fileURLToPath(new URL('../../examples/demo/', import.meta.url));


/** A folder's files as a path -> text map (paths relative to the folder, with forward slashes). */
export function readTree(dir: string): FileTree {
  const tree: FileTree = {};
  if (!existsSync(dir)) return tree;
  const visit = (d: string) => {
    for (const entry of readdirSync(d).sort()) {
      const full = join(d, entry);
      if (statSync(full).isDirectory()) visit(full);
      else tree[relative(dir, full).split('\\').join('/')] = readFileSync(full, 'utf8');
    }
  };
  visit(dir);
  return tree;
}

export async function reviewDemo(dir = DEMO_DIR): Promise<Verdict> {
  const pr = parsePrMarkdown(readFileSync(join(dir, 'pr.md'), 'utf8'));
  const configFile = join(dir, 'config.yml');
  const config = existsSync(configFile) ? parseConfig(readFileSync(configFile, 'utf8'), configFile, CHECKS) : structuredClone(DEFAULT_CONFIG);
  const snapshot = memorySnapshot({
    repo: 'example/db-operator',
    number: 42,
    title: pr.title,
    body: pr.body,
    headRef: 'fix-status-race',
    base: readTree(join(dir, 'base')),
    head: readTree(join(dir, 'head')),
    commits: pr.commits.map((message) => ({ message, author: { name: 'Dev', email: 'dev@example.com' } })),
  });
  return review(snapshot, { config, checks: CHECKS });
}

/**
 * Markdown as GitHub would display it, for a terminal: the escapes the check-run renderer adds
 * to PR text are undone, and control characters are replaced so they cannot drive the terminal.
 */
export function displayMarkdown(markdown: string): string {
  return markdown
    .replace(/\\([\\`*_{}[\]()#+\-!|~<>.])/g, '$1')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&')
    .replaceAll('\u200b', '')
    .replace(/[\x00-\x08\x0b-\x1f\x7f\x9b]/g, '?');
}

/** The check run as a terminal shows it: conclusion and title, the summary as displayed, one line per annotation. */
export function renderCheckRunForTerminal(verdict: Verdict): string {
  const output = renderCheckRun(verdict, { docsUrl: (id) => `docs/checks.md#${id}` });
  const lines = [
    `Check run "causal-review": ${verdict.conclusion}`,
    `Title: ${output.title}`,
    '',
    '--- summary ---',
    displayMarkdown(output.summary).trimEnd(),
    '',
    `--- ${output.annotations.length} line annotation${output.annotations.length === 1 ? '' : 's'} ---`,
    ...output.annotations.map((a) => displayMarkdown(`${a.path}:${a.start_line} [${a.annotation_level}] ${a.title}\n  ${a.message.split('\n').join('\n  ')}`)),
    '',
  ];
  return lines.join('\n');
}

export async function demoCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(argv, { format: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    io.stdout.write(DEMO_HELP);
    return EXIT.ok;
  }
  // the check run (the default) or any format analyze writes; a bad one is refused before the review runs
  if (values.format !== undefined && values.format !== 'checkrun' && !(FORMATS as readonly string[]).includes(values.format)) {
    throw new UsageError(`--format ${values.format}: must be one of checkrun, ${FORMATS.join(', ')}`);
  }
  const verdict = await reviewDemo();
  if (values.format === undefined || values.format === 'checkrun') {
    io.stdout.write(renderCheckRunForTerminal(verdict));
  } else {
    const head = readTree(join(DEMO_DIR, 'head'));
    await writeVerdict(io, parseFormat(values.format), verdict, async (path) => head[path]);
  }
  return exitCodeOf(verdict.conclusion);
}
