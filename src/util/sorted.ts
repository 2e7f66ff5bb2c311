// Bisection over sorted arrays: the first place a value could go.

/**
 * The index of the first element of `sorted` (ascending) in [lo, hi) that is not less than `value`; `hi`
 * when none (by default the whole array).
 */
export function lowerBound<T extends string | number>(sorted: ArrayLike<T>, value: T, lo = 0, hi = sorted.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
