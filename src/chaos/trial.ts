// One experiment's run: the faults it records, the convergence wait after them (watch-driven, with
// a deadline and a stability window), the invariant outcomes, and the evidence behind a failure.

import { CoreV1Api, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { ChaosSettings, InvariantId, ResourceSpec } from './config.js';
import { conditionOf, dependentsOf, operatorPods, ref, restartsOf, steadyInvariants, type Verdict } from './invariants.js';
import type { EventRecord, Evidence, ExperimentResult, FaultRecord, InvariantResult, ObjectRecord } from './results.js';
import { ClusterView, DeadlineError, type KObject, type ViewChange } from './view.js';

export interface TrialEnv {
  view: ClusterView;
  /** the host cluster (kind), where vcluster and Chaos Mesh run; absent when not given */
  host?: { kc: KubeConfig; view: ClusterView };
  settings: ChaosSettings;
  log: (line: string) => void;
  now: () => number;
}

/** An experiment cannot run here (no host cluster, no Lease configured, ...). */
export class Skip extends Error {}

export interface Convergence {
  ok: boolean;
  convergedMs?: number;
}

const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

export class Trial {
  readonly faults: FaultRecord[] = [];
  readonly invariants: InvariantResult[] = [];
  private readonly failedObjects = new Map<string, KObject[]>();
  private baselineRestarts = new Map<string, number>();
  private lastFaultAt: number;
  /** when the experiment's time is up: every wait after it ends at once; counted from the first fault */
  private deadlineAt = Number.POSITIVE_INFINITY;
  convergedMs?: number;
  readonly core: CoreV1Api;

  constructor(
    readonly env: TrialEnv,
    readonly spec: ResourceSpec,
    readonly manifest: KObject,
  ) {
    this.core = env.view.kc.makeApiClient(CoreV1Api);
    this.lastFaultAt = env.now();
    this.snapshotRestarts();
  }

  get view(): ClusterView {
    return this.env.view;
  }
  get settings(): ChaosSettings {
    return this.env.settings;
  }
  get name(): string {
    return this.manifest.metadata!.name!;
  }

  /** Restart counts now, so restarts the experiment itself causes are told apart from earlier ones. */
  snapshotRestarts(): void {
    this.baselineRestarts = new Map(operatorPods(this.view, this.settings.operator).map((p) => [p.metadata!.name!, restartsOf(p)]));
  }

  fault(type: string, target: string, detail?: string): void {
    this.lastFaultAt = this.env.now();
    // the time spent bringing the resource to its starting point does not count against the experiment
    if (type !== 'reset-resource' && this.deadlineAt === Number.POSITIVE_INFINITY) this.deadlineAt = this.lastFaultAt + this.settings.timeouts.experimentMs;
    this.faults.push({ type, target: clip(target, 600), at: new Date(this.lastFaultAt).toISOString(), ...(detail ? { detail: clip(detail, 2000) } : {}) });
    this.env.log(`fault ${type} ${target}${detail ? ` (${detail})` : ''}`);
  }

  record(id: InvariantId, ok: boolean | 'skipped', message: string, objects: KObject[] = []): void {
    if (!this.spec.invariants[id]) return;
    const outcome = ok === 'skipped' ? 'skipped' : ok ? 'passed' : 'failed';
    const existing = this.invariants.findIndex((i) => i.id === id);
    const result: InvariantResult = { id, outcome, message: clip(message, 4000) };
    // a later check of the same invariant replaces an earlier pass, never an earlier failure
    if (existing >= 0) {
      if (this.invariants[existing].outcome === 'failed') return;
      this.invariants[existing] = result;
    } else {
      this.invariants.push(result);
    }
    if (outcome === 'failed') this.failedObjects.set(id, objects);
  }

  cr(name = this.name): KObject | undefined {
    return this.view.get(this.spec.apiVersion, this.spec.kind, this.spec.namespace, name);
  }

  /** The manifest under another name, for probes that must not disturb the main resource. */
  probe(suffix: string): KObject {
    const copy = structuredClone(this.manifest);
    copy.metadata = { name: `${this.name}-${suffix}`, namespace: this.spec.namespace, labels: copy.metadata?.labels, annotations: copy.metadata?.annotations };
    return copy;
  }

  async create(obj: KObject): Promise<KObject> {
    return (await this.view.api.create(obj as KubernetesObject)) as KObject;
  }

  async remove(obj: KObject, gracePeriodSeconds?: number): Promise<void> {
    await this.view.api
      .delete({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata!.name, namespace: obj.metadata!.namespace } }, undefined, undefined, gracePeriodSeconds)
      .catch((error: { code?: number }) => {
        if (error.code !== 404) throw error;
      });
  }

  async mergePatch(obj: KObject, patch: Record<string, unknown>): Promise<KObject> {
    const body = { apiVersion: obj.apiVersion, kind: obj.kind, ...patch, metadata: { name: obj.metadata!.name, namespace: obj.metadata!.namespace, ...((patch.metadata as object) ?? {}) } };
    return (await this.view.api.patch(body as KubernetesObject, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch)) as KObject;
  }

  /** Wait (on watch events, to a deadline) until `condition` holds; false at the deadline. */
  private budget(timeoutMs: number): number {
    return Math.max(1, Math.min(timeoutMs, this.deadlineAt - this.env.now()));
  }

  async until<T>(condition: () => T | undefined | false, what: string, timeoutMs = this.settings.timeouts.convergeMs): Promise<T | false> {
    try {
      return await this.view.until(condition, this.budget(timeoutMs), what);
    } catch (error) {
      if (error instanceof DeadlineError) {
        this.env.log(error.message);
        return false;
      }
      throw error;
    }
  }

  /** Create the resource (or a probe) from the manifest unless it exists. */
  async apply(name = this.name): Promise<void> {
    if (this.cr(name)) return;
    const obj = name === this.name ? structuredClone(this.manifest) : this.probe(name.slice(this.name.length + 1));
    await this.create(obj).catch((error: { code?: number }) => {
      if (error.code !== 409) throw error;
    });
  }

  /**
   * The starting point of a fault: the resource exists and has converged. A resource an earlier
   * experiment left broken is deleted and created anew, so one failure does not cascade into
   * the experiments after it; the outcome of this wait is not recorded.
   */
  async ensureResource(): Promise<void> {
    await this.apply();
    if ((await this.converge(this.name, false)).ok) return;
    const old = this.cr();
    this.fault('reset-resource', `${this.spec.kind} ${this.spec.namespace}/${this.name}`, 'it had not converged before the fault (an earlier experiment left it broken); created anew');
    if (old) {
      await this.remove(old);
      await this.until(() => this.cr()?.metadata?.uid !== old.metadata?.uid, 'the broken resource to go');
    }
    await this.apply();
    if (!(await this.converge(this.name, false)).ok) {
      throw new Error(`${this.spec.kind} ${this.spec.namespace}/${this.name} did not converge before the fault, even created anew`);
    }
    this.snapshotRestarts();
  }

  /**
   * Wait until the steady invariants hold and the resource and its children have not changed for
   * the stability window, and record every invariant's outcome; at the deadline, record what
   * still failed. Quiescence fails when the invariants held but the children kept changing.
   */
  converge(name = this.name, record = true): Promise<Convergence> {
    const { stabilityMs } = this.settings.timeouts;
    const convergeMs = this.budget(this.settings.timeouts.convergeMs);
    const watched = new Set([`${this.spec.apiVersion}/${this.spec.kind}`, ...this.spec.children.map((c) => `${c.apiVersion}/${c.kind}`)]);
    const startedAt = this.env.now();
    return new Promise<Convergence>((resolve) => {
      let windowTimer: NodeJS.Timeout | undefined;
      let last: Verdict[] = [];
      const churn: string[] = [];
      const finish = (ok: boolean) => {
        clearTimeout(windowTimer);
        clearTimeout(deadline);
        this.view.off('change', onChange);
        const held = last.every((v) => v.ok);
        if (!record) return resolve({ ok });
        for (const v of last) this.record(v.id, v.ok, v.message, v.objects);
        if (ok) {
          this.record('quiescence', true, `nothing changed for ${stabilityMs} ms`);
        } else if (held && churn.length) {
          this.record('quiescence', false, `the invariants held but objects kept changing: ${[...new Set(churn)].slice(-10).join(', ')}`);
        } else {
          this.record('quiescence', 'skipped', 'the invariants never held, so stability was not measured');
        }
        const convergedMs = ok ? this.env.now() - Math.max(this.lastFaultAt, startedAt) : undefined;
        if (ok) this.convergedMs = Math.max(this.convergedMs ?? 0, convergedMs ?? 0);
        resolve({ ok, convergedMs });
      };
      const evaluate = (change?: ViewChange) => {
        last = steadyInvariants(this.view, this.spec, name, this.settings.operator, this.baselineRestarts);
        if (!last.every((v) => v.ok)) {
          clearTimeout(windowTimer);
          windowTimer = undefined;
          return;
        }
        if (windowTimer && change && watched.has(change.kind)) {
          churn.push(ref(change.object));
          clearTimeout(windowTimer);
          windowTimer = undefined;
        }
        windowTimer ??= setTimeout(() => finish(true), stabilityMs);
      };
      const onChange = (change: ViewChange) => evaluate(change);
      const deadline = setTimeout(() => finish(false), convergeMs);
      this.view.on('change', onChange);
      evaluate();
    });
  }

  /** After the resource is deleted: no dependent of its uid may remain (the garbage collector's job). */
  async expectNoOrphans(uid: string, what: string): Promise<void> {
    const gone = await this.until(() => dependentsOf(this.view, this.spec, uid).length === 0, `no dependents of ${what}`);
    const left = dependentsOf(this.view, this.spec, uid);
    this.record('no-orphans', Boolean(gone), gone ? `no dependent of ${what} (uid ${uid}) remains` : `${left.length} dependents of ${what} remain: ${left.map(ref).join(', ')}`, left);
  }

  /** The operator is back: a ready pod other than `killed`, and (with a Lease) a ready pod holding it. */
  async awaitOperator(killed: Set<string> = new Set()): Promise<boolean> {
    const { operator } = this.settings;
    const up = await this.until(() => {
      // ready: the operator's readiness probe passes, which for most operators means caches synced
      const live = operatorPods(this.view, operator).filter(
        (p) => !p.metadata?.deletionTimestamp && !killed.has(p.metadata!.name!) && conditionOf(p, 'Ready')?.status === 'True',
      );
      if (!live.length) return false;
      if (!operator.leaseName) return true;
      const lease = this.view.get('coordination.k8s.io/v1', 'Lease', operator.namespace, operator.leaseName);
      const holder = lease?.spec?.holderIdentity as string | undefined;
      return Boolean(holder && live.some((p) => holder === p.metadata!.name || holder.startsWith(`${p.metadata!.name}_`)));
    }, 'the operator to come back');
    if (!up) {
      this.record('ready', false, 'the operator did not come back (no ready pod holding the lease)');
      // what can be judged without the operator (restarts, children) is judged as things stand
      for (const v of steadyInvariants(this.view, this.spec, this.name, operator, this.baselineRestarts)) {
        if (v.id === 'no-restarts' || v.id === 'children') this.record(v.id, v.ok, v.message, v.objects);
      }
    }
    return Boolean(up);
  }

  /** Events and operator logs around the failure, bounded. */
  async evidence(): Promise<Evidence> {
    const events: EventRecord[] = [];
    const names = new Set([this.name, ...this.spec.children.flatMap((c) => this.view.objects(c.apiVersion, c.kind, this.spec.namespace).map((o) => o.metadata!.name!))]);
    try {
      const list = await this.core.listNamespacedEvent({ namespace: this.spec.namespace });
      for (const e of list.items.slice(-200)) {
        const involved = e.involvedObject;
        if (!involved?.name || ![...names].some((n) => involved.name === n || involved.name!.startsWith(`${this.name}-`))) continue;
        events.push({
          type: clip(e.type ?? '', 100),
          reason: clip(e.reason ?? '', 200),
          message: clip(e.message ?? '', 2000),
          object: clip(`${involved.kind} ${involved.namespace ?? ''}/${involved.name}`, 600),
          at: e.lastTimestamp ? new Date(e.lastTimestamp).toISOString() : undefined,
        });
      }
    } catch (error) {
      this.env.log(`events unavailable: ${(error as Error).message}`);
    }
    const logs: string[] = [];
    for (const pod of operatorPods(this.view, this.settings.operator).slice(0, 3)) {
      try {
        const text = await this.core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, tailLines: 40 });
        for (const line of String(text).split('\n').filter(Boolean)) logs.push(clip(`${pod.metadata!.name}: ${line}`, 2000));
      } catch (error) {
        this.env.log(`logs of ${pod.metadata?.name} unavailable: ${(error as Error).message}`);
      }
    }
    return { events: events.slice(-50), logs: logs.slice(-200), objects: [] };
  }

  async result(base: Pick<ExperimentResult, 'id' | 'title' | 'startedAt'>, startedMs: number, error?: unknown): Promise<ExperimentResult> {
    const failed = this.invariants.filter((i) => i.outcome === 'failed');
    if (failed.length) {
      const shared = await this.evidence();
      for (const inv of failed) {
        const cr = this.cr();
        const objects: ObjectRecord[] = [...(this.failedObjects.get(inv.id) ?? []), ...(cr ? [cr] : [])].slice(0, 20).map((o) => ({
          ref: clip(ref(o), 600),
          resourceVersion: o.metadata?.resourceVersion,
          state: clip(JSON.stringify({ ownerReferences: o.metadata?.ownerReferences, generation: o.metadata?.generation, status: o.status }), 4000),
        }));
        inv.evidence = { ...shared, objects };
      }
    }
    const outcome = error instanceof Skip ? 'skipped' : error ? 'error' : failed.length ? 'failed' : 'passed';
    return {
      ...base,
      resource: { apiVersion: this.spec.apiVersion, kind: this.spec.kind, namespace: this.spec.namespace, name: this.name },
      outcome,
      ...(error ? { reason: clip(String((error as Error).message ?? error), 4000) } : {}),
      durationMs: this.env.now() - startedMs,
      ...(this.convergedMs !== undefined ? { convergedMs: this.convergedMs } : {}),
      faults: this.faults.slice(0, 500),
      invariants: this.invariants,
    };
  }
}
