// symptomatic-tuning: the fixture table (raises flagged with before and after; decreases, reformatting,
// new files, new values and evidence in each form silent) and the value parsers it rests on.

import { beforeAll, describe, expect, it } from 'vitest';
import { formatDuration, knobOf, parseDuration, symptomaticTuning } from '../../checks/symptomatic-tuning.js';
import { loadGoParser } from '../../src/lang/go.js';
import { describeProblems, loadCases, runCase } from '../support/fixtures.js';

beforeAll(() => loadGoParser());

describe('symptomatic-tuning fixtures', () => {
  for (const c of loadCases('symptomatic-tuning')) {
    it(c.name, async () => {
      const result = await runCase(c, [symptomaticTuning]);
      expect(describeProblems(result)).toBe('');
      if (c.name.startsWith('flag-')) expect(result.findings.length).toBeGreaterThan(0);
      else expect(result.findings).toEqual([]);
    });
  }
});

describe('symptomatic-tuning values', () => {
  it('parses Go duration strings exactly and rejects anything else', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000_000_000n);
    expect(parseDuration('500ms')).toBe(500_000_000n);
    expect(parseDuration('2.5s')).toBe(2_500_000_000n);
    expect(parseDuration('30')).toBeUndefined();
    expect(parseDuration('30 seconds')).toBeUndefined();
    expect(parseDuration('5x')).toBeUndefined();
  });

  it('formats durations in the largest unit that divides them', () => {
    expect(formatDuration(60_000_000_000n)).toBe('60s');
    expect(formatDuration(180_000_000_000n)).toBe('3m');
    expect(formatDuration(250_000_000n)).toBe('250ms');
  });

  it('knows retry, timeout and probe knobs by name and leaves other numbers alone', () => {
    expect(knobOf('backoffLimit')?.kind).toBe('retries');
    expect(knobOf('MAX_RETRIES')?.kind).toBe('retries');
    expect(knobOf('resyncAttempts')?.kind).toBe('retries');
    expect(knobOf('timeoutSeconds')?.kind).toBe('timeout');
    expect(knobOf('progressDeadlineSeconds')?.kind).toBe('timeout');
    expect(knobOf('initialDelaySeconds')?.kind).toBe('probe');
    expect(knobOf('leader-elect-lease-duration')?.kind).toBe('timeout');
    expect(knobOf('LeaseDuration')?.label).toBe('lease duration');
    expect(knobOf('replicas')).toBeUndefined();
    expect(knobOf('revisionHistoryLimit')).toBeUndefined();
  });
});
