// Each seeded bug of the sample operator is caught, by the experiment and the invariant meant for
// it, with the evidence (objects, operator logs) the failure rests on.

import { describe, expect, test } from 'vitest';
import { failures, runAgainst } from '../support/chaos-run.js';
import type { OperatorBug } from '../support/sample-operator.js';

describe.concurrent('seeded bugs', () => {
  const cases: Array<{ bug: OperatorBug; experiment: string[]; invariant: string }> = [
    { bug: 'lost-update', experiment: ['concurrent-updates'], invariant: 'no-lost-update' },
    { bug: 'duplicate-child-after-restart', experiment: ['kill-operator-graceful', 'kill-operator-force'], invariant: 'children' },
    { bug: 'no-drift-repair', experiment: ['drift-delete-child'], invariant: 'drift-repaired' },
    { bug: 'crash-mid-reconcile', experiment: ['kill-operator-mid-reconcile'], invariant: 'no-restarts' },
  ];
  test.each(cases)('$bug is caught by $experiment / $invariant', async ({ bug, experiment, invariant }) => {
    const results = await runAgainst(bug);
    expect(results.conclusion).toBe('failure');
    for (const id of experiment) {
      const e = results.experiments.find((x) => x.id === id)!;
      expect(e.outcome, `${id}: ${failures(results).join('; ')}`).toBe('failed');
      const failed = e.invariants.find((i) => i.id === invariant);
      expect(failed?.outcome, id).toBe('failed');
      // the failure carries the evidence it rests on
      expect(failed?.evidence?.objects.length, id).toBeGreaterThan(0);
      expect(failed?.evidence?.logs.length, id).toBeGreaterThan(0);
    }
  });
});
