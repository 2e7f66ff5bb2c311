// Which files of a Go package a review has to parse. The package analyses (the reconcile path, struct
// fields, goroutine starts, package variables, controller setups) resolve everything by name, so a file
// that shares no name with the changed files, directly or through other files, cannot change what they
// find on the changed lines. The slice is that closure, computed from names read without a parse
// (src/lang/go-names.ts): a PR touching one controller of a 75-file package parses that controller and
// what it reaches, not the 74 others. docs/precision.md measures it against the whole package.

import type { CheckContext, Side } from '../engine/types.js';
import { goNames, type GoNames } from '../lang/go-names.js';

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
  const prefix = dir === '' ? '' : `${dir}/`;
  const listed = new Set(paths);
  const seeds = new Set<string>();
  for (const change of ctx.changes) {
    const path = side === 'head' ? (change.status === 'removed' ? undefined : change.path) : change.status === 'added' ? undefined : (change.previousPath ?? change.path);
    if (path?.startsWith(prefix) && !path.slice(prefix.length).includes('/') && listed.has(path) && seeds.size < cap) seeds.add(path);
  }
  // the changed files always count; the cap falls on the others
  let room = cap - seeds.size;
  const capped = paths.filter((p) => seeds.has(p) || room-- > 0);
  if (!slicing || seeds.size === 0 || seeds.size === capped.length) return capped;
  const names = new Map<string, GoNames>();
  await Promise.all(
    capped.map(async (path) => {
      const compute = async () => goNames((await ctx.read(path, side)) ?? '');
      // a file the PR does not change has the same names on both sides
      const key = `go-names:${seeds.has(path) ? side : 'unchanged'}:${path}`;
      names.set(path, await (ctx.memo ? ctx.memo(key, compute) : compute()));
    }),
  );
  const slice = closure(capped, seeds, names);
  return capped.filter((p) => slice.has(p));
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

  add(n: GoNames): void {
    for (const name of n.declared) this.declared.add(name);
    for (const name of n.receivers) {
      this.declared.add(name);
      this.uses.add(name);
    }
    for (const name of n.uses) this.uses.add(name);
    for (const name of n.declared) this.callables.add(name);
    for (const name of n.methods) this.callables.add(name);
    for (const name of n.started) this.started.add(name);
    for (const name of n.reconcilers) this.reconcilers.add(name);
    for (const name of n.setups) this.setups.add(name);
  }
}

function closure(paths: string[], seeds: Set<string>, names: Map<string, GoNames>): Set<string> {
  const slice = new Set(seeds);
  const sliceNames = new SliceNames();
  for (const path of seeds) sliceNames.add(names.get(path)!);
  // a change to MaxConcurrentReconciles makes every write of the reconciler race, wherever it is
  for (const path of seeds) if (names.get(path)!.mentionsSetup && names.get(path)!.uses.has('MaxConcurrentReconciles')) return new Set(paths);
  for (let grew = true; grew; ) {
    grew = false;
    // a reconciler with no SetupWithManager of its own, a plain function setting owner references, or a
    // package variable written on the reconcile path is judged against every setup of the package
    const needsSetups =
      [...sliceNames.reconcilers].some((t) => !sliceNames.setups.has(t)) ||
      sliceNames.uses.has('SetControllerReference') ||
      sliceNames.uses.has('SetOwnerReference') ||
      [...slice].some((p) => names.get(p)!.hasPackageVars);
    for (const path of paths) {
      if (slice.has(path)) continue;
      const n = names.get(path)!;
      if (!linked(n, sliceNames) && !(needsSetups && (n.mentionsSetup || n.setups.size > 0))) continue;
      slice.add(path);
      sliceNames.add(n);
      grew = true;
    }
  }
  return slice;
}

function linked(n: GoNames, s: SliceNames): boolean {
  return (
    // the slice uses what the file declares, or the file has methods on a type the slice knows
    intersects(n.declared, s.uses) ||
    intersects(n.receivers, s.uses) ||
    // the file uses what the slice declares
    intersects(n.uses, s.declared) ||
    // the file starts one of the slice's functions as a goroutine, or declares a method the slice starts
    intersects(n.started, s.callables) ||
    intersects(n.methods, s.started)
  );
}

function intersects(a: Set<string>, b: Set<string>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const x of small) if (large.has(x)) return true;
  return false;
}
