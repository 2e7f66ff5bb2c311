// The simulator keeps the API semantics the runner and the sample operator depend on; each case
// goes through client-node, as the runner does.

import { CoreV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, Watch, type KubernetesObject } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { K8sSimulator } from '../support/k8s-sim.js';
import { WIDGET_KIND } from '../support/sample-operator.js';

let sim: K8sSimulator;
let api: KubernetesObjectApi;

beforeEach(async () => {
  sim = await K8sSimulator.start({ gracefulPodDeletionMs: 10 });
  sim.registerKind(WIDGET_KIND);
  api = KubernetesObjectApi.makeApiClient(sim.kubeConfig());
});
afterEach(() => sim.close());

/** Resolve once the simulator's state satisfies `predicate`, checked on every change. */
function until(predicate: () => boolean, ms = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!predicate()) return;
      sim.off('change', check);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      sim.off('change', check);
      reject(new Error('condition not reached'));
    }, ms);
    sim.on('change', check);
    check();
  });
}

const widget = (name: string, spec: Record<string, unknown> = { message: 'a' }) =>
  ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name, namespace: 'default' }, spec }) as KubernetesObject;

describe('writes', () => {
  test('an update with a stale resourceVersion is a 409; generation moves with the spec only', async () => {
    const created = await api.create(widget('w'));
    expect(created.metadata?.generation).toBe(1);
    const labelled = await api.patch({ ...widget('w'), metadata: { name: 'w', namespace: 'default', labels: { a: 'b' } }, spec: undefined } as KubernetesObject, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    expect(labelled.metadata?.generation).toBe(1);
    const changed = await api.replace({ ...labelled, spec: { message: 'b' } } as KubernetesObject);
    expect(changed.metadata?.generation).toBe(2);
    await expect(api.replace({ ...created, spec: { message: 'c' } } as KubernetesObject)).rejects.toMatchObject({ code: 409 });
  });

  test('the status subresource: the main endpoint keeps status, /status keeps the spec', async () => {
    await api.create(widget('w'));
    const custom = sim.kubeConfig().makeApiClient(CustomObjectsApi);
    await custom.patchNamespacedCustomObjectStatus({ group: 'example.com', version: 'v1', namespace: 'default', plural: 'widgets', name: 'w', body: [{ op: 'add', path: '/status', value: { ok: true } }] });
    const current = sim.get('example.com/v1', 'Widget', 'default', 'w')!;
    expect(current.status).toEqual({ ok: true });
    await api.replace({ ...current, spec: { message: 'z' }, status: { ok: false } } as KubernetesObject);
    const after = sim.get('example.com/v1', 'Widget', 'default', 'w')!;
    expect(after.status).toEqual({ ok: true });
    expect(after.spec).toEqual({ message: 'z' });
  });

  test('ResourceQuota admission rejects a create past the quota with a 403 like the real one', async () => {
    sim.create({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'default' }, spec: { hard: { 'count/configmaps': '1' } } });
    await api.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one', namespace: 'default' } });
    const refused = await api.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'two', namespace: 'default' } }).catch((e) => e);
    expect(refused.code).toBe(403);
    expect(JSON.parse(refused.body).message).toBe('configmaps "two" is forbidden: exceeded quota: q, requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1');
  });

  test('requests with the token of a deleted pod are dropped, as if the process were dead', async () => {
    const pod = sim.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'op', namespace: 'default' }, spec: { containers: [{ name: 'm' }] } });
    const asPod = KubernetesObjectApi.makeApiClient(sim.kubeConfig(`pod:default/${pod.metadata.name}`));
    await asPod.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'alive', namespace: 'default' } });
    sim.delete('v1', 'Pod', 'default', 'op', 0);
    await expect(asPod.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dead', namespace: 'default' } })).rejects.toThrow();
    expect(sim.get('v1', 'ConfigMap', 'default', 'dead')).toBeUndefined();
  });
});

describe('controllers', () => {
  test('the garbage collector removes dependents whose owner is gone', async () => {
    const owner = await api.create(widget('w'));
    await api.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'child', namespace: 'default', ownerReferences: [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: owner.metadata!.uid!, controller: true }] } } as KubernetesObject);
    await api.delete(widget('w'));
    await until(() => !sim.get('v1', 'ConfigMap', 'default', 'child'));
  });

  test('pods: a graceful delete marks the pod terminating first; grace period 0 removes it at once', async () => {
    const core = sim.kubeConfig().makeApiClient(CoreV1Api);
    sim.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'm' }] } });
    await core.deleteNamespacedPod({ name: 'p', namespace: 'default' });
    expect(sim.get('v1', 'Pod', 'default', 'p')?.metadata.deletionTimestamp).toBeDefined();
    await until(() => !sim.get('v1', 'Pod', 'default', 'p'));
    sim.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'q', namespace: 'default' }, spec: { containers: [{ name: 'm' }] } });
    await core.deleteNamespacedPod({ name: 'q', namespace: 'default', gracePeriodSeconds: 0 });
    expect(sim.get('v1', 'Pod', 'default', 'q')).toBeUndefined();
  });

  test('a Deployment keeps its replica count of pods, replacing deleted ones', async () => {
    sim.create({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'default' }, spec: { replicas: 2, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'm' }] } } } });
    const live = () => sim.list('v1', 'Pod', 'default', 'app=d').filter((p) => !p.metadata.deletionTimestamp);
    await until(() => live().length === 2);
    const first = live()[0].metadata.name;
    sim.delete('v1', 'Pod', 'default', first, 0);
    await until(() => live().length === 2 && !live().some((p) => p.metadata.name === first));
    await api.patch({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'default' }, spec: { replicas: 0 } } as KubernetesObject, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    await until(() => sim.list('v1', 'Pod', 'default', 'app=d').length === 0);
  });
});

describe('watches', () => {
  test('resume from a resourceVersion, and get 410 Gone once a control plane restart compacted it', async () => {
    const watch = new Watch(sim.kubeConfig());
    const list = await api.list('example.com/v1', 'Widget', 'default');
    const from = list.metadata!.resourceVersion!;
    await api.create(widget('a'));
    await api.create(widget('b'));
    const seen: string[] = [];
    const ended = new Promise<unknown>((resolve) => {
      void watch.watch('/apis/example.com/v1/namespaces/default/widgets', { resourceVersion: from }, (type, obj) => {
        seen.push(`${type} ${obj.metadata.name}`);
        if (seen.length === 2) expect(sim.restartControlPlane()).toBe(1);
      }, resolve);
    });
    await ended;
    expect(seen).toEqual(['ADDED a', 'ADDED b']);
    const events: Array<{ type: string; code?: number }> = [];
    await new Promise((resolve) => {
      void watch.watch('/apis/example.com/v1/namespaces/default/widgets', { resourceVersion: from }, (type, obj) => events.push({ type, code: obj.code }), resolve);
    });
    expect(events).toEqual([{ type: 'ERROR', code: 410 }]);
  });
});
