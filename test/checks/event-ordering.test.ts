// event-ordering over its fixture table: polling loops in the reconcile path, owned children
// nobody watches, unordered TS watch/informer handlers and their unconditioned status writes.

import { describe, expect, it } from 'vitest';
import { eventOrdering } from '../../checks/event-ordering.js';
import { describeProblems, loadCases, runCase } from '../support/fixtures.js';

const cases = loadCases('event-ordering');

describe('event-ordering fixtures', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const result = await runCase(c, [eventOrdering]);
    expect(describeProblems(result)).toBe('');
  });

  it('has flagged cases and silent near-misses', () => {
    const flagged = cases.filter((c) => c.wants.length > 0);
    const silent = cases.filter((c) => c.wants.length === 0);
    expect(flagged.length).toBeGreaterThanOrEqual(10);
    expect(silent.length).toBeGreaterThanOrEqual(10);
  });
});
