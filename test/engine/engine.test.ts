// The engine's own contracts: changed lines only, suppressions, internal errors, acceptances, policy.

import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type Config } from '../../src/config/schema.js';
import { conclude, review } from '../../src/engine/engine.js';
import { memorySnapshot } from '../../src/engine/memory.js';
import type { Check } from '../../src/engine/types.js';

/** Reports every line containing MARK: a stand-in check, so the tests are about the engine. */
const markCheck: Check = {
  id: 'sleep-fix',
  title: 'Test check',
  docs: { summary: '', bad: { language: 'go', code: '' }, good: { language: 'go', code: '' } },
  defaultSeverity: 'error',
  languages: ['go'],
  run(ctx) {
    for (const file of ctx.files) {
      file.lines.forEach((line, i) => {
        if (line.includes('MARK')) ctx.report({ path: file.path, line: i + 1, message: 'marked' });
      });
    }
  },
};

const config = (over: Partial<Config> = {}): Config => ({ ...structuredClone(DEFAULT_CONFIG), ...over });
const go = (...lines: string[]) => ['package a', '', ...lines, ''].join('\n');
const claude = 'fix\n\nCo-Authored-By: Claude <noreply@anthropic.com>';

describe('engine', () => {
  it('reports only on lines the PR adds or changes', async () => {
    const snapshot = memorySnapshot({ base: { 'a.go': go('// MARK old') }, head: { 'a.go': go('// MARK old', '// MARK new') } });
    const verdict = await review(snapshot, { config: config(), checks: [markCheck] });
    expect(verdict.findings.map((f) => f.line)).toEqual([4]);
  });

  it('honours a suppression with a reason and reports one without', async () => {
    const head = go('// causal-review:ignore sleep-fix -- waits for the hardware clock, not a race', '// MARK one', '// MARK two // causal-review:ignore sleep-fix');
    const verdict = await review(memorySnapshot({ base: {}, head: { 'a.go': head } }), { config: config(), checks: [markCheck] });
    expect(verdict.findings.map((f) => [f.checkId, f.line])).toEqual([
      ['sleep-fix', 5],
      ['suppression', 5],
    ]);
  });

  it('reports a suppression that matches nothing', async () => {
    const head = go('// causal-review:ignore sleep-fix -- no longer needed', 'var x = 1');
    const verdict = await review(memorySnapshot({ base: {}, head: { 'a.go': head } }), { config: config(), checks: [markCheck] });
    expect(verdict.findings.map((f) => f.checkId)).toEqual(['suppression']);
    expect(verdict.findings[0]!.message).toMatch(/matches no finding/);
  });

  it('turns a throwing check into an internal-error finding that names it', async () => {
    const broken: Check = { ...markCheck, id: 'event-ordering', run: () => { throw new Error('boom'); } };
    const verdict = await review(memorySnapshot({ base: {}, head: { 'a.go': go() }, commits: [claude] }), { config: config(), checks: [broken] });
    expect(verdict.findings).toHaveLength(1);
    expect(verdict.findings[0]).toMatchObject({ checkId: 'internal-error', blocking: true });
    expect(verdict.findings[0]!.message).toContain('event-ordering');
    expect(verdict.conclusion).toBe('failure');
  });

  it('turns a check that overruns its budget into an internal-error finding', async () => {
    let t = 0;
    const slow: Check = { ...markCheck, run: (ctx) => { t += 50_000; ctx.checkBudget(); } };
    const verdict = await review(memorySnapshot({ base: {}, head: { 'a.go': go() } }), { config: config(), checks: [slow], now: () => t });
    expect(verdict.findings[0]!.message).toMatch(/time budget/);
  });

  it('reports accepted findings as accepted, not blocking', async () => {
    const snapshot = memorySnapshot({ base: {}, head: { 'a.go': go('// MARK') }, commits: [claude] });
    const first = await review(snapshot, { config: config(), checks: [markCheck] });
    const fingerprint = first.findings[0]!.fingerprint;
    const second = await review(snapshot, { config: config(), checks: [markCheck], acceptances: [{ fingerprint, by: 'alice', reason: 'verified with pprof' }] });
    expect(first.conclusion).toBe('failure');
    expect(second.conclusion).toBe('success');
    expect(second.accepted[0]!.accepted).toMatchObject({ by: 'alice' });
  });

  it('keeps fingerprints stable when lines move', async () => {
    const a = await review(memorySnapshot({ base: {}, head: { 'a.go': go('// MARK x') } }), { config: config(), checks: [markCheck] });
    const b = await review(memorySnapshot({ base: {}, head: { 'a.go': go('', '', '// MARK x') } }), { config: config(), checks: [markCheck] });
    expect(a.findings[0]!.fingerprint).toBe(b.findings[0]!.fingerprint);
    expect(a.findings[0]!.line).not.toBe(b.findings[0]!.line);
  });

  it('skips disabled checks and ignored paths', async () => {
    const head = { 'a.go': go('// MARK'), 'vendor/x/b.go': go('// MARK') };
    const off = await review(memorySnapshot({ base: {}, head }), { config: config({ checks: { 'sleep-fix': { enabled: false } } }), checks: [markCheck] });
    const on = await review(memorySnapshot({ base: {}, head }), { config: config(), checks: [markCheck] });
    expect(off.findings).toEqual([]);
    expect(on.findings.map((f) => f.path)).toEqual(['a.go']);
  });
});

describe('policy', () => {
  const ai = { aiAuthored: true, reasons: ['trailer'] };
  const human = { aiAuthored: false, reasons: [] };
  it.each([
    ['ai-authored', ai, 1, 'failure'],
    ['ai-authored', human, 1, 'neutral'],
    ['ai-authored', ai, 0, 'success'],
    ['all', human, 1, 'failure'],
    ['none', ai, 1, 'neutral'],
    ['none', ai, 0, 'success'],
  ] as const)('enforce %s, %o, %i blocking -> %s', (enforce, authorship, blocking, expected) => {
    expect(conclude(enforce, authorship, blocking).conclusion).toBe(expected);
  });
});
