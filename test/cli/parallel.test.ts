import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { PARTS_PER_THREAD, PartQueue, parsesAhead, planFor } from '../../src/cli/parallel.js';
import type { GitSnapshot } from '../../src/git/snapshot.js';

/** A snapshot with `files` changed Go files in packages of `perPackage`. */
function snapshotOf(files: number, perPackage = 10): GitSnapshot {
  const changed = Array.from({ length: files }, (_, i) => ({ path: `pkg${Math.floor(i / perPackage)}/f${i}.go`, status: 'modified' as const, hunks: [] }));
  return { files: changed } as unknown as GitSnapshot;
}

describe('planFor: threads and parts for --jobs', () => {
  const cores = Math.min(4, availableParallelism());

  it('keeps a PR of fewer than 200 source files in one thread and one part', () => {
    expect(planFor('auto', snapshotOf(50))).toEqual({ threads: 1, parts: 1, parseThread: false });
    expect(parsesAhead(1)).toBe(false);
  });

  it('uses the cores for a large PR, and parts of at most ~1,500 files, one after another', () => {
    const auto = cores === 2 ? { threads: 1, parts: 2, parseThread: true } : { threads: cores, parts: cores > 1 ? cores * PARTS_PER_THREAD : 2, parseThread: false };
    expect(planFor('auto', snapshotOf(3000))).toEqual(auto);
    expect(parsesAhead('auto')).toBe(cores === 2);
    expect(planFor(1, snapshotOf(9000))).toEqual({ threads: 1, parts: 6, parseThread: false });
    expect(planFor(4, snapshotOf(9000))).toEqual({ threads: 4, parts: 4 * PARTS_PER_THREAD, parseThread: false });
  });

  it('makes two threads one that analyses and one that parses ahead of it, in parts one after another', () => {
    expect(planFor(2, snapshotOf(9000))).toEqual({ threads: 1, parts: 6, parseThread: true });
    expect(planFor(2, snapshotOf(50))).toEqual({ threads: 1, parts: 1, parseThread: true });
    expect(parsesAhead(2)).toBe(true);
    expect(parsesAhead(3)).toBe(false);
  });

  it('hands parts out from one queue: each once, part 0 to the main thread, and says who took which', () => {
    const queue = PartQueue.create(5);
    const worker = new PartQueue(queue.buffer, 5);
    expect([worker.take(1), queue.take(0), worker.take(1), worker.take(1), queue.take(0), worker.take(1)]).toEqual([1, 2, 3, 4, undefined, undefined]);
    expect(worker.takenBy(1)).toEqual([1, 3, 4]);
    expect(queue.takenBy(0)).toEqual([2]);
  });

  it('never makes more parts or threads than packages: a package is never split', () => {
    expect(planFor(8, snapshotOf(40, 20))).toEqual({ threads: 2, parts: 2, parseThread: false });
    expect(planFor(1, snapshotOf(4000, 4000))).toEqual({ threads: 1, parts: 1, parseThread: false });
  });
});
