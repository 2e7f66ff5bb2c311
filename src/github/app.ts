// The Probot app: registers the handler registry, owns the analysis queue and the sweeper that
// finds PRs a missed webhook left without a run. `createApp` returns the app function and the
// handles tests and the server need (wait for the queue, sweep now, stop).

import { ProbotOctokit, type ApplicationFunction, type Probot } from 'probot';
import { CHECKS } from '../../checks/index.js';
import type { Check } from '../engine/types.js';
import { ourRuns, runAnalysis, type AnalysisDeps, type AnalysisTarget, type CheckRun } from './analysis.js';
import { HANDLERS, type AppServices, type EventHandler } from './handlers.js';
import { AnalysisQueue } from './queue.js';
import type { Octokit } from './snapshot.js';

export interface AppOptions {
  checks?: readonly Check[];
  /** our app's id (APP_ID): markers and runs are trusted only from it */
  appId?: number;
  /** analyses at once; GitHub's write pacing bounds throughput more than CPU does */
  concurrency?: number;
  /** 0 turns the periodic sweep off (tests call `sweep()`) */
  sweepIntervalMs?: number;
  /** PRs looked at per sweep, across installations */
  sweepMaxPulls?: number;
  now?: () => Date;
  handlers?: EventHandler[];
}

export interface CausalReviewApp {
  appFn: ApplicationFunction;
  /** resolves when no analysis waits or runs */
  idle(): Promise<void>;
  sweep(): Promise<number>;
  stop(): void;
}

interface Job {
  octokit: Octokit;
  target: AnalysisTarget;
}

function mergeJobs(waiting: Job, incoming: Job): Job {
  const a = waiting.target;
  const b = incoming.target;
  return {
    octokit: incoming.octokit,
    target: {
      ...a,
      ...b,
      previousHeads: [...new Set([...a.previousHeads, ...b.previousHeads])],
      newAcceptances: [...a.newAcceptances, ...b.newAcceptances],
    },
  };
}

export function createApp(options: AppOptions = {}): CausalReviewApp {
  let probot: Probot | undefined;
  let timer: NodeJS.Timeout | undefined;
  const deps: AnalysisDeps = {
    checks: options.checks ?? CHECKS,
    app: { id: options.appId ?? Number(process.env.APP_ID ?? 0) },
    now: options.now ?? (() => new Date()),
    log: { info: () => {}, warn: () => {}, error: () => {} },
  };
  const queue = new AnalysisQueue<Job>({
    concurrency: options.concurrency ?? 4,
    merge: mergeJobs,
    run: async (_key, job) => void (await runAnalysis(job.octokit, job.target, deps)),
    onError: (key, error) => deps.log.error({ err: error, key }, 'analysis could not start or finish its check run'),
  });
  const tasks = new AnalysisQueue<() => Promise<void>>({
    concurrency: 2,
    merge: (_waiting, incoming) => incoming,
    run: (_key, task) => task(),
    onError: (key, error) => deps.log.error({ err: error, key }, 'task failed'),
  });
  const services: AppServices = {
    deps,
    defer(key, task) {
      if (!tasks.add(key, task)) deps.log.warn({ key }, 'task queue full');
    },
    enqueue(octokit, target) {
      const key = `${target.owner}/${target.repo}@${target.headSha}`;
      if (!queue.add(key, { octokit, target })) deps.log.warn({ key }, 'queue full; the sweeper will pick this up');
    },
  };

  const sweep = async (): Promise<number> => {
    if (!probot) return 0;
    return sweepOpenPulls(probot, services, options.sweepMaxPulls ?? 200);
  };

  const appFn: ApplicationFunction = (app) => {
    probot = app;
    deps.log = app.log;
    for (const handler of options.handlers ?? HANDLERS) {
      app.on(handler.events as Parameters<Probot['on']>[0], (context) => handler.handle(context as never, services));
    }
    const interval = options.sweepIntervalMs ?? 10 * 60_000;
    if (interval > 0) {
      const run = () => void sweep().catch((error: unknown) => app.log.warn({ err: error }, 'sweep failed'));
      setImmediate(run);
      timer = setInterval(run, interval);
      timer.unref();
    }
  };

  // a task may enqueue an analysis as it ends: idle means both queues empty at the same moment
  const idle = async () => {
    while (queue.size + tasks.size > 0) await Promise.all([queue.idle(), tasks.idle()]);
  };
  return { appFn, idle, sweep, stop: () => clearInterval(timer) };
}

/**
 * Open PRs whose head has no `causal-review` run from us, or only one stuck open, get one: a
 * missed webhook or a crash must not leave a PR waiting forever. Bounded per sweep, shared
 * across installations.
 */
async function sweepOpenPulls(app: Probot, services: AppServices, maxPulls: number): Promise<number> {
  const appOctokit = await app.auth();
  const installations = (await appOctokit.paginate('GET /app/installations', { per_page: 100 })).slice(0, 500);
  const perInstallation = Math.max(5, Math.floor(maxPulls / Math.max(1, installations.length)));
  let budget = maxPulls;
  let queued = 0;
  for (const installation of installations) {
    if (budget <= 0) break;
    const octokit = (await app.auth(installation.id)) as Octokit;
    let left = Math.min(perInstallation, budget);
    const { data } = await octokit.request('GET /installation/repositories', { per_page: 100 });
    for (const repository of data.repositories) {
      if (left <= 0) break;
      const owner = repository.owner.login;
      const repo = repository.name;
      const { data: pulls } = await octokit.request('GET /repos/{owner}/{repo}/pulls', { owner, repo, state: 'open', sort: 'updated', direction: 'desc', per_page: Math.min(50, left) });
      for (const pull of pulls) {
        if (left <= 0) break;
        left--;
        budget--;
        const [latest] = await ourRuns(octokit, owner, repo, pull.head.sha, services.deps.app);
        if (!latest || isStuck(latest, services.deps.now())) {
          services.enqueue(octokit, { owner, repo, headSha: pull.head.sha, pullNumber: pull.number, previousHeads: [], newAcceptances: [] });
          queued++;
        }
      }
    }
  }
  return queued;
}

/** A run still open long after it started: its process died or could not reach GitHub to complete it. */
export const STUCK_AFTER_MS = 30 * 60_000;

function isStuck(run: CheckRun, now: Date): boolean {
  if (run.status === 'completed') return false;
  const started = run.started_at ? Date.parse(run.started_at) : NaN;
  return !Number.isFinite(started) || now.getTime() - started > STUCK_AFTER_MS;
}

export interface OctokitTuning {
  /** milliseconds per retry-after unit; tests make it 1 so recovery is fast, production keeps 1000 */
  retryAfterBaseValue?: number;
  /** drop the write pacing (one write per second per installation); for tests only */
  noWritePacing?: boolean;
}

/** Passes through at once: stands in for a Bottleneck group when write pacing is off. */
const unpaced = { key: () => ({ schedule: (_options: unknown, fn: (...args: unknown[]) => unknown, ...args: unknown[]) => Promise.resolve(fn(...args)) }) };

/**
 * Probot's Octokit with retries on 5xx and retries after primary and secondary rate limits
 * (Probot's own default does not retry secondary limits). The throttling plugin waits for
 * `retry-after` or `x-ratelimit-reset` before retrying; each request retries at most twice.
 */
export function configuredOctokit(tuning: OctokitTuning = {}): typeof ProbotOctokit {
  const base = tuning.retryAfterBaseValue;
  return ProbotOctokit.defaults((instance: Record<string, unknown>) => {
    const throttle = (instance.throttle ?? {}) as Record<string, unknown>;
    return {
      ...instance,
      retry: { ...(instance.retry as object), retries: 3, ...(base !== undefined ? { retryAfterBaseValue: base } : {}) },
      throttle: {
        ...throttle,
        onRateLimit: (_after: number, _options: unknown, _octokit: unknown, retryCount: number) => retryCount < 2,
        onSecondaryRateLimit: (_after: number, _options: unknown, _octokit: unknown, retryCount: number) => retryCount < 2,
        ...(base !== undefined ? { retryAfterBaseValue: base, fallbackSecondaryRateRetryAfter: 60 } : {}),
        ...(tuning.noWritePacing ? { write: unpaced, notifications: unpaced, search: unpaced } : {}),
      },
    };
  }) as typeof ProbotOctokit;
}
