// The two Go front-ends on the same files: the JavaScript parser (src/lang/go-syntax.ts) and tree-sitter-go
// in wasm, each parsing every file once (after a warm-up pass), and how many files the JavaScript parser
// gave up on (those go to tree-sitter). The generated operator tree, and Go's own sources where installed
// (BENCH_GO_SOURCES names another directory). Prints figures only.
// Run alone with `node --import tsx bench/go-parser.bench.ts`, or with every bench through bench/run.ts.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGoParser, parseGoWithTreeSitter } from '../src/lang/go.js';
import { parseGoSyntax } from '../src/lang/go-syntax.js';
import { generateTree } from './generate.js';

function goFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'testdata' && name !== '.git') goFiles(path, out);
    } else if (name.endsWith('.go')) out.push(path);
  }
  return out;
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits));

function measure(name: string, texts: string[]): { name: string; figures: Record<string, string | number> } {
  const bytes = texts.reduce((sum, t) => sum + t.length, 0);
  const time = (parse: (text: string) => unknown) => {
    for (const text of texts.slice(0, 200)) parse(text);
    const started = performance.now();
    for (const text of texts) parse(text);
    return performance.now() - started;
  };
  let gaveUp = 0;
  const js = time((text) => {
    if (!parseGoSyntax(text)) gaveUp++;
  });
  gaveUp = 0;
  for (const text of texts) if (!parseGoSyntax(text)) gaveUp++;
  const treeSitter = time((text) => parseGoWithTreeSitter(text).delete());
  return {
    name: `Go parsers on ${name}`,
    figures: {
      files: texts.length,
      MB: round(bytes / 1e6, 2),
      'JavaScript parser s': round(js / 1000, 2),
      'JavaScript parser MB/s': round(bytes / 1e6 / (js / 1000)),
      'tree-sitter (wasm) s': round(treeSitter / 1000, 2),
      'tree-sitter (wasm) MB/s': round(bytes / 1e6 / (treeSitter / 1000)),
      'files the JavaScript parser gave to tree-sitter': `${gaveUp} (${round((100 * gaveUp) / texts.length)}%)`,
    },
  };
}

export async function run(): Promise<{ name: string; figures: Record<string, string | number> }[]> {
  await loadGoParser();
  const results = [];
  const work = mkdtempSync(join(tmpdir(), 'causal-review-parsers-'));
  try {
    generateTree(work, Number(process.env.BENCH_FILES ?? 3000));
    results.push(measure('the generated operator tree', goFiles(work).map((f) => readFileSync(f, 'utf8'))));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const sources = process.env.BENCH_GO_SOURCES ?? ['/usr/lib/go/src', '/usr/local/go/src'].find((dir) => existsSync(dir));
  if (sources) {
    const texts = goFiles(sources)
      .map((f) => readFileSync(f, 'utf8'))
      .filter((t) => t.length <= 1_000_000);
    results.push(measure(sources, texts));
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const result of await run()) {
    process.stdout.write(`\n${result.name}\n`);
    for (const [key, value] of Object.entries(result.figures)) process.stdout.write(`  ${key}  ${value}\n`);
  }
}
