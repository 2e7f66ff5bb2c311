// Does slicing packages change a finding? For each Go package under the directories given (e.g. a
// checkout, /usr/share/gocode/src, /usr/lib/go/src), a review of the package as if a PR added it finds
// the files with findings; each such file is then the only change of a PR over the rest of its package,
// reviewed with whole packages and with slices. Prints every difference and the totals.
//   node --import tsx bench/slice-audit.ts DIR...

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CHECKS } from '../checks/index.js';
import { setPackageSlicing } from '../src/analysis/package-slice.js';
import { DEFAULT_CONFIG } from '../src/config/schema.js';
import { review } from '../src/engine/engine.js';
import { memorySnapshot, type FileTree } from '../src/engine/memory.js';
import { PR_TEXT_PATH } from '../src/engine/types.js';

const config = structuredClone(DEFAULT_CONFIG);
// time is not what is compared: no check may stop at its budget on a large package
config.limits.checkTimeoutMs = 600_000;

function packagesUnder(dir: string, out: string[] = []): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  if (entries.filter((e) => e.isFile() && e.name.endsWith('.go') && !e.name.endsWith('_test.go')).length >= 2) out.push(dir);
  for (const e of entries) if (e.isDirectory() && e.name !== 'testdata' && e.name !== 'vendor') packagesUnder(join(dir, e.name), out);
  return out;
}

const summary = (findings: { checkId: string; path: string; line: number; message: string }[]) =>
  findings.map((f) => `${f.checkId} ${f.path}:${f.line} ${f.message}`).sort();

let packages = 0;
let reviews = 0;
let differences = 0;
let compared = 0;
for (const root of process.argv.slice(2)) {
  for (const dir of packagesUnder(root)) {
    const head: FileTree = {};
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.go')).sort().slice(0, 60)) {
      if (statSync(join(dir, name)).size < 300_000) head[relative(root, join(dir, name))] = readFileSync(join(dir, name), 'utf8');
    }
    const added = await review(memorySnapshot({ base: {}, head, title: 'audit', body: '', commits: ['audit'] }), { config, checks: CHECKS });
    const withFindings = [...new Set(added.findings.filter((f) => f.path !== PR_TEXT_PATH).map((f) => f.path))];
    if (withFindings.length === 0) continue;
    packages++;
    for (const only of withFindings) {
      const base = { ...head };
      delete base[only];
      const pr = { base, head, title: 'change', body: '', commits: ['change'] };
      setPackageSlicing(false);
      const whole = summary((await review(memorySnapshot(pr), { config, checks: CHECKS })).findings);
      setPackageSlicing(true);
      const sliced = summary((await review(memorySnapshot(pr), { config, checks: CHECKS })).findings);
      reviews++;
      compared += whole.length;
      if (JSON.stringify(whole) !== JSON.stringify(sliced)) {
        differences++;
        process.stdout.write(`DIFFERENT ${only}\n  whole only: ${whole.filter((x) => !sliced.includes(x)).join('\n    ')}\n  sliced only: ${sliced.filter((x) => !whole.includes(x)).join('\n    ')}\n`);
      }
    }
  }
}
process.stdout.write(`${JSON.stringify({ packagesWithFindings: packages, reviews, findingsCompared: compared, differences })}\n`);
