// `npm run bench`: figures for `analyze --all` over a large Go tree (generated, or a checkout given
// as an argument) against `gofmt -l` on the same tree, and for a 50-file PR end to end. Prints
// figures only: nothing here asserts a time. Also runs every bench/*.bench.ts module.
// Sizes: BENCH_PR_TREE (files of the PR's repository) and BENCH_FILES (the --all tree), both 3,000 by
// default, the issue's case (~3 minutes on 2 cores); smaller values for a quick look. BENCH_ONLY=pr|tree|extra.
// BENCH_RUNS: rounds of the --all figures (one thread, the threads auto takes, gofmt -l), the medians printed (5).

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CHECKS } from '../checks/index.js';
import { captureIo } from '../src/cli/io.js';
import { main } from '../src/cli/main.js';
import { DEFAULT_CONFIG } from '../src/config/schema.js';
import { setPackageSlicing } from '../src/analysis/package-slice.js';
import { review } from '../src/engine/engine.js';
import { gitSnapshot } from '../src/git/snapshot.js';
import { generatePullRequest, generateTree } from './generate.js';

export interface BenchResult {
  name: string;
  figures: Record<string, string | number>;
}

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/causal-review.js');

function timed(command: string, args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = {}): Promise<{ ms: number; code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ ms: performance.now() - started, code, stdout, stderr }));
  });
}

function hasCommand(name: string): boolean {
  try {
    execFileSync(name, ['--help'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** Files and bytes git tracks in a tree (what --all reads). */
function treeSize(dir: string): { files: number; bytes: number; goFiles: number } {
  const paths = execFileSync('git', ['ls-files', '-z'], { cwd: dir, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 }).split('\0').filter(Boolean);
  let bytes = 0;
  for (const p of paths) {
    try {
      bytes += statSync(join(dir, p)).size;
    } catch {
      // a tracked file deleted in the work tree: git still has it, its size is unknown here
    }
  }
  return { files: paths.length, bytes, goFiles: paths.filter((p) => p.endsWith('.go')).length };
}

/** One `bin/causal-review.js` process, as a user runs it: its wall time, exit code and peak RSS. */
async function analyzeInChild(args: string[], work: string, nodeFlags: string[] = []): Promise<{ exit: number; ms: number; maxRssKb: number }> {
  const rss = join(work, 'rss.json');
  const run = await timed(process.execPath, [...nodeFlags, '--import', pathToFileURL(join(ROOT, 'bench/peak-rss.mjs')).href, BIN, ...args], ROOT, { CAUSAL_REVIEW_BENCH_RSS: rss });
  if (run.code !== 0 && run.code !== 1) throw new Error(`analysis exited ${run.code}: ${run.stderr.slice(-500)}`);
  const { maxRssKb } = JSON.parse(readFileSync(rss, 'utf8')) as { maxRssKb: number };
  return { exit: run.code, ms: run.ms, maxRssKb };
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits));

async function wholeTree(target: string | undefined, work: string): Promise<BenchResult> {
  // the issue's tree: 3,000 controller files in 40 packages
  const files = Number(process.env.BENCH_FILES ?? 3000);
  const dir = target ? resolve(target) : join(work, 'tree');
  if (!target) {
    execFileSync('mkdir', ['-p', dir]);
    generateTree(dir, files);
  }
  const size = treeSize(dir);
  // one thread, then as many as `--jobs auto` takes on this machine, then `gofmt -l`, in rounds: each the
  // wall time of a whole `bin/causal-review.js` process, start-up included, as gofmt's is. The machine's
  // speed drifts by more than a run varies (gofmt took 0.81 s to 1.2 s over one day), so each ratio is
  // also taken within a round, and the median of those is the figure to compare
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const threads = Math.min(4, availableParallelism());
  const gofmt = hasCommand('gofmt');
  const ones: Awaited<ReturnType<typeof analyzeInChild>>[] = [];
  const manys: Awaited<ReturnType<typeof analyzeInChild>>[] = [];
  const gofmts: number[] = [];
  // and, for the figure it is there for, the threads `auto` takes with V8's own inlining budget (920 in
  // node 20's V8: `node --v8-options`), not the one src/cli/compiler-budget.js sets
  const v8Defaults: number[] = [];
  const jobs = (n: number) => ['analyze', '--all', '--repo', dir, '--format', 'json', '--jobs', String(n)];
  for (let i = 0; i < runs; i++) {
    ones.push(await analyzeInChild(jobs(1), work));
    if (threads > 1) manys.push(await analyzeInChild(jobs(threads), work));
    v8Defaults.push((await analyzeInChild(jobs(threads), work, ['--max-inlined-bytecode-size-cumulative=920'])).ms);
    if (gofmt) gofmts.push((await timed('gofmt', ['-l', dir])).ms);
  }
  const middle = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const median = (xs: typeof ones) => ({ ...[...xs].sort((a, b) => a.ms - b.ms)[Math.floor(xs.length / 2)]!, maxRssKb: Math.max(...xs.map((x) => x.maxRssKb)) });
  const single = median(ones);
  const parallel = manys.length ? median(manys) : undefined;
  const best = parallel && parallel.ms < single.ms ? parallel : single;
  const figures: BenchResult['figures'] = {
    tree: target ? dir : `generated, ${files} controllers`,
    files: size.files,
    'go files': size.goFiles,
    MB: round(size.bytes / 1e6, 2),
    [`analyze --all --jobs 1 s (median of ${runs})`]: round(single.ms / 1000, 2),
    ...(parallel ? { [`analyze --all --jobs ${threads} s (median of ${runs})`]: round(parallel.ms / 1000, 2) } : {}),
    'files/s': Math.round(size.files / (best.ms / 1000)),
    'MB/s': round(size.bytes / 1e6 / (best.ms / 1000), 2),
    'peak RSS MB (one thread)': round(single.maxRssKb / 1024, 0),
    ...(parallel ? { [`peak RSS MB (${threads} threads)`]: round(parallel.maxRssKb / 1024, 0) } : {}),
    [`analyze --all --jobs ${threads} with V8's default inlining s (median of ${runs})`]: round(middle(v8Defaults) / 1000, 2),
    exit: best.exit,
  };
  if (gofmt) {
    figures[`gofmt -l s (median of ${runs})`] = round(middle(gofmts) / 1000, 2);
    figures['analyze / gofmt (one thread), median of the rounds'] = round(middle(ones.map((r, i) => r.ms / gofmts[i]!)), 2);
    if (parallel) figures[`analyze / gofmt (${threads} threads), median of the rounds`] = round(middle(manys.map((r, i) => r.ms / gofmts[i]!)), 2);
    figures[`analyze / gofmt (${threads} threads, V8's default inlining), median of the rounds`] = round(middle(v8Defaults.map((ms, i) => ms / gofmts[i]!)), 2);
    figures['target'] = 'analyze / gofmt <= 2';
  } else {
    figures['gofmt -l s'] = 'gofmt not installed (apt-get install golang-go)';
  }
  return { name: 'analyze --all over a large Go tree', figures };
}

async function fiftyFilePr(work: string): Promise<BenchResult> {
  const dir = join(work, 'pr');
  execFileSync('mkdir', ['-p', dir]);
  // the issue's case: 40 packages of 75 files, the PR touching 40 of them (packed, as a clone is)
  generateTree(dir, Number(process.env.BENCH_PR_TREE ?? 3000), 11);
  generatePullRequest(dir, 50);
  const args = ['analyze', '--repo', dir, '--base', 'main', '--head', 'pr', '--format', 'json'];
  // processes first, while this one is idle: after its own heavy runs its heap is still being collected
  // on the other core for a while, which a child measured then pays for
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const startup: number[] = [];
  for (let i = 0; i < 3; i++) startup.push((await timed(process.execPath, [BIN, '--version'])).ms);
  const processes: number[] = [];
  for (let i = 0; i < 5; i++) processes.push((await timed(process.execPath, [BIN, ...args])).ms);
  const npx = await timed('npx', ['--no-install', 'causal-review', ...args]);
  // in-process: the first run loads the parsers (what a fresh CLI pays), the second is warm (what the app pays)
  const inProcess: number[] = [];
  let findings = 0;
  for (let i = 0; i < 3; i++) {
    const io = captureIo();
    const started = performance.now();
    await main(args, io);
    inProcess.push(performance.now() - started);
    findings = (JSON.parse(io.out()) as { findings: unknown[] }).findings.length;
  }
  // the whole packages around the change, as before slicing: what slicing saves
  const wasSlicing = setPackageSlicing(false);
  const wholeIo = captureIo();
  const wholeStarted = performance.now();
  await main(args, wholeIo);
  const wholeMs = performance.now() - wholeStarted;
  setPackageSlicing(wasSlicing);

  // where the time goes: the adapter and engine with no check, then each check alone (each parses afresh)
  const perCheck: Record<string, number> = {};
  for (const check of [undefined, ...CHECKS]) {
    const snapshot = await gitSnapshot({ repo: dir, base: 'main', head: 'pr' });
    const started = performance.now();
    await review(snapshot, { config: structuredClone(DEFAULT_CONFIG), checks: check ? [check] : [] });
    perCheck[`  ${check ? `only ${check.id}` : 'no check (git + engine)'} s`] = round((performance.now() - started) / 1000, 3);
    snapshot.close();
  }
  return {
    name: '50-file PR, end to end',
    figures: {
      'changed files': 50,
      'tree files': Number(process.env.BENCH_PR_TREE ?? 3000),
      findings,
      'in-process first s': round(inProcess[0]! / 1000, 3),
      'in-process warm s': round(Math.min(...inProcess.slice(1)) / 1000, 3),
      'in-process warm, whole packages (no slicing) s': round(wholeMs / 1000, 3),
      'node bin/causal-review.js s (median of 5)': round(median(processes) / 1000, 3),
      '  of which start-up (--version) s': round(median(startup) / 1000, 3),
      'npx causal-review s': round(npx.ms / 1000, 3),
      target: '< 1 s',
      'in-process, by check:': '',
      ...perCheck,
    },
  };
}

/** Other benchmarks: each bench/*.bench.ts exports run(): Promise<BenchResult[]>. */
async function extraBenches(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const dir = join(ROOT, 'bench');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort()) {
    const module = (await import(pathToFileURL(join(dir, file)).href)) as { run?: () => Promise<BenchResult[]> };
    if (typeof module.run !== 'function') {
      results.push({ name: file, figures: { error: 'exports no run()' } });
      continue;
    }
    try {
      results.push(...(await module.run()));
    } catch (error) {
      results.push({ name: file, figures: { error: error instanceof Error ? error.message : String(error) } });
    }
  }
  return results;
}

function print(result: BenchResult): void {
  process.stdout.write(`\n${result.name}\n`);
  const width = Math.max(...Object.keys(result.figures).map((k) => k.length));
  for (const [key, value] of Object.entries(result.figures)) process.stdout.write(`  ${key.padEnd(width)}  ${value}\n`);
}

const work = mkdtempSync(join(tmpdir(), 'causal-review-bench-'));
try {
  const only = process.env.BENCH_ONLY;
  // the 50-file PR first: it is the figure the target is about (< 1 s)
  if (!only || only === 'pr') print(await fiftyFilePr(work));
  if (!only || only === 'tree') print(await wholeTree(process.argv[2], work));
  if (!only || only === 'extra') for (const result of await extraBenches()) print(result);
} finally {
  rmSync(work, { recursive: true, force: true });
}
