// The engine: a snapshot and a configuration in, reviewed findings and a verdict out.
// Pure apart from the clock it uses to hold each check to its time budget.

import { createHash } from 'node:crypto';
import picomatch from 'picomatch';
import type { Config } from '../config/schema.js';
import { loadGoParser } from '../lang/go.js';
import { languageOf, mayBeScript, serves } from '../lang/detect.js';
import { detectAuthorship } from './authorship.js';
import { ParseCache, changedLines, type GoParseAhead } from './parse.js';
import { packageSays } from './packages.js';
import { dirOf } from './paths.js';
import { covers, findSuppressions, type Suppression } from './suppress.js';
import {
  PR_TEXT_PATH,
  type Acceptance,
  type Authorship,
  type Check,
  type ChangedFile,
  type CheckContext,
  type Conclusion,
  type Finding,
  type Language,
  type ParsedFile,
  type PullRequestSnapshot,
  type Report,
  type Revision,
  type ReviewedFinding,
  type Verdict,
} from './types.js';

export const INTERNAL_ERROR = 'internal-error';
export const SUPPRESSION = 'suppression';

export interface ReviewOptions {
  config: Config;
  checks: readonly Check[];
  acceptances?: readonly Acceptance[];
  /** milliseconds, monotonic; injectable for tests */
  now?: () => number;
  /**
   * Collect only one part of the findings (src/cli/parallel.ts runs them in threads): the
   * `shardable` checks on the changed files of the packages `shardOf` gives this index, and, in part 0,
   * every other check.
   */
  shard?: { index: number; count: number };
  /** a thread that parses the head's Go files ahead of the checks (src/cli/parse-thread.ts) */
  parseAhead?: GoParseAhead;
}

/** What checks found, before the diff, suppressions and the policy are applied: what a part sends back. */
export interface Collected {
  findings: Finding[];
  notes: string[];
}

class BudgetExceeded extends Error {}

/** Stable across pushes: the check, the path and what the finding is about, not its line number. */
export function fingerprintOf(checkId: string, path: string, key: string): string {
  const normalized = key.toLowerCase().replace(/\s+/g, ' ').trim();
  return createHash('sha256').update(`${checkId}\0${path}\0${normalized}`).digest('hex').slice(0, 12);
}

export function enabledChecks(checks: readonly Check[], config: Config): Check[] {
  return checks.filter((check) => config.checks[check.id]?.enabled !== false);
}

/** Changed source files per part at most: a part's parse trees are freed when it is done, which bounds memory. */
export const PART_FILES = 1500;

/** The changed source files (Go, TS, JS) and packages (directories) of a change list. */
export function sourceFiles(files: readonly ChangedFile[]): { sources: number; packages: number } {
  const packages = new Set(files.map((f) => dirOf(f.path))).size;
  const sources = files.filter((f) => f.status !== 'removed' && /\.(go|[cm]?[jt]sx?)$/.test(f.path)).length;
  return { sources, packages };
}

/** How many parts a review of these changes is taken in, one after another: more than PART_FILES source files are cut. */
export function partsNeeded(files: readonly ChangedFile[]): number {
  const { sources, packages } = sourceFiles(files);
  return Math.max(1, Math.min(packages, Math.ceil(sources / PART_FILES)));
}

export async function review(snapshot: PullRequestSnapshot, options: ReviewOptions): Promise<Verdict> {
  // a very large change (a whole-tree scan, a 3,000-file PR) in parts of whole packages, so that not every
  // file's tree is held at once: wasm memory runs out near 10,000 Go files
  const count = partsNeeded(snapshot.files);
  return finishReview(snapshot, options, await collectParts(snapshot, options, Array.from({ length: count }, (_, i) => i), count));
}

/** Collect parts `indices` of `count`, one after another: each part's trees are freed before the next is parsed. */
export async function collectParts(snapshot: PullRequestSnapshot, options: ReviewOptions, indices: number[], count: number): Promise<Collected[]> {
  let next = 0;
  return (await collectTaken(snapshot, options, () => indices[next++], count)).map(([, c]) => c);
}

/**
 * Collect the parts of `count` that `take` hands out, one after another, until it hands out none (threads
 * share one queue of parts this way): each with its index, so that the join does not depend on who took what.
 */
export async function collectTaken(snapshot: PullRequestSnapshot, options: ReviewOptions, take: () => number | undefined, count: number): Promise<[number, Collected][]> {
  const collected: [number, Collected][] = [];
  for (let index = take(); index !== undefined; index = take()) {
    collected.push([index, await collectFindings(snapshot, { ...options, shard: { index, count } })]);
  }
  return collected;
}

/** Run the checks (of one part, with `options.shard`) and return what they report, unfiltered. */
export async function collectFindings(snapshot: PullRequestSnapshot, options: ReviewOptions): Promise<Collected> {
  const { config, shard } = options;
  const now = options.now ?? (() => performance.now());
  const checks = enabledChecks(options.checks, config).filter((c) => !shard || shard.index === 0 || c.shardable);
  const changes = changedFiles(snapshot, config);
  const cache = new ParseCache(snapshot, config.limits.maxFileBytes, options.parseAhead);
  const findings: Finding[] = [];
  const notes: string[] = [];
  const partOf = shard ? shardOf(snapshot.files, shard.count) : undefined;
  try {
    // any check may parse Go through ctx.parse (a text check reading the diff), so load it for any Go file
    if (checks.some((c) => c.languages.includes('go')) || changes.some((f) => f.path.endsWith('.go'))) await loadGoParser();
    // a part reads its own files, and the others only where a check that takes every file serves their
    // language: reading every file in every part read a 21,505-file scan's files fifteen times over
    const everyFileIn = [...new Set(checks.filter((c) => !c.shardable && !c.changesOnly).flatMap((c) => c.languages))];
    const index = shard?.index ?? 0;
    const inPart = (path: string, part = index) => !partOf || partOf(path) === part;
    const wanted = changes.filter((f) => f.status !== 'removed' && (inPart(f.path) || mayServe(f.path, everyFileIn)));
    const reads = wanted.map((f) => cache.get(f.path, 'head'));
    const handing = options.parseAhead
      ? handOver(
          options.parseAhead,
          cache,
          gatedBy(checks, snapshot, cache),
          wanted.flatMap((f, i) => (f.path.endsWith('.go') && inPart(f.path) ? [{ path: f.path, read: reads[i]! }] : [])),
          shard && index + 1 < shard.count ? readPart(snapshot, changes, (path) => inPart(path, index + 1), config.limits.maxFileBytes) : Promise.resolve([]),
        )
      : undefined;
    const parsed = (await Promise.all(reads)).filter((f): f is ParsedFile => f !== undefined);
    const mine = partOf ? parsed.filter((f) => inPart(f.path)) : parsed;
    await handing;
    for (const check of checks) {
      findings.push(...(await runCheck(check, snapshot, check.shardable ? mine : parsed, cache, options, now, notes)));
    }
    // files skipped in the order their reads finished, which varies from run to run: sorted, so the output does not vary
    return { findings, notes: [...[...cache.skipped].sort(), ...notes] };
  } finally {
    cache.dispose();
  }
}

/**
 * The Go files of the part `inPart` picks, at head, in order, those over the size limit left out as that
 * part will leave them (a file git cannot read now is read, and its error met, when its part comes).
 */
async function readPart(snapshot: PullRequestSnapshot, changes: readonly ChangedFile[], inPart: (path: string) => boolean, maxFileBytes: number): Promise<{ path: string; text: string }[]> {
  const paths = changes.filter((f) => f.status !== 'removed' && f.path.endsWith('.go') && inPart(f.path)).map((f) => f.path);
  const texts = await Promise.all(paths.map((path) => snapshot.read(path, 'head').catch(() => undefined)));
  return paths.flatMap((path, i) => (texts[i] === undefined || texts[i]!.length > maxFileBytes ? [] : [{ path, text: texts[i]! }]));
}

/** Files grouped by package (directory), in the order their packages first come. */
function byPackage<F extends { path: string }>(files: readonly F[]): Map<string, F[]> {
  const packages = new Map<string, F[]>();
  for (const f of files) {
    const dir = dirOf(f.path);
    const group = packages.get(dir);
    if (group) group.push(f);
    else packages.set(dir, [f]);
  }
  return packages;
}

/**
 * Hand this part's Go files to the parse thread package by package, each as soon as its files are read
 * (git answers in order), where the checks will parse it (`parsedBy`); then the next part's, read with
 * this part's while the main thread waits for git anyway: during the checks it seldom turns to git's
 * answers, and the parse thread would run dry at this part's end. Never fails: a file not handed over is
 * parsed in the main thread, and an error reading one is met there.
 */
async function handOver(
  ahead: GoParseAhead,
  cache: ParseCache,
  parsedBy: (dir: string) => Promise<boolean>,
  thisPart: readonly { path: string; read: Promise<unknown> }[],
  nextPart: Promise<readonly { path: string; text: string }[]>,
): Promise<void> {
  try {
    for (const [dir, files] of byPackage(thisPart)) {
      await Promise.all(files.map((f) => f.read));
      if (await parsedBy(dir)) await cache.handOver(files.map((f) => f.path));
    }
    // what was read ahead for this part and not asked for (a file over the size limit) goes, trees and all
    ahead.dropPrefetched();
    for (const [dir, files] of byPackage(await nextPart)) if (await parsedBy(dir)) for (const f of files) ahead.prefetch(f.text);
  } catch {
    // the same error comes to the reads' or the checks' own (see above)
  }
}

/**
 * Will the checks parse the Go package in `dir`, as near as their package gates tell (Check.goPackageGate,
 * asked as the checks ask them, and remembered for them)? A package none of whose files says a gate's
 * words is parsed by no check, and its files go to no parse thread (a whole-tree scan of libraries
 * parses a third of its files). Every package where a Go check has no gate.
 */
function gatedBy(checks: readonly Check[], snapshot: PullRequestSnapshot, cache: ParseCache): (dir: string) => Promise<boolean> {
  const gates = checks.filter((c) => c.languages.includes('go') && !c.changesOnly).map((c) => c.goPackageGate);
  const ctx = {
    list: (dir: string, rev: Revision = 'head') => snapshot.list(dir, rev),
    read: (path: string, rev: Revision = 'head') => snapshot.read(path, rev),
    memo: <T>(key: string, compute: () => T) => cache.memo(key, compute),
  };
  return async (dir) => {
    for (const gate of gates) if (gate === undefined || (await packageSays(ctx, dir, gate))) return true;
    return false;
  };
}

/** Join what the parts collected, keep what lies in the diff, apply suppressions, and decide. */
export async function finishReview(snapshot: PullRequestSnapshot, options: ReviewOptions, parts: Collected[]): Promise<Verdict> {
  const { config } = options;
  const checks = enabledChecks(options.checks, config);
  const changes = changedFiles(snapshot, config);
  const cache = new ParseCache(snapshot, config.limits.maxFileBytes);
  try {
    const findings = parts.flatMap((p) => p.findings);
    const notes = [...new Set(parts.flatMap((p) => p.notes))];
    const kept = await keepInDiff(findings, checks, cache, snapshot);
    const suppressed = await applySuppressions(kept, changes.filter((f) => f.status !== 'removed').map((f) => f.path), snapshot);
    return decide(snapshot, config, suppressed, options.acceptances ?? [], [...snapshot.notes, ...notes], cache);
  } finally {
    cache.dispose();
  }
}

/** Could a check of these languages be given this file? (A file with no language may be a shell script.) */
function mayServe(path: string, languages: readonly Language[]): boolean {
  const language = languageOf(path);
  if (language) return serves(path, language, languages);
  return mayBeScript(path) && languages.includes('shell');
}

function changedFiles(snapshot: PullRequestSnapshot, config: Config) {
  const ignored = picomatch(config.paths.ignore.length ? config.paths.ignore : ['\0'], { dot: true });
  return snapshot.files.filter((f) => !ignored(f.path));
}

/**
 * Which part a changed file belongs to: whole packages (directories) go to one part, the largest first
 * to the part with the fewest files so far, so every part of a package's analysis sees all its changes.
 */
export function shardOf(files: readonly ChangedFile[], count: number): (path: string) => number {
  const sizes = new Map<string, number>();
  for (const f of files) sizes.set(dirOf(f.path), (sizes.get(dirOf(f.path)) ?? 0) + 1);
  const load = new Array<number>(count).fill(0);
  const part = new Map<string, number>();
  for (const [dir, size] of [...sizes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
    const lightest = load.indexOf(Math.min(...load));
    part.set(dir, lightest);
    load[lightest]! += size;
  }
  return (path) => part.get(dirOf(path)) ?? 0;
}

async function runCheck(
  check: Check,
  snapshot: PullRequestSnapshot,
  parsed: ParsedFile[],
  cache: ParseCache,
  options: ReviewOptions,
  now: () => number,
  notes: string[] = [],
): Promise<Finding[]> {
  const settings = options.config.checks[check.id] ?? {};
  const severity = settings.severity ?? check.defaultSeverity;
  const budget = options.config.limits.checkTimeoutMs;
  const started = now();
  const reports: Finding[] = [];
  const ctx: CheckContext = {
    files: check.changesOnly ? [] : parsed.filter((f) => serves(f.path, f.language, check.languages)),
    changes: snapshot.files,
    read: (path, rev = 'head') => snapshot.read(path, rev),
    list: (dir, rev = 'head') => snapshot.list(dir, rev),
    parse: (path, rev = 'head') => cache.get(path, rev),
    pr: { title: snapshot.title, body: snapshot.body, commits: snapshot.commits, labels: snapshot.labels },
    options: { ...check.defaultOptions, ...settings.options },
    config: options.config,
    report: (r: Report) => {
      reports.push({ ...r, checkId: check.id, severity: r.severity ?? severity });
    },
    checkBudget: () => {
      if (now() - started > budget) throw new BudgetExceeded();
    },
    note: (message: string) => {
      if (notes.length < 200) notes.push(`${check.id}: ${message.slice(0, 500)}`);
    },
    memo: (key, compute) => cache.memo(key, compute),
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    // The timer is a deadline for a check stuck on an await, not a wait: it is cleared as soon as the check ends.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BudgetExceeded()), budget);
    });
    await Promise.race([Promise.resolve().then(() => check.run(ctx)), deadline]);
    if (now() - started > budget) throw new BudgetExceeded();
    return reports;
  } catch (error) {
    const why =
      error instanceof BudgetExceeded
        ? `ran over its ${budget} ms time budget`
        : `failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500);
    return [
      {
        checkId: INTERNAL_ERROR,
        path: PR_TEXT_PATH,
        line: 1,
        severity: 'error',
        message: `The check ${check.id} ${why}. Its findings are unknown, so the PR is not passed on it; re-run the check, and report the error if it stays.`,
        key: `${check.id} ${error instanceof BudgetExceeded ? 'budget' : 'error'}`,
      },
    ];
  } finally {
    clearTimeout(timer);
  }
}

/** Findings are the PR's only on the lines it adds or changes, unless the check says otherwise. */
async function keepInDiff(findings: Finding[], checks: Check[], cache: ParseCache, snapshot: PullRequestSnapshot): Promise<Finding[]> {
  const outside = new Set(checks.filter((c) => c.reportsOutsideDiff).map((c) => c.id));
  outside.add(INTERNAL_ERROR);
  const kept: Finding[] = [];
  for (const finding of findings) {
    if (outside.has(finding.checkId) || finding.path === PR_TEXT_PATH) {
      kept.push(finding);
      continue;
    }
    const file = await cache.get(finding.path, 'head');
    const lines = file ? undefined : changedLines(snapshot.files.find((f) => f.path === finding.path));
    const isChanged = (line: number) => (file ? file.isChanged(line) : lines === 'all' || !!lines?.has(line));
    const last = Math.min(finding.endLine ?? finding.line, finding.line + 200);
    for (let line = finding.line; line <= last; line++) {
      if (isChanged(line)) {
        kept.push(finding);
        break;
      }
    }
  }
  return kept;
}

async function applySuppressions(findings: Finding[], changedPaths: string[], snapshot: PullRequestSnapshot): Promise<Finding[]> {
  const paths = new Set([...changedPaths, ...findings.map((f) => f.path).filter((p) => p !== PR_TEXT_PATH)]);
  const byPath = new Map<string, Suppression[]>();
  // read 64 at a time, not one after another (a whole-tree scan has thousands of files, each a round
  // trip to git), nor all at once (every text held until the last arrives)
  // a file the snapshot already saw without a directive is not read again (most of a whole-tree scan)
  const all = [...paths].filter((path) => !snapshot.withoutDirectives?.(path));
  for (let i = 0; i < all.length; i += 64) {
    const batch = all.slice(i, i + 64);
    const texts = await Promise.all(batch.map((path) => snapshot.read(path, 'head')));
    texts.forEach((text, k) => {
      if (text !== undefined && text.length <= 5_000_000) byPath.set(batch[k]!, findSuppressions(batch[k]!, text));
    });
  }
  const out: Finding[] = [];
  for (const finding of findings) {
    const directives = byPath.get(finding.path)?.filter((s) => covers(s, finding.checkId, finding.line)) ?? [];
    const valid = directives.find((s) => s.reason);
    for (const s of directives) s.used = true;
    if (!valid) out.push(finding);
  }
  const changed = new Set(changedPaths);
  for (const [path, directives] of byPath) {
    for (const s of directives) {
      if (!s.reason && (s.used || changed.has(path))) {
        out.push({
          checkId: SUPPRESSION,
          path,
          line: s.line,
          severity: 'warning',
          message: `This suppression gives no reason, so it suppresses nothing. Write it as \`causal-review:ignore ${s.checkIds[0] ?? '<check-id>'} -- <why the wait or claim is right>\`.`,
          key: `no reason ${s.checkIds.join(',')}`,
        });
      } else if (s.reason && !s.used && changed.has(path)) {
        out.push({
          checkId: SUPPRESSION,
          path,
          line: s.line,
          severity: 'warning',
          message: `This suppression of ${s.checkIds.join(', ') || 'no check'} matches no finding on this line or the next; remove it, or move it onto the line it is meant for.`,
          key: `unused ${s.checkIds.join(',')}`,
        });
      }
    }
  }
  return out;
}

async function decide(
  snapshot: PullRequestSnapshot,
  config: Config,
  findings: Finding[],
  acceptances: readonly Acceptance[],
  notes: string[],
  cache: ParseCache,
): Promise<Verdict> {
  const authorship = detectAuthorship(snapshot, config);
  const seen = new Set<string>();
  const reviewed: ReviewedFinding[] = [];
  for (const finding of findings) {
    let key = finding.key;
    if (key === undefined) {
      const file = finding.path === PR_TEXT_PATH ? undefined : await cache.get(finding.path, 'head');
      key = file?.lines[finding.line - 1]?.trim() ?? finding.message;
    }
    const fingerprint = fingerprintOf(finding.checkId, finding.path, key);
    const dedupe = `${fingerprint}:${finding.line}`;
    if (seen.has(dedupe)) continue;
    seen.add(dedupe);
    const accepted = acceptances.find((a) => a.fingerprint === fingerprint || a.fingerprint === finding.checkId);
    const internal = finding.checkId === INTERNAL_ERROR;
    const blocking = finding.severity === 'error' && !accepted && !(internal && config.onInternalError === 'neutral');
    reviewed.push({ ...finding, key, fingerprint, blocking, ...(accepted ? { accepted } : {}) });
  }
  reviewed.sort((a, b) => (a.path === b.path ? a.line - b.line : a.path === PR_TEXT_PATH ? -1 : b.path === PR_TEXT_PATH ? 1 : a.path < b.path ? -1 : 1));
  const blocking = reviewed.filter((f) => f.blocking);
  const accepted = reviewed.filter((f) => f.accepted);
  const advisory = reviewed.filter((f) => !f.blocking && !f.accepted);
  const { conclusion, why } = conclude(config.enforce, authorship, blocking.length);
  return { conclusion, why, authorship, blocking, advisory, accepted, findings: reviewed, notes };
}

/** The policy: who fails on a blocking finding. A blocking finding is never `neutral` under `enforce: all`. */
export function conclude(enforce: Config['enforce'], authorship: Authorship, blocking: number): { conclusion: Conclusion; why: string } {
  const count = `${blocking} blocking finding${blocking === 1 ? '' : 's'}`;
  if (blocking === 0) return { conclusion: 'success', why: 'No blocking findings.' };
  if (enforce === 'none') return { conclusion: 'neutral', why: `${count}; the configuration says enforce: none, so nothing fails.` };
  if (enforce === 'all') return { conclusion: 'failure', why: `${count}; the configuration says enforce: all.` };
  return authorship.aiAuthored
    ? { conclusion: 'failure', why: `${count} on an AI-authored PR.` }
    : { conclusion: 'neutral', why: `${count}, reported as advice: the PR does not count as AI-authored (enforce: ai-authored).` };
}
