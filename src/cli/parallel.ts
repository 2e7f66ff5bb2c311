// A large review in threads: the changed packages are split into parts (src/engine/engine.ts shardOf),
// each worker thread builds the same snapshot from git and collects its part's findings, the main thread
// collects part 0 and every check that is not shardable, then joins them. Parsing and analysis are CPU
// work in one thread each (tree-sitter runs in wasm), so parts are what uses a second core.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { collectParts, collectTaken, finishReview, partsNeeded, sourceFiles, type Collected, type ReviewOptions } from '../engine/engine.js';
import type { Verdict } from '../engine/types.js';
import type { GitSnapshot } from '../git/snapshot.js';
import type { WorkerInput, WorkerOutput } from './review-worker.js';

/** Below this many changed source files a thread's start-up (~0.4 s) costs more than it saves. */
export const AUTO_MIN_FILES = 200;

/** How a review is split: parts (whole packages each) and the threads that collect them. */
export interface Plan {
  threads: number;
  parts: number;
  /** one thread collecting, one parsing Go ahead of it (parse-thread.ts): what two threads do */
  parseThread: boolean;
}

/**
 * `--jobs`: how many threads; `auto` is the machine's cores (at most 4) for a large PR, else 1. A review
 * of more than PART_FILES source files is also cut into parts of about that size (engine.ts partsNeeded),
 * done one after another in each thread, so a whole-tree scan does not hold every file's parse tree at once.
 */
export function planFor(jobs: number | 'auto', snapshot: GitSnapshot): Plan {
  const { sources, packages } = sourceFiles(snapshot.files);
  const threads = jobs !== 'auto' ? jobs : sources < AUTO_MIN_FILES ? 1 : autoThreads();
  // two threads do more as one analysing and one parsing than as two of each: a thread's first parts run
  // before V8 has compiled the analyses, and two such starts cost more than they save
  if (threads === 2) return { threads: 1, parts: partsNeeded(snapshot.files), parseThread: true };
  // threads share a queue of parts, PARTS_PER_THREAD each or more: one that started late, or got the heavy
  // packages, is not waited for at the end
  const wanted = threads > 1 ? threads * PARTS_PER_THREAD : 1;
  const parts = Math.min(packages, Math.max(wanted, partsNeeded(snapshot.files)));
  return { threads: Math.max(1, Math.min(threads, parts)), parts: Math.max(1, parts), parseThread: false };
}

const autoThreads = () => Math.min(4, availableParallelism());

/**
 * Does a large review with these `--jobs` have a parse thread? A whole-tree scan starts it before it
 * reads the tree from git, which the thread's start (~0.1 s) then overlaps.
 */
export function parsesAhead(jobs: number | 'auto'): boolean {
  return (jobs === 'auto' ? autoThreads() : jobs) === 2;
}

/** Parts per thread when there are several: a worker starts ~0.3 s after the main thread, and packages differ in size. */
export const PARTS_PER_THREAD = 3;

/**
 * The parts still to collect, in memory the threads share: each takes the next part when it is done with
 * one. Part 0 is the main thread's (it runs the checks that take every file). `owner` records who took
 * which part, so that the parts of a thread that failed can be collected again.
 */
export class PartQueue {
  private readonly cursor: Int32Array;
  private readonly owner: Int32Array;

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly parts: number,
  ) {
    this.cursor = new Int32Array(buffer, 0, 1);
    this.owner = new Int32Array(buffer, 4, parts);
  }

  static create(parts: number): PartQueue {
    const queue = new PartQueue(new SharedArrayBuffer(4 * (parts + 1)), parts);
    queue.cursor[0] = 1;
    return queue;
  }

  /** The next part for `thread` (0 is the main thread), or undefined when none is left. */
  take(thread: number): number | undefined {
    const index = Atomics.add(this.cursor, 0, 1);
    if (index >= this.parts) return undefined;
    Atomics.store(this.owner, index, thread + 1);
    return index;
  }

  /** The parts `thread` took. */
  takenBy(thread: number): number[] {
    return Array.from({ length: this.parts }, (_, i) => i).filter((i) => i > 0 && Atomics.load(this.owner, i) === thread + 1);
  }
}

export async function reviewInParts(snapshot: GitSnapshot, all: boolean, options: ReviewOptions, plan: Plan): Promise<Verdict> {
  const { threads, parts } = plan;
  const queue = PartQueue.create(parts);
  const input = (thread: number): WorkerInput => ({
    git: all
      ? { repo: snapshot.root, head: snapshot.headSha, all: true, title: snapshot.title, body: snapshot.body, labels: snapshot.labels }
      : { repo: snapshot.root, base: snapshot.baseSha, head: snapshot.headSha, title: snapshot.title, body: snapshot.body, labels: snapshot.labels },
    config: options.config,
    checkIds: options.checks.map((c) => c.id),
    queue: queue.buffer,
    thread,
    count: parts,
  });
  const workers = Array.from({ length: threads - 1 }, (_, t) => inWorker(input(t + 1), deadlineMs(options, parts)));
  // part 0 first (the queue starts after it), while the workers start; then whatever parts are left
  const collected: [number, Collected][] = [[0, (await collectParts(snapshot, options, [0], parts))[0]!]];
  collected.push(...(await collectTaken(snapshot, options, () => queue.take(0), parts)));
  for (const [t, result] of (await Promise.all(workers)).entries()) {
    if (!(result instanceof Error)) {
      collected.push(...result);
      continue;
    }
    // a thread that failed or timed out loses nothing: its parts are collected here instead
    const theirs = queue.takenBy(t + 1);
    const again = await collectParts(snapshot, options, theirs, parts);
    again[0]?.notes.push(`thread ${t + 1} of ${threads} failed (${result.message.slice(0, 200)}); its parts ran in the main thread`);
    collected.push(...again.map((c, i): [number, Collected] => [theirs[i]!, c]));
  }
  // joined in part order, whoever collected them: the same output for any number of threads
  collected.sort((a, b) => a[0] - b[0]);
  return finishReview(snapshot, options, collected.map(([, c]) => c));
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

function inWorker(input: WorkerInput, deadline: number): Promise<[number, Collected][] | Error> {
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = new Worker(workerEntry(), { workerData: input });
    } catch (error) {
      resolve(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    let settled = false;
    const settle = (result: [number, Collected][] | Error) => {
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
