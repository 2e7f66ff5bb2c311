// SARIF output validated against the official SARIF 2.1.0 schema (shipped in @microsoft/jest-sarif)
// and against what GitHub code scanning documents as required for an upload.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../checks/index.js';
import { PR_TEXT_SARIF_URI, toSarif } from '../../src/report/sarif.js';
import { GO_WITH_FINDINGS, markCheck, verdictFor } from './verdicts.js';

const require = createRequire(import.meta.url);
const schema = JSON.parse(readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'));
// the schema is draft-04: its `id` and `$schema` are the only draft-04 keywords it uses that Ajv 8 rejects
delete schema.$schema;
delete schema.id;
// one of its patterns is not valid with the `u` flag Ajv 8 adds by default
const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
(addFormats as unknown as (a: Ajv) => void)(ajv);
const validate = ajv.compile(schema);

describe('sarif report', () => {
  it('validates against the SARIF 2.1.0 schema, with file, PR-text and accepted findings', async () => {
    const verdict = await verdictFor({ ...GO_WITH_FINDINGS, 'dir with space/ü.go': 'package a\n// MARK\n' }, { ai: true, body: 'root cause: x' });
    verdict.findings[1]!.accepted = { fingerprint: verdict.findings[1]!.fingerprint, by: 'alice', reason: 'checked with pprof' };
    const log = toSarif(verdict, { checks: [markCheck, ...CHECKS.filter((c) => c.id !== markCheck.id)], version: '1.2.3', docsUrl: 'https://example.com/docs/checks.md' });
    const valid = validate(log);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // and the validator does reject what GitHub would: a bad level, a result without a message
    const broken = structuredClone(log);
    (broken.runs[0]!.results[0] as { level: string }).level = 'fatal';
    delete (broken.runs[0]!.results[1] as { message?: unknown }).message;
    expect(validate(broken)).toBe(false);
  });

  it('has what GitHub code scanning needs on every rule and result', async () => {
    const verdict = await verdictFor({ ...GO_WITH_FINDINGS, 'dir with space/ü.go': 'package a\n// MARK\n' }, { ai: true, body: 'root cause: x' });
    const log = toSarif(verdict, { checks: [markCheck], version: '1.2.3' });
    expect(log.version).toBe('2.1.0');
    const run = log.runs[0]!;
    expect(run.tool.driver.name).toBe('causal-review');
    const rule = run.tool.driver.rules.find((r) => r.id === 'sleep-fix')!;
    expect(rule).toMatchObject({
      shortDescription: { text: 'Sleep used to fix a race' },
      fullDescription: { text: 'Flags waits added to fix races.' },
      defaultConfiguration: { level: 'error' },
    });
    expect(rule.help.markdown).toContain('```go\ntime.Sleep(5 * time.Second)\n```');
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual(expect.arrayContaining(['internal-error', 'suppression']));
    expect(run.results).toHaveLength(verdict.findings.length);
    for (const [i, result] of run.results.entries()) {
      const f = verdict.findings[i]!;
      expect(result.ruleId).toBe(f.checkId);
      expect(run.tool.driver.rules[result.ruleIndex!]!.id).toBe(f.checkId);
      expect(result.message.text).toBe(f.message);
      expect(result.partialFingerprints['causalReview/v1']).toBe(f.fingerprint);
      const location = result.locations[0]!.physicalLocation;
      expect(location.region.startLine).toBeGreaterThanOrEqual(1);
      expect(location.artifactLocation.uri).not.toMatch(/^\//);
    }
    const uris = run.results.map((r) => r.locations[0]!.physicalLocation.artifactLocation.uri);
    expect(uris).toEqual([PR_TEXT_SARIF_URI, 'dir%20with%20space/%C3%BC.go', 'internal/controller/db.go', 'internal/controller/db.go']);
    expect(run.results.map((r) => r.level)).toEqual(['error', 'error', 'error', 'warning']);
  });

  it('gives every registered check a rule built from its docs', () => {
    const log = toSarif({ conclusion: 'success', why: '', authorship: { aiAuthored: false, reasons: [] }, blocking: [], advisory: [], accepted: [], findings: [], notes: [] }, { checks: CHECKS, version: '0' });
    expect(log.runs[0]!.tool.driver.rules.map((r) => r.id)).toEqual([...CHECKS.map((c) => c.id), 'internal-error', 'suppression']);
    expect(validate(log)).toBe(true);
  });
});
