import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CHECKS } from '../../checks/index.js';
import { packageSlice, setPackageSlicing } from '../../src/analysis/package-slice.js';
import { review } from '../../src/engine/engine.js';
import { memorySnapshot, type FileTree, type MemoryPullRequest } from '../../src/engine/memory.js';
import type { CheckContext } from '../../src/engine/types.js';
import { goNames } from '../../src/lang/go-names.js';
import { FIXTURES, loadCases } from '../support/fixtures.js';

describe('goNames: what a Go file declares and uses, without a parse', () => {
  it('reads package-level declarations, groups, receivers and methods', () => {
    const n = goNames(
      [
        'package controller',
        'import (',
        '\t"sync"',
        '\tctrl "sigs.k8s.io/controller-runtime"',
        ')',
        'const defaultDelay = 5',
        'var (',
        '\tcache = map[string]int{}',
        '\ta, b int',
        ')',
        'type (',
        '\tFooReconciler struct{ mu sync.Mutex }',
        '\tSet[K comparable] map[K]struct{}',
        ')',
        'var handler = func() { go worker() }',
        'func helper(x int) int { return x }',
        'func (r *FooReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {',
        '\tgo r.cache.refresh(ctx)',
        '\treturn ctrl.Result{}, nil',
        '}',
        'func (r *FooReconciler) SetupWithManager(mgr ctrl.Manager) error { return nil }',
        'func (c *Cache[K, V]) get(k K) V { var zero V; return zero }',
      ].join('\n'),
    );
    expect([...n.declared].sort()).toEqual(['FooReconciler', 'Set', 'a', 'b', 'cache', 'defaultDelay', 'handler', 'helper']);
    expect([...n.receivers].sort()).toEqual(['Cache', 'FooReconciler']);
    expect([...n.methods].sort()).toEqual(['Reconcile', 'SetupWithManager', 'get']);
    expect([...n.reconcilers]).toEqual(['FooReconciler']);
    expect([...n.setups]).toEqual(['FooReconciler']);
    expect([...n.started].sort()).toEqual(['refresh', 'worker']);
    expect(n.hasPackageVars).toBe(true);
    // a selector's field is not a use of a package name; the operand is
    expect(n.uses.has('refresh')).toBe(false);
    expect(n.uses.has('ctrl')).toBe(true);
  });

  it('reads the same declarations, methods and starts in a light scan, which keeps no names from bodies', () => {
    const text = [
      'package controller',
      'var (',
      '\tcache = map[string]int{"a": len(x)}',
      ')',
      'type Set[K comparable] map[K]struct{ inner int }',
      'func (c *Cache[K, V]) get(k K) V { go c.refresh.run(k); mgr.Add(c); return helper(k) }',
      'func top() { var local = 1; _ = local }',
    ].join('\n');
    const full = goNames(text);
    const light = goNames(text, true);
    for (const key of ['declared', 'receivers', 'methods', 'started'] as const) expect([...light[key]].sort(), key).toEqual([...full[key]].sort());
    expect(light.hasPackageVars).toBe(true);
    expect(full.uses.has('helper') && full.uses.has('local')).toBe(true);
    expect(light.uses.has('helper') || light.uses.has('local') || light.uses.has('_')).toBe(false);
  });

  it('light and full scans agree on every Go fixture (and on 23,600 Go files of Debian, measured)', () => {
    let files = 0;
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir, { withFileTypes: true })) {
        const path = `${dir}/${name.name}`;
        if (name.isDirectory()) walk(path);
        else if (name.name.endsWith('.go')) {
          const text = readFileSync(path, 'utf8');
          const full = goNames(text);
          const light = goNames(text, true);
          for (const key of ['declared', 'receivers', 'methods', 'reconcilers', 'setups'] as const) {
            expect([...light[key]].sort(), `${path} ${key}`).toEqual([...full[key]].sort());
          }
          // the light scan may see a start more (a `.` ending a comment before `Add(`): a file joins for nothing, never the reverse
          for (const name of full.started) expect(light.started.has(name), `${path} starts ${name}`).toBe(true);
          expect(light.hasPackageVars, path).toBe(full.hasPackageVars);
          files++;
        }
      }
    };
    walk(FIXTURES);
    expect(files).toBeGreaterThan(200);
  });

  it('skips comments and every kind of literal, braces in them included', () => {
    const n = goNames(
      [
        'package p',
        '// func Commented() {',
        '/* type Hidden struct {',
        '*/',
        'var s = "func Quoted() { \\" {"',
        "var r = '{'",
        'var raw = `',
        'func Raw() {',
        '`',
        'func Real() {}',
      ].join('\n'),
    );
    expect([...n.declared].sort()).toEqual(['Real', 'r', 'raw', 's']);
    expect(n.uses.has('Hidden') || n.uses.has('Quoted') || n.uses.has('Commented')).toBe(false);
  });

  it('counts a Runnable given to the manager as a started Start', () => {
    expect([...goNames('package p\nfunc setup(mgr ctrl.Manager) { mgr.Add(&poller{}) }').started]).toEqual(['Start']);
  });

  it('survives malformed and unterminated input', () => {
    for (const text of ['func (', 'type (', 'var x = "unterminated', 'func (r *T', '`', '/* open', 'package p\nvar (\n a\n']) {
      expect(() => goNames(text)).not.toThrow();
    }
  });
});

/** A context over an in-memory tree where `changed` are the PR's files. */
function contextOf(tree: FileTree, changed: string[]): Pick<CheckContext, 'changes' | 'read' | 'memo'> {
  return {
    changes: changed.map((path) => ({ path, status: 'modified', hunks: [] })),
    read: async (path) => tree[path],
  };
}

const RECONCILER = (kind: string, extra = '') => `package controller

type ${kind}Reconciler struct{ client.Client }

func (r *${kind}Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
\t${extra}
\treturn ctrl.Result{}, r.step(ctx)
}

func (r *${kind}Reconciler) step(ctx context.Context) error { return nil }

func (r *${kind}Reconciler) SetupWithManager(mgr ctrl.Manager) error {
\treturn ctrl.NewControllerManagedBy(mgr).For(&v1.${kind}{}).Complete(r)
}
`;

describe('packageSlice: the files a change shares names with', () => {
  const dir = 'internal/controller';
  const at = (name: string) => `${dir}/${name}.go`;

  it('keeps a change, what it reaches and what reaches it; leaves unrelated controllers out', async () => {
    // `go x.m()` on a value of unknown type counts for the one type with a method m, so a file declaring
    // another m would join: worker.go starts setStatus, which only database_status.go declares
    const tree: FileTree = {
      [at('database')]: RECONCILER('Database', 'retryDelay := defaultDelay; _ = retryDelay'),
      [at('cache')]: RECONCILER('Cache'),
      [at('consts')]: 'package controller\n\nconst defaultDelay = 5\n',
      [at('database_status')]: 'package controller\n\nfunc (r *DatabaseReconciler) setStatus() {}\n',
      [at('worker')]: 'package controller\n\nfunc startWorkers(r *DatabaseReconciler) { go r.setStatus() }\n',
      [at('unused')]: 'package controller\n\nfunc unrelated() {}\n',
    };
    const paths = Object.keys(tree).sort();
    const slice = await packageSlice(contextOf(tree, [at('database')]), dir, paths, 'head');
    expect(slice).toEqual([at('consts'), at('database'), at('database_status'), at('worker')]);
  });

  it('adds every setup when a reconciler in the slice has none of its own', async () => {
    const tree: FileTree = {
      [at('a')]: 'package controller\n\nfunc (r *AReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) { return ctrl.Result{}, nil }\n',
      [at('setup')]: 'package controller\n\nfunc Setup(mgr ctrl.Manager) error { return ctrl.NewControllerManagedBy(mgr).Complete(nil) }\n',
      [at('b')]: RECONCILER('B'),
      [at('other')]: 'package controller\n\nfunc other() {}\n',
    };
    const slice = await packageSlice(contextOf(tree, [at('a')]), dir, Object.keys(tree).sort(), 'head');
    expect(slice).toEqual([at('a'), at('b'), at('setup')]);
  });

  it('keeps a changed file that sorts past the file cap, and caps the others', async () => {
    const tree: FileTree = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [at(`a${i}`), `package controller\n\nfunc f${i}() { f0() }\n`]));
    tree[at('z')] = 'package controller\n\nfunc z() { f1() }\n';
    const slice = await packageSlice(contextOf(tree, [at('z')]), dir, Object.keys(tree).sort(), 'head', 3);
    // z and the first two others fit the cap of 3; z calls f1, and f1 calls f0
    expect(slice).toEqual([at('a0'), at('a1'), at('z')]);
  });

  it('follows chains of calls both ways through a large package, and leaves out what is off the chain', async () => {
    const tree: FileTree = {};
    for (let k = 0; k < 150; k++) {
      // f_k calls f_{k+1}: from f_0 the chain is followed through what each file uses; from g_149 back
      // through who uses what each file declares
      const decls = Array.from({ length: 40 }, (_, i) => `func d${k}_${i}() {}`).join('\n');
      tree[at(`f${k}`)] = `package controller\n\nfunc f_${k}() { f_${k + 1}() }\n${decls}\n`;
      tree[at(`g${k}`)] = `package controller\n\nfunc g_${k}() { ${k > 0 ? `g_${k - 1}()` : ''} }\n`;
      tree[at(`x${k}`)] = `package controller\n\n// g_148 is named only in this comment\nfunc x_${k}() {}\n`;
    }
    const paths = Object.keys(tree).sort();
    const fromStart = await packageSlice(contextOf(tree, [at('f0')]), dir, paths, 'head');
    expect(fromStart.filter((p) => p.includes('/f'))).toHaveLength(150);
    expect(fromStart.filter((p) => p.includes('/g'))).toHaveLength(0);
    const fromEnd = await packageSlice(contextOf(tree, [at('g149')]), dir, paths, 'head');
    expect(fromEnd.filter((p) => p.includes('/g'))).toHaveLength(150);
    expect(fromEnd.filter((p) => p.includes('/f'))).toHaveLength(0);
    // a comment naming a declared name can make a file join for nothing (its text is searched for the first
    // names that join): over, never under
    expect(fromEnd.filter((p) => p.includes('/x'))).toHaveLength(150);
    expect(fromStart.filter((p) => p.includes('/x'))).toHaveLength(0);
  });

  it('takes the whole package when the change is MaxConcurrentReconciles, nothing changed there, or slicing is off', async () => {
    const tree: FileTree = {
      [at('a')]: RECONCILER('A').replace('.Complete(r)', '.WithOptions(controller.Options{MaxConcurrentReconciles: 4}).Complete(r)'),
      [at('b')]: RECONCILER('B'),
    };
    const paths = Object.keys(tree).sort();
    expect(await packageSlice(contextOf(tree, [at('a')]), dir, paths, 'head')).toEqual(paths);
    expect(await packageSlice(contextOf(tree, ['cmd/main.go']), dir, paths, 'head')).toEqual(paths);
    const was = setPackageSlicing(false);
    try {
      expect(await packageSlice(contextOf({ ...tree, [at('a')]: RECONCILER('A') }, [at('a')]), dir, paths, 'head')).toEqual(paths);
    } finally {
      setPackageSlicing(was);
    }
  });
});

/**
 * The slice must not change a finding. Every fixture case is reviewed whole-package and sliced, as it
 * is and with each Go file in turn as the PR's only change (the rest of its tree unchanged base).
 */
describe('slicing finds what whole packages find', () => {
  afterEach(() => setPackageSlicing(true));

  const summary = async (pr: MemoryPullRequest, config: Parameters<typeof review>[1]['config']) =>
    (await review(memorySnapshot(pr), { config, checks: CHECKS })).findings.map((f) => `${f.checkId} ${f.path}:${f.line} ${f.message}`).sort();

  // the checks with Go packages to slice (the others read YAML, shell or the PR text)
  const checkIds = readdirSync(FIXTURES).filter((d) => ['event-ordering', 'sleep-fix', 'unsynchronized-state'].includes(d));
  for (const checkId of checkIds) {
    it(`${checkId} fixtures`, async () => {
      let compared = 0;
      for (const c of loadCases(checkId)) {
        const goFiles = Object.keys(c.pr.head).filter((p) => p.endsWith('.go'));
        if (goFiles.length < 2) continue;
        const variants: MemoryPullRequest[] = [c.pr];
        for (const only of goFiles) {
          const base = { ...c.pr.head };
          delete base[only];
          variants.push({ ...c.pr, steps: [], base, commits: ['change'] });
        }
        for (const pr of variants) {
          setPackageSlicing(false);
          const whole = await summary(pr, c.config);
          setPackageSlicing(true);
          expect(await summary(pr, c.config), `${c.name}`).toEqual(whole);
          compared++;
        }
      }
      expect(compared).toBeGreaterThan(0);
    });
  }
});
