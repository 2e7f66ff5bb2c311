// `causal-review serve` (npm start): the app under Probot's own `run`, so the environment is read
// the way Probot documents it (APP_ID, PRIVATE_KEY[_PATH], WEBHOOK_SECRET, GHE_HOST, GHE_PROTOCOL,
// PORT, ...) and, with no credentials yet, Probot's manifest flow registers the app from app.yml.

import { run, type Server } from 'probot';
import type { Logger } from 'pino';
import { configuredOctokit, createApp, type CausalReviewApp, type OctokitTuning } from './app.js';

export interface ServeOptions {
  env?: NodeJS.ProcessEnv;
  /** for tests: a quiet logger, fast retries */
  log?: Logger;
  tuning?: OctokitTuning;
}

/** Start the server; resolves once it listens, with the server and the app's handles. */
export async function serve(options: ServeOptions = {}): Promise<{ server: Server; app: CausalReviewApp }> {
  const env = options.env ?? process.env;
  const minutes = Number(env.CAUSAL_REVIEW_SWEEP_MINUTES ?? 10);
  const app = createApp({
    appId: Number(env.APP_ID ?? 0),
    concurrency: Number(env.CAUSAL_REVIEW_CONCURRENCY ?? 4) || 4,
    sweepIntervalMs: Number.isFinite(minutes) && minutes > 0 ? Math.max(1, minutes) * 60_000 : 0,
  });
  const server = await run(app.appFn, { env, Octokit: configuredOctokit(options.tuning), ...(options.log ? { log: options.log } : {}) });
  return { server, app };
}

export async function startServer(): Promise<void> {
  await serve();
}
