// unsynchronized-state over its fixture table: every flagged case and every near-miss in
// test/fixtures/unsynchronized-state/, plus the severity contract (error when reconciles run at once).

import { describe, expect, it } from 'vitest';
import { unsynchronizedState } from '../../checks/unsynchronized-state.js';
import { describeProblems, loadCases, runCase } from '../support/fixtures.js';

const cases = loadCases('unsynchronized-state');

describe('unsynchronized-state fixtures', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const result = await runCase(c, [unsynchronizedState]);
    expect(describeProblems(result)).toBe('');
  });

  it('has flagged cases and silent near-misses', () => {
    const flagged = cases.filter((c) => c.wants.length > 0);
    const silent = cases.filter((c) => c.wants.length === 0);
    expect(flagged.length).toBeGreaterThanOrEqual(10);
    expect(silent.length).toBeGreaterThanOrEqual(flagged.length);
  });
});

describe('unsynchronized-state severity', () => {
  const severityOf = async (name: string) => {
    const c = cases.find((x) => x.name === name)!;
    const result = await runCase(c, [unsynchronizedState]);
    return result.findings.map((f) => f.severity);
  };

  it('blocks a reconciler field write when reconciles run at once', async () => {
    expect(await severityOf('go-reconciler-map-field-concurrent')).toEqual(['error']);
  });

  it('only warns while MaxConcurrentReconciles is 1', async () => {
    expect(await severityOf('go-reconciler-counter-serial')).toEqual(['warning']);
  });

  it('blocks writes from goroutines whatever the concurrency setting', async () => {
    expect(await severityOf('go-reconciler-field-from-goroutine')).toEqual(['error']);
  });
});
