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
  const full = (path: string) => {
    const key = `go-names:${seeds.has(path) ? side : 'unchanged'}:${path}`;
    return ctx.memo ? ctx.memo(key, () => goNames(texts.get(path)!)) : goNames(texts.get(path)!);
  };
  const slice = closure(capped, seeds, light, full, texts);
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

function closure(
  paths: string[],
  seeds: Set<string>,
  light: Map<string, GoNames>,
  full: (path: string) => GoNames,
  texts: Map<string, string>,
): Set<string> {
  const slice = new Set(seeds);
  const sliceNames = new SliceNames();
  for (const path of seeds) {
    const n = full(path);
    // a change to MaxConcurrentReconciles makes every write of the reconciler race, wherever it is
    if (n.mentionsSetup && n.uses.has('MaxConcurrentReconciles')) return new Set(paths);
    sliceNames.add(n);
  }
  for (let grew = true; grew; ) {
    grew = false;
    // a reconciler with no SetupWithManager of its own, a plain function setting owner references, or a
    // package variable written on the reconcile path is judged against every setup of the package
    const needsSetups =
      [...sliceNames.reconcilers].some((t) => !sliceNames.setups.has(t)) ||
      sliceNames.uses.has('SetControllerReference') ||
      sliceNames.uses.has('SetOwnerReference') ||
      [...slice].some((p) => light.get(p)!.hasPackageVars);
    const declared = [...sliceNames.declared];
    for (const path of paths) {
      if (slice.has(path)) continue;
      const n = light.get(path)!;
      const joins =
        linked(n, sliceNames) ||
        // the file uses a name the slice declares: as a word of its text, which may also be in a comment or
        // a string (the file then joins for nothing, at the cost of a parse, never the other way round)
        declared.some((name) => hasWord(texts.get(path)!, name)) ||
        (needsSetups && (n.mentionsSetup || n.setups.size > 0));
      if (!joins) continue;
      slice.add(path);
      sliceNames.add(full(path));
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
    // the file starts one of the slice's functions as a goroutine, or declares a method the slice starts
    intersects(n.started, s.callables) ||
    intersects(n.methods, s.started)
  );
}

/** `name` in `text` as a whole identifier. */
export function hasWord(text: string, name: string): boolean {
  for (let at = text.indexOf(name); at !== -1; at = text.indexOf(name, at + 1)) {
    if (!isWordChar(text.charCodeAt(at - 1)) && !isWordChar(text.charCodeAt(at + name.length))) return true;
  }
  return false;
}

function isWordChar(c: number): boolean {
  // NaN (before the start, past the end) is not
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
}

function intersects(a: Set<string>, b: Set<string>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const x of small) if (large.has(x)) return true;
  return false;
}
