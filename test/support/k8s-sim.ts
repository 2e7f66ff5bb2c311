// A Kubernetes API server simulator on loopback, for the chaos runner's tests: no kube-apiserver
// or Docker can run here, so this keeps the semantics the runner and operators depend on.
// Covered: discovery, CRUD, merge/JSON patch, watch with resourceVersion/bookmarks/410, 409 on a
// stale resourceVersion, generation, status subresource, finalizers, ownerReference garbage
// collection, graceful pod deletion, eviction, pod logs, a Deployment controller, and
// ResourceQuota admission. A request whose bearer token names a pod that no longer exists is
// dropped, which is how a killed in-process operator loses its in-flight writes.

import http from 'node:http';
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface KindInfo {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** the kind has a status subresource: the main endpoint ignores status, /status ignores the rest */
  status?: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KObject = Record<string, any> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
};

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ChangeEvent {
  type: WatchEventType;
  object: KObject;
  previous?: KObject;
}

interface Watcher {
  kind: KindInfo;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  res: http.ServerResponse;
}

interface HistoryEntry {
  rv: number;
  type: WatchEventType;
  object: KObject;
  kind: KindInfo;
}

export interface SimulatorOptions {
  /** how long the simulated kubelet takes to finish a graceful pod deletion, whatever the grace period */
  gracefulPodDeletionMs?: number;
  /** interval of BOOKMARK events on watches that asked for them */
  bookmarkIntervalMs?: number;
  /** events kept for watches resuming from a resourceVersion */
  historyLimit?: number;
}

const BUILTIN_KINDS: KindInfo[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, status: true },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, status: true },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true, status: true },
  { group: '', version: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true, status: true },
  { group: '', version: 'v1', kind: 'LimitRange', plural: 'limitranges', namespaced: true },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true, status: true },
  { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true },
];

/**
 * The simulated cluster's own delays (a pod's termination grace period, a controller's reaction
 * time): real latency the simulator models, not waits for a condition. All cancelled at once when a
 * simulated process or server goes away.
 */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();

  after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      fn();
    }, ms);
    this.pending.add(timer);
  }

  cancelAll(): void {
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const apiVersionOf = (kind: KindInfo) => (kind.group ? `${kind.group}/${kind.version}` : kind.version);
const clone = <T>(value: T): T => structuredClone(value);

function matchLabels(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const t = term.trim();
    if (!t) return true;
    const neq = t.split('!=');
    if (neq.length === 2) return labels?.[neq[0].trim()] !== neq[1].trim();
    const [key, value] = t.split(/==?/);
    if (value === undefined) return labels?.[key.trim()] !== undefined;
    return labels?.[key.trim()] === value.trim();
  });
}

function fieldAt(obj: unknown, dotted: string): unknown {
  let cur: unknown = obj;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function matchFields(obj: KObject, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const neq = term.split('!=');
    if (neq.length === 2) return String(fieldAt(obj, neq[0]) ?? '') !== neq[1];
    const [key, value] = term.split(/==?/);
    return String(fieldAt(obj, key) ?? '') === (value ?? '');
  });
}

/** RFC 7386 JSON merge patch; strategic merge patch is treated the same way here. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return clone(patch);
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** RFC 6902 JSON patch: add, replace, remove, test. */
function jsonPatch(target: KObject, ops: Array<{ op: string; path: string; value?: unknown }>): KObject {
  const doc = clone(target);
  for (const op of ops) {
    const parts = op.path.split('/').slice(1).map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = parts.pop() ?? '';
    let parent: any = doc; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const part of parts) {
      if (parent[part] === undefined) {
        if (op.op !== 'add') throw new ApiError(422, 'Invalid', `path ${op.path} does not exist`);
        parent[part] = {};
      }
      parent = parent[part];
    }
    const index = Array.isArray(parent) ? (last === '-' ? parent.length : Number(last)) : last;
    if (op.op === 'test') {
      if (JSON.stringify(parent[index]) !== JSON.stringify(op.value)) {
        throw new ApiError(422, 'Invalid', `test failed at ${op.path}`);
      }
    } else if (op.op === 'remove') {
      if (Array.isArray(parent)) parent.splice(index as number, 1);
      else delete parent[index];
    } else if (op.op === 'add' && Array.isArray(parent)) {
      parent.splice(index as number, 0, clone(op.value));
    } else if (op.op === 'add' || op.op === 'replace') {
      parent[index] = clone(op.value);
    } else {
      throw new ApiError(422, 'Invalid', `unsupported JSON patch op ${op.op}`);
    }
  }
  return doc;
}

/** The count a ResourceQuota keeps for one kind, as `kubectl` writes it. */
function quotaKeys(kind: KindInfo): string[] {
  const count = kind.group ? `count/${kind.plural}.${kind.group}` : `count/${kind.plural}`;
  const core = ['pods', 'configmaps', 'secrets', 'services', 'resourcequotas'];
  return !kind.group && core.includes(kind.plural) ? [kind.plural, count] : [count];
}

const specOf = (obj: KObject) => {
  const { metadata: _m, status: _s, ...rest } = obj;
  return JSON.stringify(rest);
};

export class K8sSimulator extends EventEmitter {
  private readonly kinds = new Map<string, KindInfo>();
  private readonly objects = new Map<string, KObject>();
  private readonly watchers = new Set<Watcher>();
  private readonly logs = new Map<string, string[]>();
  private history: HistoryEntry[] = [];
  private rv = 100;
  private server!: http.Server;
  private bookmarkTimer?: NodeJS.Timeout;
  private controllerQueued = false;
  private readonly timers = new Timers();
  url = '';
  /** requests served, by verb, for tests that assert on traffic */
  readonly requests: Record<string, number> = {};
  /** set while the control plane is down: every request fails with 503 */
  private down = false;

  private constructor(private readonly options: Required<SimulatorOptions>) {
    super();
    this.setMaxListeners(100);
    for (const kind of BUILTIN_KINDS) this.registerKind(kind);
  }

  static async start(options: SimulatorOptions = {}): Promise<K8sSimulator> {
    const sim = new K8sSimulator({
      gracefulPodDeletionMs: options.gracefulPodDeletionMs ?? 30,
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 500,
      historyLimit: options.historyLimit ?? 20_000,
    });
    sim.server = http.createServer((req, res) => sim.handle(req, res));
    await new Promise<void>((resolve) => sim.server.listen(0, '127.0.0.1', resolve));
    sim.url = `http://127.0.0.1:${(sim.server.address() as AddressInfo).port}`;
    sim.bookmarkTimer = setInterval(() => sim.sendBookmarks(), sim.options.bookmarkIntervalMs);
    sim.bookmarkTimer.unref();
    sim.ensureNamespace('default');
    return sim;
  }

  async close(): Promise<void> {
    clearInterval(this.bookmarkTimer);
    this.timers.cancelAll();
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A kubeconfig for this server; `token` identifies the caller (`pod:<ns>/<name>` for an operator pod). */
  kubeConfig(token = 'admin'): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'sim', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'sim-user', token }],
      contexts: [{ name: 'sim', cluster: 'sim', user: 'sim-user', namespace: 'default' }],
      currentContext: 'sim',
    });
    return kc;
  }

  /** The same kubeconfig as YAML text, for code that takes a file. */
  kubeConfigYaml(token = 'admin'): string {
    return this.kubeConfig(token).exportConfig();
  }

  registerKind(kind: KindInfo): void {
    this.kinds.set(`${apiVersionOf(kind)}/${kind.kind}`, kind);
  }

  kindOf(apiVersion: string, kind: string): KindInfo {
    const info = this.kinds.get(`${apiVersion}/${kind}`);
    if (!info) throw new ApiError(404, 'NotFound', `no kind ${kind} in ${apiVersion}`);
    return info;
  }

  ensureNamespace(name: string): void {
    if (!this.objects.has(this.key(this.kindOf('v1', 'Namespace'), undefined, name))) {
      this.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
  }

  // ---- direct access, for the harness and test assertions -------------------------------------

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KObject | undefined {
    const obj = this.objects.get(this.key(this.kindOf(apiVersion, kind), namespace, name));
    return obj && clone(obj);
  }

  list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): KObject[] {
    const info = this.kindOf(apiVersion, kind);
    return this.select(info, namespace, labelSelector).map(clone);
  }

  create(obj: KObject, subject = 'admin'): KObject {
    const kind = this.kindOf(obj.apiVersion, obj.kind);
    return clone(this.doCreate(kind, obj.metadata?.namespace, obj, subject));
  }

  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string, gracePeriodSeconds?: number): void {
    this.doDelete(this.kindOf(apiVersion, kind), namespace, name, { gracePeriodSeconds });
  }

  /** Status written by a simulated controller (kubelet, Deployment controller): no resourceVersion check. */
  writeStatus(apiVersion: string, kind: string, namespace: string | undefined, name: string, status: unknown): void {
    const info = this.kindOf(apiVersion, kind);
    const current = this.objects.get(this.key(info, namespace, name));
    if (!current) return;
    this.store(info, { ...clone(current), status: clone(status) }, 'MODIFIED', current);
  }

  appendLog(namespace: string, pod: string, line: string): void {
    const key = `${namespace}/${pod}`;
    const lines = this.logs.get(key) ?? [];
    lines.push(line);
    if (lines.length > 2000) lines.splice(0, lines.length - 2000);
    this.logs.set(key, lines);
  }

  podLog(namespace: string, pod: string): string[] {
    return [...(this.logs.get(`${namespace}/${pod}`) ?? [])];
  }

  /** The kubelet restarting a crashed container of a pod. */
  recordContainerRestart(namespace: string, pod: string): void {
    const current = this.get('v1', 'Pod', namespace, pod);
    if (!current) return;
    const statuses = (current.status?.containerStatuses ?? []) as Array<{ restartCount: number }>;
    for (const s of statuses) s.restartCount += 1;
    this.writeStatus('v1', 'Pod', namespace, pod, { ...current.status, containerStatuses: statuses });
  }

  /** The kubelet finishing a graceful pod deletion (the container exited before its grace period ran out). */
  finishPodDeletion(namespace: string, name: string): void {
    const info = this.kindOf('v1', 'Pod');
    const current = this.objects.get(this.key(info, namespace, name));
    if (current?.metadata.deletionTimestamp) this.remove(info, current);
  }

  /**
   * A control plane restart: every watch connection breaks and the event history is compacted, so
   * clients resuming from an old resourceVersion get 410 Gone and must list again. `downMs` keeps
   * the API answering 503 for a while, as a restarting apiserver does.
   */
  restartControlPlane(downMs = 0): number {
    const broken = this.watchers.size;
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
    this.history = [];
    if (downMs > 0) {
      this.down = true;
      this.timers.after(downMs, () => {
        this.down = false;
      });
    }
    this.emit('control-plane-restart');
    return broken;
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  // ---- storage -------------------------------------------------------------------------------

  private key(kind: KindInfo, namespace: string | undefined, name: string): string {
    return `${apiVersionOf(kind)}/${kind.kind}|${kind.namespaced ? (namespace ?? '') : ''}|${name}`;
  }

  private select(kind: KindInfo, namespace?: string, labelSelector?: string, fieldSelector?: string): KObject[] {
    const prefix = `${apiVersionOf(kind)}/${kind.kind}|${kind.namespaced && namespace ? `${namespace}|` : ''}`;
    const out: KObject[] = [];
    for (const [key, obj] of this.objects) {
      if (!key.startsWith(prefix)) continue;
      if (!matchLabels(obj.metadata.labels, labelSelector) || !matchFields(obj, fieldSelector)) continue;
      out.push(obj);
    }
    return out;
  }

  private store(kind: KindInfo, obj: KObject, type: WatchEventType, previous?: KObject): KObject {
    this.rv += 1;
    obj.metadata.resourceVersion = String(this.rv);
    const key = this.key(kind, obj.metadata.namespace, obj.metadata.name);
    if (type === 'DELETED') this.objects.delete(key);
    else this.objects.set(key, obj);
    const entry: HistoryEntry = { rv: this.rv, type, object: clone(obj), kind };
    this.history.push(entry);
    if (this.history.length > this.options.historyLimit) this.history.splice(0, this.history.length / 2);
    for (const w of this.watchers) this.deliver(w, entry);
    this.emit('change', { type, object: clone(obj), previous: previous && clone(previous) } satisfies ChangeEvent);
    if (kind.kind === 'Deployment' || kind.kind === 'Pod') this.queueControllers();
    return obj;
  }

  private deliver(w: Watcher, entry: HistoryEntry): void {
    if (w.kind !== entry.kind) return;
    const obj = entry.object;
    if (w.namespace && obj.metadata.namespace !== w.namespace) return;
    if (!matchLabels(obj.metadata.labels, w.labelSelector) || !matchFields(obj, w.fieldSelector)) return;
    w.res.write(`${JSON.stringify({ type: entry.type, object: obj })}\n`);
  }

  private sendBookmarks(): void {
    for (const w of this.watchers) {
      if (!(w as Watcher & { bookmarks?: boolean }).bookmarks) continue;
      const object = { apiVersion: apiVersionOf(w.kind), kind: w.kind.kind, metadata: { resourceVersion: String(this.rv) } };
      w.res.write(`${JSON.stringify({ type: 'BOOKMARK', object })}\n`);
    }
  }

  private doCreate(kind: KindInfo, namespace: string | undefined, body: KObject, subject: string): KObject {
    const obj = clone(body);
    obj.apiVersion = apiVersionOf(kind);
    obj.kind = kind.kind;
    obj.metadata = { ...(obj.metadata ?? {}) };
    if (kind.namespaced) {
      const ns = namespace ?? obj.metadata.namespace ?? 'default';
      if (obj.metadata.namespace && obj.metadata.namespace !== ns) {
        throw new ApiError(400, 'BadRequest', 'the namespace of the object does not match the namespace of the request');
      }
      obj.metadata.namespace = ns;
      const nsObj = this.objects.get(this.key(this.kindOf('v1', 'Namespace'), undefined, ns));
      if (!nsObj) throw new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
      if (nsObj.metadata.deletionTimestamp) {
        throw new ApiError(403, 'Forbidden', `unable to create new content in namespace ${ns} because it is being terminated`);
      }
    } else {
      delete obj.metadata.namespace;
    }
    if (!obj.metadata.name && obj.metadata.generateName) {
      obj.metadata.name = `${obj.metadata.generateName}${randomUUID().slice(0, 5)}`;
    }
    if (!obj.metadata.name) throw new ApiError(422, 'Invalid', 'metadata.name: Required value');
    if (this.objects.has(this.key(kind, obj.metadata.namespace, obj.metadata.name))) {
      throw new ApiError(409, 'AlreadyExists', `${kind.plural}${kind.group ? `.${kind.group}` : ''} "${obj.metadata.name}" already exists`, {
        name: obj.metadata.name,
        group: kind.group,
        kind: kind.plural,
      });
    }
    this.admitQuota(kind, obj);
    if (kind.kind === 'Pod') this.admitLimitRange(obj);
    delete obj.metadata.deletionTimestamp;
    obj.metadata.uid = randomUUID();
    obj.metadata.generation = 1;
    obj.metadata.creationTimestamp = new Date().toISOString();
    if (kind.kind === 'Pod') {
      obj.status = {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: ((obj.spec?.containers ?? []) as Array<{ name: string }>).map((c) => ({
          name: c.name,
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: new Date().toISOString() } },
        })),
      };
    }
    this.emit('admit', { subject, object: obj });
    const stored = this.store(kind, obj, 'ADDED');
    this.collectIfOwnersGone(kind, stored);
    return stored;
  }

  private admitQuota(kind: KindInfo, obj: KObject): void {
    if (!kind.namespaced) return;
    const keys = quotaKeys(kind);
    for (const quota of this.select(this.kindOf('v1', 'ResourceQuota'), obj.metadata.namespace)) {
      const hard = (quota.spec?.hard ?? {}) as Record<string, string | number>;
      for (const key of keys) {
        if (hard[key] === undefined) continue;
        const used = this.select(kind, obj.metadata.namespace).filter((o) => !(kind.kind === 'Pod' && o.metadata.deletionTimestamp)).length;
        const limit = Number(hard[key]);
        if (used + 1 > limit) {
          throw new ApiError(
            403,
            'Forbidden',
            `${kind.plural} "${obj.metadata.name}" is forbidden: exceeded quota: ${quota.metadata.name}, requested: ${key}=1, used: ${key}=${used}, limited: ${key}=${limit}`,
            { name: obj.metadata.name, kind: kind.plural },
          );
        }
      }
    }
  }

  private admitLimitRange(pod: KObject): void {
    for (const range of this.select(this.kindOf('v1', 'LimitRange'), pod.metadata.namespace)) {
      for (const item of (range.spec?.limits ?? []) as Array<{ type: string; max?: Record<string, string> }>) {
        if (item.type !== 'Container' || !item.max?.memory) continue;
        for (const c of (pod.spec?.containers ?? []) as Array<{ name: string; resources?: { limits?: { memory?: string } } }>) {
          const asked = c.resources?.limits?.memory;
          if (asked && parseQuantity(asked) > parseQuantity(item.max.memory)) {
            throw new ApiError(
              403,
              'Forbidden',
              `pods "${pod.metadata.name}" is forbidden: maximum memory usage per Container is ${item.max.memory}, but limit is ${asked}`,
            );
          }
        }
      }
    }
  }

  private doUpdate(kind: KindInfo, namespace: string | undefined, name: string, next: KObject, sub?: string): KObject {
    const current = this.objects.get(this.key(kind, namespace, name));
    if (!current) throw this.notFound(kind, name);
    const wanted = next.metadata?.resourceVersion;
    if (wanted && wanted !== current.metadata.resourceVersion) {
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${kind.plural}${kind.group ? `.${kind.group}` : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: kind.group, kind: kind.plural },
      );
    }
    let obj: KObject;
    if (sub === 'status') {
      obj = { ...clone(current), status: clone(next.status) };
    } else {
      obj = clone(next);
      obj.apiVersion = current.apiVersion;
      obj.kind = current.kind;
      obj.metadata = {
        ...clone(next.metadata ?? {}),
        name: current.metadata.name,
        namespace: current.metadata.namespace,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        generation: current.metadata.generation,
        deletionTimestamp: current.metadata.deletionTimestamp,
      };
      if (!obj.metadata.namespace) delete obj.metadata.namespace;
      if (!obj.metadata.deletionTimestamp) delete obj.metadata.deletionTimestamp;
      if (kind.status) obj.status = clone(current.status);
      if (specOf(obj) !== specOf(current)) obj.metadata.generation = (current.metadata.generation ?? 0) + 1;
    }
    if (current.metadata.deletionTimestamp && !(obj.metadata.finalizers ?? []).length) {
      this.store(kind, obj, 'MODIFIED', current);
      this.remove(kind, obj);
      return obj;
    }
    return this.store(kind, obj, 'MODIFIED', current);
  }

  private doDelete(
    kind: KindInfo,
    namespace: string | undefined,
    name: string,
    options: { gracePeriodSeconds?: number; propagationPolicy?: string; preconditions?: { uid?: string; resourceVersion?: string } },
  ): KObject {
    const current = this.objects.get(this.key(kind, namespace, name));
    if (!current) throw this.notFound(kind, name);
    const pre = options.preconditions;
    if ((pre?.uid && pre.uid !== current.metadata.uid) || (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion)) {
      throw new ApiError(409, 'Conflict', `Precondition failed for ${kind.plural} "${name}"`);
    }
    if (options.propagationPolicy === 'Orphan') {
      for (const dep of this.dependentsOf(current.metadata.uid)) {
        const info = this.kindOf(dep.apiVersion, dep.kind);
        const refs = (dep.metadata.ownerReferences as Array<{ uid: string }>).filter((r) => r.uid !== current.metadata.uid);
        this.store(info, { ...clone(dep), metadata: { ...clone(dep.metadata), ownerReferences: refs } }, 'MODIFIED', dep);
      }
    }
    if (kind.kind === 'Pod') {
      const grace = options.gracePeriodSeconds ?? current.spec?.terminationGracePeriodSeconds ?? 30;
      if (grace > 0) {
        if (current.metadata.deletionTimestamp) return current;
        const terminating = clone(current);
        terminating.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString();
        terminating.metadata.deletionGracePeriodSeconds = grace;
        const stored = this.store(kind, terminating, 'MODIFIED', current);
        this.timers.after(this.options.gracefulPodDeletionMs, () => this.finishPodDeletion(stored.metadata.namespace, name));
        return stored;
      }
      return this.remove(kind, current);
    }
    if ((current.metadata.finalizers ?? []).length) {
      if (current.metadata.deletionTimestamp) return current;
      const marked = clone(current);
      marked.metadata.deletionTimestamp = new Date().toISOString();
      return this.store(kind, marked, 'MODIFIED', current);
    }
    return this.remove(kind, current);
  }

  private remove(kind: KindInfo, current: KObject): KObject {
    const gone = this.store(kind, clone(current), 'DELETED', current);
    if (kind.kind === 'Namespace') {
      for (const [key, obj] of [...this.objects]) {
        if (obj.metadata.namespace === current.metadata.name) this.remove(this.kindOf(obj.apiVersion, obj.kind), this.objects.get(key)!);
      }
    }
    // The garbage collector runs on its own schedule, after the owner is gone.
    setImmediate(() => this.collectGarbage(current.metadata.uid));
    return gone;
  }

  private dependentsOf(uid: string): KObject[] {
    return [...this.objects.values()].filter((o) =>
      ((o.metadata.ownerReferences ?? []) as Array<{ uid: string }>).some((r) => r.uid === uid),
    );
  }

  private liveUid(uid: string): boolean {
    for (const o of this.objects.values()) if (o.metadata.uid === uid) return true;
    return false;
  }

  private collectGarbage(ownerUid: string): void {
    for (const dep of this.dependentsOf(ownerUid)) {
      const refs = dep.metadata.ownerReferences as Array<{ uid: string }>;
      if (refs.some((r) => this.liveUid(r.uid))) continue;
      const kind = this.kindOf(dep.apiVersion, dep.kind);
      const current = this.objects.get(this.key(kind, dep.metadata.namespace, dep.metadata.name));
      if (current && current.metadata.uid === dep.metadata.uid) this.doDelete(kind, dep.metadata.namespace, dep.metadata.name, { gracePeriodSeconds: 0 });
    }
  }

  private collectIfOwnersGone(kind: KindInfo, obj: KObject): void {
    const refs = (obj.metadata.ownerReferences ?? []) as Array<{ uid: string }>;
    if (refs.length && !refs.some((r) => this.liveUid(r.uid))) {
      setImmediate(() => {
        const current = this.objects.get(this.key(kind, obj.metadata.namespace, obj.metadata.name));
        if (current && current.metadata.uid === obj.metadata.uid && !refs.some((r) => this.liveUid(r.uid))) {
          this.doDelete(kind, obj.metadata.namespace, obj.metadata.name, { gracePeriodSeconds: 0 });
        }
      });
    }
  }

  private notFound(kind: KindInfo, name: string): ApiError {
    return new ApiError(404, 'NotFound', `${kind.plural}${kind.group ? `.${kind.group}` : ''} "${name}" not found`, {
      name,
      group: kind.group,
      kind: kind.plural,
    });
  }

  // ---- the Deployment controller (ReplicaSets folded in) ----------------------------------------

  private queueControllers(): void {
    if (this.controllerQueued) return;
    this.controllerQueued = true;
    setImmediate(() => {
      this.controllerQueued = false;
      if (this.server.listening) this.syncDeployments();
    });
  }

  private syncDeployments(): void {
    const podKind = this.kindOf('v1', 'Pod');
    const deployKind = this.kindOf('apps/v1', 'Deployment');
    for (const d of this.select(deployKind)) {
      if (d.metadata.deletionTimestamp) continue;
      const owned = this.select(podKind, d.metadata.namespace).filter((p) =>
        ((p.metadata.ownerReferences ?? []) as Array<{ uid: string; controller?: boolean }>).some((r) => r.uid === d.metadata.uid && r.controller),
      );
      const live = owned.filter((p) => !p.metadata.deletionTimestamp);
      const want = d.spec?.replicas ?? 1;
      let failure: string | undefined;
      for (let i = live.length; i < want; i++) {
        try {
          const template = clone(d.spec?.template ?? {});
          const pod = this.doCreate(podKind, d.metadata.namespace, {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: {
              name: `${d.metadata.name}-${randomUUID().slice(0, 5)}`,
              labels: template.metadata?.labels ?? {},
              ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }],
            },
            spec: template.spec ?? { containers: [{ name: 'main', image: 'sim' }] },
          }, 'system:deployment-controller');
          live.push(pod);
        } catch (error) {
          failure = (error as Error).message;
          break;
        }
      }
      for (const extra of live.slice(want)) this.doDelete(podKind, extra.metadata.namespace, extra.metadata.name, {});
      const ready = Math.min(live.length, want);
      const status = {
        observedGeneration: d.metadata.generation,
        replicas: ready,
        readyReplicas: ready,
        availableReplicas: ready,
        updatedReplicas: ready,
        conditions: [
          { type: 'Available', status: ready >= want ? 'True' : 'False', reason: ready >= want ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable' },
          ...(failure ? [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: failure }] : []),
        ],
      };
      if (JSON.stringify(status) !== JSON.stringify(d.status ?? {})) {
        this.writeStatus('apps/v1', 'Deployment', d.metadata.namespace, d.metadata.name, status);
      }
    }
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private podOfToken(req: http.IncomingMessage): { namespace: string; name: string } | undefined {
    const token = /^Bearer pod:([^/]+)\/(.+)$/.exec(req.headers.authorization ?? '');
    return token ? { namespace: token[1], name: token[2] } : undefined;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const pod = this.podOfToken(req);
    if (pod && !this.objects.has(this.key(this.kindOf('v1', 'Pod'), pod.namespace, pod.name))) {
      // the process behind this token is dead: nothing it sends reaches the API
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        if (this.down) throw new ApiError(503, 'ServiceUnavailable', 'the control plane is restarting');
        this.route(req, res, Buffer.concat(chunks).toString('utf8'), pod ? `pod:${pod.namespace}/${pod.name}` : 'admin');
      } catch (error) {
        const e = error instanceof ApiError ? error : new ApiError(500, 'InternalError', String((error as Error).stack ?? error));
        this.sendJson(res, e.code, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: e.message,
          reason: e.reason,
          details: e.details,
          code: e.code,
        });
      }
    });
  }

  private sendJson(res: http.ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private discovery(path: string[]): unknown | undefined {
    if (path.length === 1 && path[0] === 'api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
    if (path.length === 1 && path[0] === 'apis') {
      const groups = new Map<string, string>();
      for (const k of this.kinds.values()) if (k.group) groups.set(k.group, k.version);
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [...groups].map(([name, version]) => ({
          name,
          versions: [{ groupVersion: `${name}/${version}`, version }],
          preferredVersion: { groupVersion: `${name}/${version}`, version },
        })),
      };
    }
    const groupVersion = path[0] === 'api' && path.length === 2 ? path[1] : path[0] === 'apis' && path.length === 3 ? `${path[1]}/${path[2]}` : undefined;
    if (!groupVersion) return undefined;
    const resources = [...this.kinds.values()]
      .filter((k) => apiVersionOf(k) === groupVersion)
      .flatMap((k) => [
        { name: k.plural, singularName: k.kind.toLowerCase(), namespaced: k.namespaced, kind: k.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
        ...(k.status ? [{ name: `${k.plural}/status`, singularName: '', namespaced: k.namespaced, kind: k.kind, verbs: ['get', 'patch', 'update'] }] : []),
        ...(k.kind === 'Pod'
          ? [
              { name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
              { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
            ]
          : []),
      ]);
    if (!resources.length) return undefined;
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse, body: string, subject: string): void {
    const url = new URL(req.url ?? '/', this.url);
    const path = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    this.requests[method] = (this.requests[method] ?? 0) + 1;
    const found = this.discovery(path);
    if (found && method === 'GET') return this.sendJson(res, 200, found);

    // /api/v1/... or /apis/<group>/<version>/...
    let group = '';
    let version: string;
    let rest: string[];
    if (path[0] === 'api') [version, rest] = [path[1], path.slice(2)];
    else if (path[0] === 'apis') [group, version, rest] = [path[1], path[2], path.slice(3)];
    else throw new ApiError(404, 'NotFound', `the server could not find the requested resource ${url.pathname}`);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name, sub] = rest;
    const kind = [...this.kinds.values()].find((k) => k.group === group && k.version === version && k.plural === plural);
    if (!kind) throw new ApiError(404, 'NotFound', `the server could not find the requested resource ${url.pathname}`);
    const q = url.searchParams;
    const parsed = body ? (JSON.parse(body) as KObject) : undefined;

    if (method === 'GET' && !name) {
      if (q.get('watch') === 'true' || q.get('watch') === '1') return this.startWatch(kind, namespace, q, res);
      const items = this.select(kind, namespace, q.get('labelSelector') ?? undefined, q.get('fieldSelector') ?? undefined);
      return this.sendJson(res, 200, {
        apiVersion: apiVersionOf(kind),
        kind: `${kind.kind}List`,
        metadata: { resourceVersion: String(this.rv) },
        items,
      });
    }
    if (method === 'GET' && sub === 'log') {
      const lines = this.logs.get(`${namespace}/${name}`) ?? [];
      const tail = Number(q.get('tailLines') ?? lines.length);
      const text = lines.slice(-tail).map((l) => `${l}\n`).join('');
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return void res.end(text);
    }
    if (method === 'GET') {
      const obj = this.objects.get(this.key(kind, namespace, name));
      if (!obj) throw this.notFound(kind, name);
      return this.sendJson(res, 200, obj);
    }
    if (method === 'POST' && name && sub === 'eviction') {
      const grace = parsed?.deleteOptions?.gracePeriodSeconds as number | undefined;
      this.doDelete(kind, namespace, name, { gracePeriodSeconds: grace });
      return this.sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    if (method === 'POST') {
      if (!parsed) throw new ApiError(400, 'BadRequest', 'no body');
      return this.sendJson(res, 201, this.doCreate(kind, namespace, parsed, subject));
    }
    if (method === 'PUT') {
      if (!parsed) throw new ApiError(400, 'BadRequest', 'no body');
      return this.sendJson(res, 200, this.doUpdate(kind, namespace, name, parsed, sub));
    }
    if (method === 'PATCH') {
      const current = this.objects.get(this.key(kind, namespace, name));
      if (!current) throw this.notFound(kind, name);
      const type = req.headers['content-type'] ?? '';
      const next = type.includes('json-patch')
        ? jsonPatch(current, JSON.parse(body))
        : (mergePatch(clone(current), parsed) as KObject);
      // A patch carries a precondition only when it names a resourceVersion.
      if (!type.includes('json-patch') && !parsed?.metadata?.resourceVersion) next.metadata.resourceVersion = current.metadata.resourceVersion;
      return this.sendJson(res, 200, this.doUpdate(kind, namespace, name, next, sub));
    }
    if (method === 'DELETE') {
      const gp = q.get('gracePeriodSeconds');
      const options = {
        gracePeriodSeconds: gp !== null ? Number(gp) : (parsed?.gracePeriodSeconds as number | undefined),
        propagationPolicy: q.get('propagationPolicy') ?? (parsed?.propagationPolicy as string | undefined),
        preconditions: parsed?.preconditions as { uid?: string } | undefined,
      };
      const obj = this.doDelete(kind, namespace, name, options);
      return this.sendJson(res, 200, obj);
    }
    throw new ApiError(405, 'MethodNotAllowed', `${method} is not supported`);
  }

  private startWatch(kind: KindInfo, namespace: string | undefined, q: URLSearchParams, res: http.ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const watcher: Watcher & { bookmarks?: boolean } = {
      kind,
      namespace,
      labelSelector: q.get('labelSelector') ?? undefined,
      fieldSelector: q.get('fieldSelector') ?? undefined,
      res,
      bookmarks: q.get('allowWatchBookmarks') === 'true',
    };
    const from = q.get('resourceVersion');
    if (from && from !== '0') {
      const rv = Number(from);
      const oldest = this.history[0]?.rv ?? this.rv + 1;
      if (rv < oldest - 1 && rv < this.rv) {
        const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: `too old resource version: ${rv} (${oldest - 1})`, metadata: {} };
        res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
        return;
      }
      for (const entry of this.history) if (entry.rv > rv) this.deliver(watcher, entry);
    } else {
      for (const obj of this.select(kind, namespace, watcher.labelSelector, watcher.fieldSelector)) {
        res.write(`${JSON.stringify({ type: 'ADDED', object: obj })}\n`);
      }
    }
    this.watchers.add(watcher);
    res.on('close', () => this.watchers.delete(watcher));
  }
}

/** A Kubernetes quantity ("512Mi", "1G", "250m") in base units. */
export function parseQuantity(text: string): number {
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(String(text).trim());
  if (!m) return Number.NaN;
  const units: Record<string, number> = {
    '': 1, m: 1e-3, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4,
  };
  return Number(m[1]) * (units[m[2]] ?? Number.NaN);
}
