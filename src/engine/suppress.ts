// Suppression directives: `causal-review:ignore <check-id>[,<check-id>] -- <reason>` in a comment
// on the finding's line or the line above. Parsed with indexOf, never a backtracking pattern.

export const DIRECTIVE = 'causal-review:ignore';
const DIRECTIVE_ANY_CASE = /causal-review:ignore/gi;

/** Could `text` hold a directive? False means findSuppressions finds none in it. */
export function mayHoldDirective(text: string): boolean {
  // search(), unlike test(), does not depend on the global regex's lastIndex
  return text.search(DIRECTIVE_ANY_CASE) !== -1;
}

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
  // in any case (`Causal-Review:Ignore`): a directive written otherwise must not be dropped without a word
  for (const match of text.matchAll(DIRECTIVE_ANY_CASE)) {
    const at = match.index;
    const from = at + DIRECTIVE.length;
    const lineStart = text.lastIndexOf('\n', at) + 1;
    const lineEnd = text.indexOf('\n', at);
    const before = text.slice(lineStart, at);
    if (!inComment(before)) continue;
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
 * Does a directive that follows `before` on its line sit in a comment, and not in a string or a code
 * span? The code is read up to the first comment marker outside its strings; in the comment, a double
 * quote or a backtick still makes the directive an example (a doc comment that shows the syntax), but an
 * apostrophe is prose (`# the webhook's cert: causal-review:ignore ...`). A quote left open in the code
 * itself (`echo don't # ...`) hides the comment: rare, and the directive then suppresses nothing.
 */
function inComment(before: string): boolean {
  let quote = '';
  let i = 0;
  for (; i < before.length; i++) {
    const c = before[i]!;
    if (quote) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === "'" || c === '"' || c === '`') quote = c;
    else if (COMMENT_MARKERS.some((marker) => before.startsWith(marker, i))) break;
  }
  if (quote || i === before.length) return false;
  let double = 0;
  let backtick = 0;
  for (; i < before.length; i++) {
    if (before[i] === '"') double++;
    else if (before[i] === '`') backtick++;
  }
  return double % 2 === 0 && backtick % 2 === 0;
}

/** Does a directive cover a finding of `checkId` on `line`? */
export function covers(s: Suppression, checkId: string, line: number): boolean {
  return (line === s.line || line === s.line + 1) && (s.checkIds.includes(checkId) || s.checkIds.includes('all'));
}
