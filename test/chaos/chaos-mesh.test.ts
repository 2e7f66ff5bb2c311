// With chaos.chaosMesh, the runner creates each Chaos Mesh fault on the host cluster against the
// operator's synced pods, waits out its duration, removes it, and checks the invariants. Against
// the simulator the faults are objects only: nothing acts on them.

import { expect, test } from 'vitest';
import { chaosRun } from '../../src/chaos/runner.js';
import type { KObject } from '../support/k8s-sim.js';
import { startChaosCluster } from '../support/chaos-cluster.js';

const MESH = ['network-delay', 'network-loss', 'network-partition', 'container-kill', 'stress', 'clock-skew'];

test('creates, then deletes, one Chaos Mesh object per fault and checks the invariants after each', async () => {
  const cluster = await startChaosCluster({ chaos: { chaosMesh: true, experiments: { include: MESH }, timeouts: { convergeMs: 2000, stabilityMs: 150, faultMs: 50 } } });
  const created: KObject[] = [];
  const deleted: string[] = [];
  cluster.host.on('change', ({ type, object }) => {
    if (!object.apiVersion.startsWith('chaos-mesh.org/')) return;
    if (type === 'ADDED') created.push(object);
    if (type === 'DELETED') deleted.push(object.metadata.name);
  });
  try {
    const results = await chaosRun({ config: { chaos: cluster.chaos }, kubeconfig: cluster.kubeconfig, hostKubeconfig: cluster.hostKubeconfig, repoRoot: cluster.dir });
    expect(results.experiments.map((e) => `${e.id}:${e.outcome}`)).toEqual(['baseline:passed', ...MESH.map((id) => `${id}:passed`)]);
    expect(created.map((o) => `${o.kind}/${o.spec.action ?? (o.spec.stressors ? 'stressors' : o.spec.timeOffset)}`)).toEqual([
      'NetworkChaos/delay', 'NetworkChaos/loss', 'NetworkChaos/partition', 'PodChaos/container-kill', 'StressChaos/stressors', 'TimeChaos/-10m',
    ]);
    for (const o of created) {
      expect(o.metadata.namespace).toBe('vcluster-chaos');
      expect(o.spec.selector).toEqual({ namespaces: ['vcluster-chaos'], labelSelectors: { app: 'sample-operator', 'vcluster.loft.sh/namespace': 'sample-system' } });
      expect(o.spec.duration).toMatch(/^\d+s$/);
    }
    expect(deleted.sort()).toEqual(created.map((o) => o.metadata.name).sort());
    for (const e of results.experiments.slice(1)) expect(e.faults[0].type).toBe(`chaos-mesh-${e.id}`);
  } finally {
    await cluster.close();
  }
});
