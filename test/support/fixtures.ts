// Fixture cases for checks: a folder per case under test/fixtures/<check-id>/, laid out like
// ../shared/examples (base/, optional step1/.., head/, pr.md, optional config.yml, want.json),
// with expectations inline in the head files: `// want <check-id> "message regexp"` (or `# want`).
// An unexpected finding and an unmet expectation both fail, as in analysistest.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readTree } from '../../src/cli/demo.js';
import { DEFAULT_CONFIG, parseConfig, type Config } from '../../src/config/schema.js';
import { review } from '../../src/engine/engine.js';
import { memorySnapshot, parsePrMarkdown, type FileTree, type MemoryPullRequest } from '../../src/engine/memory.js';
import type { Check, ReviewedFinding, Verdict } from '../../src/engine/types.js';

export { readTree };

export const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;

export interface Want {
  path: string;
  line?: number;
  checkId: string;
  message?: RegExp;
}

export interface FixtureCase {
  name: string;
  dir: string;
  pr: MemoryPullRequest;
  config: Config;
  wants: Want[];
}

const WANT = /(?:\/\/|#|\/\*|<!--)\s*want\s+([a-z][a-z-]*(?:\s*,\s*[a-z][a-z-]*)*)(?:\s+"((?:[^"\\]|\\.)*)")?/;

/** `want` annotations in a head tree: each names the line it sits on. */
export function wantsIn(tree: FileTree): Want[] {
  const wants: Want[] = [];
  for (const [path, text] of Object.entries(tree)) {
    text.split('\n').forEach((line, i) => {
      const m = WANT.exec(line);
      if (!m) return;
      for (const checkId of m[1]!.split(',').map((s) => s.trim())) {
        wants.push({ path, line: i + 1, checkId, ...(m[2] ? { message: new RegExp(m[2]) } : {}) });
      }
    });
  }
  return wants;
}

export function loadCase(dir: string, name = dir.split('/').pop()!): FixtureCase {
  const head = readTree(join(dir, 'head'));
  const steps = readdirSync(dir)
    .filter((d) => /^step\d+$/.test(d))
    .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))
    .map((d) => readTree(join(dir, d)));
  const prFile = join(dir, 'pr.md');
  const pr = existsSync(prFile) ? parsePrMarkdown(readFileSync(prFile, 'utf8')) : { title: '', body: '', commits: [] };
  const configFile = join(dir, 'config.yml');
  const config = existsSync(configFile) ? parseConfig(readFileSync(configFile, 'utf8'), configFile) : structuredClone(DEFAULT_CONFIG);
  const wantFile = join(dir, 'want.json');
  const extra: Want[] = existsSync(wantFile)
    ? (JSON.parse(readFileSync(wantFile, 'utf8')) as { path: string; line?: number; checkId: string; message?: string }[]).map((w) => ({
        ...w,
        message: w.message ? new RegExp(w.message) : undefined,
      }))
    : [];
  return {
    name,
    dir,
    pr: {
      title: pr.title,
      body: pr.body,
      base: readTree(join(dir, 'base')),
      steps,
      head,
      commits: pr.commits.length ? pr.commits : ['change'],
    },
    config,
    wants: [...wantsIn(head), ...extra],
  };
}

/** Every case folder of a check, sorted by name. */
export function loadCases(checkId: string): FixtureCase[] {
  const root = join(FIXTURES, checkId);
  return readdirSync(root)
    .filter((d) => statSync(join(root, d)).isDirectory())
    .sort()
    .map((d) => loadCase(join(root, d)));
}

export interface CaseResult {
  verdict: Verdict;
  findings: ReviewedFinding[];
  unexpected: ReviewedFinding[];
  unmet: Want[];
}

export async function runCase(c: FixtureCase, checks: readonly Check[]): Promise<CaseResult> {
  const verdict = await review(memorySnapshot(c.pr), { config: c.config, checks });
  const findings = verdict.findings;
  const matches = (w: Want, f: ReviewedFinding) =>
    w.checkId === f.checkId && w.path === f.path && (w.line === undefined || w.line === f.line) && (!w.message || w.message.test(f.message));
  const unmet = c.wants.filter((w) => !findings.some((f) => matches(w, f)));
  const unexpected = findings.filter((f) => !c.wants.some((w) => matches(w, f)));
  return { verdict, findings, unexpected, unmet };
}

/** A readable line per problem, for assertion messages. */
export function describeProblems(r: CaseResult): string {
  return [
    ...r.unexpected.map((f) => `unexpected ${f.checkId} at ${f.path}:${f.line}: ${f.message}`),
    ...r.unmet.map((w) => `missing ${w.checkId} at ${w.path}:${w.line ?? '*'}${w.message ? ` matching ${w.message}` : ''}`),
  ].join('\n');
}

/**
 * A case with text replaced in one head file and no expectations: a near-miss with the thing that
 * keeps it silent taken out, to show the silence has that reason. Throws when a text is not there.
 */
export function withEdits(c: FixtureCase, path: string, edits: readonly (readonly [string, string])[]): FixtureCase {
  let text = c.pr.head[path];
  if (text === undefined) throw new Error(`${c.name}: no head file ${path}`);
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`${c.name}: ${path} does not contain ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  return { ...c, pr: { ...c.pr, head: { ...c.pr.head, [path]: text } }, wants: [] };
}
