// The chaos runner against the simulator: the correct sample operator passes every experiment in
// 10 of 10 runs, and each seeded bug is caught by the experiment and invariant meant for it, with
// the evidence the failure rests on. All 14 runs go at once: they mostly wait on watch events.

import { describe, expect, test } from 'vitest';
import { failures, runAgainst } from '../support/chaos-run.js';
import type { OperatorBug } from '../support/sample-operator.js';

describe.concurrent('the correct operator', () => {
  test('passes every experiment in 10 of 10 runs', async () => {
    const runs = await Promise.all(Array.from({ length: 10 }, () => runAgainst()));
    const passed = runs.filter((r) => r.conclusion === 'success');
    expect(runs.flatMap(failures)).toEqual([]);
    expect(passed).toHaveLength(10);
    for (const r of runs) {
      const ran = r.experiments.filter((e) => e.outcome !== 'skipped').map((e) => e.id);
      // every non-Chaos-Mesh experiment ran, with faults injected and invariants checked
      expect(ran).toEqual([
        'baseline', 'drift-delete-child', 'drift-change-child', 'evict-workload-pods', 'concurrent-updates',
        'kill-operator-graceful', 'kill-operator-force', 'kill-operator-mid-reconcile', 'scale-operator-zero',
        'delete-leader-lease', 'delete-during-create', 'delete-recreate-same-name', 'quota-squeeze', 'control-plane-restart',
      ]);
      for (const e of r.experiments.filter((x) => x.outcome === 'passed' && x.id !== 'baseline')) {
        expect(e.faults.length, e.id).toBeGreaterThan(0);
        expect(e.invariants.map((i) => i.id), e.id).toContain('children');
      }
      // no experiment had to start from a resource an earlier one left broken
      expect(r.experiments.flatMap((e) => e.faults).filter((f) => f.type === 'reset-resource')).toEqual([]);
      // the mid-reconcile kill really landed between the first child and the second
      const midKills = r.experiments.find((e) => e.id === 'kill-operator-mid-reconcile')!.faults.filter((f) => f.type === 'delete-pod');
      expect(midKills.at(-1)?.detail).toMatch(/grace period 0, 1 of 2 children of Widget demo\/sample-mid-\d made/);
      expect(r.experiments.find((e) => e.id === 'quota-squeeze')?.invariants.find((i) => i.id === 'quota-condition')?.outcome).toBe('passed');
      expect(r.experiments.find((e) => e.id === 'control-plane-restart')?.invariants.find((i) => i.id === 'watches-reestablished')?.outcome).toBe('passed');
    }
  });
});

describe.concurrent('seeded bugs', () => {
  // each bug runs against the experiments meant for it, with budgets generous enough for a loaded
  // machine: a stability window shorter than the operator's reaction would let a bug slip through
  const cases: Array<{ bug: OperatorBug; experiment: string[]; invariant: string }> = [
    { bug: 'lost-update', experiment: ['concurrent-updates'], invariant: 'no-lost-update' },
    { bug: 'duplicate-child-after-restart', experiment: ['kill-operator-graceful', 'kill-operator-force'], invariant: 'children' },
    { bug: 'no-drift-repair', experiment: ['drift-delete-child'], invariant: 'drift-repaired' },
    { bug: 'crash-mid-reconcile', experiment: ['kill-operator-mid-reconcile'], invariant: 'no-restarts' },
  ];
  test.each(cases)('$bug is caught by $experiment / $invariant', async ({ bug, experiment, invariant }) => {
    const results = await runAgainst(bug, {
      experiments: { include: experiment },
      timeouts: { convergeMs: 6000, stabilityMs: 2000, faultMs: 50 },
      midReconcileAttempts: 8,
    });
    expect(results.conclusion).toBe('failure');
    expect(results.experiments.find((e) => e.id === 'baseline')?.outcome).toBe('passed');
    for (const id of experiment) {
      const e = results.experiments.find((x) => x.id === id)!;
      expect(e.outcome, `${id}: ${failures(results).join('; ')}`).toBe('failed');
      const failed = e.invariants.find((i) => i.id === invariant);
      expect(failed?.outcome, `${id}: ${failures(results).join('; ')}`).toBe('failed');
      // the failure carries the evidence it rests on
      expect(failed?.evidence?.objects.length, id).toBeGreaterThan(0);
      expect(failed?.evidence?.logs.length, id).toBeGreaterThan(0);
    }
  });
});
