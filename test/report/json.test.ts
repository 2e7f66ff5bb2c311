// The JSON report holds to the contract in DESIGN.md: conclusion, aiAuthored, findings with six fields.

import { describe, expect, it } from 'vitest';
import { renderJson } from '../../src/report/json.js';
import { GO_WITH_FINDINGS, verdictFor } from './verdicts.js';

describe('json report', () => {
  it('carries the contract fields with their types, plus the documented extras', async () => {
    const verdict = await verdictFor(GO_WITH_FINDINGS, { ai: true, body: 'root cause: the network' });
    const out = JSON.parse(renderJson(verdict));
    expect(out).toMatchObject({ conclusion: 'failure', aiAuthored: true, why: verdict.why });
    expect(out.aiReasons).toEqual(verdict.authorship.reasons);
    expect(out.findings).toHaveLength(3);
    for (const f of out.findings) {
      expect(typeof f.checkId).toBe('string');
      expect(typeof f.path).toBe('string');
      expect(Number.isInteger(f.line)).toBe(true);
      expect(['error', 'warning', 'notice']).toContain(f.severity);
      expect(typeof f.blocking).toBe('boolean');
      expect(typeof f.message).toBe('string');
      expect(f.fingerprint).toMatch(/^[0-9a-f]{12}$/);
    }
    expect(out.findings.map((f: { path: string; line: number; blocking: boolean }) => [f.path, f.line, f.blocking])).toEqual([
      ['pr-text', 1, true],
      ['internal/controller/db.go', 4, true],
      ['internal/controller/db.go', 5, false],
    ]);
    expect(out.findings[2].endLine).toBe(6);
    expect(out.findings[1].evidence).toBe('time.Sleep(time.Second) // MARK');
  });

  it('is neutral, not failure, for the same findings on a PR that is not AI-authored', async () => {
    const out = JSON.parse(renderJson(await verdictFor(GO_WITH_FINDINGS)));
    expect(out).toMatchObject({ conclusion: 'neutral', aiAuthored: false });
    expect(out.findings[0].blocking).toBe(true);
  });
});
