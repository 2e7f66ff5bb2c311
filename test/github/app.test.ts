// The app end to end: signed deliveries into a real Probot server, every request it makes
// checked against GitHub's OpenAPI description, and the exact set of requests asserted.

import { describe, expect, it } from 'vitest';
import { decodeAcceptances } from '../../src/report/checkrun.js';
import { addPull, CLAUDE, go, harnessPerTest, markCheck, pullRequestPayload } from './support.js';

const ANALYSIS = [
  'GET /repos/{owner}/{repo}/commits/{ref}/check-runs',
  'POST /repos/{owner}/{repo}/check-runs',
  'GET /repos/{owner}/{repo}/pulls/{pull_number}',
  'GET /repos/{owner}/{repo}/contents/{path}',
  'GET /repos/{owner}/{repo}/contents/{path}',
  'GET /repos/{owner}/{repo}/pulls/{pull_number}/files',
  'GET /repos/{owner}/{repo}/pulls/{pull_number}/commits',
];

const h = harnessPerTest({ checks: [markCheck] });

describe('pull_request', () => {
  it('creates an in-progress run, fails an AI-authored PR on a blocking finding, annotates and comments on the diff', async () => {
    const { repo, pull } = addPull(h.github, { base: { 'a.go': go('var a = 1') }, head: { 'a.go': go('var a = 1', '// MARK time.Sleep') } });
    expect(await h.deliver('pull_request', pullRequestPayload(pull))).toBe(200);
    await h.app.idle();

    expect(repo.checkRuns).toHaveLength(1);
    const run = repo.checkRuns[0]!;
    expect(run).toMatchObject({ name: 'causal-review', head_sha: pull.head.sha, status: 'completed', conclusion: 'failure' });
    expect(run.output.summary).toContain('**Verdict: failure.**');
    expect(run.output.summary).toContain('AI-authored:** yes');
    expect(run.annotations).toEqual([expect.objectContaining({ path: 'a.go', start_line: 4, annotation_level: 'failure' })]);
    expect(run.actions.map((a: { identifier: string }) => a.identifier)).toEqual(['rerun']);
    const created = h.github.requests.find((r) => r.method === 'POST' && r.route === '/repos/{owner}/{repo}/check-runs')!;
    expect(created.body).toMatchObject({ status: 'in_progress', head_sha: pull.head.sha });

    expect(repo.reviews).toHaveLength(1);
    expect(repo.reviews[0]!.comments).toEqual([expect.objectContaining({ path: 'a.go', line: 4, side: 'RIGHT' })]);
    expect(repo.reviewComments[0]!.body).toContain('<!-- causal-review:finding ');

    expect(h.github.routes()).toEqual(
      [
        'POST /app/installations/{installation_id}/access_tokens',
        ...ANALYSIS,
        'GET /repos/{owner}/{repo}/contents/{path}', // a.go at head, for the check
        'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}',
        'GET /repos/{owner}/{repo}/pulls/{pull_number}/comments',
        'POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews',
      ].sort(),
    );
  });

  it('acknowledges the delivery before the analysis has written anything', async () => {
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    const release = h.github.hold('POST', '/repos/{owner}/{repo}/check-runs');
    expect(await h.deliver('pull_request', pullRequestPayload(pull))).toBe(200);
    expect(repo.checkRuns).toEqual([]);
    release();
    await h.app.idle();
    expect(repo.checkRuns[0]).toMatchObject({ status: 'completed', conclusion: 'failure' });
  });

  it('reports the same findings as neutral on a PR that is not AI-authored', async () => {
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') }, commits: ['plain fix'] });
    await h.deliver('pull_request', pullRequestPayload(pull));
    await h.app.idle();
    expect(repo.checkRuns[0]).toMatchObject({ conclusion: 'neutral' });
    expect(repo.checkRuns[0]!.output.summary).toContain('AI-authored:** no');
  });

  it('rejects a delivery with a bad signature and does nothing', async () => {
    const { pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    const status = await h.deliver('pull_request', pullRequestPayload(pull), { signature: `sha256=${'0'.repeat(64)}` });
    expect(status).toBeGreaterThanOrEqual(400);
    await h.app.idle();
    expect(h.github.requests).toEqual([]);
  });

  it('updates the existing run on a redelivery and never posts the same comment twice', async () => {
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    const payload = pullRequestPayload(pull);
    await h.deliver('pull_request', payload, { id: 'delivery-1' });
    await h.app.idle();
    await h.deliver('pull_request', payload, { id: 'delivery-1' });
    await h.app.idle();
    expect(repo.checkRuns).toHaveLength(1);
    expect(repo.checkRuns[0]!.conclusion).toBe('failure');
    expect(repo.reviews).toHaveLength(1);
    expect(repo.reviewComments).toHaveLength(1);
    expect(h.github.count('POST', '/repos/{owner}/{repo}/check-runs')).toBe(1);
    expect(h.github.count('PATCH', '/repos/{owner}/{repo}/check-runs/{check_run_id}')).toBe(3);
  });

  it('ignores an edit that changed neither title nor body, and re-reviews one that changed the body', async () => {
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    await h.deliver('pull_request', pullRequestPayload(pull, 'edited', { changes: { base: { ref: { from: 'dev' } } } }));
    await h.app.idle();
    expect(h.github.requests).toEqual([]);
    await h.deliver('pull_request', pullRequestPayload(pull, 'edited', { changes: { body: { from: 'old' } } }));
    await h.app.idle();
    expect(repo.checkRuns).toHaveLength(1);
  });

  it('marks its comment resolved once a push removes the finding, unless someone replied', async () => {
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK one', '// MARK two') } });
    await h.deliver('pull_request', pullRequestPayload(pull));
    await h.app.idle();
    expect(repo.reviewComments).toHaveLength(2);
    const [first, second] = repo.reviewComments;
    repo.reviewComments.push({ id: 9_999, body: 'this wait is needed', user: { login: 'dev', type: 'User' }, in_reply_to_id: second!.id, pull_number: pull.number });

    const before = pull.head.sha;
    const next = addPull(h.github, { head: { 'a.go': go('var ok = true') }, commits: [CLAUDE, CLAUDE] }).pull;
    repo.reviewComments = repo.reviewComments.map((c) => ({ ...c, pull_number: next.number }));
    await h.deliver('pull_request', pullRequestPayload(next, 'synchronize', { before }));
    await h.app.idle();
    expect(repo.checkRuns.find((r) => r.head_sha === next.head.sha)).toMatchObject({ conclusion: 'success' });
    expect(repo.reviewComments.find((c) => c.id === first!.id)!.body).toContain('resolved');
    expect(repo.reviewComments.find((c) => c.id === second!.id)!.body).not.toContain('resolved');
    expect(repo.reviews).toHaveLength(1);
  });
});

describe('configuration', () => {
  it('completes the run with a clear error when the config file is malformed', async () => {
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    repo.config = 'enforce: sometimes\n';
    await h.deliver('pull_request', pullRequestPayload(pull));
    await h.app.idle();
    const run = repo.checkRuns[0]!;
    expect(run).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(run.output.title).toBe('Configuration error');
    expect(run.output.summary).toContain('enforce: must be one of');
    expect(run.actions.map((a: { identifier: string }) => a.identifier)).toEqual(['rerun']);
  });

  it('fails every PR under enforce: all, never neutral', async () => {
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') }, commits: ['human fix'] });
    repo.config = 'enforce: all\n';
    await h.deliver('pull_request', pullRequestPayload(pull));
    await h.app.idle();
    expect(repo.checkRuns[0]!.conclusion).toBe('failure');
  });

  it('carries acceptances forward in the run text', async () => {
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    await h.deliver('pull_request', pullRequestPayload(pull));
    await h.app.idle();
    expect(decodeAcceptances(repo.checkRuns[0]!.output.text)).toEqual([]);
  });
});

describe('limits', () => {
  it('sends annotations 50 per request and completes the run on the last batch', async () => {
    const lines = Array.from({ length: 120 }, (_, i) => `// MARK ${i}`);
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go(...lines) } });
    await h.deliver('pull_request', pullRequestPayload(pull));
    await h.app.idle();
    const patches = h.github.requests.filter((r) => r.method === 'PATCH' && r.route === '/repos/{owner}/{repo}/check-runs/{check_run_id}');
    expect(patches.map((p) => p.body.output.annotations.length)).toEqual([50, 50, 20]);
    expect(patches.map((p) => p.body.conclusion ?? null)).toEqual([null, null, 'failure']);
    expect(repo.checkRuns[0]!.annotations).toHaveLength(120);
    // at most 30 review comments in the one review; the rest stay annotations
    expect(repo.reviews).toHaveLength(1);
    expect(repo.reviews[0]!.comments).toHaveLength(30);
  });

  it('keeps the summary within 65,535 characters for a PR with thousands of findings', async () => {
    const lines = Array.from({ length: 1_500 }, (_, i) => `// MARK ${i} ${'x'.repeat(60)}`);
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go(...lines) } });
    await h.deliver('pull_request', pullRequestPayload(pull));
    await h.app.idle();
    const run = repo.checkRuns[0]!;
    expect(run.conclusion).toBe('failure');
    expect(run.output.summary!.length).toBeLessThanOrEqual(65_535);
    expect(run.output.summary).toMatch(/\d+ more findings left out of this table/);
    expect(run.annotations).toHaveLength(1_000);
  });

  it('marks the whole file changed when GitHub leaves out the patch', async () => {
    const { repo, pull } = addPull(h.github, { base: { 'a.go': go('// MARK old') }, head: { 'a.go': go('// MARK old', 'var x = 1') } });
    pull.noPatch = ['a.go'];
    await h.deliver('pull_request', pullRequestPayload(pull));
    await h.app.idle();
    expect(repo.checkRuns[0]!.annotations.map((a: { start_line: number }) => a.start_line)).toEqual([3]);
    // no hunk to hang a review comment on
    expect(repo.reviews).toEqual([]);
  });
});
