// A Go file's names without a parse: one linear pass over its tokens (comments and string literals
// skipped) that says what the file declares at package level and which names it uses. The package
// analyses resolve calls, types and variables by name, so a file that shares no name with a change
// cannot change what they find there; reading names is ~50x cheaper than a tree-sitter parse.

export interface GoNames {
  /** package-level functions, types, variables and constants the file declares */
  declared: Set<string>;
  /** types the file declares methods on */
  receivers: Set<string>;
  /** names of the methods the file declares */
  methods: Set<string>;
  /** receivers of `Reconcile` and of `SetupWithManager` methods */
  reconcilers: Set<string>;
  setups: Set<string>;
  /** identifiers used other than as a selector's field (`x` and `T` in `x.f(T{})`) */
  uses: Set<string>;
  /** what `go f(...)` / `go x.m(...)` start (`Start` for a Runnable given to `mgr.Add`) */
  started: Set<string>;
  /** the file declares package-level variables */
  hasPackageVars: boolean;
  /** the text names a controller setup (`NewControllerManagedBy`, `controller.New`, `MaxConcurrentReconciles`) */
  mentionsSetup: boolean;
}

const KEYWORDS = new Set([
  'break', 'case', 'chan', 'const', 'continue', 'default', 'defer', 'else', 'fallthrough', 'for', 'func', 'go', 'goto',
  'if', 'import', 'interface', 'map', 'package', 'range', 'return', 'select', 'struct', 'switch', 'type', 'var',
]);

/**
 * Go's tokens with automatic semicolons (as `;`) and comments dropped: an identifier as itself, a string,
 * rune or number literal as `"` or `0`, an operator as its characters. Plain strings, not objects: a
 * 4,000-line file has ~30,000 tokens.
 *
 * With `started`, what lies inside braces (function bodies, struct fields, literals) yields no tokens but
 * its outermost `{` and `}`: the scan jumps from one character that matters there to the next, and adds
 * to `started` what `go f(...)`, `go x.m(...)` and `mgr.Add(...)` start.
 */
export function goTokens(text: string, started?: Set<string>): string[] {
  const tokens: string[] = [];
  const n = text.length;
  let i = 0;
  let depth = 0;
  const endsStatement = () => {
    const last = tokens[tokens.length - 1];
    if (last === undefined) return false;
    if (isWord(last)) return !KEYWORDS.has(last) || last === 'break' || last === 'continue' || last === 'fallthrough' || last === 'return';
    return last === '"' || last === '0' || last === ')' || last === ']' || last === '}' || last === '++' || last === '--';
  };
  while (i < n) {
    if (started && depth > 0) {
      i = skipInBody(text, i, started);
      if (i >= n) break;
      const c = text.charCodeAt(i);
      if (c === 123) {
        depth++;
        i++;
        continue;
      }
      if (c === 125) {
        depth--;
        i++;
        if (depth === 0) tokens.push('}');
        continue;
      }
      // a literal or a comment: read below, as anywhere
    }
    const c = text.charCodeAt(i);
    if (c === 10) {
      if (endsStatement()) tokens.push(';');
      i++;
    } else if (c === 32 || c === 9 || c === 13) {
      i++;
    } else if (c === 47 && text.charCodeAt(i + 1) === 47) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? n : end;
    } else if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const end = text.indexOf('*/', i + 2);
      const newline = text.indexOf('\n', i);
      // a block comment spanning lines acts as a newline
      if (depth === 0 && newline !== -1 && (end === -1 || newline < end) && endsStatement()) tokens.push(';');
      i = end === -1 ? n : end + 2;
    } else if (c === 34 || c === 39) {
      i = endOfQuoted(text, i, c);
      if (depth === 0 || !started) tokens.push('"');
    } else if (c === 96) {
      const end = text.indexOf('`', i + 1);
      if (depth === 0 || !started) tokens.push('"');
      i = end === -1 ? n : end + 1;
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(text.charCodeAt(j))) j++;
      tokens.push(text.slice(i, j));
      i = j;
    } else if (c >= 48 && c <= 57) {
      let j = i + 1;
      while (j < n && (isIdentPart(text.charCodeAt(j)) || text.charCodeAt(j) === 46)) j++;
      tokens.push('0');
      i = j;
    } else if (c === 46 && text.charCodeAt(i + 1) === 46 && text.charCodeAt(i + 2) === 46) {
      tokens.push('...');
      i += 3;
    } else if ((c === 43 || c === 45) && text.charCodeAt(i + 1) === c) {
      tokens.push(c === 43 ? '++' : '--');
      i += 2;
    } else {
      if (c === 123) depth++;
      else if (c === 125 && depth > 0) depth--;
      tokens.push(text[i]!);
      i++;
    }
  }
  return tokens;
}

/** Past a string or rune literal opened at `at` (unterminated: at the end of its line). */
function endOfQuoted(text: string, at: number, quote: number): number {
  let j = at + 1;
  while (j < text.length) {
    const d = text.charCodeAt(j);
    if (d === 92) j += 2;
    else if (d === quote || d === 10) break;
    else j++;
  }
  return j + 1;
}

/** In a body, what a light scan stops at: braces, literals, comments, and the words `go` and `Add`. */
const BODY_STOP = /[{}"'`/]|\bgo\b|\bAdd\b/g;

/**
 * From `at` inside braces to the next brace, literal or comment, recording `go` starts and `.Add(` calls
 * on the way; returns where that character is (or the end of the text).
 */
function skipInBody(text: string, at: number, started: Set<string>): number {
  for (;;) {
    BODY_STOP.lastIndex = at;
    const m = BODY_STOP.exec(text);
    if (!m) return text.length;
    const i = m.index;
    const c = text.charCodeAt(i);
    if (c === 47 && text.charCodeAt(i + 1) !== 47 && text.charCodeAt(i + 1) !== 42) {
      at = i + 1; // division
    } else if (c === 103 && text.charCodeAt(i + 1) === 111 && m[0] === 'go') {
      const name = calleeAfterGo(text, i + 2);
      if (name) started.add(name);
      at = i + 2;
    } else if (m[0] === 'Add') {
      // `x.Add(`, also with the selector's dot at the end of the line before
      let before = i - 1;
      while (before > 0 && /\s/.test(text[before]!)) before--;
      if (text.charCodeAt(before) === 46 && text.charCodeAt(i + 3) === 40) started.add('Start');
      at = i + 3;
    } else {
      return i;
    }
  }
}

/** Past spaces, tabs and block comments on one line (a newline ends a statement). */
function skipBlanks(text: string, at: number): number {
  let i = at;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9) i++;
    else if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const end = text.indexOf('*/', i + 2);
      const newline = text.indexOf('\n', i);
      if (end === -1 || (newline !== -1 && newline < end)) return i;
      i = end + 2;
    } else return i;
  }
}

/** `go f(`, `go x.y.m(`: the last name before the call's parenthesis. */
function calleeAfterGo(text: string, at: number): string | undefined {
  let i = at;
  let last: string | undefined;
  for (;;) {
    i = skipBlanks(text, i);
    if (!isIdentStart(text.charCodeAt(i))) return undefined;
    let j = i + 1;
    while (j < text.length && isIdentPart(text.charCodeAt(j))) j++;
    last = text.slice(i, j);
    i = skipBlanks(text, j);
    if (text.charCodeAt(i) === 40) return last;
    if (text.charCodeAt(i) !== 46) return undefined;
    i++;
  }
}

/** An identifier token (keywords included): literals are `"` and `0`, operators start with punctuation. */
function isWord(token: string | undefined): token is string {
  return token !== undefined && isIdentStart(token.charCodeAt(0));
}

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
}

/** A character of a Go identifier (any non-ASCII character counts: over, never under). */
export function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

/**
 * What a Go file declares and uses. `uses` needs every identifier of the file: with `light`, it holds
 * only those outside braces (function bodies, struct fields, literals), and the scan makes no string for the others, which
 * is what most files of a package need (whether they join a slice is told from their declarations).
 */
export function goNames(text: string, light = false): GoNames {
  const names: GoNames = {
    declared: new Set(),
    receivers: new Set(),
    methods: new Set(),
    reconcilers: new Set(),
    setups: new Set(),
    uses: new Set(),
    started: new Set(),
    hasPackageVars: false,
    mentionsSetup: text.includes('NewControllerManagedBy') || text.includes('controller.New') || text.includes('MaxConcurrentReconciles'),
  };
  const tokens = goTokens(text, light ? names.started : undefined);
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!isWord(t)) {
      if (t === '(' || t === '[' || t === '{') depth++;
      else if (t === ')' || t === ']' || t === '}') depth = Math.max(0, depth - 1);
      continue;
    }
    const previous = tokens[i - 1];
    if (previous !== '.') {
      if (!KEYWORDS.has(t)) names.uses.add(t);
    } else if (t === 'Add' && tokens[i + 1] === '(') {
      names.started.add('Start');
    }
    if (t === 'go' && previous !== '.') {
      // `go f(`, `go x.y.m(`: the last name before the call's parenthesis
      let j = i + 1;
      let last: string | undefined;
      while (isWord(tokens[j])) {
        last = tokens[j];
        if (tokens[j + 1] !== '.') break;
        j += 2;
      }
      if (last && tokens[j + 1] === '(') names.started.add(last);
    }
    const topLevel = depth === 0 && (previous === undefined || previous === ';');
    if (!topLevel) continue;
    if (t === 'func') i = declareFunction(tokens, i + 1, names) - 1;
    else if (t === 'type' || t === 'var' || t === 'const') {
      const before = names.declared.size;
      declareSpecs(tokens, i + 1, names.declared);
      if (t === 'var' && names.declared.size > before) names.hasPackageVars = true;
    }
  }
  return names;
}

/** `func Name` or `func (r *T[P]) Name`: records the name and receiver; returns where the signature goes on. */
function declareFunction(tokens: string[], at: number, names: GoNames): number {
  const name = tokens[at];
  if (isWord(name)) {
    if (name !== '_') names.declared.add(name);
    return at + 1;
  }
  if (name !== '(') return at;
  // the receiver's type is its last identifier outside brackets: `(r *T)`, `(T)`, `(c *Cache[K, V])`
  let depth = 0;
  let receiver: string | undefined;
  let j = at;
  for (; j < tokens.length; j++) {
    const x = tokens[j]!;
    if (x === '(' || x === '[') depth++;
    else if (x === ')' || x === ']') {
      depth--;
      if (depth === 0) break;
    } else if (depth === 1 && isWord(x)) receiver = x;
  }
  const method = tokens[j + 1];
  if (receiver) names.receivers.add(receiver);
  if (!isWord(method)) return j + 1;
  names.methods.add(method);
  if (receiver && method === 'Reconcile') names.reconcilers.add(receiver);
  if (receiver && method === 'SetupWithManager') names.setups.add(receiver);
  return j + 2;
}

/** The names of `type T ...`, `var a, b = ...` and of each spec of a `( ... )` group. */
function declareSpecs(tokens: string[], at: number, declared: Set<string>): void {
  const grouped = tokens[at] === '(';
  let j = grouped ? at + 1 : at;
  let depth = 0;
  let specStart = true;
  for (; j < tokens.length; j++) {
    const x = tokens[j]!;
    if (specStart && depth === 0 && isWord(x)) {
      // the spec's leading `a, b, c`
      while (isWord(tokens[j])) {
        if (tokens[j] !== '_') declared.add(tokens[j]!);
        if (tokens[j + 1] !== ',') break;
        j += 2;
      }
      specStart = false;
      if (!grouped) return;
      continue;
    }
    specStart = false;
    if (!grouped && depth === 0) return;
    if (x === '(' || x === '[' || x === '{') depth++;
    else if (x === ')' || x === ']' || x === '}') {
      if (depth === 0) return;
      depth--;
    } else if (x === ';' && depth === 0) specStart = true;
  }
}
