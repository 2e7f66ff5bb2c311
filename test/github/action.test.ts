// The Action: a workflow's pull_request event in, the causal-review check run out with the
// workflow token; annotations through workflow commands where the token cannot write runs.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHECKS } from '../../checks/index.js';
import { DEFAULT_CONFIG } from '../../src/config/schema.js';
import { review } from '../../src/engine/engine.js';
import { memorySnapshot } from '../../src/engine/memory.js';
import { actionCommand, targetOfEvent } from '../../src/github/action.js';
import type { CommandIO } from '../../src/github/protect.js';
import { ACTIONS_APP, FakeGitHub } from '../support/github-api.js';
import { loopbackFetch } from '../support/github-app.js';
import { addPull, CLAUDE, OWNER, pullRequestPayload, REPO } from './support.js';

// content the sleep-fix check is about; the expected outcome comes from the engine itself
const BASE = { 'internal/controller/finalizer.go': 'package controller\n\nfunc finalize() error {\n\treturn deletePVCs()\n}\n' };
const HEAD = { 'internal/controller/finalizer.go': 'package controller\n\nimport "time"\n\nfunc finalize() error {\n\tif err := deletePVCs(); err != nil {\n\t\treturn err\n\t}\n\ttime.Sleep(30 * time.Second)\n\treturn removeFinalizer()\n}\n' };

let github: FakeGitHub;
let dir: string;
let out: string;
let err: string;
beforeEach(async () => {
  github = new FakeGitHub();
  await github.start();
  dir = mkdtempSync(join(tmpdir(), 'causal-review-action-'));
  out = '';
  err = '';
});
afterEach(async () => {
  await github.stop();
  rmSync(dir, { recursive: true, force: true });
  expect(github.violations).toEqual([]);
});

function io(event: object, name = 'pull_request'): CommandIO {
  const eventPath = join(dir, 'event.json');
  writeFileSync(eventPath, JSON.stringify(event));
  return {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env: {
      GITHUB_TOKEN: 'workflow-token', GITHUB_API_URL: github.url, GITHUB_EVENT_NAME: name, GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: `${OWNER}/${REPO}`, GITHUB_STEP_SUMMARY: join(dir, 'summary.md'),
    },
    fetch: loopbackFetch(() => github.url),
    tuning: { retryAfterBaseValue: 1, noWritePacing: true },
  };
}

async function expected() {
  const snapshot = memorySnapshot({ base: BASE, head: HEAD, commits: [CLAUDE] });
  return review(snapshot, { config: structuredClone(DEFAULT_CONFIG), checks: CHECKS });
}

describe('action', () => {
  it('reports through a check run made with the workflow token, and exits with the verdict', async () => {
    const { repo, pull } = addPull(github, { base: BASE, head: HEAD });
    const code = await actionCommand([], io(pullRequestPayload(pull)));
    const want = await expected();
    // the committed sleep-fix check flags this wait, so the failing path is the one exercised
    expect(want.findings.length).toBeGreaterThan(0);
    expect(repo.checkRuns).toHaveLength(1);
    expect(repo.checkRuns[0]).toMatchObject({ name: 'causal-review', app: ACTIONS_APP, status: 'completed', conclusion: want.conclusion });
    expect(repo.checkRuns[0]!.annotations).toHaveLength(want.findings.filter((f) => f.path !== 'pr-text').length);
    expect(code).toBe(want.conclusion === 'failure' ? 1 : 0);
    // acceptances are not read in an Action: any workflow could have written a run
    expect(github.requests.filter((r) => r.route === '/repos/{owner}/{repo}/commits/{ref}/check-runs')).toHaveLength(1);

    // a re-run of the workflow updates the same run
    await actionCommand([], io(pullRequestPayload(pull)));
    expect(repo.checkRuns).toHaveLength(1);
  });

  it('falls back to workflow annotations and the job summary when the token cannot write check runs', async () => {
    const { repo, pull } = addPull(github, { base: BASE, head: HEAD });
    github.fail({ method: 'POST', route: '/repos/{owner}/{repo}/check-runs', status: 403, message: 'Resource not accessible by integration' });
    const code = await actionCommand([], io(pullRequestPayload(pull)));
    const want = await expected();
    expect(repo.checkRuns).toEqual([]);
    expect(code).toBe(want.conclusion === 'failure' ? 1 : 0);
    for (const f of want.findings.filter((x) => x.path !== 'pr-text')) {
      expect(out).toContain(`file=${f.path},line=${f.line}`);
    }
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain(`**Verdict: ${want.conclusion}.**`);
  });

  it('does nothing on an event it does not review, and needs its environment', async () => {
    expect(await actionCommand([], io({}, 'push'))).toBe(0);
    expect(github.requests).toEqual([]);
    expect(await actionCommand([], { ...io({}), env: {} })).toBe(2);
  });

  it('reads merge groups', () => {
    expect(targetOfEvent('merge_group', { merge_group: { head_sha: 'h', base_sha: 'b', head_ref: 'refs/heads/gh-readonly-queue/main/pr-3-b' } }, 'o/r')).toMatchObject({ headSha: 'h', mergeGroup: { baseSha: 'b' } });
  });
});
