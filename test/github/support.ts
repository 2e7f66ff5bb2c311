// Shared pieces of the app tests: a stand-in check, PRs in the fake GitHub and their webhook payloads.

import { afterEach, beforeEach, expect } from 'vitest';
import type { Check } from '../../src/engine/types.js';
import type { AppOptions } from '../../src/github/app.js';
import type { FakeCommit, FakeGitHub, FakePull, FakeRepoState } from '../support/github-api.js';
import { example, startHarness, type Harness } from '../support/github-app.js';

export const OWNER = 'Codertocat';
export const REPO = 'Hello-World';
export const CLAUDE = 'Fix the race\n\nCo-Authored-By: Claude <noreply@anthropic.com>';

/** Flags every changed Go line containing MARK: deterministic, so the tests are about the app. */
export const markCheck: Check = {
  id: 'sleep-fix',
  title: 'Test check',
  docs: { summary: '', bad: { language: 'go', code: '' }, good: { language: 'go', code: '' } },
  defaultSeverity: 'error',
  languages: ['go'],
  run(ctx) {
    for (const file of ctx.files) {
      file.lines.forEach((line, i) => {
        if (line.includes('MARK')) ctx.report({ path: file.path, line: i + 1, message: `marked: ${line.trim()}`, key: line.trim() });
      });
    }
  },
};

/** Reports on the PR text when the body claims a cause: stands in for unverified-diagnosis. */
export const claimCheck: Check = {
  ...markCheck,
  id: 'unverified-diagnosis',
  languages: ['text'],
  run(ctx) {
    if (ctx.pr.body.includes('root cause')) ctx.report({ path: 'pr-text', line: 1, message: 'a root cause with no evidence', key: 'claim' });
  },
};

export const go = (...lines: string[]) => ['package controller', '', ...lines, ''].join('\n');

export function sha(n: number): string {
  return n.toString(16).padStart(40, '0');
}

export interface PullSpec {
  number?: number;
  base?: Record<string, string>;
  head: Record<string, string>;
  commits?: string[];
  body?: string;
  title?: string;
  headSha?: string;
}

/** A PR in the fake GitHub, with one commit per message; the last commit is the head. */
export function addPull(github: FakeGitHub, spec: PullSpec): { repo: FakeRepoState; pull: FakePull } {
  const repo = github.repo(OWNER, REPO);
  const number = spec.number ?? 2;
  const messages = spec.commits ?? [CLAUDE];
  const headSha = spec.headSha ?? sha(number * 1000 + messages.length);
  const commits: FakeCommit[] = messages.map((message, i) => ({ sha: i === messages.length - 1 ? headSha : sha(number * 1000 + i + 1), message }));
  const pull: FakePull = {
    number, title: spec.title ?? 'Fix the finalizer race', body: spec.body ?? '', labels: [],
    user: { login: 'dev', type: 'User' }, headRef: 'fix-race',
    base: { sha: sha(number * 1000 + 999), tree: spec.base ?? {} }, head: { sha: headSha, tree: spec.head }, commits, state: 'open',
  };
  repo.pulls = repo.pulls.filter((p) => p.number !== number).concat(pull);
  return { repo, pull };
}

/** A pull_request delivery from @octokit/webhooks-examples, pointed at the fake PR. */
export function pullRequestPayload(pull: FakePull, action = 'opened', extra: object = {}): any {
  const payload = example('pull_request', action === 'edited' || action === 'synchronize' ? 'opened' : action);
  payload.action = action;
  payload.number = pull.number;
  payload.pull_request.number = pull.number;
  payload.pull_request.state = 'open';
  payload.pull_request.head.sha = pull.head.sha;
  payload.pull_request.base.sha = pull.base.sha;
  payload.pull_request.title = pull.title;
  payload.pull_request.body = pull.body;
  return { ...payload, ...extra };
}

/** A delivery from another example repository, moved to the fake one. */
export function inRepo<T extends { repository?: unknown }>(payload: T): T {
  return { ...payload, repository: example('pull_request', 'opened').repository };
}

/**
 * A fresh app and fake GitHub for each test of the file, stopped after it; a test fails when any
 * request did not fit GitHub's OpenAPI description.
 */
export function harnessPerTest(options: AppOptions): Harness {
  let current: Harness | undefined;
  beforeEach(async () => {
    current = await startHarness(options);
  });
  afterEach(async () => {
    await current!.stop();
    expect(current!.github.violations).toEqual([]);
  });
  return {
    get github() {
      return current!.github;
    },
    get app() {
      return current!.app;
    },
    get url() {
      return current!.url;
    },
    deliver: (...args) => current!.deliver(...args),
    stop: () => current!.stop(),
  };
}
