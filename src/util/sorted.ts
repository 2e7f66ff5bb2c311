// Bisection over sorted arrays: the first place a value could go.

/** The index of the first element of `sorted` (ascending) that is not less than `value`; its length when none. */
export function lowerBound<T extends string | number>(sorted: readonly T[], value: T): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
