// One part of a review in a worker thread (src/cli/parallel.ts): the same snapshot from git, the
// findings of this part's packages, sent back to the main thread.

import { parentPort, workerData } from 'node:worker_threads';
import { CHECKS } from '../../checks/index.js';
import type { Config } from '../config/schema.js';
import { collectParts, type Collected } from '../engine/engine.js';
import { gitSnapshot, type GitSnapshotOptions } from '../git/snapshot.js';

export interface WorkerInput {
  git: GitSnapshotOptions;
  config: Config;
  checkIds: string[];
  /** the parts of `count` this thread collects, one after another */
  parts: number[];
  count: number;
}

export type WorkerOutput = { ok: true; collected: Collected[] } | { ok: false; error: string };

async function run(input: WorkerInput): Promise<WorkerOutput> {
  const snapshot = await gitSnapshot(input.git);
  try {
    const checks = CHECKS.filter((c) => input.checkIds.includes(c.id));
    return { ok: true, collected: await collectParts(snapshot, { config: input.config, checks }, input.parts, input.count) };
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
