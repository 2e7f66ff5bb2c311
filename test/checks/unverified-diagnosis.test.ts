// unverified-diagnosis: the fixture table (claims without evidence flagged, every form of evidence and
// every non-diagnostic "because" silent), the shared examples, and acceptance by a stable fingerprint.

import { beforeAll, describe, expect, it } from 'vitest';
import { unverifiedDiagnosis } from '../../checks/unverified-diagnosis.js';
import { DEFAULT_CONFIG } from '../../src/config/schema.js';
import { review } from '../../src/engine/engine.js';
import { memorySnapshot } from '../../src/engine/memory.js';
import { loadGoParser } from '../../src/lang/go.js';
import { describeProblems, loadCases, runCase } from '../support/fixtures.js';

// the engine loads the Go parser when a check reads Go; this check alone declares only 'text',
// and it reads Go to tell whether the diff only raises retries or timeouts
beforeAll(() => loadGoParser());

describe('unverified-diagnosis fixtures', () => {
  for (const c of loadCases('unverified-diagnosis')) {
    it(c.name, async () => {
      const result = await runCase(c, [unverifiedDiagnosis]);
      expect(describeProblems(result)).toBe('');
      if (c.name.startsWith('flag-')) expect(result.findings.length).toBeGreaterThan(0);
      else expect(result.findings).toEqual([]);
    });
  }
});

describe('unverified-diagnosis acceptance', () => {
  const base = { 'pkg/a.go': 'package a\n\nvar x = 1\n' };
  const head = { 'pkg/a.go': 'package a\n\nvar x = 2\n' };
  const claim = 'Root cause: the API server is overloaded during resync and drops our requests.';
  const ai = 'fix\n\nCo-Authored-By: Claude <noreply@anthropic.com>';
  const run = (body: string, acceptances: { fingerprint: string; by: string; reason: string }[] = []) =>
    review(memorySnapshot({ title: 'Fix resync failures', body, base, head, commits: [ai] }), {
      config: structuredClone(DEFAULT_CONFIG),
      checks: [unverifiedDiagnosis],
      acceptances,
    });

  it('keys the finding by the claim, so an acceptance survives an unrelated edit of the body', async () => {
    const first = await run(`${claim}\n\nMore attempts let the resync complete.`);
    expect(first.conclusion).toBe('failure');
    const fingerprint = first.blocking[0]!.fingerprint;

    const edited = `Context: seen on the staging cluster last week.\n\n${claim}\n\nMore attempts let the resync complete, and the\nflag is documented now.`;
    const accepted = await run(edited, [{ fingerprint, by: 'maintainer', reason: 'verified with apiserver metrics' }]);
    expect(accepted.findings).toHaveLength(1);
    expect(accepted.findings[0]!.line).not.toBe(first.findings[0]!.line);
    expect(accepted.accepted.map((f) => f.fingerprint)).toEqual([fingerprint]);
    expect(accepted.blocking).toEqual([]);
    expect(accepted.conclusion).toBe('success');
  });

  it('reports one diagnosis stated in the title, the body and a commit once, and one acceptance covers it', async () => {
    const restated = (message: string) =>
      review(
        memorySnapshot({ title: 'Fix resync: the API server is overloaded', body: `${claim}\n\nMore attempts let the resync complete.`, base, head, commits: [`sync: more attempts, the API server is overloaded during resync\n\n${ai.split('\n\n')[1]}`, message] }),
        { config: structuredClone(DEFAULT_CONFIG), checks: [unverifiedDiagnosis] },
      );
    const verdict = await restated('sync: retry');
    expect(verdict.findings).toHaveLength(1);
    expect(verdict.findings[0]!.message).toMatch(/The same cause is stated 2 more times \(line \d+, commit c0{6}\)/);
    const first = await run(claim);
    expect(verdict.findings[0]!.fingerprint).toBe(first.findings[0]!.fingerprint);
  });

  it('does not carry an acceptance over to a different claim', async () => {
    const first = await run(claim);
    const fingerprint = first.blocking[0]!.fingerprint;
    const other = await run('Root cause: DNS lookups to the API server time out during resync.', [{ fingerprint, by: 'maintainer', reason: 'checked' }]);
    expect(other.blocking).toHaveLength(1);
    expect(other.conclusion).toBe('failure');
  });
});
