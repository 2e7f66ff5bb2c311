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
    if (!COMMENT_MARKERS.some((marker) => before.includes(marker)) || insideQuotes(before)) continue;
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

/**
 * Is the end of `before` inside a string or a code span? A directive quoted in a string (a test's
 * input) or in backticks (a doc comment that shows the syntax) is an example, not a directive.
 * Counted per quote character, one pass; an apostrophe in a word before a trailing comment
 * (`echo don't # ...`) makes a real directive look quoted: rare, and it then suppresses nothing.
 */
function insideQuotes(before: string): boolean {
  let single = 0;
  let double = 0;
  let backtick = 0;
  for (let i = 0; i < before.length; i++) {
    const c = before[i];
    if (c === '\\') i++;
    else if (c === "'") single++;
    else if (c === '"') double++;
    else if (c === '`') backtick++;
  }
  return single % 2 === 1 || double % 2 === 1 || backtick % 2 === 1;
}

/** Does a directive cover a finding of `checkId` on `line`? */
export function covers(s: Suppression, checkId: string, line: number): boolean {
  return (line === s.line || line === s.line + 1) && (s.checkIds.includes(checkId) || s.checkIds.includes('all'));
}
