// The runner's picture of the cluster: one list+watch per kind and namespace, kept current through
// broken watches, 410 Gone and control plane restarts, and the waits built on it. Every wait here
// ends on a watch event or on a deadline; nothing waits for a fixed time.

import { EventEmitter } from 'node:events';
import { KubernetesObjectApi, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';

export type KObject = KubernetesObject & {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  status?: any;
  [key: string]: unknown;
};

export interface ViewChange {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KObject;
  /** the watch this change came through, `apiVersion/Kind` */
  kind: string;
}

interface Stream {
  apiVersion: string;
  kind: string;
  namespace?: string;
  labelSelector?: string;
  path: string;
  objects: Map<string, KObject>;
  resourceVersion: string;
  abort?: AbortController;
  synced: boolean;
}

/** The object API with its discovery lookup (protected in client-node) made public. */
export class ObjectApi extends KubernetesObjectApi {
  discover(apiVersion: string, kind: string) {
    return this.resource(apiVersion, kind);
  }

  static forConfig(kc: KubeConfig): ObjectApi {
    const api = kc.makeApiClient(ObjectApi);
    api.setDefaultNamespace(kc);
    return api;
  }
}

const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export class ClusterView extends EventEmitter {
  readonly api: ObjectApi;
  private readonly watch: Watch;
  private readonly streams = new Map<string, Stream>();
  /** in-flight starts: two callers tracking the same kind at once share one list+watch */
  private readonly starting = new Map<string, Promise<void>>();
  private closed = false;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** how many times a watch was opened again after it ended */
  reconnects = 0;
  /** how many times a stream had to list again (410 Gone) */
  relists = 0;

  constructor(
    readonly kc: KubeConfig,
    private readonly retryMs = 100,
  ) {
    super();
    this.setMaxListeners(1000);
    this.api = ObjectApi.forConfig(kc);
    this.watch = new Watch(kc);
  }

  private streamKey(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): string {
    return `${apiVersion}/${kind}|${namespace ?? ''}|${labelSelector ?? ''}`;
  }

  /** Start (once) a list+watch of a kind; resolves when the first list is in. */
  track(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<void> {
    const key = this.streamKey(apiVersion, kind, namespace, labelSelector);
    let started = this.starting.get(key);
    if (!started) {
      started = this.startStream(key, apiVersion, kind, namespace, labelSelector);
      this.starting.set(key, started);
      started.catch(() => this.starting.delete(key));
    }
    return started;
  }

  private async startStream(key: string, apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<void> {
    const resource = await this.api.discover(apiVersion, kind);
    if (!resource) throw new Error(`the cluster does not serve ${kind} in ${apiVersion}`);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const path = resource.namespaced && namespace ? `${base}/namespaces/${namespace}/${resource.name}` : `${base}/${resource.name}`;
    const stream: Stream = { apiVersion, kind, namespace, labelSelector, path, objects: new Map(), resourceVersion: '', synced: false };
    this.streams.set(key, stream);
    await this.relist(stream);
    await this.openWatch(stream);
  }

  objects(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): KObject[] {
    const stream = this.streams.get(this.streamKey(apiVersion, kind, namespace, labelSelector));
    if (!stream) throw new Error(`${kind} is not tracked in ${namespace ?? 'all namespaces'}`);
    return [...stream.objects.values()];
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string, labelSelector?: string): KObject | undefined {
    const stream = this.streams.get(this.streamKey(apiVersion, kind, namespace, labelSelector));
    return stream?.objects.get(`${namespace ?? ''}/${name}`);
  }

  /** Whether every stream is connected and has the objects a fresh list would return. */
  async consistentWithServer(): Promise<{ consistent: boolean; detail: string }> {
    for (const stream of this.streams.values()) {
      const list = await this.api.list(stream.apiVersion, stream.kind, stream.namespace, undefined, undefined, undefined, undefined, stream.labelSelector);
      const fresh = new Map(list.items.map((o) => [keyOf(o), o.metadata?.resourceVersion]));
      const mine = new Map([...stream.objects].map(([k, o]) => [k, o.metadata?.resourceVersion]));
      const missing = [...fresh.keys()].filter((k) => !mine.has(k));
      const stale = [...mine.keys()].filter((k) => !fresh.has(k));
      if (missing.length || stale.length || !stream.abort) {
        return {
          consistent: false,
          detail: `${stream.kind}: ${stream.abort ? 'watching' : 'not watching'}; missing ${missing.join(', ') || 'none'}; gone but cached ${stale.join(', ') || 'none'}`,
        };
      }
    }
    return { consistent: true, detail: `${this.streams.size} watches current` };
  }

  close(): void {
    this.closed = true;
    for (const t of this.retryTimers) clearTimeout(t);
    for (const stream of this.streams.values()) stream.abort?.abort();
    this.removeAllListeners();
  }

  private async relist(stream: Stream): Promise<void> {
    const list = await this.api.list(stream.apiVersion, stream.kind, stream.namespace, undefined, undefined, undefined, undefined, stream.labelSelector);
    const next = new Map(list.items.map((o) => [keyOf(o), o as KObject]));
    const kind = `${stream.apiVersion}/${stream.kind}`;
    const previous = stream.objects;
    stream.objects = next;
    stream.resourceVersion = list.metadata?.resourceVersion ?? '';
    stream.synced = true;
    for (const [key, obj] of previous) if (!next.has(key)) this.emit('change', { type: 'DELETED', object: obj, kind } satisfies ViewChange);
    for (const [key, obj] of next) {
      const before = previous.get(key);
      if (!before) this.emit('change', { type: 'ADDED', object: obj, kind } satisfies ViewChange);
      else if (before.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit('change', { type: 'MODIFIED', object: obj, kind } satisfies ViewChange);
    }
  }

  private async openWatch(stream: Stream): Promise<void> {
    if (this.closed) return;
    let expired = false;
    const kind = `${stream.apiVersion}/${stream.kind}`;
    const params: Record<string, string | boolean> = { resourceVersion: stream.resourceVersion, allowWatchBookmarks: true };
    if (stream.labelSelector) params.labelSelector = stream.labelSelector;
    const controller = await this.watch.watch(
      stream.path,
      params,
      (type: string, object: KObject) => {
        if (type === 'ERROR') {
          if ((object as { code?: number }).code === 410) expired = true;
          return;
        }
        if (object.metadata?.resourceVersion) stream.resourceVersion = object.metadata.resourceVersion;
        if (type === 'BOOKMARK') return;
        const key = keyOf(object);
        if (type === 'DELETED') stream.objects.delete(key);
        else stream.objects.set(key, object);
        this.emit('change', { type: type as ViewChange['type'], object, kind } satisfies ViewChange);
      },
      (err: unknown) => {
        stream.abort = undefined;
        if (this.closed) return;
        if ((err as { statusCode?: number } | null)?.statusCode === 410) expired = true;
        this.emit('watch-ended', { kind, error: err ? String((err as Error).message ?? err) : undefined });
        this.reestablish(stream, expired);
      },
    );
    if (!this.closed) stream.abort = controller;
    else controller.abort();
  }

  /** A broken watch resumes from its resourceVersion, or lists again when that is gone (410). */
  private reestablish(stream: Stream, expired: boolean): void {
    const attempt = async () => {
      if (this.closed) return;
      try {
        if (expired || !stream.resourceVersion) {
          this.relists += 1;
          await this.relist(stream);
        }
        this.reconnects += 1;
        await this.openWatch(stream);
      } catch {
        // the API is unreachable (a control plane restarting): try again shortly
        const timer = setTimeout(() => {
          this.retryTimers.delete(timer);
          void attempt();
        }, this.retryMs);
        this.retryTimers.add(timer);
      }
    };
    void attempt();
  }

  /**
   * Resolve when `condition` is true, checked now and after every change the view sees; reject at
   * the deadline with the last reason `condition` gave.
   */
  until<T>(condition: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        let value: T | undefined | false;
        try {
          value = condition();
        } catch (error) {
          finish();
          reject(error);
          return;
        }
        if (value !== undefined && value !== false) {
          finish();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new DeadlineError(`${what}: not within ${timeoutMs} ms`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.off('change', check);
      };
      this.on('change', check);
      check();
    });
  }
}

export class DeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlineError';
  }
}
