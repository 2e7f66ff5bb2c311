// What counts as observed evidence, and what counts as a causal claim: the pieces both evidence checks rest on.

import { describe, expect, it } from 'vitest';
import { findClaims, normalizeClaim } from '../../src/analysis/claims.js';
import {
  changedTests,
  inlineCodeSpans,
  isEvidenceUrl,
  isObservedOutput,
  prText,
  splitMarkdown,
  testRelatesTo,
  textEvidence,
  type Fence,
} from '../../src/analysis/evidence.js';
import { changesBetween } from '../../src/engine/memory.js';
import type { Commit } from '../../src/engine/types.js';

const fence = (info: string, ...content: string[]): Fence => ({ openLine: 1, endLine: content.length + 1, info, content });
const text = (body: string, title = 'Fix resync', commits: Commit[] = []) => prText({ title, body, commits });
const evidenceIn = (body: string) => {
  const t = text(body);
  return textEvidence(t, splitMarkdown(t)).map((e) => e.kind);
};
const claimsIn = (body: string, title = 'Fix resync failures') => {
  const t = text(body, title);
  return findClaims(t, splitMarkdown(t));
};

describe('prText', () => {
  it('numbers the title as line 1, the body from line 2 and each commit after the previous section', () => {
    const commits: Commit[] = [
      { sha: 'a'.repeat(40), message: 'one\n\nbody', author: { name: 'x', email: 'x@y' } },
      { sha: 'b'.repeat(40), message: 'two', author: { name: 'x', email: 'x@y' } },
    ];
    const t = text('first\nsecond', 'Title', commits);
    expect(t.lines).toEqual(['Title', 'first', 'second', 'one', '', 'body', 'two']);
    expect(t.sections.map((s) => [s.kind, s.firstLine])).toEqual([
      ['title', 1],
      ['body', 2],
      ['commit', 4],
      ['commit', 7],
    ]);
  });

  it('caps the body at 65,536 characters', () => {
    expect(text('x'.repeat(100_000)).lines[1]).toHaveLength(65_536);
  });
});

describe('observed output or authored code', () => {
  it('takes klog lines, events tables, race reports and prompts followed by output as observed', () => {
    expect(isObservedOutput(fence('', 'E1104 10:02:11.482913 1 controller.go:329] "Reconciler error" err="i/o timeout"'))).toBe(true);
    expect(isObservedOutput(fence('', 'Events:', '  Type     Reason   Age  From     Message', '  Warning  BackOff  1m   kubelet  Back-off restarting'))).toBe(true);
    expect(isObservedOutput(fence('go', 'WARNING: DATA RACE', 'Write at 0x00c0001b4090 by goroutine 42:'))).toBe(true);
    expect(isObservedOutput(fence('console', '$ kubectl get pods', 'NAME  READY  STATUS  RESTARTS  AGE', 'op-1  0/1    Error   4         2m'))).toBe(true);
    expect(isObservedOutput(fence('yaml', 'status:', '  containerStatuses:', '  - lastState:', '      terminated:', '        exitCode: 137', '        reason: OOMKilled'))).toBe(true);
  });

  it('does not take code or manifests the author wrote as observed, whatever strings they hold', () => {
    expect(isObservedOutput(fence('go', 'if err != nil {', '\treturn errors.New("connection refused")', '}'))).toBe(false);
    expect(isObservedOutput(fence('', 'ctx, cancel := context.WithTimeout(ctx, 30*time.Second) // i/o timeout'))).toBe(false);
    expect(isObservedOutput(fence('yaml', 'apiVersion: apps/v1', 'kind: Deployment', 'spec:', '  replicas: 2'))).toBe(false);
    expect(isObservedOutput(fence('', '$ kubectl apply -f config/', '$ make deploy'))).toBe(false);
  });

  it('lets an unclosed fence run to the end of its section and never into the commit messages', () => {
    const t = prText({
      title: 't',
      body: 'before\n```\nE1104 10:02:11.482913 1 x.go:1] boom',
      commits: [{ sha: 'c'.repeat(40), message: 'Root cause: DNS fails.', author: { name: 'x', email: 'x@y' } }],
    });
    const md = splitMarkdown(t);
    expect(md.fences).toHaveLength(1);
    expect(md.fences[0]!.endLine).toBe(4);
    expect(md.prose[4]).toBe(true);
  });
});

describe('evidence in prose', () => {
  it('takes an error quoted with where it was seen, on its line or the next', () => {
    expect(evidenceIn('`dial tcp 10.244.1.7:9000: connect: connection refused` for ~500ms after the\ncontainer starts (seen in every operator log at pod start).')).toEqual(['quoted-error']);
    expect(evidenceIn('Retry on `connection refused` errors.')).toEqual([]);
    expect(evidenceIn('The `resyncAttempts` constant is seen in the logs.')).toEqual([]);
  });

  it('takes links to runs, issues, comments and pastes, not to docs or a bare pull request', () => {
    expect(isEvidenceUrl('https://github.com/acme/op/actions/runs/123')).toBe(true);
    expect(isEvidenceUrl('https://github.com/acme/op/issues/7')).toBe(true);
    expect(isEvidenceUrl('https://github.com/acme/op/pull/8#issuecomment-99')).toBe(true);
    expect(isEvidenceUrl('https://gist.github.com/dev/abc')).toBe(true);
    expect(isEvidenceUrl('https://pastebin.com/xyz')).toBe(true);
    expect(isEvidenceUrl('https://example.com/chaos/results.json')).toBe(true);
    expect(isEvidenceUrl('https://github.com/acme/op/pull/8')).toBe(false);
    expect(isEvidenceUrl('https://kubernetes.io/docs/concepts/workloads/pods/')).toBe(false);
  });

  it('takes a measurement with a tool, an observation and a number, not a wish', () => {
    expect(evidenceIn('The heap profile shows 700Mi retained by the informer cache.')).toEqual(['measurement']);
    expect(evidenceIn('p99 reconcile latency peaked at 4.2s during the resync.')).toEqual(['measurement']);
    expect(evidenceIn('The heap needs 1Gi, so raise the limit.')).toEqual([]);
  });

  it('takes output pasted without a fence when two lines only a runtime prints follow each other', () => {
    expect(evidenceIn('WARNING: DATA RACE\nWrite at 0x00c000418a10 by goroutine 51:\n      /src/internal/controller/zones.go:10 +0x1c4')).toEqual(['observed-output']);
    expect(evidenceIn('Traceback (most recent call last):\n  File "/app/main.py", line 16, in <module>')).toEqual(['observed-output']);
    expect(evidenceIn('We saw a WARNING: DATA RACE once.')).toEqual([]);
  });

  it('takes an indented block of observed output as a fenced one, and not indented code', () => {
    const paste = 'The log reads:\n\n    Reconciler error: RequestLimitExceeded: request limit exceeded, status code: 503\n    failed waiting for *v1.Secret Informer to sync';
    expect(evidenceIn(paste)).toEqual(['observed-output']);
    expect(evidenceIn('The helper:\n\n    if err != nil {\n        return fmt.Errorf("reconciler error: %w", err)\n    }')).toEqual([]);
    expect(evidenceIn('- step one\n    Reconciler error: continued list text, not a block')).toEqual([]);
  });

  it('takes an attached screenshot and a table row with a Prometheus series and a number', () => {
    expect(evidenceIn('![heap](https://github.com/user-attachments/assets/5d1c0f3e-1a2b)')).toEqual(['screenshot']);
    expect(evidenceIn('![diagram](https://example.com/architecture.png)')).toEqual([]);
    expect(evidenceIn('| `etcd_server_heartbeat_send_failures_total` | 0 | **499** |')).toEqual(['measurement']);
    expect(evidenceIn('| `etcd_server_heartbeat_send_failures_total` | watch it |')).toEqual([]);
  });

  it('reads a CamelCase reason as words and a tool named only in a link path as no tool', () => {
    expect(evidenceIn('The controller keeps logging `HealthCheckFailed` for the release.')).toEqual(['quoted-error']);
    expect(evidenceIn('The controller keeps logging `context.DeadlineExceeded` for the release.')).toEqual(['quoted-error']);
    expect(evidenceIn('Set `timeout: 60s` on the two `kubectl run` steps.')).toEqual([]);
    expect(evidenceIn('Pass `--timeout=10m` and `progressDeadlineSeconds` to kubectl rollout, as seen in the logs.')).toEqual([]);
    expect(evidenceIn('Every pod shows `exit code: 137` in kubectl describe.')).toEqual(['quoted-error']);
    expect(evidenceIn('Twenty minutes is twice the [average](https://github.com/acme/op/actions/metrics/performance) run.')).toEqual([]);
    expect(evidenceIn('On these nodes etcd fsync averages 90 ms.')).toEqual(['measurement']);
  });

  it('takes a chaos result', () => {
    expect(evidenceIn('The causal-review/chaos run passes with the partition fault.')).toContain('chaos');
  });

  it('finds backtick spans as CommonMark pairs them and skips runs with no closer', () => {
    expect(inlineCodeSpans('a `x` b ``y ` z`` c').map((s) => s.code)).toEqual(['x', 'y ` z']);
    expect(inlineCodeSpans('`'.repeat(60_000))).toEqual([]);
    expect(inlineCodeSpans(`\`${'a'.repeat(1_000)}\``)).toEqual([]);
  });
});

describe('causal claims', () => {
  it('finds a claim with a marker and a mechanism, and names the mechanism', () => {
    const [claim] = claimsIn('Root cause: the Kubernetes API server is overloaded during resync and drops our\nrequests. More attempts let it finish.');
    expect(claim).toMatchObject({ line: 2, mechanism: 'apiserver' });
    expect(claim!.text).toBe('Root cause: the Kubernetes API server is overloaded during resync and drops our requests.');
  });

  it('finds a mechanism stated next to a failure without a marker', () => {
    expect(claimsIn('The reconciler leaks memory and gets OOMKilled after a day.').map((c) => c.mechanism)).toEqual(['memory']);
  });

  it('stays silent on questions, negations, guards and causes that are not about the runtime', () => {
    expect(claimsIn('Could this be caused by DNS?')).toEqual([]);
    expect(claimsIn('The timeouts are not caused by the network.')).toEqual([]);
    expect(claimsIn('Add a guard so the reconciler survives API server throttling and avoids failed updates.')).toEqual([]);
    expect(claimsIn('Reconcile failed because of a typo in the finalizer name.')).toEqual([]);
    expect(claimsIn('Changed the helper because the API changed its signature.', 'Refactor helpers')).toEqual([]);
    expect(claimsIn('Use a channel because it reads better.', 'Refactor queue')).toEqual([]);
  });

  it('stays silent on a failure restated as its cause and on OOMKilled reported as it was seen', () => {
    expect(claimsIn('The e2e fails now and then due to expect timeouts.')).toEqual([]);
    expect(claimsIn('The manager is killed due to memory use over the 512Mi limit.')).toEqual([]);
    expect(claimsIn('Users see the manager restarting with an OOMKilled reason.')).toEqual([]);
    expect(claimsIn('The manager is OOMKilled due to a memory leak in the watch cache.').map((c) => c.mechanism)).toEqual(['memory']);
  });

  it('stays silent on a cause asked about, a contraction that negates it, a mechanism ruled out, a scenario', () => {
    expect(claimsIn("I'm not actually sure what the root cause of the failures is.")).toEqual([]);
    expect(claimsIn('More output would show what is causing the flaky test.')).toEqual([]);
    expect(claimsIn("This doesn't fix the root cause of the flakes.")).toEqual([]);
    expect(claimsIn('Peer traffic never fails, so this is not packet loss.')).toEqual([]);
    expect(claimsIn('If a cluster has a NetworkPolicy on the webhook port, the manager crashes.')).toEqual([]);
    expect(claimsIn('Rolled back the race condition fix.', 'Revert')).toEqual([]);
  });

  it('finds a race the PR says it fixes, blips on the network and a stale cache behind "since"', () => {
    expect(claimsIn('', 'Fix race for multi-zone reconcile').map((c) => c.mechanism)).toEqual(['race']);
    expect(claimsIn('Fixes a race condition where two workers could merge at once.').map((c) => c.mechanism)).toEqual(['race']);
    expect(claimsIn('Network blips make the e2e suite fail.').map((c) => c.mechanism)).toEqual(['network']);
    expect(claimsIn('The test flakes since the informer cache is eventually consistent.').map((c) => c.mechanism)).toEqual(['cache']);
  });

  it('needs a mechanism in the cause of a "because" or a story, not after "Root cause"', () => {
    expect(claimsIn('The event test is flaky because the fake recorder drops events when its buffer fills.')).toEqual([]);
    expect(claimsIn('The problem was that the Throttler released requests before all of them were queued.', 'Fix flaky test')).toEqual([]);
    expect(claimsIn('The event test is flaky because of a race on the recorder.').map((c) => c.mechanism)).toEqual(['race']);
    expect(claimsIn('Root cause: the webhook server starts after the first request.', 'Fix flaky e2e').map((c) => c.mechanism)).toEqual(['other']);
    expect(claimsIn('The primary cause appears to be the watch loop starting early.', 'Fix flaky e2e').map((c) => c.mechanism)).toEqual(['other']);
    expect(claimsIn('This causes a problem later, and the patch fails because the informer cache is stale.').map((c) => c.mechanism)).toEqual(['cache']);
  });

  it('stays silent on a possibility, a question without its mark, a tool topic and going back to a patch', () => {
    expect(claimsIn('It is possible that due to a wrong storage class the volume never binds and the backup hangs.')).toEqual([]);
    expect(claimsIn('Unexpected DNS errors can take down the control client.')).toEqual([]);
    expect(claimsIn('Could this be because the write goes to etcd while the read comes from the informer cache.')).toEqual([]);
    expect(claimsIn('', 'Add a tool to help troubleshooting intermittent network connectivity')).toEqual([]);
    expect(claimsIn('', 'Go back to the vendored patch for the CRD race condition')).toEqual([]);
    expect(claimsIn('The pods might start before the admission controller, resulting in failed DNS resolution.').map((c) => c.mechanism)).toEqual(['dns']);
    expect(claimsIn("The reconciler can't keep up and fails under API server throttling.").map((c) => c.mechanism)).toEqual(['apiserver']);
  });

  it('names a busy machine as CPU, after the specific mechanisms', () => {
    expect(claimsIn('The test times out in CI, and the issue appears to be resource contention.').map((c) => c.mechanism)).toEqual(['cpu']);
    expect(claimsIn('The runs hang, most likely due to busy runners.').map((c) => c.mechanism)).toEqual(['cpu']);
    expect(claimsIn('CoreDNS drops lookups under load, so the e2e suite fails.').map((c) => c.mechanism)).toEqual(['dns']);
  });

  it('normalizes a claim so whitespace, case and punctuation do not change its key', () => {
    expect(normalizeClaim('Root cause:  the API server\nis overloaded.')).toBe(normalizeClaim('root cause - the api server is OVERLOADED'));
  });
});

describe('reproduction tests in the diff', () => {
  const read = (base: Record<string, string>, head: Record<string, string>) => async (path: string, rev: unknown) => (rev === 'base' ? base : head)[path];

  it('marks tests the PR adds as new and relates them to a claim by a shared domain word', async () => {
    const base = { 'pkg/sync/resync_test.go': 'package sync\n\nfunc TestResyncLists(t *testing.T) {\n}\n' };
    const head = { 'pkg/sync/resync_test.go': 'package sync\n\nfunc TestResyncLists(t *testing.T) {\n}\n\nfunc TestResyncUnderThrottling(t *testing.T) {\n\trun(t)\n}\n' };
    const tests = await changedTests(changesBetween(base, head), read(base, head));
    expect(tests.map((t) => [t.name, t.isNew])).toEqual([['TestResyncUnderThrottling', true]]);
    expect(testRelatesTo(tests[0]!, 'the API server throttles our list calls during resync')).toBe(true);
    expect(testRelatesTo(tests[0]!, 'a memory leak in the watch cache')).toBe(false);
  });

  it('relates a new test by what its body does when its name says nothing', async () => {
    const head = { 'pkg/sync/issue_test.go': 'package sync\n\nfunc TestIssue412(t *testing.T) {\n\tenv := newEnv(t)\n\tenv.partitionNodes()\n\tif err := env.sync(); err != nil {\n\t\tt.Fatal(err)\n\t}\n}\n' };
    const [test] = await changedTests(changesBetween({}, head), read({}, head));
    expect(test!.name).toBe('TestIssue412');
    expect(testRelatesTo(test!, 'caused by a network partition between nodes')).toBe(true);
    expect(testRelatesTo(test!, 'CoreDNS drops lookups under load, with an error')).toBe(false);
  });

  it('reads vitest titles and ignores files that are not tests', async () => {
    const head = { 'test/cache.test.ts': "it('keeps the cache after a leader change', async () => {});\n", 'src/cache.ts': 'export {};\n' };
    const tests = await changedTests(changesBetween({}, head), read({}, head));
    expect(tests.map((t) => t.name)).toEqual(['keeps the cache after a leader change']);
  });
});

describe('template boilerplate', () => {
  it('ignores HTML comments, checklists and table rows, keeping line numbers', () => {
    const body = '## Root cause\n<!-- describe the root cause: DNS, the network ... -->\n- [x] I verified the root cause\n| cause | DNS failure |\n\nThe webhook fails because CoreDNS drops lookups.';
    const claims = claimsIn(body);
    expect(claims.map((c) => [c.line, c.mechanism])).toEqual([[7, 'dns']]);
  });

  it('does not read a mechanism outside the cause as the cause', () => {
    expect(claimsIn('Document how DNS names are built, because users asked for it.', 'Docs')).toEqual([]);
    expect(claimsIn('A memory leak in the watch cache is causing the restarts.').map((c) => c.mechanism)).toEqual(['memory']);
  });
});
