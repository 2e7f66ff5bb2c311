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
 */
export function goTokens(text: string): string[] {
  const tokens: string[] = [];
  const n = text.length;
  let i = 0;
  const endsStatement = () => {
    const last = tokens[tokens.length - 1];
    if (last === undefined) return false;
    if (isWord(last)) return !KEYWORDS.has(last) || last === 'break' || last === 'continue' || last === 'fallthrough' || last === 'return';
    return last === '"' || last === '0' || last === ')' || last === ']' || last === '}' || last === '++' || last === '--';
  };
  while (i < n) {
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
      if (newline !== -1 && (end === -1 || newline < end) && endsStatement()) tokens.push(';');
      i = end === -1 ? n : end + 2;
    } else if (c === 34 || c === 39) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 92) j += 2;
        else if (d === c || d === 10) break;
        else j++;
      }
      tokens.push('"');
      i = j + 1;
    } else if (c === 96) {
      const end = text.indexOf('`', i + 1);
      tokens.push('"');
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
      tokens.push(text[i]!);
      i++;
    }
  }
  return tokens;
}

/** An identifier token (keywords included): literals are `"` and `0`, operators start with punctuation. */
function isWord(token: string | undefined): token is string {
  return token !== undefined && isIdentStart(token.charCodeAt(0));
}

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

export function goNames(text: string): GoNames {
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
  const tokens = goTokens(text);
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
    names.declared.add(name);
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
        declared.add(tokens[j]!);
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
