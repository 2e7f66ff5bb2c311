// `causal-review serve` (npm start): the app under Probot's own `run`, so the environment is read
// the way Probot documents it (APP_ID, PRIVATE_KEY[_PATH], WEBHOOK_SECRET, GHE_HOST, GHE_PROTOCOL,
// PORT, ...) and, with no credentials yet, Probot's manifest flow registers the app from app.yml.

import { run } from 'probot';
import { configuredOctokit, createApp } from './app.js';

export async function startServer(): Promise<void> {
  const interval = Number(process.env.CAUSAL_REVIEW_SWEEP_MINUTES ?? 10);
  const app = createApp({
    concurrency: Number(process.env.CAUSAL_REVIEW_CONCURRENCY ?? 4) || 4,
    sweepIntervalMs: Number.isFinite(interval) && interval > 0 ? Math.max(1, interval) * 60_000 : 0,
  });
  await run(app.appFn, { Octokit: configuredOctokit() });
}
