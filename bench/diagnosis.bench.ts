// Pathological PR bodies through unverified-diagnosis and symptomatic-tuning: the time per body shows that
// the claim scanner and the evidence detector stay linear on 65,536 characters of hostile text.
// Run alone with `node --import tsx bench/diagnosis.bench.ts`, or with every bench through bench/run.ts.

import { symptomaticTuning } from '../checks/symptomatic-tuning.js';
import { unverifiedDiagnosis } from '../checks/unverified-diagnosis.js';
import { findClaims } from '../src/analysis/claims.js';
import { prText, splitMarkdown, textEvidence } from '../src/analysis/evidence.js';
import { DEFAULT_CONFIG } from '../src/config/schema.js';
import { review } from '../src/engine/engine.js';
import { memorySnapshot } from '../src/engine/memory.js';
import { loadGoParser } from '../src/lang/go.js';

const SIZE = 65_536;
const fill = (unit: string) => unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE);

/** Bodies built to hit the worst case of each scanner. */
const BODIES: Record<string, string> = {
  'because x8192': fill('because '),
  'one sentence of markers': fill('root cause due to api server overload because network partition caused by '),
  'tiny sentences': fill('Fails. '),
  'one line per sentence': fill('It fails because DNS.\n'),
  'nested and unclosed fences': fill('```\n````go\n~~~\n  ```` x\n'),
  '60k backticks on one line': `Root cause: DNS. ${'`'.repeat(60_000)}`,
  'alternating backtick runs': fill('` `` ``` '),
  'quoted errors without a place': fill('`connection refused error` '),
  'many links': fill('https://example.com/docs/page-that-is-not-evidence '),
  'one huge fence of code': `Root cause: a memory leak.\n\`\`\`go\n${fill('x := f(a, b) // connection refused\n')}`,
  'numbers and tools': fill('heap 12Mi p99 3s metrics 85% '),
  'realistic claim and log': `# Fix resync\n\nRoot cause: the API server is overloaded.\n\n\`\`\`\n${fill('E1104 10:02:11.482913 1 controller.go:329] "Reconciler error" err="429 Too Many Requests"\n')}`,
};

const ROUNDS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function run(): Promise<{ name: string; figures: Record<string, string | number> }[]> {
  await loadGoParser();
  const base = { 'deploy/values.yaml': 'operator:\n  resources:\n    limits:\n      memory: 256Mi\n' };
  const head = { 'deploy/values.yaml': 'operator:\n  resources:\n    limits:\n      memory: 1Gi\n' };
  const results: { name: string; figures: Record<string, string | number> }[] = [];
  for (const [name, body] of Object.entries(BODIES)) {
    const scan: number[] = [];
    const engine: number[] = [];
    let claims = 0;
    let evidence = 0;
    let findings = 0;
    for (let round = 0; round < ROUNDS; round++) {
      let t = performance.now();
      const text = prText({ title: 'Fix flaky resync', body, commits: [] });
      const markdown = splitMarkdown(text);
      claims = findClaims(text, markdown).length;
      evidence = textEvidence(text, markdown).length;
      scan.push(performance.now() - t);
      t = performance.now();
      const verdict = await review(memorySnapshot({ title: 'Fix flaky resync', body, base, head }), {
        config: structuredClone(DEFAULT_CONFIG),
        checks: [unverifiedDiagnosis, symptomaticTuning],
      });
      engine.push(performance.now() - t);
      findings = verdict.findings.length;
    }
    results.push({
      name: `diagnosis: ${name}`,
      figures: {
        chars: body.length,
        'scan ms (median)': Number(median(scan).toFixed(2)),
        'review ms (median)': Number(median(engine).toFixed(2)),
        claims,
        evidence,
        findings,
      },
    });
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) console.log(r.name.padEnd(44), JSON.stringify(r.figures));
}
