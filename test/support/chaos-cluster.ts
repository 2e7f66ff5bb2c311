// A virtual cluster (simulator + sample operator) inside a host cluster (a second simulator that
// runs the vcluster control plane pod), with the chaos config and manifest the runner needs.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { K8sSimulator } from './k8s-sim.js';
import { OperatorDeployment, WIDGET_KIND, type OperatorBug } from './sample-operator.js';

export interface ChaosCluster {
  sim: K8sSimulator;
  host: K8sSimulator;
  operator: OperatorDeployment;
  dir: string;
  kubeconfig: string;
  hostKubeconfig: string;
  /** the `chaos` section of a config, timeouts shrunk for tests */
  chaos: Record<string, unknown>;
  close(): Promise<void>;
}

export const WIDGET_MANIFEST = `apiVersion: example.com/v1
kind: Widget
metadata:
  name: sample
spec:
  message: hello
  replicas: 2
`;

export async function startChaosCluster(options: { bug?: OperatorBug; chaos?: Record<string, unknown> } = {}): Promise<ChaosCluster> {
  const sim = await K8sSimulator.start({ gracefulPodDeletionMs: 20, bookmarkIntervalMs: 200 });
  sim.registerKind(WIDGET_KIND);
  const operator = OperatorDeployment.start(sim, { bug: options.bug, leaseDurationSeconds: 1, renewMs: 100, maxBackoffMs: 100 });

  // the host runs the vcluster control plane; deleting its pod restarts the virtual API server
  const host = await K8sSimulator.start({ gracefulPodDeletionMs: 20 });
  host.ensureNamespace('vcluster-chaos');
  // Chaos Mesh's CRDs, installed on the host as the workflow does with chaos.chaosMesh
  for (const kind of ['NetworkChaos', 'PodChaos', 'StressChaos', 'TimeChaos']) {
    host.registerKind({ group: 'chaos-mesh.org', version: 'v1alpha1', kind, plural: kind.toLowerCase(), namespaced: true, status: true });
  }
  host.create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'chaos', namespace: 'vcluster-chaos' },
    spec: { replicas: 1, template: { metadata: { labels: { app: 'vcluster', release: 'chaos' } }, spec: { containers: [{ name: 'syncer', image: 'vcluster' }] } } },
  });
  host.on('change', ({ type, object, previous }) => {
    const stopping = type === 'DELETED' || (object.metadata.deletionTimestamp && !previous?.metadata.deletionTimestamp);
    if (object.kind === 'Pod' && object.metadata.labels?.app === 'vcluster' && stopping && type !== 'DELETED') sim.restartControlPlane(50);
  });

  const dir = await mkdtemp(join(tmpdir(), 'causal-review-chaos-'));
  await writeFile(join(dir, 'widget.yaml'), WIDGET_MANIFEST);
  const kubeconfig = join(dir, 'kubeconfig');
  const hostKubeconfig = join(dir, 'host-kubeconfig');
  await writeFile(kubeconfig, sim.kubeConfigYaml());
  await writeFile(hostKubeconfig, host.kubeConfigYaml());
  const chaos = {
    operator: { namespace: 'sample-system', deployment: 'sample-operator', selector: 'app=sample-operator', leaseName: 'sample-operator-leader' },
    resources: [
      {
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        namespace: 'demo',
        manifest: 'widget.yaml',
        children: [
          { apiVersion: 'v1', kind: 'ConfigMap', count: 1 },
          { apiVersion: 'apps/v1', kind: 'Deployment', count: 1 },
        ],
        flip: { path: 'spec.message', values: ['left', 'right'] },
      },
    ],
    vcluster: { namespaceQuota: { pods: 40, 'count/configmaps': 40 } },
    timeouts: { convergeMs: 6000, stabilityMs: 400, faultMs: 50 },
    concurrency: { writers: 4, writes: 6 },
    ...options.chaos,
  };
  return {
    sim,
    host,
    operator,
    dir,
    kubeconfig,
    hostKubeconfig,
    chaos,
    async close() {
      operator.stop();
      await Promise.all([sim.close(), host.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
