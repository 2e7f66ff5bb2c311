// One part of a review in a worker thread (src/cli/parallel.ts): the same snapshot from git, the
// findings of this part's packages, sent back to the main thread.

import { parentPort, workerData } from 'node:worker_threads';
import { CHECKS } from '../../checks/index.js';
import type { Config } from '../config/schema.js';
import { collectTaken, type Collected } from '../engine/engine.js';
import { PartQueue } from './parallel.js';
import { gitSnapshot, type GitSnapshotOptions } from '../git/snapshot.js';

export interface WorkerInput {
  git: GitSnapshotOptions;
  config: Config;
  checkIds: string[];
  /** the queue of parts of `count` the threads share (parallel.ts PartQueue), and this thread's number */
  queue: SharedArrayBuffer;
  thread: number;
  count: number;
}

export type WorkerOutput = { ok: true; collected: [number, Collected][] } | { ok: false; error: string };

async function run(input: WorkerInput): Promise<WorkerOutput> {
  const snapshot = await gitSnapshot(input.git);
  try {
    const checks = CHECKS.filter((c) => input.checkIds.includes(c.id));
    const queue = new PartQueue(input.queue, input.count);
    return { ok: true, collected: await collectTaken(snapshot, { config: input.config, checks }, () => queue.take(input.thread), input.count) };
  } finally {
    snapshot.close();
  }
}

if (parentPort) {
  const port = parentPort;
  run(workerData as WorkerInput).then(
    (output) => port.postMessage(output),
    (error: unknown) => port.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) } satisfies WorkerOutput),
  );
}
