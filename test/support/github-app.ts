// The app under test: a real Probot server on loopback running createApp, its Octokit pointed at
// the fake GitHub API, no network anywhere else, and webhook deliveries signed like GitHub's.

import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { Probot, Server } from 'probot';
import { pino } from 'pino';
import { configuredOctokit, createApp, type AppOptions, type CausalReviewApp } from '../../src/github/app.js';
import { APP_ID, FakeGitHub, INSTALLATION_ID } from './github-api.js';

export const WEBHOOK_SECRET = 'test-secret';

let privateKey: string | undefined;
export function testKey(): string {
  return (privateKey ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey);
}

const realFetch = globalThis.fetch;

/** A fetch refusing anything but the given loopback servers: a stray request to the internet fails the test. */
export function loopbackFetch(allowed: () => string | string[]): typeof fetch {
  return (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const prefixes = [allowed()].flat();
    if (!prefixes.some((prefix) => url.startsWith(prefix))) return Promise.reject(new Error(`network disabled in tests: ${url}`));
    return realFetch(input, init);
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function example(event: string, action: string, index = 0): any {
  const require = createRequire(import.meta.url);
  const all = require('@octokit/webhooks-examples/api.github.com/index.json') as { name: string; examples: { action?: string }[] }[];
  const found = all.find((e) => e.name === event)?.examples.filter((x) => x.action === action)[index];
  if (!found) throw new Error(`no example ${event}.${action}`);
  return structuredClone(found);
}

export interface Harness {
  github: FakeGitHub;
  app: CausalReviewApp;
  url: string;
  /** POST a delivery; resolves with the HTTP status the app answered */
  deliver(event: string, payload: object, options?: { id?: string; signature?: string }): Promise<number>;
  stop(): Promise<void>;
}

export async function startHarness(options: AppOptions = {}): Promise<Harness> {
  const github = new FakeGitHub();
  await github.start();
  const request = { fetch: loopbackFetch(() => github.url) };
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const app = createApp({ appId: APP_ID, sweepIntervalMs: 0, ...options });
  const port = await freePort();
  const server = new Server({
    Probot: Probot.defaults({
      appId: APP_ID,
      privateKey: testKey(),
      secret: WEBHOOK_SECRET,
      baseUrl: github.url,
      request,
      log,
      Octokit: configuredOctokit({ retryAfterBaseValue: 1, noWritePacing: true }),
    }),
    port,
    host: '127.0.0.1',
    log,
    request,
    enableStaticFiles: false,
  });
  await server.load(app.appFn);
  await server.start();
  const url = `http://127.0.0.1:${port}`;
  return {
    github,
    app,
    url,
    async deliver(event, payload, { id = randomUUID(), signature } = {}) {
      const withInstallation = { installation: { id: INSTALLATION_ID, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNzc=' }, ...payload };
      const body = JSON.stringify(withInstallation);
      const signed = signature ?? `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`;
      const response = await fetch(`${url}/api/github/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': id, 'x-hub-signature-256': signed },
        body,
      });
      await response.text();
      return response.status;
    },
    async stop() {
      app.stop();
      await app.idle();
      await server.stop();
      await github.stop();
    },
  };
}
