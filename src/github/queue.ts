// The in-process analysis queue: webhooks enqueue and return at once; jobs run with bounded
// concurrency, one per key (repo + head SHA). A job enqueued while one with its key waits is
// merged into it; while one runs, it runs once more afterwards with the merged input.

export interface QueueOptions<T> {
  concurrency: number;
  /** bound on waiting jobs: past it, new keys are refused (and the sweeper picks them up later) */
  maxPending?: number;
  merge(waiting: T, incoming: T): T;
  run(key: string, job: T): Promise<void>;
  onError?(key: string, error: unknown): void;
}

export class AnalysisQueue<T> {
  private readonly pending = new Map<string, T>();
  private readonly running = new Map<string, T | undefined>();
  private readonly order: string[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: QueueOptions<T>) {}

  /** false when the queue is full and the job was refused */
  add(key: string, job: T): boolean {
    if (this.running.has(key)) {
      const again = this.running.get(key);
      this.running.set(key, again === undefined ? job : this.options.merge(again, job));
      return true;
    }
    const waiting = this.pending.get(key);
    if (waiting !== undefined) {
      this.pending.set(key, this.options.merge(waiting, job));
      return true;
    }
    if (this.pending.size >= (this.options.maxPending ?? 1_000)) return false;
    this.pending.set(key, job);
    this.order.push(key);
    this.pump();
    return true;
  }

  get size(): number {
    return this.pending.size + this.running.size;
  }

  /** Resolves when nothing waits or runs: an event to wait for, in tests and on shutdown. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running.size < this.options.concurrency && this.order.length > 0) {
      const key = this.order.shift()!;
      const job = this.pending.get(key)!;
      this.pending.delete(key);
      this.running.set(key, undefined);
      void this.execute(key, job);
    }
    if (this.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private async execute(key: string, job: T): Promise<void> {
    try {
      await this.options.run(key, job);
    } catch (error) {
      this.options.onError?.(key, error);
    }
    const again = this.running.get(key);
    this.running.delete(key);
    if (again !== undefined) {
      this.pending.set(key, again);
      this.order.unshift(key);
    }
    this.pump();
  }
}
