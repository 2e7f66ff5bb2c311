import { describe, expect, it } from 'vitest';
import { CONTROLLER_WORDS } from '../../checks/event-ordering.js';
import { GO_WAIT_WORDS } from '../../checks/sleep-fix.js';
import { CONCURRENCY_WORDS } from '../../checks/unsynchronized-state.js';
import { packageSays } from '../../src/analysis/controller.js';
import type { CheckContext } from '../../src/engine/types.js';

// A check skips a package whose files never say these words; every form its analyses read must match.
describe('the words a package must say for a Go check to look at it', () => {
  it.each([
    'go func() { n++ }()',
    'go worker(ctx)',
    'go r.cache.refresh(ctx)',
    'go\n\tfunc() {}()',
    'go run[int](ctx)',
    'go (func() {})()',
    'g.Go(func() error { return nil })',
    'pool.\n\tGo(task)',
    'mgr.Add(runnable)',
    'r.mgr.Add(c)',
    'ctx.GetManager().Add(c)',
    'func (r *DbReconciler) Reconcile(ctx context.Context, req ctrl.Request)',
    'WithOptions(controller.Options{MaxConcurrentReconciles: 4})',
  ])('unsynchronized-state looks at a package with %j', (text) => {
    expect(CONCURRENCY_WORDS.test(text)).toBe(true);
  });

  it.each(['//go:build linux', '// go to the next step', 'wg.Add(1)', 'list.Add(item)', 'var gopher = 1'])('and not for %j alone', (text) => {
    expect(CONCURRENCY_WORDS.test(text)).toBe(false);
  });

  it('event-ordering: a reconciler or an owner reference; sleep-fix: a sleep, a timer, time.After', () => {
    for (const text of ['func (r *X) Reconcile(', 'controllerutil.SetControllerReference(db, sts, r.Scheme)', 'metav1.NewControllerRef(db, gvk)']) expect(CONTROLLER_WORDS.test(text), text).toBe(true);
    expect(CONTROLLER_WORDS.test('func (c *Cache) reconcileEntries()')).toBe(false);
    for (const text of ['time.Sleep(d)', 'Sleep(10 * Second)', '<-time.After(d)', 'time.AfterFunc(d, f)', 'time.NewTimer(d)', 'step.Sleep (2 * time.Second)']) expect(GO_WAIT_WORDS.test(text), text).toBe(true);
    for (const text of ['cert.NotAfter.Before(now)', '// After the request returns', 'time.NewTicker(d)']) expect(GO_WAIT_WORDS.test(text), text).toBe(false);
  });

  it('packageSays reads the package directory only, tests included, and answers once', async () => {
    const files: Record<string, string> = {
      'pkg/a.go': 'package pkg\n',
      'pkg/a_test.go': 'package pkg\nfunc TestX(t *testing.T) { time.Sleep(time.Second) }\n',
      'pkg/sub/b.go': 'package sub\nfunc f() { go g() }\n',
      'other/c.go': 'package other\nfunc f() { go g() }\n',
    };
    let reads = 0;
    const memo = new Map<string, unknown>();
    const ctx = {
      list: async (dir: string) => Object.keys(files).filter((p) => p.startsWith(`${dir}/`)),
      read: async (path: string) => {
        reads++;
        return files[path];
      },
      memo: <T>(key: string, compute: () => T): T => (memo.has(key) ? (memo.get(key) as T) : (memo.set(key, compute()), memo.get(key) as T)),
    } as unknown as CheckContext;
    expect(await packageSays(ctx, 'pkg', GO_WAIT_WORDS)).toBe(true);
    expect(await packageSays(ctx, 'pkg', CONCURRENCY_WORDS)).toBe(false);
    const before = reads;
    expect(await packageSays(ctx, 'pkg', GO_WAIT_WORDS)).toBe(true);
    expect(reads).toBe(before);
  });
});
