// Suppression directives: `causal-review:ignore <check-id>[,<check-id>] -- <reason>` in a comment
// on the finding's line or the line above. Parsed with indexOf, never a backtracking pattern.

export const DIRECTIVE = 'causal-review:ignore';
const COMMENT_MARKERS = ['//', '#', '/*', '<!--', '--', ';', '*'];

export interface Suppression {
  path: string;
  line: number;
  checkIds: string[];
  reason: string;
  used: boolean;
}

/** Directives in a file's text; a directive must sit inside a comment. */
export function findSuppressions(path: string, text: string): Suppression[] {
  const found: Suppression[] = [];
  let from = 0;
  for (;;) {
    const at = text.indexOf(DIRECTIVE, from);
    if (at === -1) break;
    from = at + DIRECTIVE.length;
    const lineStart = text.lastIndexOf('\n', at) + 1;
    const lineEnd = text.indexOf('\n', at);
    const before = text.slice(lineStart, at);
    if (!COMMENT_MARKERS.some((marker) => before.includes(marker))) continue;
    let rest = text.slice(from, lineEnd === -1 ? text.length : lineEnd);
    for (const closer of ['*/', '-->']) {
      const end = rest.indexOf(closer);
      if (end !== -1) rest = rest.slice(0, end);
    }
    const separator = rest.indexOf(' --');
    const idsPart = separator === -1 ? rest : rest.slice(0, separator);
    const reason = separator === -1 ? '' : rest.slice(separator + 3).trim();
    const checkIds = idsPart
      .split(/[\s,]+/)
      .map((id) => id.trim())
      .filter(Boolean);
    let line = 1;
    for (let k = text.indexOf('\n'); k !== -1 && k < at; k = text.indexOf('\n', k + 1)) line++;
    found.push({ path, line, checkIds, reason, used: false });
  }
  return found;
}

/** Does a directive cover a finding of `checkId` on `line`? */
export function covers(s: Suppression, checkId: string, line: number): boolean {
  return (line === s.line || line === s.line + 1) && (s.checkIds.includes(checkId) || s.checkIds.includes('all'));
}
