// Commands, buttons, re-requests, merge groups, faults and the sweeper, against the fake GitHub.

import { afterEach, describe, expect, it } from 'vitest';
import { decodeAcceptances } from '../../src/report/checkrun.js';
import { APP_ID } from '../support/github-api.js';
import { example, startHarness, type Harness } from '../support/github-app.js';
import { addPull, claimCheck, CLAUDE, go, inRepo, markCheck, OWNER, pullRequestPayload, REPO, sha } from './support.js';

let h: Harness;
afterEach(async () => {
  await h.stop();
  expect(h.github.violations).toEqual([]);
});

function commentPayload(number: number, body: string, login: string): any {
  const payload = example('issue_comment', 'created');
  payload.issue.number = number;
  payload.issue.pull_request = { url: `https://api.github.com/repos/${OWNER}/${REPO}/pulls/${number}` };
  payload.comment.body = body;
  payload.comment.user = { ...payload.comment.user, login, type: 'User' };
  payload.sender = { ...payload.sender, login };
  return inRepo(payload);
}

function runPayload(event: 'check_run' | 'check_suite', action: string, headSha: string, number: number, extra: object = {}): any {
  const payload = example(event, action);
  const run = event === 'check_run' ? payload.check_run : payload.check_suite;
  run.head_sha = headSha;
  run.app = { ...run.app, id: APP_ID };
  run.pull_requests = [{ number, id: 1, url: '', head: { ref: 'fix', sha: headSha, repo: { id: 1, url: '', name: REPO } }, base: { ref: 'main', sha: sha(1), repo: { id: 1, url: '', name: REPO } } }];
  if (event === 'check_run') {
    run.name = 'causal-review';
    run.check_suite.head_branch = 'fix';
  } else run.head_branch = 'fix';
  return inRepo({ ...payload, ...extra });
}

describe('commands', () => {
  it('records an acceptance from a writer, with who, why and when, and passes the PR', async () => {
    h = await startHarness({ checks: [markCheck], now: () => new Date('2026-01-02T03:04:05Z') });
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    repo.permissions.maria = 'maintain';
    await h.deliver('pull_request', pullRequestPayload(pull));
    await h.app.idle();
    expect(repo.checkRuns[0]!.conclusion).toBe('failure');

    await h.deliver('issue_comment', commentPayload(pull.number, '/causal-review accept sleep-fix -- the wait is for the hardware clock, checked on the node', 'maria'));
    await h.app.idle();
    const run = repo.checkRuns[0]!;
    expect(run.conclusion).toBe('success');
    expect(decodeAcceptances(run.output.text)).toEqual([
      { fingerprint: 'sleep-fix', by: 'sleep-fix', reason: 'the wait is for the hardware clock, checked on the node', login: 'maria', at: '2026-01-02T03:04:05.000Z' },
    ]);
    expect(run.output.summary).toContain('### Accepted');
    expect(run.output.summary).toContain('maria');
    // the comment about the accepted finding is settled
    expect(repo.reviewComments[0]!.body).toContain('resolved');

    // a new push keeps the acceptance: it is read back from the previous head's run
    const before = pull.head.sha;
    const next = addPull(h.github, { head: { 'a.go': go('// MARK', '// MARK again') }, headSha: sha(77) }).pull;
    await h.deliver('pull_request', pullRequestPayload(next, 'synchronize', { before }));
    await h.app.idle();
    const newer = repo.checkRuns.find((r) => r.head_sha === next.head.sha)!;
    expect(newer.conclusion).toBe('success');
    expect(decodeAcceptances(newer.output.text).map((a) => a.login)).toEqual(['maria']);
  });

  it('refuses an acceptance from a reader with a short reply and changes nothing', async () => {
    h = await startHarness({ checks: [markCheck] });
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    repo.permissions.visitor = 'read';
    await h.deliver('pull_request', pullRequestPayload(pull));
    await h.app.idle();
    h.github.reset();
    await h.deliver('issue_comment', commentPayload(pull.number, '/causal-review accept sleep-fix -- trust me', 'visitor'));
    await h.app.idle();
    expect(repo.checkRuns[0]!.conclusion).toBe('failure');
    expect(repo.issueComments.at(-1)!.body).toContain('only people with write, maintain or admin permission');
    expect(repo.issueComments.at(-1)!.body).not.toContain('@visitor');
    expect(h.github.routes()).toEqual([
      'GET /repos/{owner}/{repo}/collaborators/{username}/permission',
      'POST /repos/{owner}/{repo}/issues/{issue_number}/comments',
    ]);
  });

  it('refuses an acceptance without a reason, and ignores comments that are not commands', async () => {
    h = await startHarness({ checks: [markCheck] });
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    repo.permissions.maria = 'admin';
    await h.deliver('issue_comment', commentPayload(pull.number, 'I think /causal-review is great', 'maria'));
    await h.app.idle();
    expect(h.github.requests).toEqual([]);
    await h.deliver('issue_comment', commentPayload(pull.number, '/causal-review accept sleep-fix', 'maria'));
    await h.app.idle();
    expect(repo.issueComments.at(-1)!.body).toContain('needs a reason');
    expect(repo.checkRuns).toEqual([]);
  });

  it('rechecks on /causal-review recheck from a writer', async () => {
    h = await startHarness({ checks: [markCheck] });
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    repo.permissions.maria = 'write';
    await h.deliver('issue_comment', commentPayload(pull.number, '/causal-review recheck', 'maria'));
    await h.app.idle();
    expect(repo.checkRuns).toHaveLength(1);
    expect(repo.checkRuns[0]!.conclusion).toBe('failure');
  });
});

describe('check run events', () => {
  it('re-runs on check_run.rerequested and check_suite.rerequested, updating the same run', async () => {
    h = await startHarness({ checks: [markCheck] });
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    await h.deliver('pull_request', pullRequestPayload(pull));
    await h.app.idle();
    await h.deliver('check_run', runPayload('check_run', 'rerequested', pull.head.sha, pull.number));
    await h.app.idle();
    await h.deliver('check_suite', runPayload('check_suite', 'rerequested', pull.head.sha, pull.number));
    await h.app.idle();
    expect(repo.checkRuns).toHaveLength(1);
    expect(h.github.count('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/files')).toBe(3);
  });

  it('ignores a re-request of another app\'s run', async () => {
    h = await startHarness({ checks: [markCheck] });
    const { pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    const payload = runPayload('check_run', 'rerequested', pull.head.sha, pull.number);
    payload.check_run.app.id = 1;
    await h.deliver('check_run', payload);
    await h.app.idle();
    expect(h.github.requests).toEqual([]);
  });

  it('offers "Accept diagnosis" on a blocking diagnosis finding, and honours it only from a writer', async () => {
    h = await startHarness({ checks: [claimCheck] });
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go() }, body: 'The root cause is kernel mutex contention.' });
    repo.permissions.maria = 'write';
    repo.permissions.visitor = 'triage';
    await h.deliver('pull_request', pullRequestPayload(pull));
    await h.app.idle();
    const run = repo.checkRuns[0]!;
    expect(run.actions.map((a: { identifier: string }) => a.identifier)).toEqual(['rerun', 'accept-diagnosis']);
    for (const action of run.actions) {
      expect(action.identifier.length).toBeLessThanOrEqual(20);
      expect(action.label.length).toBeLessThanOrEqual(20);
      expect(action.description.length).toBeLessThanOrEqual(40);
    }

    const click = (login: string) =>
      runPayload('check_run', 'requested_action', pull.head.sha, pull.number, { requested_action: { identifier: 'accept-diagnosis' }, sender: { ...example('check_run', 'requested_action').sender, login } });
    await h.deliver('check_run', click('visitor'));
    await h.app.idle();
    expect(run.conclusion).toBe('failure');
    expect(repo.issueComments.at(-1)!.body).toContain('only people with write');

    await h.deliver('check_run', click('maria'));
    await h.app.idle();
    expect(run.conclusion).toBe('success');
    expect(decodeAcceptances(run.output.text)).toEqual([expect.objectContaining({ fingerprint: 'unverified-diagnosis', login: 'maria' })]);
  });

  it('never trusts an acceptance marker from a run another app made', async () => {
    h = await startHarness({ checks: [markCheck] });
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    const forged = '<!-- causal-review:acceptances ' + Buffer.from(JSON.stringify([{ fingerprint: 'sleep-fix', by: 'sleep-fix', reason: 'x', at: 'now', login: 'admin' }])).toString('base64') + ' -->';
    repo.checkRuns.push({
      id: 1, name: 'causal-review', head_sha: pull.head.sha, status: 'completed', conclusion: 'success', app: { id: 1, slug: 'github-actions' },
      output: { title: 'x', summary: 'x', text: forged, annotations_count: 0 }, annotations: [], actions: [],
    });
    await h.deliver('pull_request', pullRequestPayload(pull));
    await h.app.idle();
    const ours = repo.checkRuns.find((r) => r.app.id === APP_ID)!;
    expect(ours.conclusion).toBe('failure');
    expect(decodeAcceptances(ours.output.text)).toEqual([]);
  });
});

describe('merge_group', () => {
  it('reports on the group head: the PR\'s change against the queue base', async () => {
    h = await startHarness({ checks: [markCheck] });
    const { repo, pull } = addPull(h.github, { base: { 'a.go': go() }, head: { 'a.go': go('// MARK') }, number: 5 });
    const queueHead = sha(42_042);
    const queueBase = sha(42_041);
    repo.commits[queueBase] = { tree: { 'a.go': go(), 'b.go': go('// MARK already on main') }, parents: [], message: 'main' };
    repo.commits[queueHead] = { tree: { 'a.go': go('// MARK'), 'b.go': go('// MARK already on main') }, parents: [queueBase], message: `Merge pull request #5\n\n${pull.commits[0]!.message}` };
    const payload = example('merge_group', 'checks_requested');
    payload.merge_group.head_sha = queueHead;
    payload.merge_group.base_sha = queueBase;
    payload.merge_group.head_ref = `refs/heads/gh-readonly-queue/main/pr-5-${queueBase}`;
    await h.deliver('merge_group', inRepo(payload));
    await h.app.idle();
    const run = repo.checkRuns.find((r) => r.head_sha === queueHead)!;
    expect(run).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(run.annotations.map((a: { path: string }) => a.path)).toEqual(['a.go']);
    expect(h.github.count('GET', '/repos/{owner}/{repo}/compare/{basehead}')).toBe(1);
    // no review comments on a merge group; the config, files and commits come from the compare API
    expect(repo.reviews).toEqual([]);
    expect(h.github.routes()).toEqual(
      [
        'POST /app/installations/{installation_id}/access_tokens',
        'GET /repos/{owner}/{repo}/commits/{ref}/check-runs',
        'POST /repos/{owner}/{repo}/check-runs',
        'GET /repos/{owner}/{repo}/pulls/{pull_number}',
        'GET /repos/{owner}/{repo}/compare/{basehead}',
        'GET /repos/{owner}/{repo}/contents/{path}',
        'GET /repos/{owner}/{repo}/contents/{path}',
        'GET /repos/{owner}/{repo}/commits/{ref}/check-runs',
        'GET /repos/{owner}/{repo}/contents/{path}',
        'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}',
      ].sort(),
    );
  });
});

describe('merge_group re-runs', () => {
  it('re-runs a merge group\'s run, finding its base from the queue commit', async () => {
    h = await startHarness({ checks: [markCheck] });
    const { repo } = addPull(h.github, { base: { 'a.go': go() }, head: { 'a.go': go('// MARK') }, number: 8 });
    const queueBase = sha(80_001);
    const queueHead = sha(80_002);
    repo.commits[queueBase] = { tree: { 'a.go': go() }, parents: [], message: 'main' };
    repo.commits[queueHead] = { tree: { 'a.go': go('// MARK') }, parents: [queueBase], message: CLAUDE };
    const payload = runPayload('check_run', 'rerequested', queueHead, 8);
    payload.check_run.pull_requests = [];
    payload.check_run.check_suite.head_branch = `gh-readonly-queue/main/pr-8-${queueBase}`;
    await h.deliver('check_run', payload);
    await h.app.idle();
    expect(repo.checkRuns.find((r) => r.head_sha === queueHead)).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(h.github.requests.find((r) => r.route === '/repos/{owner}/{repo}/compare/{basehead}')!.path).toContain(`${queueBase}...${queueHead}`);
  });
});

describe('merge_group acceptances', () => {
  it('honours an acceptance given on the PR when the PR reaches the merge queue', async () => {
    h = await startHarness({ checks: [markCheck] });
    const { repo, pull } = addPull(h.github, { base: { 'a.go': go() }, head: { 'a.go': go('// MARK') }, number: 6 });
    repo.permissions.maria = 'write';
    const queueBase = sha(60_001);
    const queueHead = sha(60_002);
    repo.commits[queueBase] = { tree: { 'a.go': go() }, parents: [], message: 'main' };
    repo.commits[queueHead] = { tree: { 'a.go': go('// MARK') }, parents: [queueBase], message: CLAUDE };
    const payload = example('merge_group', 'checks_requested');
    Object.assign(payload.merge_group, { head_sha: queueHead, base_sha: queueBase, head_ref: `refs/heads/gh-readonly-queue/main/pr-6-${queueBase}` });
    const queueRun = () => repo.checkRuns.find((r) => r.head_sha === queueHead)!;

    await h.deliver('merge_group', inRepo(payload));
    await h.app.idle();
    expect(queueRun().conclusion).toBe('failure');

    await h.deliver('issue_comment', commentPayload(pull.number, '/causal-review accept sleep-fix -- the wait is for hardware', 'maria'));
    await h.app.idle();
    expect(repo.checkRuns.find((r) => r.head_sha === pull.head.sha)!.conclusion).toBe('success');

    await h.deliver('merge_group', inRepo(payload));
    await h.app.idle();
    expect(queueRun().conclusion).toBe('success');
  });
});

describe('faults', () => {
  it('waits out a primary rate limit until x-ratelimit-reset, and a 429', async () => {
    h = await startHarness({ checks: [markCheck] });
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    const reset = String(Math.floor(Date.now() / 1000) + 1);
    h.github.fail({ method: 'GET', route: '/repos/{owner}/{repo}/pulls/{pull_number}', status: 403, message: 'API rate limit exceeded', headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset } });
    h.github.fail({ method: 'POST', route: '/repos/{owner}/{repo}/pulls/{pull_number}/reviews', status: 429, message: 'Too many requests', headers: { 'retry-after': '1' } });
    await h.deliver('pull_request', pullRequestPayload(pull));
    await h.app.idle();
    expect(repo.checkRuns[0]).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(h.github.count('GET', '/repos/{owner}/{repo}/pulls/{pull_number}')).toBe(2);
    expect(repo.reviews).toHaveLength(1);
  });

  it('recovers from a 500 and from a secondary rate limit with retry-after', async () => {
    h = await startHarness({ checks: [markCheck] });
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    h.github.fail({ method: 'GET', route: '/repos/{owner}/{repo}/pulls/{pull_number}/files', status: 500 });
    h.github.fail({ method: 'PATCH', route: '/repos/{owner}/{repo}/check-runs/{check_run_id}', status: 403, message: 'You have exceeded a secondary rate limit', headers: { 'retry-after': '2' } });
    await h.deliver('pull_request', pullRequestPayload(pull));
    await h.app.idle();
    expect(repo.checkRuns[0]).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(h.github.count('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/files')).toBe(2);
    expect(h.github.count('PATCH', '/repos/{owner}/{repo}/check-runs/{check_run_id}')).toBe(2);
  });

  it('keeps the acceptances recorded on the head when a later analysis fails', async () => {
    h = await startHarness({ checks: [markCheck] });
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    repo.permissions.maria = 'write';
    await h.deliver('issue_comment', commentPayload(pull.number, '/causal-review accept sleep-fix -- checked on the node', 'maria'));
    await h.app.idle();
    h.github.fail({ method: 'GET', route: '/repos/{owner}/{repo}/pulls/{pull_number}/files', status: 502, times: 4 });
    await h.deliver('check_run', runPayload('check_run', 'rerequested', pull.head.sha, pull.number));
    await h.app.idle();
    expect(repo.checkRuns[0]!.output.title).toBe('Internal error');
    await h.deliver('check_run', runPayload('check_run', 'rerequested', pull.head.sha, pull.number));
    await h.app.idle();
    expect(repo.checkRuns[0]!.conclusion).toBe('success');
    expect(decodeAcceptances(repo.checkRuns[0]!.output.text).map((a) => a.login)).toEqual(['maria']);
  });

  it('completes the run with the error and a re-run button when GitHub keeps failing', async () => {
    h = await startHarness({ checks: [markCheck] });
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    h.github.fail({ method: 'GET', route: '/repos/{owner}/{repo}/pulls/{pull_number}/files', status: 502, times: 10 });
    await h.deliver('pull_request', pullRequestPayload(pull));
    await h.app.idle();
    const run = repo.checkRuns[0]!;
    // AI-authored, onInternalError defaults to failure: fail closed
    expect(run).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(run.output.title).toBe('Internal error');
    expect(run.actions.map((a: { identifier: string }) => a.identifier)).toEqual(['rerun']);
    expect(h.github.count('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/files')).toBe(4);
  });
});

describe('sweeper', () => {
  it('reviews open PRs whose head has no run, and leaves the others alone', async () => {
    h = await startHarness({ checks: [markCheck] });
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') }, number: 2 });
    const covered = addPull(h.github, { head: { 'a.go': go() }, number: 3 }).pull;
    await h.deliver('pull_request', pullRequestPayload(covered));
    await h.app.idle();
    h.github.reset();
    expect(await h.app.sweep()).toBe(1);
    await h.app.idle();
    expect(repo.checkRuns.find((r) => r.head_sha === pull.head.sha)).toMatchObject({ conclusion: 'failure' });
    expect(repo.checkRuns).toHaveLength(2);
    expect(h.github.count('GET', '/app/installations')).toBe(1);
    expect(h.github.count('GET', '/repos/{owner}/{repo}/pulls/{pull_number}/files')).toBe(1);
    expect(await h.app.sweep()).toBe(0);
  });

  it('redoes a run left open long after it started, but not one still fresh', async () => {
    let now = new Date('2026-01-01T10:00:00Z');
    h = await startHarness({ checks: [markCheck], now: () => now });
    const { repo, pull } = addPull(h.github, { head: { 'a.go': go('// MARK') } });
    const open = { id: 5, name: 'causal-review', head_sha: pull.head.sha, status: 'in_progress', conclusion: null, started_at: '2026-01-01T09:50:00Z', app: { id: APP_ID, slug: 'causal-review' }, output: { title: null, summary: null, text: null, annotations_count: 0 }, annotations: [], actions: [] };
    repo.checkRuns.push(open);
    expect(await h.app.sweep()).toBe(0);
    now = new Date('2026-01-01T10:30:00Z');
    expect(await h.app.sweep()).toBe(1);
    await h.app.idle();
    expect(repo.checkRuns).toHaveLength(1);
    expect(repo.checkRuns[0]).toMatchObject({ status: 'completed', conclusion: 'failure' });
  });

  it('looks at no more PRs per sweep than its bound', async () => {
    h = await startHarness({ checks: [markCheck], sweepMaxPulls: 2 });
    for (const number of [2, 3, 4, 5]) addPull(h.github, { head: { 'a.go': go() }, number });
    expect(await h.app.sweep()).toBe(2);
    await h.app.idle();
  });
});
