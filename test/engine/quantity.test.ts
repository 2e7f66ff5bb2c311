import { describe, expect, it } from 'vitest';
import { formatQuantity, parseQuantity } from '../../src/lang/quantity.js';

describe('parseQuantity', () => {
  it.each([
    ['250m', 250_000_000n],
    ['1', 1_000_000_000n],
    ['1.5', 1_500_000_000n],
    ['0.1', 100_000_000n],
    ['1Ki', 1024n * 10n ** 9n],
    ['1.5Gi', 1536n * 1024n * 1024n * 10n ** 9n],
    ['2e3', 2000n * 10n ** 9n],
    ['1E-3', 1_000_000n],
    ['1k', 1000n * 10n ** 9n],
    ['128M', 128n * 10n ** 15n],
    ['1n', 1n],
    ['0.5n', 1n],
    [3, 3n * 10n ** 9n],
  ])('%s', (text, nanos) => {
    expect(parseQuantity(text)?.nanos).toBe(nanos);
  });

  it.each(['', 'abc', '1Qi', '1.2.3', '--1', 'e3', '1e99999'])('rejects %j', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });

  it('formats for messages', () => {
    expect(formatQuantity(parseQuantity('1500m')!.nanos, 'cpu')).toBe('1500m');
    expect(formatQuantity(parseQuantity('2')!.nanos, 'cpu')).toBe('2');
    expect(formatQuantity(parseQuantity('1Gi')!.nanos, 'memory')).toBe('1Gi');
    expect(formatQuantity(parseQuantity('768Mi')!.nanos, 'memory')).toBe('768Mi');
  });
});
