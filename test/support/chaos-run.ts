// Runs `chaosRun` against a fresh simulated cluster with the sample operator, and checks that
// the results.json it writes is the value it returns and passes its own schema.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { chaosRun } from '../../src/chaos/runner.js';
import { validateResults, type ChaosResults } from '../../src/chaos/results.js';
import { startChaosCluster } from './chaos-cluster.js';
import type { OperatorBug } from './sample-operator.js';

export async function runAgainst(bug?: OperatorBug, chaos?: Record<string, unknown>): Promise<ChaosResults> {
  const cluster = await startChaosCluster({ bug, chaos });
  try {
    const out = join(cluster.dir, 'results.json');
    const results = await chaosRun({
      config: { chaos: cluster.chaos },
      kubeconfig: cluster.kubeconfig,
      hostKubeconfig: cluster.hostKubeconfig,
      repoRoot: cluster.dir,
      out,
    });
    // what was written is what was returned, and it passes its own schema
    expect(validateResults(JSON.parse(await readFile(out, 'utf8')))).toEqual(results);
    return results;
  } finally {
    await cluster.close();
  }
}

export const failures = (r: ChaosResults) =>
  r.experiments
    .filter((e) => e.outcome === 'failed' || e.outcome === 'error')
    .map((e) => `${e.id}: ${e.reason ?? e.invariants.filter((i) => i.outcome === 'failed').map((i) => `${i.id} (${i.message})`).join(', ')}`);

