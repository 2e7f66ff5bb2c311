// A large review in threads: the changed packages are split into parts (src/engine/engine.ts shardOf),
// each worker thread builds the same snapshot from git and collects its part's findings, the main thread
// collects part 0 and every check that is not shardable, then joins them. Parsing and analysis are CPU
// work in one thread each (tree-sitter runs in wasm), so parts are what uses a second core.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { collectFindings, finishReview, type Collected, type ReviewOptions } from '../engine/engine.js';
import type { Verdict } from '../engine/types.js';
import type { GitSnapshot } from '../git/snapshot.js';
import type { WorkerInput, WorkerOutput } from './review-worker.js';

/** Below this many changed source files a thread's start-up (~0.4 s) costs more than it saves. */
export const AUTO_MIN_FILES = 200;

/** `--jobs`: how many parts; `auto` is the machine's cores (at most 4) for a large PR, else 1. */
export function partsFor(jobs: number | 'auto', snapshot: GitSnapshot): number {
  const packages = new Set(snapshot.files.map((f) => f.path.slice(0, Math.max(0, f.path.lastIndexOf('/')))));
  if (jobs !== 'auto') return Math.min(jobs, packages.size);
  const sources = snapshot.files.filter((f) => f.status !== 'removed' && /\.(go|[cm]?[jt]sx?)$/.test(f.path)).length;
  return sources < AUTO_MIN_FILES ? 1 : Math.min(4, availableParallelism(), packages.size);
}

export async function reviewInParts(snapshot: GitSnapshot, all: boolean, options: ReviewOptions, parts: number): Promise<Verdict> {
  const input = (index: number): WorkerInput => ({
    git: all
      ? { repo: snapshot.root, head: snapshot.headSha, all: true, title: snapshot.title, body: snapshot.body, labels: snapshot.labels }
      : { repo: snapshot.root, base: snapshot.baseSha, head: snapshot.headSha, title: snapshot.title, body: snapshot.body, labels: snapshot.labels },
    config: options.config,
    checkIds: options.checks.map((c) => c.id),
    shard: { index, count: parts },
  });
  const workers = Array.from({ length: parts - 1 }, (_, i) => inWorker(input(i + 1), deadlineMs(options)));
  const collected: Collected[] = [await collectFindings(snapshot, { ...options, shard: { index: 0, count: parts } })];
  for (const [i, result] of (await Promise.all(workers)).entries()) {
    if (!(result instanceof Error)) {
      collected.push(result);
      continue;
    }
    // a thread that failed or timed out loses nothing: its part is collected here instead
    const part = await collectFindings(snapshot, { ...options, shard: { index: i + 1, count: parts } });
    collected.push({ findings: part.findings, notes: [...part.notes, `part ${i + 1} of ${parts} ran in the main thread: its worker thread failed (${result.message.slice(0, 200)})`] });
  }
  return finishReview(snapshot, options, collected);
}

/** A worker's whole allowance: every check's budget, and a minute to start and read. */
function deadlineMs(options: ReviewOptions): number {
  return options.config.limits.checkTimeoutMs * options.checks.length + 60_000;
}

function inWorker(input: WorkerInput, deadline: number): Promise<Collected | Error> {
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      // the worker runs the TypeScript sources as the CLI does, through tsx's loader (review-worker.js)
      worker = new Worker(new URL('./review-worker.js', import.meta.url), { workerData: input });
    } catch (error) {
      resolve(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    let settled = false;
    const settle = (result: Collected | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(result);
    };
    // a deadline for a thread that never answers, not a wait: cleared as soon as it does
    const timer = setTimeout(() => settle(new Error(`no answer in ${Math.round(deadline / 1000)} s`)), deadline);
    worker.on('message', (output: WorkerOutput) => settle(output.ok ? output.collected : new Error(output.error)));
    worker.on('error', (error) => settle(error));
    worker.on('exit', (code) => settle(new Error(`exited with code ${code} before answering`)));
  });
}
