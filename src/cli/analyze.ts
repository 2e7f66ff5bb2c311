// `causal-review analyze`: review a local git range (or a whole tree with --all) and print the
// findings and verdict as text, JSON or SARIF; the exit code is the verdict.

import { CHECKS } from '../../checks/index.js';
import { DEFAULT_CONFIG, parseConfig, type Config } from '../config/schema.js';
import { review } from '../engine/engine.js';
import { splitTitle } from '../engine/memory.js';
import type { Conclusion, Revision, Verdict } from '../engine/types.js';
import { gitSnapshot, type GitSnapshot } from '../git/snapshot.js';
import { renderJson } from '../report/json.js';
import { renderSarif } from '../report/sarif.js';
import { renderText, sourceLines, wantsColor } from '../report/text.js';
import { parseOptions, readUserFile, version } from './args.js';
import { ANALYZE_HELP, CONFIG_PATH } from './help.js';
import { parsesAhead, planFor, reviewInParts } from './parallel.js';
import { GoParseThread } from './parse-thread.js';
import { EXIT, UsageError, type CliIo } from './io.js';

export const FORMATS = ['text', 'json', 'sarif'] as const;
export type Format = (typeof FORMATS)[number];

/** GitHub caps a PR body at 65,536 characters; a description file may be larger but is cut there. */
const MAX_BODY_CHARS = 65_536;


export function exitCodeOf(conclusion: Conclusion): number {
  return conclusion === 'failure' ? EXIT.failure : EXIT.ok;
}

export function parseFormat(value: string | undefined): Format {
  const format = value ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format ${format}: must be one of ${FORMATS.join(', ')}`);
  return format as Format;
}

export function parseJobs(value: string | undefined): number | 'auto' {
  if (value === undefined || value === 'auto') return 'auto';
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 64) throw new UsageError(`--jobs ${value}: must be auto or a whole number from 1 to 64`);
  return n;
}

/** Write a verdict in a format; text needs the flagged source lines, read before rendering. */
export async function writeVerdict(
  io: CliIo,
  format: Format,
  verdict: Verdict,
  read: (path: string, rev: Revision) => Promise<string | undefined>,
): Promise<void> {
  if (format === 'json') io.stdout.write(renderJson(verdict));
  else if (format === 'sarif') io.stdout.write(renderSarif(verdict, { checks: CHECKS, version: version() }));
  else io.stdout.write(renderText(verdict, { color: wantsColor(io.stdout, io.env), sources: await sourceLines(verdict, read), checks: CHECKS }));
}

/** The repository's own configuration, from the base commit so a PR cannot switch off its own gate. */
async function repositoryConfig(snapshot: GitSnapshot, all: boolean): Promise<Config> {
  const rev = all ? 'head' : 'base';
  const text = await snapshot.read(CONFIG_PATH, rev);
  if (text === undefined) return structuredClone(DEFAULT_CONFIG);
  return parseConfig(text, `${CONFIG_PATH} at ${all ? snapshot.range.head : snapshot.range.base}`, CHECKS);
}

/** A parse thread, or none where a thread cannot be started (the files are then parsed in this one). */
function startParseThread(): GoParseThread | undefined {
  try {
    return new GoParseThread();
  } catch {
    return undefined;
  }
}

export async function analyzeCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(argv, {
    repo: { type: 'string' },
    base: { type: 'string' },
    head: { type: 'string' },
    all: { type: 'boolean' },
    'pr-description': { type: 'string' },
    label: { type: 'string', multiple: true },
    config: { type: 'string' },
    format: { type: 'string' },
    jobs: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(ANALYZE_HELP);
    return EXIT.ok;
  }
  const format = parseFormat(values.format);
  const jobs = parseJobs(values.jobs);
  if (values.all && values.base !== undefined) throw new UsageError('--all reviews the whole tree from the empty tree: it takes no --base');
  const descriptionFile = values['pr-description'];
  const description = descriptionFile ? splitTitle(readUserFile('--pr-description', descriptionFile, 4_000_000)) : { title: '', body: '' };
  const configFile = values.config;
  const configText = configFile ? readUserFile('--config', configFile, 256_000) : undefined;
  // an explicit config file is checked before any git work, so its errors come first
  const given = configText !== undefined ? parseConfig(configText, `--config ${configFile}`, CHECKS) : undefined;

  // a whole-tree scan starts its parse thread first, so that it starts while git is read; closed on every path
  let parseThread = values.all && parsesAhead(jobs) ? startParseThread() : undefined;
  try {
    const snapshot = await gitSnapshot({
      repo: values.repo,
      base: values.base,
      head: values.head,
      all: values.all,
      title: description.title.slice(0, 1024),
      body: description.body.slice(0, MAX_BODY_CHARS),
      labels: (values.label ?? []).map((l) => l.slice(0, 100)).slice(0, 100),
    });
    try {
      if (description.body.length > MAX_BODY_CHARS) snapshot.notes.push(`the PR description is over ${MAX_BODY_CHARS} characters; only the first ${MAX_BODY_CHARS} were read`);
      const config = given ?? (await repositoryConfig(snapshot, values.all === true));
      const plan = planFor(jobs, snapshot);
      if (plan.parseThread) parseThread ??= startParseThread();
      else {
        await parseThread?.close();
        parseThread = undefined;
      }
      const options = { config, checks: CHECKS, parseAhead: parseThread };
      const verdict = plan.threads > 1 ? await reviewInParts(snapshot, values.all === true, options, plan) : await review(snapshot, options);
      if (parseThread && process.env.CAUSAL_REVIEW_THREAD_STATS) io.stderr.write(`${parseThread.stats()}\n`);
      await parseThread?.close();
      await writeVerdict(io, format, verdict, snapshot.read);
      return exitCodeOf(verdict.conclusion);
    } finally {
      snapshot.close();
    }
  } finally {
    await parseThread?.close();
  }
}

