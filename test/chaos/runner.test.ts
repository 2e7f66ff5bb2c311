// The chaos runner against the simulator: the correct sample operator passes every experiment in
// 10 of 10 runs (the seeded bugs are in seeded-bugs.test.ts, so the two run on separate cores).

import { describe, expect, test } from 'vitest';
import { failures, runAgainst } from '../support/chaos-run.js';

describe('the correct operator', () => {
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
      expect(r.experiments.find((e) => e.id === 'quota-squeeze')?.invariants.find((i) => i.id === 'quota-condition')?.outcome).toBe('passed');
      expect(r.experiments.find((e) => e.id === 'control-plane-restart')?.invariants.find((i) => i.id === 'watches-reestablished')?.outcome).toBe('passed');
    }
  });
});

