import { afterAll, describe, expect, it } from 'vitest';
import { generatePullRequest, generateTree } from '../../bench/generate.js';
import { CHECKS } from '../../checks/index.js';
import { DEFAULT_CONFIG } from '../../src/config/schema.js';
import { collectFindings, finishReview, partsNeeded, PART_FILES, review, shardOf } from '../../src/engine/engine.js';
import { gitSnapshot } from '../../src/git/snapshot.js';
import { memorySnapshot } from '../../src/engine/memory.js';
import { cleanTemps, tempDir } from '../git/repo.js';

afterAll(cleanTemps);

describe('a review in parts', () => {
  it('puts whole packages in parts, the largest first into the lightest part', () => {
    const files = ['a/1.go', 'a/2.go', 'a/3.go', 'b/1.go', 'b/2.go', 'c/1.go', 'd/1.go', 'root.go'].map((path) => ({ path, status: 'modified' as const, hunks: [] }));
    const part = shardOf(files, 2);
    expect(['a/1.go', 'a/2.go', 'a/3.go'].map(part)).toEqual([0, 0, 0]);
    expect(['b/1.go', 'b/2.go'].map(part)).toEqual([1, 1]);
    // a (3) | b (2); then, one file each, the root package to b, c to a, d to b: 4 files each side
    expect([part('root.go'), part('c/1.go'), part('d/1.go')]).toEqual([1, 0, 1]);
    expect(part('elsewhere/x.go')).toBe(0);
  });

  it('cuts a review of more than PART_FILES source files into parts, never more than its packages', () => {
    const files = (n: number, perPackage: number) => Array.from({ length: n }, (_, i) => ({ path: `p${Math.floor(i / perPackage)}/f${i}.go`, status: 'added' as const, hunks: [] }));
    expect(partsNeeded(files(50, 10))).toBe(1);
    expect(partsNeeded(files(PART_FILES, 10))).toBe(1);
    expect(partsNeeded(files(PART_FILES + 1, 10))).toBe(2);
    expect(partsNeeded(files(9_500, 10))).toBe(7);
    expect(partsNeeded(files(9_500, 9_500))).toBe(1);
    // removed files and other languages do not count
    expect(partsNeeded([...files(1_000, 10), ...Array.from({ length: 2_000 }, (_, i) => ({ path: `docs/${i}.md`, status: 'added' as const, hunks: [] }))])).toBe(1);
  });

  it('lists the files it skipped in the same order however their reads finish', async () => {
    const big = `package p\n\n// ${'x'.repeat(1200)}\n`;
    const head = Object.fromEntries(['a/1.go', 'a/2.go', 'b/3.go', 'c/4.go'].map((path) => [path, big]));
    const config = structuredClone(DEFAULT_CONFIG);
    config.limits.maxFileBytes = 1000;
    const skipped = async (order: 'forward' | 'backward') => {
      const snapshot = memorySnapshot({ base: {}, head });
      // each read finishes after those of the files listed after it (backward) or before it (forward)
      const paths = Object.keys(head);
      const queue: (() => void)[] = [];
      const read = (path: string, rev: 'head' | 'base') => {
        // the first read of each file is held until all four are asked for (the suppression pass reads them again)
        if (rev !== 'head' || queue.length === paths.length) return snapshot.read(path, rev);
        return new Promise<string | undefined>((done) => {
          queue.push(() => void snapshot.read(path, rev).then(done));
          if (queue.length === paths.length) (order === 'forward' ? queue : [...queue].reverse()).forEach((finish) => finish());
        });
      };
      const verdict = await review({ ...snapshot, read }, { config, checks: CHECKS });
      return verdict.notes.filter((n) => n.includes('over the 1000-byte limit'));
    };
    const forward = await skipped('forward');
    expect(forward).toHaveLength(4);
    expect(await skipped('backward')).toEqual(forward);
  });

  it('finds, joined, what one review finds: on a 50-file PR over 400 controllers, in 1, 2 and 3 parts', async () => {
    const dir = tempDir();
    generateTree(dir, 400, 5);
    generatePullRequest(dir, 50);
    const snapshot = await gitSnapshot({ repo: dir, base: 'main', head: 'pr' });
    try {
      const options = { config: structuredClone(DEFAULT_CONFIG), checks: CHECKS };
      const whole = await review(snapshot, options);
      expect(whole.findings.length).toBeGreaterThan(5);
      for (const count of [2, 3]) {
        const parts = [];
        for (let index = 0; index < count; index++) parts.push(await collectFindings(snapshot, { ...options, shard: { index, count } }));
        // every part found something: the split is real
        expect(parts.every((p) => p.findings.length > 0)).toBe(true);
        expect(await finishReview(snapshot, options, parts)).toEqual(whole);
      }
    } finally {
      snapshot.close();
    }
  });

  it('reads in each part its own files and the YAML the checks of every file take, not every file; the suppression pass skips files read without a directive', async () => {
    const dir = tempDir();
    generateTree(dir, 120, 7);
    const snapshot = await gitSnapshot({ repo: dir, head: 'HEAD', all: true });
    const reads: string[] = [];
    const counting = { ...snapshot, read: (path: string, rev: 'head' | 'base') => (reads.push(path), snapshot.read(path, rev)) };
    try {
      const options = { config: structuredClone(DEFAULT_CONFIG), checks: CHECKS };
      const count = 3;
      const part = shardOf(snapshot.files, count);
      const goFiles = snapshot.files.filter((f) => f.path.endsWith('.go'));
      const parts = [];
      for (let index = 0; index < count; index++) {
        reads.length = 0;
        parts.push(await collectFindings(counting, { ...options, shard: { index, count } }));
        const others = new Set(reads.filter((p) => p.endsWith('.go') && part(p) !== index));
        // the package analyses may read around a file, but never another part's packages
        expect([...others]).toEqual([]);
        expect(new Set(reads.filter((p) => p.endsWith('.go'))).size).toBe(goFiles.filter((f) => part(f.path) === index).length);
      }
      reads.length = 0;
      const verdict = await finishReview(counting, options, parts);
      // every Go file was read in its part and holds no directive: only those with findings are read again
      // (to keep the findings on changed lines), none for suppressions
      const withFindings = new Set(parts.flatMap((p) => p.findings.map((f) => f.path)));
      expect(reads.filter((p) => p.endsWith('.go') && !withFindings.has(p))).toEqual([]);
      expect(reads.length).toBeLessThan(goFiles.length / 4);
      expect(verdict).toEqual(await review(snapshot, options));
    } finally {
      snapshot.close();
    }
  });
});
