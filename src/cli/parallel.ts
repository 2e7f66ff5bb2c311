// A large review in threads: the changed packages are split into parts (src/engine/engine.ts shardOf),
// each worker thread builds the same snapshot from git and collects its part's findings, the main thread
// collects part 0 and every check that is not shardable, then joins them. Parsing and analysis are CPU
// work in one thread each (tree-sitter runs in wasm), so parts are what uses a second core.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { collectParts, finishReview, partsNeeded, sourceFiles, type Collected, type ReviewOptions } from '../engine/engine.js';
import type { Verdict } from '../engine/types.js';
import type { GitSnapshot } from '../git/snapshot.js';
import type { WorkerInput, WorkerOutput } from './review-worker.js';

/** Below this many changed source files a thread's start-up (~0.4 s) costs more than it saves. */
export const AUTO_MIN_FILES = 200;

/** How a review is split: parts (whole packages each) and the threads that collect them. */
export interface Plan {
  threads: number;
  parts: number;
}

/**
 * `--jobs`: how many threads; `auto` is the machine's cores (at most 4) for a large PR, else 1. A review
 * of more than PART_FILES source files is also cut into parts of about that size (engine.ts partsNeeded),
 * done one after another in each thread, so a whole-tree scan does not hold every file's parse tree at once.
 */
export function planFor(jobs: number | 'auto', snapshot: GitSnapshot): Plan {
  const { sources, packages } = sourceFiles(snapshot.files);
  const threads = jobs !== 'auto' ? jobs : sources < AUTO_MIN_FILES ? 1 : Math.min(4, availableParallelism());
  const parts = Math.min(packages, Math.max(threads, partsNeeded(snapshot.files)));
  return { threads: Math.max(1, Math.min(threads, parts)), parts: Math.max(1, parts) };
}

export async function reviewInParts(snapshot: GitSnapshot, all: boolean, options: ReviewOptions, plan: Plan): Promise<Verdict> {
  const { threads, parts } = plan;
  // part i is collected by thread i mod threads; thread 0 is this one
  const partsOf = (thread: number) => Array.from({ length: parts }, (_, i) => i).filter((i) => i % threads === thread);
  const input = (thread: number): WorkerInput => ({
    git: all
      ? { repo: snapshot.root, head: snapshot.headSha, all: true, title: snapshot.title, body: snapshot.body, labels: snapshot.labels }
      : { repo: snapshot.root, base: snapshot.baseSha, head: snapshot.headSha, title: snapshot.title, body: snapshot.body, labels: snapshot.labels },
    config: options.config,
    checkIds: options.checks.map((c) => c.id),
    parts: partsOf(thread),
    count: parts,
  });
  const workers = Array.from({ length: threads - 1 }, (_, t) => inWorker(input(t + 1), deadlineMs(options, partsOf(t + 1).length)));
  const collected: Collected[] = await collectParts(snapshot, options, partsOf(0), parts);
  for (const [t, result] of (await Promise.all(workers)).entries()) {
    if (!(result instanceof Error)) {
      collected.push(...result);
      continue;
    }
    // a thread that failed or timed out loses nothing: its parts are collected here instead
    const mine = await collectParts(snapshot, options, partsOf(t + 1), parts);
    mine[0]?.notes.push(`thread ${t + 1} of ${threads} failed (${result.message.slice(0, 200)}); its parts ran in the main thread`);
    collected.push(...mine);
  }
  return finishReview(snapshot, options, collected);
}

/** A worker's whole allowance: every check's budget for each of its parts, and a minute to start and read. */
function deadlineMs(options: ReviewOptions, parts: number): number {
  return options.config.limits.checkTimeoutMs * options.checks.length * parts + 60_000;
}

declare global {
  /** Set in the start-up bundle (bin/causal-review.js): the URL of the bundled review worker. */
  var causalReviewBundledWorker: string | undefined;
}

/**
 * The worker runs what the CLI runs: the bundle's own entry when the CLI started from the bundle (a
 * start in ~0.1 s), else the TypeScript sources through tsx's loader (review-worker.js, ~0.8 s).
 */
function workerEntry(): URL {
  return new URL(globalThis.causalReviewBundledWorker ?? new URL('./review-worker.js', import.meta.url).href);
}

function inWorker(input: WorkerInput, deadline: number): Promise<Collected[] | Error> {
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = new Worker(workerEntry(), { workerData: input });
    } catch (error) {
      resolve(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    let settled = false;
    const settle = (result: Collected[] | Error) => {
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
