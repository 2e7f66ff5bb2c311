// What the engine hands a parse thread (src/cli/parse-thread.ts): the Go files of the packages the
// checks will parse, as their package gates tell, part by part, with the next part's ahead; and a
// review with one finds exactly what a review without one finds.

import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../checks/index.js';
import { DEFAULT_CONFIG } from '../../src/config/schema.js';
import { collectFindings, shardOf } from '../../src/engine/engine.js';
import { memorySnapshot } from '../../src/engine/memory.js';
import type { GoParseAhead, GoParseTicket } from '../../src/engine/parse.js';
import { parseGoSyntax } from '../../src/lang/go-syntax.js';

/** A parse thread in this thread that records what it is given. */
class Recorder implements GoParseAhead {
  readonly enqueued: string[] = [];
  readonly prefetched: string[] = [];
  readonly taken: string[] = [];
  enqueue(text: string): GoParseTicket {
    this.enqueued.push(text);
    return {
      take: () => {
        this.taken.push(text);
        return parseGoSyntax(text);
      },
      discard: () => undefined,
    };
  }
  prefetch(text: string): void {
    this.prefetched.push(text);
  }
  /** how many times the prefetched texts were given up, and how many were waiting then */
  readonly drops: number[] = [];
  dropPrefetched(): void {
    this.drops.push(this.prefetched.length);
  }
}

const sleeper = (pkg: string, n: number) => `package ${pkg}\n\nimport "time"\n\nfunc wait${n}() {\n\ttime.Sleep(${n} * time.Second)\n}\n`;
const quiet = (pkg: string, n: number) => `package ${pkg}\n\nfunc add${n}(a, b int) int {\n\treturn a + b + ${n}\n}\n`;

describe('a review with a parse thread', () => {
  // alpha (3 files) and beta (2) say time.Sleep; quiet (2) and calm (1) say nothing any Go check's gate asks for
  const head: Record<string, string> = {
    'alpha/a1.go': sleeper('alpha', 1),
    'alpha/a2.go': quiet('alpha', 2),
    'alpha/a3.go': quiet('alpha', 3),
    'beta/b1.go': quiet('beta', 1),
    'beta/b2.go': sleeper('beta', 2),
    'quiet/q1.go': quiet('quiet', 1),
    'quiet/q2.go': quiet('quiet', 2),
    'calm/c1.go': quiet('calm', 1),
  };
  const options = { config: structuredClone(DEFAULT_CONFIG), checks: CHECKS };

  it('hands over the files of the packages the gates let in, the next part ahead, and finds what it finds without one', async () => {
    const snapshot = memorySnapshot({ base: {}, head });
    const count = 2;
    const part = shardOf(snapshot.files, count);
    // alpha and calm in part 0, beta and quiet in part 1
    expect(['alpha/a1.go', 'calm/c1.go', 'beta/b1.go', 'quiet/q1.go'].map(part)).toEqual([0, 0, 1, 1]);
    const ahead = new Recorder();
    const withThread = [];
    const without = [];
    for (let index = 0; index < count; index++) {
      const before = { enqueued: ahead.enqueued.length, prefetched: ahead.prefetched.length };
      withThread.push(await collectFindings(snapshot, { ...options, shard: { index, count }, parseAhead: ahead }));
      without.push(await collectFindings(snapshot, { ...options, shard: { index, count } }));
      const enqueued = ahead.enqueued.slice(before.enqueued);
      const prefetched = ahead.prefetched.slice(before.prefetched);
      if (index === 0) {
        expect(enqueued).toEqual([head['alpha/a1.go'], head['alpha/a2.go'], head['alpha/a3.go']]);
        expect(prefetched).toEqual([head['beta/b1.go'], head['beta/b2.go']]);
      } else {
        expect(enqueued).toEqual([head['beta/b1.go'], head['beta/b2.go']]);
        expect(prefetched).toEqual([]);
      }
    }
    // each part gave up what was read ahead for it and not asked for, after its own hand-over and before the next part's
    expect(ahead.drops).toEqual([0, 2]);
    expect(withThread).toEqual(without);
    expect(withThread.flatMap((p) => p.findings).filter((f) => f.checkId === 'sleep-fix')).toHaveLength(2);
    // the checks took the trees handed over
    expect(new Set(ahead.taken)).toEqual(new Set([head['alpha/a1.go'], head['alpha/a2.go'], head['alpha/a3.go'], head['beta/b1.go'], head['beta/b2.go']]));
  });

  it('hands over every package where a Go check has no gate', async () => {
    const snapshot = memorySnapshot({ base: {}, head });
    const ungated = CHECKS.map((c) => (c.id === 'sleep-fix' ? { ...c, goPackageGate: undefined } : c));
    const ahead = new Recorder();
    await collectFindings(snapshot, { ...options, checks: ungated, parseAhead: ahead });
    expect(new Set(ahead.enqueued)).toEqual(new Set(Object.values(head)));
  });
});
