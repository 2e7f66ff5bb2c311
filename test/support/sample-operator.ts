// A small Kubernetes operator for the chaos tests: it reconciles `Widget` resources (example.com/v1)
// into a ConfigMap and a Deployment, through client-node informers and a work queue, with leader
// election on a Lease. It runs in-process against the simulator, in a correct mode or with one
// seeded bug; `OperatorDeployment` ties each instance's life to its pod, as a kubelet would.

import {
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { Timers, type K8sSimulator, type ChangeEvent, type KObject } from './k8s-sim.js';

export type OperatorBug =
  /** writes the whole Widget back from its reconcile-start copy, without a resourceVersion */
  | 'lost-update'
  /** names its Deployment with generateName and reconciles before its child cache has synced */
  | 'duplicate-child-after-restart'
  /** does not watch its children, so a deleted or edited child stays that way */
  | 'no-drift-repair'
  /** panics when it finds the ConfigMap of a Widget whose Deployment a killed reconcile never made */
  | 'crash-mid-reconcile';

export const WIDGET_KIND = { group: 'example.com', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true, status: true };
export const MANAGED_BY = 'app.kubernetes.io/managed-by';

export interface SampleOperatorOptions {
  bug?: OperatorBug;
  /** where the operator's own Deployment, pods and Lease live */
  namespace?: string;
  name?: string;
  leaseName?: string;
  leaseDurationSeconds?: number;
  /** how often the leader renews (and a follower retries) */
  renewMs?: number;
  /** the longest a failed reconcile waits before its retry */
  maxBackoffMs?: number;
  /** the longest the simulated kubelet waits before restarting a crashed container */
  maxCrashBackoffMs?: number;
}

type Widget = KubernetesObject & {
  spec?: { message?: string; replicas?: number };
  status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
};

class Crash extends Error {}

interface ApiFailure {
  code?: number;
  body?: unknown;
}

const statusCode = (error: unknown) => (error as ApiFailure).code;
const failureMessage = (error: unknown): string => {
  const body = (error as ApiFailure).body;
  if (typeof body === 'string') {
    try {
      return String((JSON.parse(body) as { message?: string }).message ?? body);
    } catch {
      return body;
    }
  }
  return (error as Error).message;
};

/** One running operator process: what lives and dies with one pod's container. */
export class OperatorInstance {
  private readonly api: KubernetesObjectApi;
  private readonly customObjects: CustomObjectsApi;
  private readonly informers: Array<Informer<KubernetesObject> & { start(): Promise<void>; stop(): Promise<void> }> = [];
  private widgets?: Informer<KubernetesObject> & { list(ns?: string): KubernetesObject[]; get(name: string, ns?: string): KubernetesObject | undefined };
  private configMaps?: typeof this.widgets;
  private deployments?: typeof this.widgets;
  private readonly queue = new Set<string>();
  private readonly retries = new Map<string, number>();
  private readonly timers = new Timers();
  private renewTimer?: NodeJS.Timeout;
  private working?: Promise<void>;
  private leading = false;
  private state: 'starting' | 'running' | 'stopping' | 'dead' = 'starting';
  private readonly opts: Required<Omit<SampleOperatorOptions, 'bug'>> & { bug?: OperatorBug };

  constructor(
    private readonly kc: KubeConfig,
    readonly podName: string,
    options: SampleOperatorOptions,
    private readonly log: (line: string) => void,
    private readonly onCrash: (error: Error) => void,
    /** the readiness probe turning green: the workers run */
    private readonly onReady: () => void = () => undefined,
  ) {
    this.api = KubernetesObjectApi.makeApiClient(kc);
    this.customObjects = kc.makeApiClient(CustomObjectsApi);
    this.opts = {
      namespace: 'sample-system',
      name: 'sample-operator',
      leaseName: 'sample-operator-leader',
      leaseDurationSeconds: 1,
      renewMs: 150,
      maxBackoffMs: 200,
      maxCrashBackoffMs: 100,
      ...options,
    };
  }

  // state changes under awaits, which TypeScript's narrowing does not see
  private get dead(): boolean {
    return this.state === 'dead';
  }

  get isLeader(): boolean {
    return this.leading && this.state === 'running';
  }

  start(): void {
    this.log('starting; waiting for leadership');
    this.renewTimer = setInterval(() => void this.electionTick(), this.opts.renewMs);
    void this.electionTick();
  }

  /** SIGTERM: finish the reconcile in flight, release the Lease, exit. */
  async stop(): Promise<void> {
    if (this.state === 'dead' || this.state === 'stopping') return;
    this.state = 'stopping';
    this.log('received SIGTERM; shutting down');
    this.halt();
    await this.working;
    if (this.leading) {
      await this.api
        .patch(
          { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.opts.leaseName, namespace: this.opts.namespace }, spec: { holderIdentity: null } } as KubernetesObject,
          undefined, undefined, undefined, undefined, PatchStrategy.MergePatch,
        )
        .catch(() => undefined);
    }
    this.state = 'dead';
  }

  /** SIGKILL: nothing more happens; requests already sent may or may not have landed. */
  kill(): void {
    this.state = 'dead';
    this.halt();
  }

  private halt(): void {
    clearInterval(this.renewTimer);
    this.timers.cancelAll();
    for (const informer of this.informers) void informer.stop();
  }

  // ---- leader election (the client-go Lease protocol, trimmed) ---------------------------------

  private async electionTick(): Promise<void> {
    if (this.state === 'dead' || this.state === 'stopping') return;
    const ref = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.opts.leaseName, namespace: this.opts.namespace } };
    const now = new Date();
    const mine = { holderIdentity: this.podName, leaseDurationSeconds: this.opts.leaseDurationSeconds, renewTime: now.toISOString() };
    try {
      let lease: KubernetesObject & { spec?: { holderIdentity?: string; renewTime?: string | Date; leaseDurationSeconds?: number } };
      try {
        lease = await this.api.read(ref);
      } catch (error) {
        if (statusCode(error) !== 404) throw error;
        // a deleted Lease is recreated by whoever holds or wants it
        await this.api.create({ ...ref, spec: { ...mine, acquireTime: now.toISOString() } } as KubernetesObject);
        return this.becomeLeader();
      }
      const holder = lease.spec?.holderIdentity;
      const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : 0;
      const expired = renewed + (lease.spec?.leaseDurationSeconds ?? 0) * 1000 < now.getTime();
      if (holder && holder !== this.podName && !expired) {
        if (this.leading) {
          this.log(`lost the lease to ${holder}; exiting`);
          return this.crash(new Error('leader election lost'));
        }
        return;
      }
      await this.api.replace({ ...lease, spec: { ...lease.spec, ...mine } } as KubernetesObject);
      if (!this.leading) await this.becomeLeader();
    } catch (error) {
      if (this.dead) return;
      if (statusCode(error) === 409) return; // someone else renewed first; look again next tick
      this.log(`leader election: ${failureMessage(error)}`);
    }
  }

  private async becomeLeader(): Promise<void> {
    if (this.leading || this.state !== 'starting') return;
    this.leading = true;
    this.log('became leader');
    await this.startInformers();
  }

  // ---- informers and the work queue --------------------------------------------------------------

  private informer(apiVersion: string, kind: string, path: string, labelSelector?: string) {
    const informer = makeInformer(
      this.kc,
      path,
      () => this.api.list(apiVersion, kind, undefined, undefined, undefined, undefined, undefined, labelSelector) as never,
      labelSelector,
    ) as unknown as NonNullable<typeof this.widgets> & { start(): Promise<void>; stop(): Promise<void> };
    // client-node's informer stops on a watch error; an operator restarts it, as controller-runtime does
    informer.on('error', () => {
      if (this.state === 'running' || this.state === 'starting') this.timers.after(20, () => void informer.start().catch(() => undefined));
    });
    this.informers.push(informer);
    return informer;
  }

  private async startInformers(): Promise<void> {
    const bug = this.opts.bug;
    this.widgets = this.informer('example.com/v1', 'Widget', '/apis/example.com/v1/widgets');
    for (const verb of ['add', 'update'] as const) this.widgets.on(verb, (w) => this.enqueue(w));
    const children = [] as Array<NonNullable<typeof this.widgets>>;
    if (bug !== 'no-drift-repair') {
      this.configMaps = this.informer('v1', 'ConfigMap', '/api/v1/configmaps', `${MANAGED_BY}=sample-operator`);
      this.deployments = this.informer('apps/v1', 'Deployment', '/apis/apps/v1/deployments', `${MANAGED_BY}=sample-operator`);
      children.push(this.configMaps, this.deployments);
      for (const informer of children) {
        for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, (child) => this.enqueueOwner(child));
      }
    }
    await this.widgets.start();
    if (bug === 'duplicate-child-after-restart') {
      // the seeded bug: workers start before the child caches have synced
      for (const informer of children) void informer.start().catch(() => undefined);
    } else {
      await Promise.all(children.map((informer) => informer.start()));
    }
    if (this.state !== 'starting') return;
    this.state = 'running';
    this.log('caches started; workers running');
    this.onReady();
    for (const w of this.widgets.list()) this.enqueue(w);
    this.kick();
  }

  private enqueue(w: KubernetesObject): void {
    this.queue.add(`${w.metadata?.namespace}/${w.metadata?.name}`);
    this.kick();
  }

  private enqueueOwner(child: KubernetesObject): void {
    const owner = child.metadata?.ownerReferences?.find((r) => r.controller && r.kind === 'Widget');
    if (owner) this.enqueue({ metadata: { namespace: child.metadata?.namespace, name: owner.name } });
  }

  private kick(): void {
    if (this.working || this.state !== 'running') return;
    this.working = this.drain().finally(() => {
      this.working = undefined;
      if (this.queue.size) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.size && this.state === 'running') {
      const key = this.queue.values().next().value as string;
      this.queue.delete(key);
      try {
        await this.reconcile(key);
        this.retries.delete(key);
      } catch (error) {
        if (this.dead) return;
        if (error instanceof Crash) return this.crash(error);
        const attempt = (this.retries.get(key) ?? 0) + 1;
        this.retries.set(key, attempt);
        this.log(`reconcile ${key} failed (attempt ${attempt}): ${failureMessage(error)}`);
        this.timers.after(Math.min(this.opts.maxBackoffMs, 5 * 2 ** attempt), () => {
          this.queue.add(key);
          this.kick();
        });
      }
    }
  }

  private crash(error: Error): void {
    if (this.state === 'dead') return;
    this.log(`panic: ${error.message}`);
    this.kill();
    this.onCrash(error);
  }

  // ---- reconcile ---------------------------------------------------------------------------------

  private async reconcile(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const cached = this.widgets?.get(name, namespace) as Widget | undefined;
    if (!cached || cached.metadata?.deletionTimestamp) return;
    const widget = structuredClone(cached);
    const owner = [{ apiVersion: 'example.com/v1', kind: 'Widget', name, uid: widget.metadata!.uid!, controller: true, blockOwnerDeletion: true }];
    const labels = { [MANAGED_BY]: 'sample-operator', 'example.com/widget': name };
    const message = widget.spec?.message ?? '';
    const replicas = widget.spec?.replicas ?? 1;

    const configMap = await this.findConfigMap(namespace, `${name}-config`);
    const deployment = await this.findDeployment(namespace, name);
    if (this.opts.bug === 'crash-mid-reconcile' && configMap && !deployment && widget.status?.observedGeneration === undefined) {
      throw new Crash(`widget ${key}: configmap ${name}-config exists without its deployment`);
    }

    try {
      if (!configMap) {
        const created = await this.api
          .create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-config`, namespace, labels, ownerReferences: owner }, data: { message } } as KubernetesObject)
          .catch((error) => {
            // a cache that lags behind the API: the ConfigMap is there, which is what was wanted
            if (statusCode(error) === 409) return undefined;
            throw error;
          });
        if (created) {
          this.log(`widget ${key}: created configmap ${name}-config`);
          await this.recordEvent(widget, 'Normal', 'Created', `created configmap ${name}-config`);
        }
      } else if ((configMap as { data?: Record<string, string> }).data?.message !== message) {
        await this.api.patch({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-config`, namespace }, data: { message } } as KubernetesObject, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
        this.log(`widget ${key}: repaired configmap ${name}-config`);
      }
      const template = { metadata: { labels: { 'example.com/widget': name } }, spec: { containers: [{ name: 'widget', image: 'example.com/widget:1', env: [{ name: 'MESSAGE', value: message }] }] } };
      if (!deployment) {
        const naming = this.opts.bug === 'duplicate-child-after-restart' ? { generateName: `${name}-` } : { name };
        await this.api.create({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { ...naming, namespace, labels, ownerReferences: owner }, spec: { replicas, selector: { matchLabels: { 'example.com/widget': name } }, template } } as KubernetesObject);
        this.log(`widget ${key}: created deployment`);
      } else if ((deployment as { spec?: { replicas?: number } }).spec?.replicas !== replicas) {
        await this.api.patch({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: deployment.metadata!.name, namespace }, spec: { replicas } } as KubernetesObject, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
        this.log(`widget ${key}: repaired deployment ${deployment.metadata!.name}`);
      }
    } catch (error) {
      if (statusCode(error) === 403 && /exceeded quota/.test(failureMessage(error))) {
        await this.writeStatus(widget, { type: 'Ready', status: 'False', reason: 'QuotaExceeded', message: failureMessage(error) });
        await this.recordEvent(widget, 'Warning', 'QuotaExceeded', failureMessage(error));
      }
      throw error;
    }

    if (this.opts.bug === 'lost-update' && widget.metadata?.annotations?.['example.com/reconciled-generation'] !== String(widget.metadata?.generation)) {
      // the seeded bug: a full write of a stale copy, with no resourceVersion to stop it
      const { resourceVersion: _rv, ...metadata } = widget.metadata!;
      await this.api.replace({ ...widget, metadata: { ...metadata, annotations: { ...metadata.annotations, 'example.com/reconciled-generation': String(widget.metadata?.generation) } } } as KubernetesObject);
    }
    await this.writeStatus(widget, { type: 'Ready', status: 'True', reason: 'Reconciled', message: 'children are in place' });
  }

  private async findConfigMap(namespace: string, name: string): Promise<KubernetesObject | undefined> {
    if (this.configMaps) return this.configMaps.get(name, namespace);
    return this.api.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace } }).catch((e) => {
      if (statusCode(e) === 404) return undefined;
      throw e;
    });
  }

  private async findDeployment(namespace: string, widget: string): Promise<KubernetesObject | undefined> {
    if (this.deployments) return this.deployments.list(namespace).find((d) => d.metadata?.labels?.['example.com/widget'] === widget);
    return this.api.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: widget, namespace } }).catch((e) => {
      if (statusCode(e) === 404) return undefined;
      throw e;
    });
  }

  private async writeStatus(widget: Widget, ready: { type: string; status: string; reason: string; message: string }): Promise<void> {
    const status = { observedGeneration: widget.metadata!.generation, conditions: [ready] };
    if (JSON.stringify(status) === JSON.stringify(widget.status ?? {})) return;
    // client-node's generated API sends a JSON patch to the status subresource
    await this.customObjects.patchNamespacedCustomObjectStatus({
      group: 'example.com', version: 'v1', plural: 'widgets', namespace: widget.metadata!.namespace!, name: widget.metadata!.name!,
      body: [{ op: 'add', path: '/status', value: status }],
    }).catch((error) => {
      if (statusCode(error) !== 404) throw error;
    });
    widget.status = status;
  }

  private async recordEvent(widget: Widget, type: string, reason: string, message: string): Promise<void> {
    const namespace = widget.metadata!.namespace!;
    await this.api.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${widget.metadata!.name}.`, namespace },
      involvedObject: { apiVersion: 'example.com/v1', kind: 'Widget', name: widget.metadata!.name, namespace, uid: widget.metadata!.uid },
      reason,
      message,
      type,
      source: { component: this.opts.name },
      firstTimestamp: new Date().toISOString(),
      lastTimestamp: new Date().toISOString(),
      count: 1,
    } as KubernetesObject);
  }
}

/**
 * The operator's Deployment and the kubelet for its pods: creates the Deployment in the simulator
 * and starts, stops or kills an `OperatorInstance` as its pods are created, terminated or removed.
 */
export class OperatorDeployment {
  readonly instances = new Map<string, OperatorInstance>();
  crashes = 0;
  started = 0;
  private readonly listener: (event: ChangeEvent) => void;
  private readonly crashBackoff = new Map<string, number>();
  private readonly timers = new Timers();

  private constructor(
    private readonly sim: K8sSimulator,
    readonly options: SampleOperatorOptions & { namespace: string; name: string },
  ) {
    this.listener = (event) => this.onPod(event);
  }

  static start(sim: K8sSimulator, options: SampleOperatorOptions = {}): OperatorDeployment {
    const op = new OperatorDeployment(sim, { namespace: 'sample-system', name: 'sample-operator', ...options });
    sim.on('change', op.listener);
    sim.ensureNamespace(op.options.namespace);
    sim.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: op.options.name, namespace: op.options.namespace, labels: { app: op.options.name } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: op.options.name } },
        template: {
          metadata: { labels: { app: op.options.name } },
          spec: { terminationGracePeriodSeconds: 10, containers: [{ name: 'manager', image: 'example.com/sample-operator:dev' }] },
        },
      },
    });
    return op;
  }

  stop(): void {
    this.sim.off('change', this.listener);
    this.timers.cancelAll();
    for (const instance of this.instances.values()) instance.kill();
    this.instances.clear();
  }

  leader(): OperatorInstance | undefined {
    return [...this.instances.values()].find((i) => i.isLeader);
  }

  private onPod(event: ChangeEvent): void {
    const pod = event.object;
    if (pod.kind !== 'Pod' || pod.metadata.namespace !== this.options.namespace || pod.metadata.labels?.app !== this.options.name) return;
    const name = pod.metadata.name as string;
    if (event.type === 'ADDED') this.launch(name);
    else if (event.type === 'MODIFIED' && pod.metadata.deletionTimestamp && !event.previous?.metadata.deletionTimestamp) {
      const instance = this.instances.get(name);
      void instance?.stop().then(() => this.sim.finishPodDeletion(this.options.namespace, name));
    } else if (event.type === 'DELETED') {
      this.instances.get(name)?.kill();
      this.instances.delete(name);
    }
  }

  private launch(podName: string): void {
    const instance = new OperatorInstance(
      this.sim.kubeConfig(`pod:${this.options.namespace}/${podName}`),
      podName,
      this.options,
      (line) => this.sim.appendLog(this.options.namespace, podName, `${new Date().toISOString()} ${line}`),
      () => this.restartAfterCrash(podName),
      () => this.setReady(podName, true),
    );
    this.setReady(podName, false);
    this.instances.set(podName, instance);
    this.started += 1;
    instance.start();
  }

  /** The kubelet's view of the readiness probe, which passes once the workers run. */
  private setReady(podName: string, ready: boolean): void {
    const pod = this.sim.get('v1', 'Pod', this.options.namespace, podName);
    if (!pod) return;
    const statuses = ((pod.status?.containerStatuses ?? []) as Array<Record<string, unknown>>).map((c) => ({ ...c, ready }));
    this.sim.writeStatus('v1', 'Pod', this.options.namespace, podName, {
      ...pod.status,
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: statuses,
    });
  }

  /** The kubelet's CrashLoopBackOff: restart the container of the same pod after a growing delay. */
  private restartAfterCrash(podName: string): void {
    this.crashes += 1;
    this.sim.recordContainerRestart(this.options.namespace, podName);
    this.setReady(podName, false);
    const attempt = (this.crashBackoff.get(podName) ?? 0) + 1;
    this.crashBackoff.set(podName, attempt);
    this.timers.after(Math.min(this.options.maxCrashBackoffMs ?? 100, 10 * 2 ** attempt), () => {
      if (this.instances.has(podName) && this.sim.get('v1', 'Pod', this.options.namespace, podName)) this.launch(podName);
    });
  }
}

export type { KObject };
