import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { planFor } from '../../src/cli/parallel.js';
import type { GitSnapshot } from '../../src/git/snapshot.js';

/** A snapshot with `files` changed Go files in packages of `perPackage`. */
function snapshotOf(files: number, perPackage = 10): GitSnapshot {
  const changed = Array.from({ length: files }, (_, i) => ({ path: `pkg${Math.floor(i / perPackage)}/f${i}.go`, status: 'modified' as const, hunks: [] }));
  return { files: changed } as unknown as GitSnapshot;
}

describe('planFor: threads and parts for --jobs', () => {
  const cores = Math.min(4, availableParallelism());

  it('keeps a PR of fewer than 200 source files in one thread and one part', () => {
    expect(planFor('auto', snapshotOf(50))).toEqual({ threads: 1, parts: 1 });
  });

  it('uses the cores for a large PR, and parts of at most ~1,500 files, one after another', () => {
    expect(planFor('auto', snapshotOf(3000))).toEqual({ threads: cores, parts: Math.max(cores, 2) });
    expect(planFor(1, snapshotOf(9000))).toEqual({ threads: 1, parts: 6 });
    expect(planFor(2, snapshotOf(9000))).toEqual({ threads: 2, parts: 6 });
  });

  it('never makes more parts or threads than packages: a package is never split', () => {
    expect(planFor(8, snapshotOf(40, 20))).toEqual({ threads: 2, parts: 2 });
    expect(planFor(1, snapshotOf(4000, 4000))).toEqual({ threads: 1, parts: 1 });
  });
});
