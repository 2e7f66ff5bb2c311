// `causal-review serve` as Probot's `run` starts it: configured from the environment, with
// GHE_HOST and GHE_PROTOCOL pointing the app at a GitHub Enterprise Server (the fake, under /api/v3).

import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { serve } from '../../src/github/server.js';
import { APP_ID, FakeGitHub } from '../support/github-api.js';
import { freePort, loopbackFetch, testKey, WEBHOOK_SECRET } from '../support/github-app.js';
import { addPull, go, pullRequestPayload } from './support.js';

let stop: (() => Promise<void>) | undefined;
const globalFetch = globalThis.fetch;
afterEach(async () => {
  await stop?.();
  globalThis.fetch = globalFetch;
});

describe('serve', () => {
  it('runs the app from the environment against GitHub Enterprise Server', async () => {
    const github = new FakeGitHub();
    await github.start();
    const port = await freePort();
    const { host } = new URL(github.url);
    // Probot's run builds its own Octokit on the global fetch: only the fake and the app may be reached
    globalThis.fetch = loopbackFetch(() => [github.url, `http://127.0.0.1:${port}/`]);
    const { server, app } = await serve({
      env: { APP_ID: String(APP_ID), PRIVATE_KEY: testKey(), WEBHOOK_SECRET, PORT: String(port), HOST: '127.0.0.1', GHE_HOST: host, GHE_PROTOCOL: 'http', CAUSAL_REVIEW_SWEEP_MINUTES: '0' },
      log: pino({ level: 'silent' }),
      tuning: { retryAfterBaseValue: 1, noWritePacing: true },
    });
    stop = async () => {
      await app.idle();
      await server.stop();
      await github.stop();
    };
    const { repo, pull } = addPull(github, { head: { 'a.go': go('var a = 1') } });
    const body = JSON.stringify({ ...pullRequestPayload(pull), installation: { id: 77 } });
    const response = await fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': 'd-1', 'x-hub-signature-256': `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}` },
      body,
    });
    expect(response.status).toBe(200);
    await app.idle();
    expect(repo.checkRuns).toHaveLength(1);
    expect(repo.checkRuns[0]!.status).toBe('completed');
    expect(github.requests.length).toBeGreaterThan(3);
    expect(github.requests.filter((r) => !r.path.startsWith('/api/v3/'))).toEqual([]);
    expect(github.violations).toEqual([]);
  });
});
