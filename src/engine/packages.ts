// A Go package as the engine and the checks see it before any parse: its files, and whether any of them
// says a check's words (a package gate).

import type { CheckContext, Revision } from './types.js';

/** Files a package gate asks git for at once (see packageSays). */
const GATE_BATCH = 8;

/**
 * Does any Go file of the package in `dir` (tests included) say something `words` matches? A check whose
 * findings all need such a word somewhere in the package (a `go` statement, a Reconcile, a time.Sleep)
 * skips a package that never says one, without parsing it: most of a whole-tree scan of libraries (the
 * engine asks the same of the packages it would hand to a parse thread: Check.goPackageGate). Read at
 * head, once per review (a `snapshot:` memo, shared by its parts); `words` must not be global (`g`).
 */
export function packageSays(ctx: Pick<CheckContext, 'list' | 'read' | 'memo'>, dir: string, words: RegExp): Promise<boolean> {
  const compute = async () => {
    const paths = await goFilesIn(ctx, dir);
    // asked GATE_BATCH at a time: git answers a batch in one pipelined go, not a round trip each, and a
    // package that says the word early (most packages a PR touches) is not read to its end
    for (let i = 0; i < paths.length; i += GATE_BATCH) {
      const texts = await Promise.all(paths.slice(i, i + GATE_BATCH).map((path) => ctx.read(path)));
      if (texts.some((text) => text !== undefined && words.test(text))) return true;
    }
    return false;
  };
  return ctx.memo ? ctx.memo(`snapshot:package-says:${words.source}:${dir}`, compute) : compute();
}

/** The Go files directly in `dir` (a package: not those of its subdirectories), tests included, at `rev`. */
export async function goFilesIn(ctx: Pick<CheckContext, 'list'>, dir: string, rev: Revision = 'head'): Promise<string[]> {
  const prefix = dir === '' ? '' : `${dir}/`;
  return (await ctx.list(dir, rev)).filter((p) => p.startsWith(prefix) && p.endsWith('.go') && !p.slice(prefix.length).includes('/'));
}
