// The experiments: each injects one kind of fault into the operator or its resources and then
// expects the resource to converge again with every invariant holding. Ordered as they run.

import type { KubernetesObject } from '@kubernetes/client-node';
import type { ChaosSettings } from './config.js';
import { dependentsOf, operatorPods, ownedBy, ref, conditionOf } from './invariants.js';
import { Skip, type Trial } from './trial.js';
import type { KObject } from './view.js';

export interface Experiment {
  id: string;
  title: string;
  /** what must be configured or reachable for the experiment to run */
  needs?: Array<'lease' | 'host' | 'chaosMesh'>;
  run(t: Trial): Promise<void>;
}

const live = (pods: KObject[]) => pods.filter((p) => !p.metadata?.deletionTimestamp);
const uidOf = (o: KObject | undefined) => o?.metadata?.uid;

/** Kill every live operator pod, wait for a replacement to lead, then for the resource to converge. */
async function killOperator(t: Trial, gracePeriodSeconds: number | undefined, how: string): Promise<void> {
  const pods = live(operatorPods(t.view, t.settings.operator));
  if (!pods.length) throw new Error(`no live operator pod matches ${t.settings.operator.selector} in ${t.settings.operator.namespace}`);
  const killed = new Set(pods.map((p) => p.metadata!.name!));
  for (const pod of pods) {
    t.fault('delete-pod', ref(pod), how);
    await t.remove(pod, gracePeriodSeconds);
  }
  if (await t.awaitOperator(killed)) await t.converge();
}

function quotaKey(plural: string, apiVersion: string): string {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  return group ? `count/${plural}.${group}` : `count/${plural}`;
}

function getPath(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

function patchAt(path: string, value: unknown): Record<string, unknown> {
  return path
    .split('.')
    .reverse()
    .reduce<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

/** The first scalar under `data` or `spec`: what the drift experiment changes and expects back. */
function driftField(obj: KObject): { path: string; value: unknown } | undefined {
  for (const root of ['data', 'spec']) {
    const walk = (value: unknown, path: string): { path: string; value: unknown } | undefined => {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return { path, value };
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value)) {
          const found = walk(v, `${path}.${k}`);
          if (found) return found;
        }
      }
      return undefined;
    };
    const found = walk(obj[root], root);
    if (found) return found;
  }
  return undefined;
}

/** For each child kind, one object the resource owns now: what the drift faults act on. */
function victims(t: Trial): Array<{ child: Trial['spec']['children'][number]; victim: KObject; owner: string }> {
  const owner = uidOf(t.cr())!;
  return t.spec.children.flatMap((child) => {
    const victim = ownedBy(t.view, child, t.spec.namespace, owner)[0];
    return victim ? [{ child, victim, owner }] : [];
  });
}

const WRITE_ANNOTATION = 'causal-review.dev/chaos-write';

export const EXPERIMENTS: Experiment[] = [
  {
    id: 'baseline',
    title: 'The resource converges from its manifest with no fault',
    async run(t) {
      await t.apply();
      await t.converge();
    },
  },
  {
    id: 'drift-delete-child',
    title: 'A deleted child is recreated',
    async run(t) {
      await t.ensureResource();
      for (const { child, victim, owner: uid } of victims(t)) {
        t.fault('delete-child', ref(victim));
        await t.remove(victim);
        const back = await t.until(() => ownedBy(t.view, child, t.spec.namespace, uid).some((o) => uidOf(o) !== uidOf(victim) && !o.metadata?.deletionTimestamp), `a new ${child.kind}`);
        t.record('drift-repaired', Boolean(back), back ? `${child.kind} recreated after ${ref(victim)} was deleted` : `${ref(victim)} was deleted and no ${child.kind} replaced it`);
      }
      await t.converge();
    },
  },
  {
    id: 'drift-change-child',
    title: 'A changed child is changed back',
    async run(t) {
      await t.ensureResource();
      for (const { child, victim } of victims(t)) {
        const field = driftField(victim);
        if (!field) continue;
        const drifted = typeof field.value === 'number' ? field.value + 1 : typeof field.value === 'boolean' ? !field.value : `${field.value}-causal-review-drift`;
        t.fault('change-child', ref(victim), `${field.path}: ${JSON.stringify(field.value)} -> ${JSON.stringify(drifted)}`);
        const changed = await t.mergePatch(victim, patchAt(field.path, drifted));
        const repaired = await t.until(() => {
          const now = t.view.objects(child.apiVersion, child.kind, t.spec.namespace).find((o) => o.metadata?.name === victim.metadata?.name);
          return now && Number(now.metadata?.resourceVersion) !== Number(changed.metadata?.resourceVersion) && getPath(now, field.path) === field.value;
        }, `${ref(victim)} ${field.path} repaired`);
        const now = t.view.objects(child.apiVersion, child.kind, t.spec.namespace).find((o) => o.metadata?.name === victim.metadata?.name);
        t.record(
          'drift-repaired',
          Boolean(repaired),
          repaired ? `${ref(victim)} ${field.path} set back to ${JSON.stringify(field.value)}` : `${ref(victim)} ${field.path} is still ${JSON.stringify(now && getPath(now, field.path))}, want ${JSON.stringify(field.value)}`,
          now ? [now] : [],
        );
      }
      await t.converge();
    },
  },
  {
    id: 'evict-workload-pods',
    title: 'Workload pods are evicted',
    async run(t) {
      await t.ensureResource();
      const pods = live(t.view.objects('v1', 'Pod', t.spec.namespace));
      for (const pod of pods) {
        t.fault('evict-pod', ref(pod));
        await t.core
          .createNamespacedPodEviction({
            name: pod.metadata!.name!,
            namespace: t.spec.namespace,
            body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata!.name!, namespace: t.spec.namespace } },
          })
          .catch((error: { code?: number }) => {
            if (error.code !== 404 && error.code !== 429) throw error;
          });
      }
      await t.converge();
    },
  },
  {
    id: 'concurrent-updates',
    title: 'Concurrent writers flip the spec, some with stale resourceVersions',
    async run(t) {
      const flip = t.spec.flip;
      if (!flip) throw new Skip(`chaos.resources[].flip is not set for ${t.spec.kind}: no spec field to flip`);
      await t.ensureResource();
      const { writers, writes } = t.settings.concurrency;
      const stale = t.cr()!;
      const accepted: Array<{ rv: number; id: string; value: unknown }> = [];
      const regressions: string[] = [];
      const states: Array<{ rv: number; id?: string; value: unknown }> = [];
      let conflicts = 0;
      // every state the resource passes through is kept, and judged once all writes are answered
      // (a watch event can arrive before the response to the write that caused it)
      const onChange = (change: { object: KObject; kind: string }) => {
        const o = change.object;
        if (change.kind !== `${t.spec.apiVersion}/${t.spec.kind}` || o.metadata?.name !== t.name) return;
        states.push({ rv: Number(o.metadata?.resourceVersion), id: o.metadata?.annotations?.[WRITE_ANNOTATION], value: getPath(o, flip.path) });
      };
      t.view.on('change', onChange);
      const writer = async (w: number) => {
        for (let i = 0; i < writes; i++) {
          const id = `w${w}-${i}`;
          const value = flip.values[(w + i) % flip.values.length];
          const useStale = i === 0;
          const base = useStale ? structuredClone(stale) : ((await t.view.api.read({ apiVersion: t.spec.apiVersion, kind: t.spec.kind, metadata: { name: t.name, namespace: t.spec.namespace } })) as KObject);
          const next = structuredClone(base);
          next.metadata!.annotations = { ...next.metadata!.annotations, [WRITE_ANNOTATION]: id };
          const [head, ...rest] = flip.path.split('.');
          let cursor = next as Record<string, unknown>;
          for (const key of [head, ...rest].slice(0, -1)) cursor = (cursor[key] ??= {}) as Record<string, unknown>;
          cursor[rest.at(-1) ?? head] = value;
          try {
            const written = await t.view.api.replace(next as KubernetesObject);
            accepted.push({ rv: Number(written.metadata?.resourceVersion), id, value });
          } catch (error) {
            if ((error as { code?: number }).code !== 409) throw error;
            conflicts += 1;
          }
        }
      };
      t.fault('concurrent-writers', ref(stale), `${writers} writers x ${writes} writes flipping ${flip.path} between ${flip.values.map((v) => JSON.stringify(v)).join(', ')}; the first write of each uses a stale resourceVersion`);
      await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
      t.fault('writes-done', ref(stale), `${accepted.length} accepted, ${conflicts} rejected with 409`);
      await t.converge();
      t.view.off('change', onChange);
      const rvOf = new Map(accepted.map((a) => [a.id, a.rv]));
      const newest = (rv: number) => accepted.filter((a) => a.rv <= rv).reduce<(typeof accepted)[number] | undefined>((m, a) => (!m || a.rv > m.rv ? a : m), undefined);
      // resourceVersions are compared as numbers, as etcd issues them; other stores are not judged
      for (const state of states.filter((x) => !Number.isNaN(x.rv))) {
        const latest = newest(state.rv);
        const written = state.id !== undefined ? rvOf.get(state.id) : undefined;
        if (!latest || (written !== undefined && written >= latest.rv && state.value === accepted.find((a) => a.id === state.id)?.value)) continue;
        regressions.push(`at resourceVersion ${state.rv} ${flip.path}=${JSON.stringify(state.value)} (write ${state.id ?? 'none'}) after write ${latest.id} set ${JSON.stringify(latest.value)} at ${latest.rv}`);
      }
      const last = newest(Number.MAX_SAFE_INTEGER);
      const final = t.cr();
      if (last && final && (final.metadata?.annotations?.[WRITE_ANNOTATION] !== last.id || getPath(final, flip.path) !== last.value)) {
        regressions.push(`finally ${flip.path}=${JSON.stringify(getPath(final, flip.path))} (write ${final.metadata?.annotations?.[WRITE_ANNOTATION]}), but the last accepted write was ${last.id} = ${JSON.stringify(last.value)}`);
      }
      t.record(
        'no-lost-update',
        regressions.length === 0,
        regressions.length
          ? `a write was overwritten by an older copy: ${regressions.slice(0, 5).join('; ')}${regressions.length > 5 ? ` (and ${regressions.length - 5} more)` : ''}`
          : `${accepted.length} writes accepted in order, ${conflicts} stale writes rejected`,
        final ? [final] : [],
      );
    },
  },
  {
    id: 'kill-operator-graceful',
    title: 'The operator pod is deleted with its grace period',
    async run(t) {
      await t.ensureResource();
      t.snapshotRestarts();
      await killOperator(t, undefined, 'graceful');
    },
  },
  {
    id: 'kill-operator-force',
    title: 'The operator pod is deleted with grace period 0',
    async run(t) {
      await t.ensureResource();
      t.snapshotRestarts();
      await killOperator(t, 0, 'grace period 0');
    },
  },
  {
    id: 'kill-operator-mid-reconcile',
    title: 'The operator pod is killed between creating one child and the next',
    async run(t) {
      await t.ensureResource();
      const total = t.spec.children.reduce((n, c) => n + c.count, 0);
      for (let attempt = 1; attempt <= t.settings.midReconcileAttempts; attempt++) {
        t.snapshotRestarts();
        const probe = await t.create(t.probe(`mid-${attempt}`));
        const uid = uidOf(probe)!;
        const killed = new Set<string>();
        let midway = false;
        // kill from inside the watch callback, the moment the first child shows up
        const first = await t.until(() => {
          const made = dependentsOf(t.view, t.spec, uid).length;
          if (made === 0) return false;
          midway = made < total;
          for (const pod of live(operatorPods(t.view, t.settings.operator))) {
            killed.add(pod.metadata!.name!);
            t.fault('delete-pod', ref(pod), `grace period 0, ${made} of ${total} children of ${ref(probe)} made`);
            void t.remove(pod, 0).catch(() => undefined);
          }
          return true;
        }, `a first child of ${ref(probe)}`);
        if (!first) t.record('children', false, `the operator made no child of ${ref(probe)}`);
        const back = await t.awaitOperator(killed);
        const converged = back && (await t.converge(probe.metadata!.name!));
        await t.remove(probe);
        await t.expectNoOrphans(uid, ref(probe));
        if (!first || !back || !converged || !converged.ok || midway || total < 2) return;
        t.fault('retry', ref(probe), 'the kill came after the last child; trying again');
      }
    },
  },
  {
    id: 'scale-operator-zero',
    title: 'The operator is scaled to 0 while its resource changes, then back',
    async run(t) {
      await t.ensureResource();
      const { operator } = t.settings;
      const deployment = (await t.view.api.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: operator.deployment, namespace: operator.namespace } })) as KObject;
      const replicas = deployment.spec?.replicas ?? 1;
      const before = new Set(operatorPods(t.view, operator).map((p) => p.metadata!.name!));
      t.fault('scale', ref(deployment), `replicas ${replicas} -> 0`);
      await t.mergePatch(deployment, { spec: { replicas: 0 } });
      const down = await t.until(() => operatorPods(t.view, operator).length === 0, 'the operator pods to go');
      if (!down) t.record('ready', false, `operator pods still running after scaling ${ref(deployment)} to 0`);
      // something to catch up on while no operator runs
      const victim = victims(t)[0]?.victim;
      if (victim) {
        t.fault('delete-child', ref(victim), 'while the operator is scaled to 0');
        await t.remove(victim);
      }
      t.fault('scale', ref(deployment), `replicas 0 -> ${replicas}`);
      await t.mergePatch(deployment, { spec: { replicas } });
      if (await t.awaitOperator(before)) await t.converge();
    },
  },
  {
    id: 'delete-leader-lease',
    title: 'The leader election Lease is deleted',
    needs: ['lease'],
    async run(t) {
      await t.ensureResource();
      const { operator } = t.settings;
      const lease = t.view.get('coordination.k8s.io/v1', 'Lease', operator.namespace, operator.leaseName!);
      if (!lease) throw new Error(`Lease ${operator.namespace}/${operator.leaseName} does not exist before the fault`);
      t.fault('delete-lease', ref(lease));
      await t.remove(lease);
      const back = await t.until(() => t.view.get('coordination.k8s.io/v1', 'Lease', operator.namespace, operator.leaseName!)?.spec?.holderIdentity, 'the Lease to be held again');
      t.record('one-lease-holder', Boolean(back), back ? `Lease taken again by ${String(back)}` : `no operator took the Lease ${operator.leaseName} again`);
      await t.converge();
    },
  },
  {
    id: 'delete-during-create',
    title: 'A resource is deleted while the operator is creating its children',
    async run(t) {
      await t.ensureResource();
      const probe = await t.create(t.probe('doomed'));
      await t.until(() => dependentsOf(t.view, t.spec, uidOf(probe)!).length > 0, `a first child of ${ref(probe)}`, t.settings.timeouts.convergeMs);
      t.fault('delete-resource', ref(probe), 'as its first child appeared');
      await t.remove(probe);
      await t.until(() => !t.cr(probe.metadata!.name!), `${ref(probe)} to go`);
      await t.expectNoOrphans(uidOf(probe)!, ref(probe));
      await t.converge();
    },
  },
  {
    id: 'delete-recreate-same-name',
    title: 'A resource is deleted and created again under the same name',
    async run(t) {
      await t.ensureResource();
      const old = t.cr()!;
      t.fault('delete-resource', ref(old));
      await t.remove(old);
      await t.until(() => uidOf(t.cr()) !== uidOf(old), `${ref(old)} to go`);
      t.fault('recreate-resource', ref(old), 'same name, new uid');
      await t.create(structuredClone(t.manifest)).catch((error: { code?: number }) => {
        if (error.code !== 409) throw error;
      });
      await t.expectNoOrphans(uidOf(old)!, `the deleted ${ref(old)}`);
      await t.converge();
    },
  },
  {
    id: 'quota-squeeze',
    title: 'A ResourceQuota leaves no room for new children, then is lifted',
    async run(t) {
      await t.ensureResource();
      const hard: Record<string, string> = {};
      for (const child of t.spec.children) {
        const resource = await t.view.api.discover(child.apiVersion, child.kind);
        if (!resource) continue;
        hard[quotaKey(resource.name, child.apiVersion)] = String(t.view.objects(child.apiVersion, child.kind, t.spec.namespace).length);
      }
      const quota = { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'causal-review-squeeze', namespace: t.spec.namespace }, spec: { hard } } as KObject;
      t.fault('squeeze-quota', ref(quota), JSON.stringify(hard));
      await t.create(quota);
      const probe = await t.create(t.probe('squeezed'));
      const pattern = new RegExp(t.spec.quotaPattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
      const said = await t.until(() => {
        const cr = t.cr(probe.metadata!.name!);
        return ((cr?.status?.conditions ?? []) as Array<{ type: string; reason?: string; message?: string }>).find((c) => pattern.test(`${c.reason ?? ''} ${c.message ?? ''}`));
      }, `a condition on ${ref(probe)} naming the quota`);
      const cr = t.cr(probe.metadata!.name!);
      t.record(
        'quota-condition',
        Boolean(said),
        said
          ? `${ref(probe)} says ${said.type}: ${said.reason ?? ''} ${said.message ?? ''}`.trim()
          : `no condition of ${ref(probe)} mentions "${t.spec.quotaPattern}" while the quota blocks it (${t.spec.readyCondition}: ${JSON.stringify(conditionOf(cr, t.spec.readyCondition) ?? 'none')})`,
        cr ? [cr] : [],
      );
      t.fault('lift-quota', ref(quota));
      await t.remove(quota);
      const recovered = await t.converge(probe.metadata!.name!);
      if (!recovered.ok) t.record('quota-condition', false, `${ref(probe)} did not recover after the quota was lifted`);
      await t.remove(probe);
      await t.expectNoOrphans(uidOf(probe)!, ref(probe));
    },
  },
  {
    id: 'control-plane-restart',
    title: 'The vcluster control plane restarts and every watch breaks',
    needs: ['host'],
    async run(t) {
      await t.ensureResource();
      const host = t.env.host!;
      const { vcluster } = t.settings;
      const pods = host.view.objects('v1', 'Pod', vcluster.hostNamespace, vcluster.controlPlaneSelector);
      if (!pods.length) throw new Error(`no vcluster control plane pod matches ${vcluster.controlPlaneSelector} in ${vcluster.hostNamespace}`);
      const reconnects = t.view.reconnects;
      for (const pod of pods) {
        t.fault('restart-control-plane', ref(pod), 'delete the vcluster pod on the host');
        await host.view.api.delete({ apiVersion: 'v1', kind: 'Pod', metadata: { name: pod.metadata!.name, namespace: pod.metadata!.namespace } });
      }
      const reopened = await t.until(() => t.view.reconnects > reconnects, 'the watches to be opened again');
      let consistent = reopened ? await t.view.consistentWithServer().catch((e: Error) => ({ consistent: false, detail: e.message })) : { consistent: false, detail: 'no watch was opened again' };
      if (!consistent.consistent) {
        // the API may still be coming back: look again after each change, to the deadline
        await t.until(() => t.view.reconnects > reconnects + 1, 'the watches to settle', t.settings.timeouts.stabilityMs * 4);
        consistent = await t.view.consistentWithServer().catch((e: Error) => ({ consistent: false, detail: e.message }));
      }
      t.record('watches-reestablished', consistent.consistent, `${t.view.reconnects - reconnects} watches reopened, ${t.view.relists} lists; ${consistent.detail}`);
      // the operator must have re-established its own watches too: give it something to repair
      const victim = victims(t)[0]?.victim;
      if (victim) {
        t.fault('delete-child', ref(victim), 'after the restart');
        await t.remove(victim);
      }
      await t.converge();
    },
  },
];

/** Chaos Mesh faults: created on the host cluster against the operator's pods, for `faultMs`. */
const CHAOS_MESH: Array<{ id: string; title: string; kind: string; spec: (s: ChaosSettings) => Record<string, unknown> }> = [
  { id: 'network-delay', title: 'Network delay on the operator (Chaos Mesh)', kind: 'NetworkChaos', spec: () => ({ action: 'delay', delay: { latency: '200ms', jitter: '50ms' } }) },
  { id: 'network-loss', title: 'Packet loss on the operator (Chaos Mesh)', kind: 'NetworkChaos', spec: () => ({ action: 'loss', loss: { loss: '30' } }) },
  { id: 'network-partition', title: 'The operator is cut off from the API server (Chaos Mesh)', kind: 'NetworkChaos', spec: () => ({ action: 'partition', direction: 'both' }) },
  { id: 'container-kill', title: 'The operator container is killed (Chaos Mesh)', kind: 'PodChaos', spec: () => ({ action: 'container-kill', containerNames: ['manager'] }) },
  { id: 'stress', title: 'CPU and memory stress beside the operator (Chaos Mesh)', kind: 'StressChaos', spec: () => ({ stressors: { cpu: { workers: 1, load: 80 }, memory: { workers: 1, size: '64MB' } } }) },
  { id: 'clock-skew', title: 'The operator clock is skewed (Chaos Mesh)', kind: 'TimeChaos', spec: () => ({ timeOffset: '-10m' }) },
];

function selectorLabels(selector: string): Record<string, string> {
  return Object.fromEntries(selector.split(',').filter((s) => s.includes('=')).map((s) => s.split('=').map((x) => x.trim()) as [string, string]));
}

for (const fault of CHAOS_MESH) {
  EXPERIMENTS.push({
    id: fault.id,
    title: fault.title,
    needs: ['host', 'chaosMesh'],
    async run(t) {
      await t.ensureResource();
      const { vcluster, operator, timeouts } = t.settings;
      const host = t.env.host!;
      const obj = {
        apiVersion: 'chaos-mesh.org/v1alpha1',
        kind: fault.kind,
        metadata: { name: `causal-review-${fault.id}`, namespace: vcluster.hostNamespace },
        spec: {
          mode: 'all',
          duration: `${Math.max(1, Math.round(timeouts.faultMs / 1000))}s`,
          // vcluster syncs the operator's pods into its host namespace, labels kept
          selector: { namespaces: [vcluster.hostNamespace], labelSelectors: { ...selectorLabels(operator.selector), 'vcluster.loft.sh/namespace': operator.namespace } },
          ...fault.spec(t.settings),
        },
      };
      t.fault(`chaos-mesh-${fault.id}`, `${fault.kind} ${vcluster.hostNamespace}/${obj.metadata.name}`, JSON.stringify(obj.spec));
      await host.view.api.create(obj as KubernetesObject);
      try {
        await host.view.track('chaos-mesh.org/v1alpha1', fault.kind, vcluster.hostNamespace);
        // the fault runs for its duration; Chaos Mesh marks it stopped when it is over
        await t.until(
          () => host.view.get('chaos-mesh.org/v1alpha1', fault.kind, vcluster.hostNamespace, obj.metadata.name)?.status?.experiment?.desiredPhase === 'Stop',
          `${fault.kind} ${obj.metadata.name} to finish`,
          timeouts.faultMs,
        );
      } finally {
        await host.view.api.delete({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata });
      }
      t.snapshotRestarts();
      await t.converge();
    },
  });
}

/** The experiments a configuration selects, in run order, with the reason each other one is left out. */
export function selectExperiments(settings: ChaosSettings, available: { host: boolean }): Array<{ experiment: Experiment; skip?: string }> {
  const { include, exclude } = settings.experiments;
  return EXPERIMENTS.filter((e) => (include.length === 0 || include.includes(e.id) || e.id === 'baseline') && !exclude.includes(e.id)).map((experiment) => {
    const needs = experiment.needs ?? [];
    const missing =
      needs.includes('chaosMesh') && !settings.chaosMesh
        ? 'chaos.chaosMesh is not enabled'
        : needs.includes('host') && !available.host
          ? 'no host cluster kubeconfig (--host-kubeconfig) was given'
          : needs.includes('lease') && !settings.operator.leaseName
            ? 'chaos.operator.leaseName is not set'
            : undefined;
    return { experiment, skip: missing };
  });
}

