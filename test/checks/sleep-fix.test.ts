// sleep-fix against its fixture table: every case folder under test/fixtures/sleep-fix runs through
// the real engine; an unexpected finding or an unmet `want` fails. Then what the table cannot say
// inline: suggestions, severities, fingerprints that survive a lengthening, and the docs.

import { describe, expect, it } from 'vitest';
import { matchSites, sleepFix } from '../../checks/sleep-fix.js';
import { describeProblems, loadCase, loadCases, runCase, FIXTURES } from '../support/fixtures.js';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../../src/config/schema.js';

const cases = loadCases('sleep-fix');
const byName = (name: string) => loadCase(join(FIXTURES, 'sleep-fix', name));

describe('sleep-fix fixtures', () => {
  it('has flagged cases and silent near-misses', () => {
    expect(cases.filter((c) => c.wants.length > 0).length).toBeGreaterThan(20);
    expect(cases.filter((c) => c.wants.length === 0).length).toBeGreaterThan(20);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const result = await runCase(c, [sleepFix]);
      expect(describeProblems(result)).toBe('');
    });
  }
});

describe('sleep-fix details', () => {
  it('suggests kubectl wait for a sleep before kubectl get pods -l', async () => {
    const { findings } = await runCase(byName('sh-sleep-before-kubectl-get-pods'), [sleepFix]);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.suggestion).toEqual({
      startLine: findings[0]!.line,
      endLine: findings[0]!.line + 1,
      replacement: 'kubectl wait --for=condition=Ready pod -l control-plane=controller-manager -n db-operator-system --timeout=30s',
    });
  });

  it('suggests kubectl rollout status for a deployment, keeping the indentation', async () => {
    const { findings } = await runCase(byName('sh-sleep-before-kubectl-get-deployment'), [sleepFix]);
    expect(findings[0]!.suggestion?.replacement).toBe('  kubectl rollout status deployment/db-operator-controller-manager -n db-operator-system --timeout=60s');
  });

  it('suggests kubectl wait for a lengthened sleep too, with the new length as timeout', async () => {
    const script = (sleep: string) => `#!/bin/sh\nkubectl apply -k config/default\n${sleep}\nkubectl get pod db-0 -n prod\n`;
    const c = { name: 'lengthened', dir: '', pr: { base: { 'e2e.sh': script('sleep 10') }, head: { 'e2e.sh': script('sleep 2m') }, commits: ['x'] }, config: structuredClone(DEFAULT_CONFIG), wants: [] };
    const { findings } = await runCase(c, [sleepFix]);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toMatch(/lengthens a fixed wait from 10s to 120s/);
    expect(findings[0]!.suggestion).toEqual({ startLine: 3, endLine: 4, replacement: 'kubectl wait --for=condition=Ready pod/db-0 -n prod --timeout=120s' });
  });

  it('shows a quoted command as written, and suggests kubectl wait for a quoted selector', async () => {
    const script = (sleep: string) => `#!/bin/sh\nkubectl apply -f db.yaml\n${sleep}kubectl get pods -l "app=db" -n 'prod'\nkubectl logs 'deploy/orders' --tail=5 -c "a \\"b\\""\n`;
    const c = { name: 'quoted', dir: '', pr: { base: { 'e2e.sh': script('') }, head: { 'e2e.sh': script('sleep 30\n') }, commits: ['x'] }, config: structuredClone(DEFAULT_CONFIG), wants: [] };
    const { findings } = await runCase(c, [sleepFix]);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toContain('before `kubectl get pods -l "app=db" -n \'prod\'`');
    expect(findings[0]!.suggestion?.replacement).toBe('kubectl wait --for=condition=Ready pod -l app=db -n prod --timeout=30s');
  });

  it('finds a call of a sleep helper of the package in a file that names no wait, with a few helpers and with many', async () => {
    const util = (count: number) =>
      ['package controller', '', 'import "time"', '', ...Array.from({ length: count }, (_, i) => `func settle${i}(d time.Duration) {\n\ttime.Sleep(d)\n}\n`)].join('\n');
    const controller = (call: string) =>
      ['package controller', '', 'import "context"', '', 'type R struct{}', '', 'func (r *R) Reconcile(ctx context.Context) error {', call, '\treturn nil', '}', ''].join('\n');
    // 3 helpers: each name is looked for in the file; 40: past that bound every call is read instead
    for (const count of [3, 40]) {
      const c = {
        name: `helpers ${count}`,
        dir: '',
        pr: { base: { 'ctl/util.go': util(count), 'ctl/r.go': controller('') }, head: { 'ctl/util.go': util(count), 'ctl/r.go': controller('\tsettle2(30 * 1000000000)') }, commits: ['x'] },
        config: structuredClone(DEFAULT_CONFIG),
        wants: [],
      };
      const { findings } = await runCase(c, [sleepFix]);
      expect(findings.map((f) => `${f.path}:${f.line}`), String(count)).toEqual(['ctl/r.go:8']);
    }
  });

  it('suggests nothing when the kubectl output is used or the resource cannot be derived', async () => {
    for (const name of ['sh-sleep-before-kubectl-get-with-output', 'sh-sleep-after-apply-before-apply', 'workflow-sleep-step-lengthened']) {
      const { findings } = await runCase(byName(name), [sleepFix]);
      expect(findings.length, name).toBeGreaterThan(0);
      expect(findings.every((f) => f.suggestion === undefined), name).toBe(true);
    }
  });

  it('suggests in a workflow step with the step indentation', async () => {
    const { findings } = await runCase(byName('workflow-sleep-before-kubectl'), [sleepFix]);
    expect(findings[0]!.suggestion?.replacement).toBe(
      '          kubectl wait --for=condition=Ready pod -n db-operator-system -l control-plane=controller-manager --timeout=60s',
    );
  });

  it('blocks in production code and only warns for an undecidable test helper', async () => {
    const reconcile = await runCase(byName('go-reconcile-sleep-in-called-method'), [sleepFix]);
    expect(reconcile.findings[0]).toMatchObject({ severity: 'error', blocking: true });
    expect(reconcile.verdict.conclusion).toBe('failure');
    for (const name of ['go-test-helper-sleep-warning', 'ts-jest-test-helper-sleep-warning']) {
      const helper = await runCase(byName(name), [sleepFix]);
      expect(helper.findings[0], name).toMatchObject({ severity: 'warning', blocking: false });
    }
  });

  it('keeps the fingerprint of a wait when the PR lengthens it', async () => {
    const lengthened = await runCase(byName('go-reconcile-sleep-lengthened'), [sleepFix]);
    const escalated = await runCase(byName('go-reconcile-sleep-escalated-over-commits'), [sleepFix]);
    expect(lengthened.findings[0]!.key).toBe('DatabaseReconciler.finalize: time.Sleep');
    expect(lengthened.findings[0]!.fingerprint).toBe(escalated.findings[0]!.fingerprint);
  });

  it('carries the wait as written and its durations as evidence', async () => {
    const { findings } = await runCase(byName('go-reconcile-sleep-escalated-over-commits'), [sleepFix]);
    expect(findings[0]!.evidence).toBe('time.Sleep(600 * time.Second) (600s); durations over the PR: 5s, 30s, 120s, 600s');
  });

  it('documents itself', () => {
    expect(sleepFix.title).not.toMatch(/\.$/);
    expect(sleepFix.docs.summary.length).toBeGreaterThan(100);
    expect(sleepFix.docs.details).toMatch(/Silent/);
    expect(sleepFix.docs.bad.code).toContain('time.Sleep');
    expect(sleepFix.docs.good.code).toContain('RequeueAfter');
  });
});

describe('sleep-fix in Makefiles', () => {
  it('keeps the kubectl variable of a kubebuilder Makefile in the suggestion', async () => {
    const { findings } = await runCase(byName('makefile-sleep-before-kubectl-variable'), [sleepFix]);
    expect(findings[0]!.suggestion?.replacement).toBe('\t$(KUBECTL) wait --for=condition=Ready pod -l control-plane=controller-manager -n db-operator-system --timeout=20s');
  });
});

describe('matching waits across revisions', () => {
  type Site = Parameters<typeof matchSites>[0][number];
  const site = (scope: string, text: string, ms?: number): Site => ({ flavour: 'go', path: 'a.go', line: 1, endLine: 1, scope, callee: 'time.Sleep', text, ms, situation: 'generic', poll: false });

  it('pairs the same text first, then what is left in order', () => {
    const older = [site('f', 'time.Sleep(time.Second)', 1000), site('f', 'time.Sleep(5 * time.Second)', 5000)];
    const kept = site('f', 'time.Sleep(time.Second)', 1000);
    const longer = site('f', 'time.Sleep(30 * time.Second)', 30_000);
    const pairs = matchSites(older, [kept, longer]);
    expect(pairs.get(kept)).toBe(older[0]);
    expect(pairs.get(longer)).toBe(older[1]);
  });

  it('keeps a new wait before an unchanged one unmatched', () => {
    const older = [site('f', 'time.Sleep(5 * time.Second)', 5000)];
    const added = site('f', 'time.Sleep(2 * time.Second)', 2000);
    const kept = site('f', 'time.Sleep(5 * time.Second)', 5000);
    const pairs = matchSites(older, [added, kept]);
    expect(pairs.get(kept)).toBe(older[0]);
    expect(pairs.has(added)).toBe(false);
  });

  it('never pairs waits of different functions', () => {
    const pairs = matchSites([site('f', 'time.Sleep(time.Second)')], [site('g', 'time.Sleep(time.Second)')]);
    expect(pairs.size).toBe(0);
  });
});

describe('hostile input', () => {
  const hostileCase = (head: Record<string, string>) => ({ name: 'hostile', dir: '', pr: { base: {}, head, commits: ['x'] }, config: structuredClone(DEFAULT_CONFIG), wants: [] });

  it('gives up on absurd durations and long scripts without failing', async () => {
    const sum = (n: number) => Array.from({ length: n }, () => '1').join(' + ');
    const nested = `${'('.repeat(300)}5 * time.Second${')'.repeat(300)}`;
    const head = {
      'a.go': `package a\n\nimport "time"\n\nfunc f() {\n\ttime.Sleep(${nested})\n\ttime.Sleep(time.Duration(${sum(5000)}) * time.Millisecond)\n}\n`,
      'b.ts': `export async function g(): Promise<void> {\n  await new Promise((r) => setTimeout(r, ${sum(500)}));\n}\n`,
      'c.sh': `sleep ${'9'.repeat(100_000)}\n${'x'.repeat(200_000)}\nsleep 1\n`,
    };
    const { findings } = await runCase(hostileCase(head), [sleepFix]);
    expect(findings.filter((f) => f.checkId !== 'sleep-fix')).toEqual([]);
    // the nested and summed durations are beyond evaluation: reported without a duration, never guessed
    expect(findings.map((f) => `${f.path}:${f.line}:${/adds a fixed (\S+ )?wait/.exec(f.message)?.[1] ?? '-'}`)).toEqual(['a.go:6:-', 'a.go:7:-', 'b.ts:2:-', 'c.sh:1:-', 'c.sh:3:1s ']);
  });

  it('fails closed on a TS file nested deeper than the front-end can walk', async () => {
    // ts-morph walks recursively: a 5000-deep expression overflows the stack. The PR is not passed on a file nobody could read.
    const deep = Array.from({ length: 5000 }, () => '1').join(' + ');
    const { findings } = await runCase(hostileCase({ 'b.ts': `export const x = ${deep};\nawait new Promise((r) => setTimeout(r, 1000));\n` }), [sleepFix]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ checkId: 'internal-error', blocking: true });
  });
});
