// Hunks from unified-diff patches (git, GitHub's `patch` field) and from two texts (Myers' diff).

import type { Hunk } from './types.js';

/**
 * Hunks of one file's patch: the `@@ -a,b +c,d @@` sections and their lines.
 * Lines that are not part of a hunk (headers) are skipped.
 */
export function parsePatch(patch: string): Hunk[] {
  const hunks: Hunk[] = [];
  let hunk: Hunk | undefined;
  let baseLine = 0;
  let headLine = 0;
  for (const line of patch.split('\n')) {
    if (line.startsWith('@@')) {
      const header = parseHunkHeader(line);
      if (!header) continue;
      hunk = { ...header, added: [], removed: [] };
      hunks.push(hunk);
      baseLine = header.baseStart;
      headLine = header.headStart;
      continue;
    }
    if (!hunk) continue;
    const mark = line[0];
    if (mark === '+') hunk.added.push(headLine++);
    else if (mark === '-') hunk.removed.push(baseLine++);
    else if (mark === ' ') {
      baseLine++;
      headLine++;
    }
    // '\' (no newline at end of file) and anything else: no line
  }
  return hunks;
}

/** `@@ -12,3 +12,4 @@ func x()`: the counts default to 1 when omitted. */
export function parseHunkHeader(line: string): Omit<Hunk, 'added' | 'removed'> | undefined {
  const minus = line.indexOf('-');
  const plus = line.indexOf('+', minus);
  const close = line.indexOf('@@', plus);
  if (minus === -1 || plus === -1 || close === -1) return undefined;
  const range = (s: string) => {
    const [start, count] = s.trim().split(',');
    return { start: Number(start), count: count === undefined ? 1 : Number(count) };
  };
  const base = range(line.slice(minus + 1, plus));
  const head = range(line.slice(plus + 1, close));
  if (![base.start, base.count, head.start, head.count].every(Number.isFinite)) return undefined;
  return { baseStart: base.start, baseLines: base.count, headStart: head.start, headLines: head.count };
}

/**
 * Line hunks between two texts (Myers' O(ND) diff). Beyond `maxEdits` differing lines the
 * whole of both texts is one hunk: a hostile pair of files cannot make this quadratic.
 */
export function diffLines(base: string, head: string, maxEdits = 2000): Hunk[] {
  const a = base === '' ? [] : base.split('\n');
  const b = head === '' ? [] : head.split('\n');
  // common prefix and suffix first: most edits are small
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const ops = myers(a.slice(start, endA), b.slice(start, endB), maxEdits);
  const hunks: Hunk[] = [];
  let hunk: Hunk | undefined;
  let i = start;
  let j = start;
  const flush = () => {
    if (hunk) {
      hunk.baseLines = hunk.removed.length;
      hunk.headLines = hunk.added.length;
      hunks.push(hunk);
      hunk = undefined;
    }
  };
  const open = () => (hunk ??= { baseStart: i + 1, baseLines: 0, headStart: j + 1, headLines: 0, added: [], removed: [] });
  for (const op of ops) {
    if (op === '=') {
      flush();
      i++;
      j++;
    } else if (op === '-') {
      open().removed.push(++i);
    } else {
      open().added.push(++j);
    }
  }
  flush();
  return hunks;
}

type Op = '=' | '-' | '+';

function myers(a: string[], b: string[], maxEdits: number): Op[] {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // each step keeps only the diagonals it can reach, so memory is O(D^2), not O(D * (N + M))
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, a, b, d);
    }
  }
  // too many edits to align: everything removed, everything added
  return [...Array<Op>(n).fill('-'), ...Array<Op>(m).fill('+')];
}

function backtrack(trace: Int32Array[], a: string[], b: string[], dEnd: number): Op[] {
  const ops: Op[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = dEnd; d > 0; d--) {
    const window = trace[d]!;
    const at = (k: number) => window[k + d + 1]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push('=');
      x--;
      y--;
    }
    ops.push(x === prevX ? '+' : '-');
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    ops.push('=');
    x--;
    y--;
  }
  return ops.reverse();
}
