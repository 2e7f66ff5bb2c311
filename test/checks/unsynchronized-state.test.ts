// unsynchronized-state over its fixture table: every flagged case and every near-miss in
// test/fixtures/unsynchronized-state/, plus the severity contract (error when reconciles run at once).

import { describe, expect, it } from 'vitest';
import { unsynchronizedState } from '../../checks/unsynchronized-state.js';
import { describeProblems, loadCases, runCase, withEdits } from '../support/fixtures.js';

const cases = loadCases('unsynchronized-state');

describe('unsynchronized-state fixtures', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const result = await runCase(c, [unsynchronizedState]);
    expect(describeProblems(result)).toBe('');
  });

  it('has flagged cases and silent near-misses', () => {
    const flagged = cases.filter((c) => c.wants.length > 0);
    const silent = cases.filter((c) => c.wants.length === 0);
    expect(flagged.length).toBeGreaterThanOrEqual(10);
    expect(silent.length).toBeGreaterThanOrEqual(flagged.length);
  });
});

describe('unsynchronized-state severity', () => {
  const severityOf = async (name: string) => {
    const c = cases.find((x) => x.name === name)!;
    const result = await runCase(c, [unsynchronizedState]);
    return result.findings.map((f) => f.severity);
  };

  it('blocks a reconciler field write when reconciles run at once', async () => {
    expect(await severityOf('go-reconciler-map-field-concurrent')).toEqual(['error']);
  });

  it('only warns while MaxConcurrentReconciles is 1', async () => {
    expect(await severityOf('go-reconciler-counter-serial')).toEqual(['warning']);
  });

  it('blocks writes from goroutines whatever the concurrency setting', async () => {
    expect(await severityOf('go-reconciler-field-from-goroutine')).toEqual(['error']);
  });
});

/** A near-miss with the one thing that keeps it silent taken out: it must then be reported. */
async function withoutTheGuard(name: string, path: string, from: string | string[], to: string | string[]) {
  const froms = typeof from === 'string' ? [from] : from;
  const edits = froms.map((f, i) => [f, typeof to === 'string' ? to : to[i]!] as const);
  const result = await runCase(withEdits(cases.find((x) => x.name === name)!, path, edits), [unsynchronizedState]);
  return result.findings.map((f) => f.message);
}

describe('unsynchronized-state near-misses are silent for the reason they claim', () => {
  const controller = 'internal/controller/database_controller.go';
  it.each([
    ['ok-go-mutex-defer-unlock', controller, '\tr.mu.Lock()\n\tdefer r.mu.Unlock()\n', '', /lastSpec/],
    ['ok-go-mutex-lock-unlock-around-write', controller, '\tr.mu.Lock()\n\tr.lastSpec', '\tr.lastSpec', /lastSpec/],
    ['ok-go-sync-once-and-channel', controller, 'r.initOnce.Do(func() {', 'r.initOnce.Run(func() {', /map field `defaults`/],
    ['ok-go-mutex-lock-unlock-around-write', controller, 'r.withLock(func() {', 'r.with(func() {', /delete\(r.lastSpec, name\)/],
    ['ok-go-fields-in-setup-and-constructor', controller, '\tlogger.Info("reconciled"', '\tr.loadDefaults()\n\tlogger.Info("reconciled"', /map field `limits`/],
    ['ok-go-presized-slice-index', 'internal/health/prober.go', 'results[i] = p.Probe(ctx, pod)', 'results = append(results, p.Probe(ctx, pod))', /`results` is written by every goroutine/],
    ['ok-go-mutex-in-goroutine', 'internal/health/prober.go', '\t\t\tmu.Lock()\n\t\t\tdefer mu.Unlock()\n', '', /`errs` is written by every goroutine/],
    ['ok-go-single-goroutine-then-wait', 'internal/health/prober.go', '\twg.Add(1)\n\tgo func() {', '\tfor range pods {\n\twg.Add(1)\n\tgo func() {', /`probes` is written by every goroutine/],
    ['ok-ts-read-not-a-check', 'src/controller.ts', "console.log('previous backup', previous);", 'if (previous === keyOf(schedule)) return;', /`history` is read/],
    ['ok-ts-object-fields-read-one-write-another', 'src/controller.ts', 'stats.lastBackupAt = new Date().toISOString();', 'stats.lastError = String(Date.now());', /`stats.lastError` is read/],
    ['ok-ts-state-machine-guard', 'src/controller.ts', '    this.state = SYNCING;\n', '', /`this.schedules` is read/],
    ['ok-ts-run-exclusive', 'src/controller.ts', 'mutex.runExclusive(async () => {', 'Promise.resolve().then(async () => {', /`started` is read/],
    ['ok-ts-plimit-1', 'src/controller.ts', 'pLimit(1)', 'pLimit(4)', /`jobsThisHour` is read/],
    ['ok-ts-pqueue-concurrency-1', 'src/controller.ts', 'concurrency: 1', 'concurrency: 4', /`lastRun` is read/],
    ['ok-ts-per-key-chain', 'src/controller.ts', 'chains.set(key, next.catch(() => undefined));', 'void next.catch(() => undefined);', /`started` is read/],
    ['ok-ts-drain-loop-guard', 'src/controller.ts', '  if (draining) return;\n', '', /`started` is read/],
    ['ok-go-reconciler-logger-field-serial', 'internal/controller/backup_controller.go', '\t\tComplete(r)', '\t\tWithOptions(controller.Options{MaxConcurrentReconciles: 4}).\n\t\tComplete(r)', /field `log` of BackupReconciler/],
    ['ok-go-reconcile-helper-not-a-controller', 'internal/webhook/config.go', 'namespace string) error {', 'namespace string) (ctrl.Result, error) {', /slice field `hooks` of Settings/],
    ['ok-ts-mark-before-await', 'src/controller.ts', '  started.add(key);\n  try {\n    await createBackupJob(schedule);', '  try {\n    await createBackupJob(schedule);\n    started.add(key);', /`started` is read/],
  ])('%s', async (name, path, from, to, message) => {
    const messages = await withoutTheGuard(name, path, from, to);
    expect(messages.some((m) => message.test(m)), messages.join('\n')).toBe(true);
  });
});

describe('unsynchronized-state docs', () => {
  it('says what it flags, what keeps it silent, and shows Go both ways', () => {
    expect(unsynchronizedState.title).not.toMatch(/not built/i);
    expect(unsynchronizedState.docs.summary.length).toBeGreaterThan(200);
    expect(unsynchronizedState.docs.details).toMatch(/Silent \(Go\)/);
    expect(unsynchronizedState.docs.details).toMatch(/runExclusive/);
    expect(unsynchronizedState.docs.bad.code).toContain('append(results');
    expect(unsynchronizedState.docs.good.code).toContain('results[i] =');
  });
});

describe('unsynchronized-state on hostile input', () => {
  it('does not fail on broken Go and TypeScript, and still sees a check-then-act under deep nesting', async () => {
    const head = {
      'internal/controller/broken.go': 'package controller\nfunc (r *R) Reconcile( {\n\tgo func() { r.m[ = append(\n\tfor { go func() { x++ }( }\n',
      'internal/controller/empty.go': '',
      'src/broken.ts': 'const seen = new Set();\ninformer.on("add", async (o) => { if (!seen.has(o)) { await ; seen.add(',
      'src/deep.ts': `const s = new Set();\nexport async function f(k) { if (!s.has(k)) { await g(${'('.repeat(500)}k${')'.repeat(500)}); s.add(k); } }\n`,
    };
    const result = await runCase({ name: 'hostile', dir: '', pr: { base: {}, head, commits: ['c'] }, config: cases[0]!.config, wants: [] }, [unsynchronizedState]);
    expect(result.findings.filter((f) => f.checkId === 'internal-error')).toEqual([]);
    expect(result.findings.map((f) => f.path)).toContain('src/deep.ts');
    expect(result.findings.some((f) => f.path.endsWith('.go'))).toBe(false);
  });
});
