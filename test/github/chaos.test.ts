// The causal-review/chaos check from workflow_run.completed: results read from the artifact zip,
// untrusted when the PR changed the harness, failing closed when no result can be read.

import { describe, expect, it } from 'vitest';
import { unzipEntry } from '../../src/github/chaos.js';
import { example } from '../support/github-app.js';
import { zip } from '../support/github-zip.js';
import { addPull, go, harnessPerTest, inRepo, markCheck } from './support.js';

const RUN_ID = 30433642;

function results(outcome: 'passed' | 'failed') {
  return {
    schemaVersion: 1,
    tool: { name: 'causal-review', version: '0.1.0' },
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:05:00Z',
    durationMs: 300_000,
    conclusion: outcome === 'passed' ? 'success' : 'failure',
    experiments: [
      {
        id: 'kill-operator-mid-reconcile', title: 'Kill the operator mid-reconcile', outcome, startedAt: '2026-01-01T00:00:00Z', durationMs: 1000,
        faults: [{ type: 'delete-pod', target: 'Pod system/operator-0', at: '2026-01-01T00:00:01Z' }],
        invariants: [{ id: 'finalizer-after-children', outcome, message: outcome === 'passed' ? 'held' : 'finalizer removed before the PVC <b>@admin</b> was gone' }],
      },
    ],
  };
}

function workflowRun(headSha: string, number: number, over: object = {}) {
  const payload = example('workflow_run', 'completed');
  payload.workflow_run = {
    ...payload.workflow_run, id: RUN_ID, path: '.github/workflows/causal-review-chaos.yml', event: 'pull_request', head_sha: headSha,
    conclusion: 'success', html_url: 'https://github.com/Codertocat/Hello-World/actions/runs/30433642', pull_requests: [{ number, id: 1, url: '', head: { ref: 'fix', sha: headSha, repo: { id: 1, url: '', name: 'Hello-World' } }, base: { ref: 'main', sha: 'b', repo: { id: 1, url: '', name: 'Hello-World' } } }],
    ...over,
  };
  return inRepo(payload);
}

const h = harnessPerTest({ checks: [markCheck] });

describe('chaos results', () => {
  it('reports the results on the PR head as causal-review/chaos, and updates that run on a re-run', async () => {
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go() } });
    repo.artifacts[RUN_ID] = [{ id: 55, name: 'causal-review-chaos', zip: zip({ 'results.json': JSON.stringify(results('failed')) }) }];
    await h.deliver('workflow_run', workflowRun(pull.head.sha, pull.number));
    await h.app.idle();
    expect(repo.checkRuns).toHaveLength(1);
    const run = repo.checkRuns[0]!;
    expect(run).toMatchObject({ name: 'causal-review/chaos', head_sha: pull.head.sha, conclusion: 'failure' });
    expect(run.output.title).toContain('1 of 1 experiments failed');
    expect(run.output.summary).not.toContain('<b>');

    repo.artifacts[RUN_ID] = [{ id: 56, name: 'causal-review-chaos', zip: zip({ 'results.json': JSON.stringify(results('passed')) }, false) }];
    await h.deliver('workflow_run', workflowRun(pull.head.sha, pull.number));
    await h.app.idle();
    expect(repo.checkRuns).toHaveLength(1);
    expect(repo.checkRuns[0]!.conclusion).toBe('success');
  });

  it.each(['.github/workflows/causal-review-chaos.yml', '.github/workflows/causal-review-chaos-run.yml', '.github/causal-review.yml'])('asks a maintainer when the PR changed the harness file %s', async (harness) => {
    const { repo, pull } = addPull(h.github, { head: { [harness]: 'on: pull_request\n' } });
    repo.artifacts[RUN_ID] = [{ id: 57, name: 'causal-review-chaos', zip: zip({ 'results.json': JSON.stringify(results('passed')) }) }];
    await h.deliver('workflow_run', workflowRun(pull.head.sha, pull.number));
    await h.app.idle();
    expect(repo.checkRuns[0]).toMatchObject({ name: 'causal-review/chaos', conclusion: 'action_required' });
    expect(h.github.count('GET', '/repos/{owner}/{repo}/actions/runs/{run_id}/artifacts')).toBe(0);
  });

  it('fails closed when the run left no usable result', async () => {
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go() } });
    repo.artifacts[RUN_ID] = [{ id: 58, name: 'causal-review-chaos', zip: zip({ 'results.json': '{"schemaVersion": 2}' }) }];
    await h.deliver('workflow_run', workflowRun(pull.head.sha, pull.number, { conclusion: 'failure' }));
    await h.app.idle();
    expect(repo.checkRuns[0]).toMatchObject({ conclusion: 'failure', output: expect.objectContaining({ title: 'No chaos result' }) });
  });

  it('ignores other workflows', async () => {
    const { pull } = addPull(h.github, { head: { 'a.go': go() } });
    await h.deliver('workflow_run', workflowRun(pull.head.sha, pull.number, { path: '.github/workflows/ci.yml' }));
    await h.app.idle();
    expect(h.github.requests).toEqual([]);
  });
});

describe('unzipEntry', () => {
  it('reads stored and deflated entries and refuses what is too large or not a zip', () => {
    const archive = zip({ 'a.txt': 'hello', 'results.json': 'x'.repeat(10_000) });
    expect(unzipEntry(archive, 'a.txt', 100)!.toString()).toBe('hello');
    expect(unzipEntry(zip({ 'a.txt': 'stored' }, false), 'a.txt', 100)!.toString()).toBe('stored');
    expect(unzipEntry(archive, 'missing', 100)).toBeUndefined();
    expect(() => unzipEntry(archive, 'results.json', 100)).toThrow(/larger than/);
    expect(() => unzipEntry(Buffer.from('not a zip at all, not at all'), 'a', 100)).toThrow(/not a zip/);
  });

  it('bounds inflation even when the directory lies about the size', () => {
    const archive = zip({ 'results.json': 'y'.repeat(1_000_000) });
    // claim a tiny uncompressed size in the central directory
    const eocd = archive.length - 22;
    const central = archive.readUInt32LE(eocd + 16);
    archive.writeUInt32LE(10, central + 24);
    expect(() => unzipEntry(archive, 'results.json', 1_000)).toThrow();
  });
});
