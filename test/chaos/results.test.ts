// results.json: the schema accepts what the runner writes and names the first bad field of what
// it does not; the check-run rendering escapes hostile artifact text and stays within 65,535 chars.

import { describe, expect, test } from 'vitest';
import { MAX_SUMMARY_CHARS, renderChaosSummary, validateResults, type ChaosResults, type ExperimentResult } from '../../src/chaos/results.js';

function experiment(overrides: Partial<ExperimentResult> = {}): ExperimentResult {
  return {
    id: 'kill-operator-force',
    title: 'The operator pod is deleted with grace period 0',
    resource: { apiVersion: 'example.com/v1', kind: 'Widget', namespace: 'demo', name: 'sample' },
    outcome: 'passed',
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 1200,
    convergedMs: 300,
    faults: [{ type: 'delete-pod', target: 'Pod sample-system/op-1', at: '2026-01-01T00:00:00.100Z', detail: 'grace period 0' }],
    invariants: [{ id: 'children', outcome: 'passed', message: '1 ConfigMap in place' }],
    ...overrides,
  };
}

function results(experiments: ExperimentResult[], conclusion: 'success' | 'failure' = 'success'): ChaosResults {
  return {
    schemaVersion: 1,
    tool: { name: 'causal-review', version: '0.1.0' },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    durationMs: 60_000,
    conclusion,
    experiments,
  };
}

describe('validateResults', () => {
  test('accepts a well-formed artifact', () => {
    const value = results([experiment()]);
    expect(validateResults(JSON.parse(JSON.stringify(value)))).toEqual(value);
  });

  const mutations: Array<[string, (r: any) => void, RegExp]> = [
    ['a missing schemaVersion', (r) => delete r.schemaVersion, /results\.schemaVersion: required/],
    ['a future schemaVersion', (r) => (r.schemaVersion = 2), /results\.schemaVersion: must be equal to constant/],
    ['a bad invariant outcome', (r) => (r.experiments[0].invariants[0].outcome = 'ok'), /results\.experiments\[0\]\.invariants\[0\]\.outcome/],
    ['an unknown field', (r) => (r.experiments[0].extra = 1), /results\.experiments\[0\]\.extra: unknown field/],
    ['an oversized message', (r) => (r.experiments[0].invariants[0].message = 'x'.repeat(5000)), /results\.experiments\[0\]\.invariants\[0\]\.message/],
    ['a fault without a target', (r) => delete r.experiments[0].faults[0].target, /results\.experiments\[0\]\.faults\[0\]\.target: required/],
    ['not an object', (r) => (r.experiments = 'all good'), /results\.experiments: must be array/],
  ];
  test.each(mutations)('rejects %s, naming the field', (_what, mutate, message) => {
    const value = JSON.parse(JSON.stringify(results([experiment()])));
    mutate(value);
    expect(() => validateResults(value)).toThrow(message);
  });

  test('rejects a non-object', () => {
    expect(() => validateResults(null)).toThrow(/results: must be object/);
  });
});

describe('renderChaosSummary', () => {
  test('success when every experiment passed, with a table row per experiment', () => {
    const out = renderChaosSummary(results([experiment(), experiment({ id: 'drift-delete-child' })]));
    expect(out.conclusion).toBe('success');
    expect(out.title).toBe('Chaos: 2 of 2 experiments passed');
    expect(out.summary).toMatch(/\| kill\\-operator\\-force \| ✅ passed \| \\- \|/);
    expect(out.summary).toMatch(/### ✅ drift\\-delete\\-child/);
  });

  test('the conclusion is recomputed: an artifact claiming success with a failed experiment fails', () => {
    const failed = experiment({ outcome: 'failed', invariants: [{ id: 'children', outcome: 'failed', message: '2 Deployment owned (want 1)' }] });
    const out = renderChaosSummary(results([experiment({ id: 'baseline' }), failed], 'success'));
    expect(out.conclusion).toBe('failure');
    expect(out.title).toBe('Chaos: 1 of 2 experiments failed');
    // failures come first in the details
    expect(out.summary.indexOf('### ❌')).toBeLessThan(out.summary.indexOf('### ✅'));
  });

  test('no experiment at all is a failure, not a pass', () => {
    expect(renderChaosSummary(results([])).conclusion).toBe('failure');
  });

  test('escapes hostile artifact text for markdown and HTML', () => {
    const hostile = '<script>alert(1)</script> | [click](javascript:alert(1)) @octocat `code`\n# heading <img src=x onerror=alert(1)>';
    const failed = experiment({
      id: `evil|<b>${hostile}`,
      outcome: 'failed',
      reason: hostile,
      faults: [{ type: hostile, target: hostile, at: hostile }],
      invariants: [
        {
          id: `ready${hostile}`,
          outcome: 'failed',
          message: hostile,
          evidence: {
            events: [{ type: 'Warning', reason: hostile, message: hostile, object: hostile }],
            logs: [hostile],
            objects: [{ ref: hostile, state: hostile }],
          },
        },
      ],
    });
    const { summary } = renderChaosSummary(results([failed]));
    expect(summary).not.toMatch(/<script|<img|<b>/i);
    expect(summary).not.toMatch(/\]\(javascript/);
    expect(summary).not.toMatch(/(^|[^\\])@octocat/);
    expect(summary).not.toMatch(/(^|[^\\])`/);
    expect(summary).not.toMatch(/^# heading/m);
    // every table row keeps its column count: no pipe from the artifact survives unescaped
    for (const row of summary.split('\n').filter((l) => l.startsWith('| '))) {
      expect(row.replace(/\\\|/g, '').split('|').length, row).toBe(5);
    }
    expect(summary).toContain('&lt;script&gt;');
  });

  test('stays within 65,535 characters, saying how many experiments it left out', () => {
    const big = Array.from({ length: 200 }, (_, i) =>
      experiment({
        id: `experiment-${i}`,
        outcome: 'failed',
        invariants: Array.from({ length: 20 }, (_, j) => ({
          id: `invariant-${j}`,
          outcome: 'failed' as const,
          message: 'm'.repeat(4000),
          evidence: { events: [], logs: Array.from({ length: 10 }, () => 'l'.repeat(2000)), objects: [] },
        })),
      }),
    );
    const out = renderChaosSummary(results(big));
    expect(out.summary.length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS);
    expect(out.summary).toMatch(/_\d+ more experiments are not shown here/);
    expect(out.conclusion).toBe('failure');
  });
});
