// Which files of a Go package a review has to parse. The package analyses (the reconcile path, struct
// fields, goroutine starts, package variables, controller setups) resolve everything by name, so a file
// that shares no name with the changed files, directly or through other files, cannot change what they
// find on the changed lines. The slice is that closure, computed from names read without a parse
// (src/lang/go-names.ts): a PR touching one controller of a 75-file package parses that controller and
// what it reaches, not the 74 others. docs/precision.md measures it against the whole package.

import { dirOf } from '../engine/paths.js';
import type { CheckContext, Side } from '../engine/types.js';
import { goNames, isIdentPart, type GoNames } from '../lang/go-names.js';

let slicing = true;

/** Analyse whole packages instead of slices (to measure what slicing changes); returns the previous setting. */
export function setPackageSlicing(on: boolean): boolean {
  const was = slicing;
  slicing = on;
  return was;
}

/**
 * The files of one package (`paths`, at `side`) the analyses need for the PR's changes there: the changed
 * files, then the others up to `cap` files in all, narrowed to the closure of names around the changes.
 * Every file (up to the cap) when nothing in the package changed, the PR changes every file (a
 * whole-repository scan), or slicing is off. In the order of `paths`.
 */
export async function packageSlice(
  ctx: Pick<CheckContext, 'changes' | 'read' | 'memo'>,
  dir: string,
  paths: string[],
  side: Side,
  cap = Infinity,
): Promise<string[]> {
  const listed = new Set(paths);
  const seeds = new Set<string>();
  for (const path of changedIn(ctx, side).get(dir) ?? []) if (listed.has(path) && seeds.size < cap) seeds.add(path);
  // the changed files always count; the cap falls on the others
  let room = cap - seeds.size;
  const capped = paths.filter((p) => seeds.has(p) || room-- > 0);
  if (!slicing || seeds.size === 0 || seeds.size === capped.length) return capped;
  // every file's declarations (a light scan), and all the names used only by the files that join
  const texts = new Map<string, string>();
  const light = new Map<string, GoNames>();
  await Promise.all(
    capped.map(async (path) => {
      const text = (await ctx.read(path, side)) ?? '';
      texts.set(path, text);
      // a file the PR does not change has the same names on both sides
      const key = `go-names-light:${seeds.has(path) ? side : 'unchanged'}:${path}`;
      light.set(path, ctx.memo ? ctx.memo(key, () => goNames(text, true)) : goNames(text, true));
    }),
  );
  const fullNames = new Map<string, GoNames>();
  const full = (path: string) => {
    let n = fullNames.get(path);
    if (!n) {
      const key = `go-names:${seeds.has(path) ? side : 'unchanged'}:${path}`;
      n = ctx.memo ? ctx.memo(key, () => goNames(texts.get(path)!)) : goNames(texts.get(path)!);
      fullNames.set(path, n);
    }
    return n;
  };
  const slice = closure(capped, seeds, light, full, texts);
  return capped.filter((p) => slice.has(p));
}

/** Names new to the slice when a file joins: what the files outside are checked against. */
interface FreshNames {
  declared: string[];
  uses: Set<string>;
  callables: Set<string>;
  started: Set<string>;
}

/** The changed paths at `side` by directory, read once per snapshot: a whole-tree scan changes every file. */
function changedIn(ctx: Pick<CheckContext, 'changes' | 'memo'>, side: Side): Map<string, string[]> {
  const compute = () => {
    const byDir = new Map<string, string[]>();
    for (const change of ctx.changes) {
      const path = side === 'head' ? (change.status === 'removed' ? undefined : change.path) : change.status === 'added' ? undefined : (change.previousPath ?? change.path);
      if (path === undefined) continue;
      const list = byDir.get(dirOf(path));
      if (list) list.push(path);
      else byDir.set(dirOf(path), [path]);
    }
    return byDir;
  };
  return ctx.memo ? ctx.memo(`changed-by-dir:${side}`, compute) : compute();
}

/** What the files in the slice declare and use, grown as files join. */
class SliceNames {
  /** package-level names declared, and types with methods */
  readonly declared = new Set<string>();
  readonly uses = new Set<string>();
  readonly callables = new Set<string>();
  readonly started = new Set<string>();
  readonly reconcilers = new Set<string>();
  readonly setups = new Set<string>();
  packageVars = false;

  add(n: GoNames): FreshNames {
    const fresh: FreshNames = { declared: [], uses: new Set(), callables: new Set(), started: new Set() };
    const grow = (set: Set<string>, name: string, into?: Set<string> | string[]) => {
      if (set.has(name)) return;
      set.add(name);
      if (Array.isArray(into)) into.push(name);
      else into?.add(name);
    };
    for (const name of [...n.declared, ...n.receivers]) grow(this.declared, name, fresh.declared);
    for (const name of [...n.uses, ...n.receivers]) grow(this.uses, name, fresh.uses);
    for (const name of [...n.declared, ...n.methods]) grow(this.callables, name, fresh.callables);
    for (const name of n.started) grow(this.started, name, fresh.started);
    for (const name of n.reconcilers) this.reconcilers.add(name);
    for (const name of n.setups) this.setups.add(name);
    this.packageVars ||= n.hasPackageVars;
    return fresh;
  }

  /**
   * A reconciler with no SetupWithManager of its own, a plain function setting owner references, or a
   * package variable written on the reconcile path is judged against every setup of the package.
   */
  needsEverySetup(): boolean {
    return (
      [...this.reconcilers].some((t) => !this.setups.has(t)) ||
      this.uses.has('SetControllerReference') ||
      this.uses.has('SetOwnerReference') ||
      this.packageVars
    );
  }
}

/** Names searched for in a file's text before its identifiers are read instead (one full scan). */
const WORD_SEARCHES = 32;

function closure(
  paths: string[],
  seeds: Set<string>,
  light: Map<string, GoNames>,
  full: (path: string) => GoNames,
  texts: Map<string, string>,
): Set<string> {
  const slice = new Set<string>();
  const queue: string[] = [];
  const join = (path: string) => {
    if (slice.has(path)) return;
    slice.add(path);
    queue.push(path);
  };
  for (const path of seeds) {
    const n = full(path);
    // a change to MaxConcurrentReconciles makes every write of the reconciler race, wherever it is
    if (n.mentionsSetup && n.uses.has('MaxConcurrentReconciles')) return new Set(paths);
    join(path);
  }
  const names = new SliceNames();
  const searched = new Map<string, number>();
  let everySetup = false;
  // each file that joins is compared, by the names it brings, with every file still outside: a file
  // outside meets each name once, whatever the order files join in
  while (queue.length > 0) {
    const fresh = names.add(full(queue.shift()!));
    if (!everySetup && names.needsEverySetup()) {
      everySetup = true;
      for (const path of paths) if (light.get(path)!.mentionsSetup || light.get(path)!.setups.size > 0) join(path);
    }
    for (const path of paths) {
      if (slice.has(path)) continue;
      const n = light.get(path)!;
      if (linked(n, fresh) || usesAny(path, fresh.declared)) join(path);
    }
  }
  return slice;

  /**
   * Does the file use one of `declared`? A search of its text for each as a whole word (it may be in a
   * comment or a string: the file then joins for nothing, never the other way round); past WORD_SEARCHES
   * names, its identifiers, read once.
   */
  function usesAny(path: string, declared: string[]): boolean {
    if (declared.length === 0) return false;
    const count = (searched.get(path) ?? 0) + declared.length;
    searched.set(path, count);
    if (count > WORD_SEARCHES) {
      const uses = full(path).uses;
      return declared.some((name) => uses.has(name));
    }
    const text = texts.get(path)!;
    return declared.some((name) => hasWord(text, name));
  }
}

function linked(n: GoNames, fresh: FreshNames): boolean {
  return (
    // the slice uses what the file declares, or the file has methods on a type the slice knows
    intersects(n.declared, fresh.uses) ||
    intersects(n.receivers, fresh.uses) ||
    // the file starts one of the slice's functions as a goroutine, or declares a method the slice starts
    intersects(n.started, fresh.callables) ||
    intersects(n.methods, fresh.started)
  );
}

/** `name` in `text` as a whole identifier. */
function hasWord(text: string, name: string): boolean {
  for (let at = text.indexOf(name); at !== -1; at = text.indexOf(name, at + 1)) {
    // charCodeAt before the start or past the end is NaN, which is no identifier character
    if (!isIdentPart(text.charCodeAt(at - 1)) && !isIdentPart(text.charCodeAt(at + name.length))) return true;
  }
  return false;
}

function intersects(a: Set<string>, b: Set<string>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const x of small) if (large.has(x)) return true;
  return false;
}
