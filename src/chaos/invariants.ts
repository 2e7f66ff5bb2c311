// The invariants a reconciled custom resource must satisfy, computed from the runner's view of the
// cluster: pure functions of the cached objects, so the convergence wait can re-check them on
// every watch event.

import type { InvariantId, OperatorSpec, ResourceSpec } from './config.js';
import type { KObject } from './view.js';

export interface Verdict {
  id: InvariantId;
  ok: boolean;
  message: string;
  /** objects the verdict rests on, for the evidence of a failure */
  objects?: KObject[];
}

/** What the invariants read: the view's objects, looked up by kind. */
export interface ClusterState {
  objects(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): KObject[];
}

export const ref = (o: KObject) => `${o.kind ?? ''} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name ?? ''}`;

interface OwnerReference {
  uid: string;
  controller?: boolean;
  kind: string;
  name: string;
}

const ownerRefs = (o: KObject) => (o.metadata?.ownerReferences ?? []) as OwnerReference[];
const terminating = (o: KObject) => Boolean(o.metadata?.deletionTimestamp);

/** The objects of a child kind whose controller is the resource with `uid`. */
export function ownedBy(state: ClusterState, child: { apiVersion: string; kind: string }, namespace: string, uid: string): KObject[] {
  return state.objects(child.apiVersion, child.kind, namespace).filter((o) => ownerRefs(o).some((r) => r.uid === uid && r.controller));
}

/** Any dependent (controller or not) of a resource uid, across the child kinds. */
export function dependentsOf(state: ClusterState, spec: ResourceSpec, uid: string): KObject[] {
  return spec.children.flatMap((c) => state.objects(c.apiVersion, c.kind, spec.namespace).filter((o) => ownerRefs(o).some((r) => r.uid === uid)));
}

export function conditionOf(cr: KObject | undefined, type: string): { type: string; status: string; reason?: string; message?: string } | undefined {
  return ((cr?.status?.conditions ?? []) as Array<{ type: string; status: string; reason?: string; message?: string }>).find((c) => c.type === type);
}

export function operatorPods(state: ClusterState, operator: OperatorSpec): KObject[] {
  return state.objects('v1', 'Pod', operator.namespace, operator.selector);
}

export const restartsOf = (pod: KObject) =>
  ((pod.status?.containerStatuses ?? []) as Array<{ restartCount?: number }>).reduce((n, s) => n + (s.restartCount ?? 0), 0);

/** The invariants that hold for a reconciled resource at rest. */
export function steadyInvariants(
  state: ClusterState,
  spec: ResourceSpec,
  name: string,
  operator: OperatorSpec,
  baselineRestarts: Map<string, number>,
): Verdict[] {
  const verdicts: Verdict[] = [];
  const on = (id: InvariantId) => spec.invariants[id];
  const cr = state.objects(spec.apiVersion, spec.kind, spec.namespace).find((o) => o.metadata?.name === name);
  if (!cr) {
    return [{ id: 'ready', ok: false, message: `${spec.kind} ${spec.namespace}/${name} does not exist` }];
  }
  if (on('observed-generation')) {
    const observed = cr.status?.observedGeneration;
    const generation = cr.metadata?.generation;
    verdicts.push({
      id: 'observed-generation',
      ok: observed === generation,
      message: `status.observedGeneration ${observed ?? 'unset'}, metadata.generation ${generation}`,
      objects: [cr],
    });
  }
  if (on('ready')) {
    const c = conditionOf(cr, spec.readyCondition);
    verdicts.push({
      id: 'ready',
      ok: c?.status === 'True',
      message: c ? `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}` : `no ${spec.readyCondition} condition`,
      objects: [cr],
    });
  }
  if (on('children')) {
    const problems: string[] = [];
    const seen: KObject[] = [];
    for (const child of spec.children) {
      const owned = ownedBy(state, child, spec.namespace, cr.metadata!.uid!).filter((o) => !terminating(o));
      seen.push(...owned);
      if (owned.length !== child.count) {
        problems.push(`${owned.length} ${child.kind} owned (want ${child.count})${owned.length ? `: ${owned.map((o) => o.metadata?.name).join(', ')}` : ''}`);
      }
      for (const o of owned) {
        const controllers = ownerRefs(o).filter((r) => r.controller);
        if (controllers.length !== 1) problems.push(`${ref(o)} has ${controllers.length} controller ownerReferences`);
      }
    }
    verdicts.push({
      id: 'children',
      ok: problems.length === 0,
      message: problems.length ? problems.join('; ') : spec.children.map((c) => `${c.count} ${c.kind}`).join(', ') + ' in place, each with one controller reference',
      objects: seen,
    });
  }
  if (on('no-restarts')) {
    const pods = operatorPods(state, operator);
    const restarted = pods.filter((p) => restartsOf(p) > (baselineRestarts.get(p.metadata!.name!) ?? 0));
    verdicts.push({
      id: 'no-restarts',
      ok: restarted.length === 0,
      message: restarted.length
        ? restarted.map((p) => `${p.metadata?.name} restarted ${restartsOf(p) - (baselineRestarts.get(p.metadata!.name!) ?? 0)} times`).join('; ')
        : 'no operator container restarted beyond the injected faults',
      objects: restarted,
    });
  }
  if (on('one-lease-holder') && operator.leaseName) {
    const lease = state.objects('coordination.k8s.io/v1', 'Lease', operator.namespace).find((l) => l.metadata?.name === operator.leaseName);
    const holder = lease?.spec?.holderIdentity as string | undefined;
    const live = operatorPods(state, operator).filter((p) => !terminating(p)).map((p) => p.metadata!.name!);
    // controller-runtime's identity is `<pod>_<uuid>`; client-go's default is the pod name
    const holderPod = holder ? live.find((p) => holder === p || holder.startsWith(`${p}_`)) : undefined;
    verdicts.push({
      id: 'one-lease-holder',
      ok: Boolean(holderPod),
      message: !lease
        ? `Lease ${operator.leaseName} does not exist`
        : !holder
          ? `Lease ${operator.leaseName} has no holder`
          : holderPod
            ? `Lease held by live pod ${holderPod}`
            : `Lease held by ${holder}, which is not a live operator pod (live: ${live.join(', ') || 'none'})`,
      objects: lease ? [lease] : [],
    });
  }
  return verdicts;
}
