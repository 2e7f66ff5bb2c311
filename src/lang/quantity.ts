// Kubernetes resource quantities ("250m", "1.5Gi", "2e3", "1k"), parsed exactly: the value is a
// bigint count of nano-units, so sums and comparisons never lose precision to floating point.

const BINARY: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const NANO = 10n ** 9n;

export interface Quantity {
  /** value x 10^9, rounded up as Kubernetes rounds */
  nanos: bigint;
  text: string;
}

/** Parse a quantity; undefined when it is not one (the caller names the bad input). */
export function parseQuantity(input: string | number): Quantity | undefined {
  const text = String(input).trim();
  if (text.length === 0 || text.length > 64) return undefined;
  let i = 0;
  let negative = false;
  if (text[i] === '+' || text[i] === '-') negative = text[i++] === '-';
  let digits = '';
  let fraction = '';
  while (i < text.length && text[i]! >= '0' && text[i]! <= '9') digits += text[i++];
  if (text[i] === '.') {
    i++;
    while (i < text.length && text[i]! >= '0' && text[i]! <= '9') fraction += text[i++];
  }
  if (digits === '' && fraction === '') return undefined;
  const suffix = text.slice(i);
  let exponent = 0;
  let multiplier = 1n;
  if (suffix in BINARY) multiplier = BINARY[suffix]!;
  else if (suffix in DECIMAL) exponent = DECIMAL[suffix]!;
  else if (/^[eE][+-]?\d{1,3}$/.test(suffix)) exponent = Number(suffix.slice(1));
  else return undefined;
  // mantissa as an integer with `fraction.length` decimals, scaled to nano-units
  const mantissa = BigInt((digits || '0') + fraction) * multiplier;
  const scale = exponent + 9 - fraction.length;
  let nanos: bigint;
  if (scale >= 0) nanos = mantissa * 10n ** BigInt(scale);
  else {
    const divisor = 10n ** BigInt(-scale);
    nanos = mantissa / divisor + (mantissa % divisor === 0n ? 0n : 1n);
  }
  return { nanos: negative ? -nanos : nanos, text };
}

/** A readable form of a nano-unit value for messages: CPU in cores or millicores, memory in Mi/Gi. */
export function formatQuantity(nanos: bigint, kind: 'cpu' | 'memory' | 'count' = 'count'): string {
  if (kind === 'cpu') {
    const milli = nanos / 1_000_000n + (nanos % 1_000_000n === 0n ? 0n : 1n);
    return milli % 1000n === 0n ? `${milli / 1000n}` : `${milli}m`;
  }
  if (kind === 'memory') {
    const bytes = nanos / NANO + (nanos % NANO === 0n ? 0n : 1n);
    for (const [suffix, size] of [['Gi', 1n << 30n], ['Mi', 1n << 20n], ['Ki', 1n << 10n]] as const) {
      if (bytes >= size && bytes % size === 0n) return `${bytes / size}${suffix}`;
    }
    if (bytes >= 1n << 20n) return `${(Number(bytes) / 2 ** 20).toFixed(1)}Mi`;
    return `${bytes}`;
  }
  return nanos % NANO === 0n ? `${nanos / NANO}` : `${Number(nanos) / 1e9}`;
}
