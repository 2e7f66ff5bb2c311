#!/usr/bin/env node
// Entry point. The TypeScript sources run with no build step: on the first run they are bundled with
// esbuild into node_modules/.cache/causal-review/<hash of the sources>/, and later runs load that bundle,
// which starts ~0.2 s sooner than compiling module by module. When no bundle can be made (a read-only
// install, no esbuild) or CAUSAL_REVIEW_NO_BUNDLE is set, tsx runs the sources as they are;
// CAUSAL_REVIEW_BUNDLE_REQUIRED makes a bundle that cannot be made or loaded an error instead (tests).
// first, before anything runs hot: how much V8's optimizing compiler inlines (see there)
import '../src/cli/compiler-budget.js';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// a report that cannot be written (a closed pipe, a full disk) is bad output, not a verdict: one line, exit 2
process.stdout.on('error', (error) => {
  process.stderr.write(`causal-review: cannot write the output to stdout (${error.code ?? error.message}); it is incomplete\n`);
  process.exit(2);
});
const main = await loadMain();
process.exitCode = await main(process.argv.slice(2));

async function loadMain() {
  if (!process.env.CAUSAL_REVIEW_NO_BUNDLE) {
    try {
      const bundle = await bundled();
      if (bundle) return (await import(pathToFileURL(bundle).href)).main;
    } catch (error) {
      // a bundle is only a faster start: the sources run through tsx below (a test asks for the bundle, so
      // that a bundle that fails to load cannot hide behind the slower start)
      if (process.env.CAUSAL_REVIEW_BUNDLE_REQUIRED) throw error;
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  return (await import('../src/cli/main.ts')).main;
}

/** The bundle for the sources as they are now, made if it is not there yet. */
async function bundled() {
  const hash = createHash('sha256').update(process.version).update(root);
  // this file too: it says how the bundle is made
  for (const file of [...sourcesIn(join(root, 'src')), ...sourcesIn(join(root, 'checks')), join(root, 'package.json'), fileURLToPath(import.meta.url)].sort()) {
    hash.update(file).update(readFileSync(file));
  }
  const dir = join(root, 'node_modules', '.cache', 'causal-review', hash.digest('hex').slice(0, 16));
  const entry = join(dir, 'main.js');
  if (existsSync(entry)) return entry;
  const { build } = await import('esbuild');
  const scratch = `${dir}.${process.pid}`;
  await build({
    // the CLI, and the threads it starts for --jobs (src/cli/parallel.ts, src/cli/parse-thread.ts), which then start as fast
    entryPoints: [join(root, 'src', 'cli', 'main.ts'), join(root, 'src', 'cli', 'review-worker.ts'), join(root, 'src', 'cli', 'go-parse-worker.ts')],
    outdir: scratch,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // dependencies stay in node_modules, found from the cache directory as from the sources, except the
    // small pure-JavaScript ones every run loads: from a hundred and fifty files of node_modules they
    // took ~50 ms to load (and a worker thread, which loads them again, longer)
    external: externalPackages(),
    // CommonJS bundled into ES modules asks `require` for Node's own modules
    banner: { js: "import { createRequire as causalReviewRequire } from 'node:module'; const require = causalReviewRequire(import.meta.url);" },
    // the sources find package files relative to their own URL; every such module sits in src/cli or only resolves packages
    define: {
      'import.meta.url': JSON.stringify(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href),
      'globalThis.causalReviewBundledWorker': JSON.stringify(pathToFileURL(join(dir, 'review-worker.js')).href),
      'globalThis.causalReviewBundledParseWorker': JSON.stringify(pathToFileURL(join(dir, 'go-parse-worker.js')).href),
    },
    logLevel: 'silent',
  });
  mkdirSync(dirname(dir), { recursive: true });
  try {
    renameSync(scratch, dir);
  } catch {
    // another process made the same bundle first
    rmSync(scratch, { recursive: true, force: true });
  }
  prune(dirname(dir), dir);
  return existsSync(entry) ? entry : undefined;
}

/** The dependencies left in node_modules (with their subpaths): package.json's, but for the small pure-JavaScript ones every review loads. */
function externalPackages() {
  // (a function's constant: this module's top level is still waiting on loadMain() when it runs)
  const BUNDLED = new Set(['yaml', 'ajv', 'picomatch']);
  const { dependencies = {}, devDependencies = {} } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return Object.keys({ ...dependencies, ...devDependencies })
    .filter((name) => !BUNDLED.has(name))
    .flatMap((name) => [name, `${name}/*`]);
}

/** Bundles of sources edited since: gone after a day (a process started an hour ago may still load from one). */
function prune(cache, keep) {
  for (const name of readdirSync(cache)) {
    const path = join(cache, name);
    if (path !== keep && Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { recursive: true, force: true });
  }
}

function sourcesIn(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourcesIn(path));
    else if (/\.(ts|js|json)$/.test(entry.name)) files.push(path);
  }
  return files;
}
