// The app's pure parts and its snapshot: command parsing, the queue, the queue-branch parser,
// and the GitHub snapshot's paging, limits and caching against the fake API.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pullNumberOfQueueRef } from '../../src/github/analysis.js';
import { configuredOctokit } from '../../src/github/app.js';
import { parseCommand } from '../../src/github/commands.js';
import { AnalysisQueue } from '../../src/github/queue.js';
import { changedFile, FILES_LIMIT, githubSnapshot, type Octokit, type PullRequestRef } from '../../src/github/snapshot.js';
import { FakeGitHub } from '../support/github-api.js';
import { loopbackFetch } from '../support/github-app.js';
import { addPull, OWNER, REPO } from './support.js';

describe('parseCommand', () => {
  it.each([
    ['/causal-review recheck', { kind: 'recheck' }],
    ['  /causal-review recheck\nthanks', { kind: 'recheck' }],
    ['/causal-review accept sleep-fix -- waits for the BIOS clock', { kind: 'accept', target: 'sleep-fix', reason: 'waits for the BIOS clock' }],
    ['/causal-review accept 0a1b2c3d4e5f -- seen in the logs', { kind: 'accept', target: '0a1b2c3d4e5f', reason: 'seen in the logs' }],
  ])('%s', (body, want) => {
    expect(parseCommand(body)).toEqual(want);
  });

  it.each(['thanks!', '/causal-reviewer recheck', 'see /causal-review recheck', ''])('is not a command: %s', (body) => {
    expect(parseCommand(body)).toBeUndefined();
  });

  it.each(['/causal-review accept sleep-fix', '/causal-review accept -- why', '/causal-review accept Sleep_Fix! -- x y z', '/causal-review merge', '/causal-review accept a b -- reason'])(
    'is a malformed command: %s',
    (body) => {
      expect(parseCommand(body)?.kind).toBe('invalid');
    },
  );

  it('bounds the reason and the work on a huge comment', () => {
    const command = parseCommand(`/causal-review accept sleep-fix -- ${'x'.repeat(5_000_000)}`);
    expect(command).toEqual({ kind: 'accept', target: 'sleep-fix', reason: expect.any(String) });
    expect((command as { reason: string }).reason.length).toBeLessThanOrEqual(500);
  });
});

describe('pullNumberOfQueueRef', () => {
  it('reads the PR number from a merge queue branch', () => {
    expect(pullNumberOfQueueRef(`refs/heads/gh-readonly-queue/main/pr-123-${'a'.repeat(40)}`)).toBe(123);
    expect(pullNumberOfQueueRef('refs/heads/feature/pr-x')).toBeUndefined();
    expect(pullNumberOfQueueRef('main')).toBeUndefined();
  });
});

/** A queue whose jobs finish when the test says so: concurrency is observed, not timed. */
function controlledQueue(concurrency: number) {
  const started: string[] = [];
  const finishers = new Map<string, () => void>();
  const queue = new AnalysisQueue<string[]>({
    concurrency,
    merge: (a, b) => [...a, ...b],
    run: (key, job) => {
      started.push(`${key}:${job.join('+')}`);
      return new Promise<void>((resolve) => finishers.set(key, resolve));
    },
  });
  const finish = async (key: string) => {
    finishers.get(key)!();
    finishers.delete(key);
    // let the queue pump on
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { queue, started, finish };
}

describe('AnalysisQueue', () => {
  it('runs at most `concurrency` jobs and merges a job into one waiting with its key', async () => {
    const { queue, started, finish } = controlledQueue(1);
    queue.add('a', ['1']);
    queue.add('b', ['2']);
    queue.add('b', ['3']);
    expect(started).toEqual(['a:1']);
    await finish('a');
    expect(started).toEqual(['a:1', 'b:2+3']);
    await finish('b');
    await queue.idle();
    expect(queue.size).toBe(0);
  });

  it('runs a job once more after the running one when its key comes again', async () => {
    const { queue, started, finish } = controlledQueue(2);
    queue.add('a', ['1']);
    queue.add('a', ['2']);
    queue.add('a', ['3']);
    expect(started).toEqual(['a:1']);
    await finish('a');
    expect(started).toEqual(['a:1', 'a:2+3']);
    await finish('a');
    await queue.idle();
  });

  it('refuses new keys past its bound', () => {
    const queue = new AnalysisQueue<number>({ concurrency: 0, maxPending: 2, merge: (a) => a, run: async () => {} });
    expect([queue.add('a', 1), queue.add('b', 1), queue.add('c', 1), queue.add('a', 2)]).toEqual([true, true, false, true]);
  });
});

describe('changedFile', () => {
  it('maps GitHub statuses and marks a file without a patch as changed throughout', () => {
    expect(changedFile({ filename: 'a.go', status: 'modified' })).toMatchObject({ wholeFile: true, hunks: [] });
    expect(changedFile({ filename: 'a.go', status: 'removed' }).wholeFile).toBeUndefined();
    expect(changedFile({ filename: 'b.go', previous_filename: 'a.go', status: 'renamed' })).toMatchObject({ status: 'renamed', previousPath: 'a.go' });
    expect(changedFile({ filename: 'c.go', status: 'copied', patch: '@@ -0,0 +1,2 @@\n+a\n+b' })).toMatchObject({ status: 'added', hunks: [{ added: [1, 2] }] });
  });
});

describe('githubSnapshot', () => {
  let github: FakeGitHub;
  let octokit: Octokit;
  beforeEach(async () => {
    github = new FakeGitHub();
    await github.start();
    const Octokit = configuredOctokit({ retryAfterBaseValue: 1, noWritePacing: true });
    octokit = new Octokit({ auth: { token: 't' }, baseUrl: github.url, request: { fetch: loopbackFetch(() => github.url) } }) as Octokit;
  });
  afterEach(async () => {
    await github.stop();
    expect(github.violations).toEqual([]);
  });

  function refOf(pull: ReturnType<typeof addPull>['pull'], over: Partial<PullRequestRef> = {}): PullRequestRef {
    return { owner: OWNER, repo: REPO, number: pull.number, baseSha: pull.base.sha, headSha: pull.head.sha, title: '', body: '', labels: [], ...over };
  }

  it('reads each file once per revision and lists trees once per revision', async () => {
    const { pull } = addPull(github, { base: { 'a.go': 'package a\n' }, head: { 'a.go': 'package a\n\nvar x = 1\n', 'b/c.go': 'package b\n' } });
    const snapshot = await githubSnapshot(octokit, refOf(pull));
    expect(snapshot.files.map((f) => [f.path, f.status])).toEqual([['a.go', 'modified'], ['b/c.go', 'added']]);
    expect(await snapshot.read('a.go', 'head')).toBe('package a\n\nvar x = 1\n');
    expect(await snapshot.read('a.go', 'head')).toBe('package a\n\nvar x = 1\n');
    expect(await snapshot.read('a.go', 'base')).toBe('package a\n');
    expect(await snapshot.read('missing.go', 'head')).toBeUndefined();
    expect(await snapshot.list('b', 'head')).toEqual(['b/c.go']);
    expect(await snapshot.list('', 'head')).toEqual(['a.go', 'b/c.go']);
    expect(github.count('GET', '/repos/{owner}/{repo}/contents/{path}')).toBe(3);
    expect(github.count('GET', '/repos/{owner}/{repo}/git/trees/{tree_sha}')).toBe(1);
  });

  it('pages through the files and says so when GitHub stops at 3,000', async () => {
    const head: Record<string, string> = {};
    for (let i = 0; i < FILES_LIMIT + 5; i++) head[`f${String(i).padStart(4, '0')}.txt`] = 'x\n';
    const { pull } = addPull(github, { head });
    const snapshot = await githubSnapshot(octokit, refOf(pull, { changedFiles: FILES_LIMIT + 5 }));
    expect(snapshot.files).toHaveLength(FILES_LIMIT);
    expect(github.count('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/files')).toBe(30);
    expect(snapshot.notes.join('\n')).toContain('at most 3000 files');
  });

  it('takes the commits of a PR with more than 250 from the compare API', async () => {
    const messages = Array.from({ length: 260 }, (_, i) => `commit ${i}`);
    const { pull } = addPull(github, { head: { 'a.go': 'package a\n' }, commits: messages });
    const snapshot = await githubSnapshot(octokit, refOf(pull, { commitCount: 260 }));
    expect(snapshot.commits).toHaveLength(260);
    expect(snapshot.commits[259]!.message).toBe('commit 259');
    expect(github.count('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/commits')).toBe(0);
    expect(github.count('GET', '/repos/{owner}/{repo}/compare/{basehead}')).toBe(3);
  });
});

describe('app.yml', () => {
  it('asks for exactly the permissions the docs justify, and subscribes to exactly the events the handlers take', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const { HANDLERS } = await import('../../src/github/handlers.js');
    const manifest = parse(readFileSync(new URL('../../app.yml', import.meta.url), 'utf8')) as { default_permissions: Record<string, string>; default_events: string[] };
    expect(manifest.default_permissions).toEqual({ checks: 'write', pull_requests: 'write', contents: 'read', metadata: 'read', actions: 'read', merge_queues: 'read' });
    const handled = new Set(HANDLERS.flatMap((h) => h.events.map((e) => e.split('.')[0]!)));
    expect([...handled].sort()).toEqual([...manifest.default_events].sort());
    const docs = readFileSync(new URL('../../docs/github-app.md', import.meta.url), 'utf8');
    for (const permission of Object.keys(manifest.default_permissions)) expect(docs).toContain(`| ${permission} |`);
  });
});
