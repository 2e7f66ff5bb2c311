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

type Token = { kind: 'ident' | 'punct' | 'literal'; text: string };

/** Go's tokens with automatic semicolons (as `;`), comments dropped and literals kept opaque. */
export function goTokens(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  const endsStatement = () => {
    const last = tokens[tokens.length - 1];
    if (!last) return false;
    if (last.kind !== 'punct') return !(last.kind === 'ident' && KEYWORDS.has(last.text) && !['break', 'continue', 'fallthrough', 'return'].includes(last.text));
    return last.text === ')' || last.text === ']' || last.text === '}' || last.text === '++' || last.text === '--';
  };
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      if (endsStatement()) tokens.push({ kind: 'punct', text: ';' });
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
      if (newline !== -1 && (end === -1 || newline < end) && endsStatement()) tokens.push({ kind: 'punct', text: ';' });
      i = end === -1 ? n : end + 2;
    } else if (c === 34 || c === 39) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 92) j += 2;
        else if (d === c || d === 10) break;
        else j++;
      }
      tokens.push({ kind: 'literal', text: '"' });
      i = j + 1;
    } else if (c === 96) {
      const end = text.indexOf('`', i + 1);
      tokens.push({ kind: 'literal', text: '`' });
      i = end === -1 ? n : end + 1;
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(text.charCodeAt(j))) j++;
      tokens.push({ kind: 'ident', text: text.slice(i, j) });
      i = j;
    } else if (c >= 48 && c <= 57) {
      let j = i + 1;
      while (j < n && (isIdentPart(text.charCodeAt(j)) || text.charCodeAt(j) === 46)) j++;
      tokens.push({ kind: 'literal', text: '0' });
      i = j;
    } else {
      const two = text.slice(i, i + 2);
      if (text.startsWith('...', i)) {
        tokens.push({ kind: 'punct', text: '...' });
        i += 3;
      } else if (two === '++' || two === '--') {
        tokens.push({ kind: 'punct', text: two });
        i += 2;
      } else {
        tokens.push({ kind: 'punct', text: text[i]! });
        i++;
      }
    }
  }
  return tokens;
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
    if (t.kind === 'punct') {
      if (t.text === '(' || t.text === '[' || t.text === '{') depth++;
      else if (t.text === ')' || t.text === ']' || t.text === '}') depth = Math.max(0, depth - 1);
      continue;
    }
    if (t.kind !== 'ident') continue;
    const previous = tokens[i - 1];
    if (previous?.text !== '.') {
      if (!KEYWORDS.has(t.text)) names.uses.add(t.text);
    } else if (t.text === 'Add' && tokens[i + 1]?.text === '(') {
      names.started.add('Start');
    }
    if (t.text === 'go' && !(previous?.text === '.')) {
      // `go f(`, `go x.y.m(`: the last name before the call's parenthesis
      let j = i + 1;
      let last: string | undefined;
      while (tokens[j]?.kind === 'ident') {
        last = tokens[j]!.text;
        if (tokens[j + 1]?.text !== '.') break;
        j += 2;
      }
      if (last && tokens[j + 1]?.text === '(') names.started.add(last);
    }
    const topLevel = depth === 0 && (previous === undefined || previous.text === ';');
    if (!topLevel) continue;
    if (t.text === 'func') i = declareFunction(tokens, i + 1, names) - 1;
    else if (t.text === 'type' || t.text === 'var' || t.text === 'const') {
      const before = names.declared.size;
      declareSpecs(tokens, i + 1, names.declared);
      if (t.text === 'var' && names.declared.size > before) names.hasPackageVars = true;
    }
  }
  return names;
}

/** `func Name` or `func (r *T[P]) Name`: records the name and receiver; returns where the signature goes on. */
function declareFunction(tokens: Token[], at: number, names: GoNames): number {
  if (tokens[at]?.kind === 'ident') {
    names.declared.add(tokens[at]!.text);
    return at + 1;
  }
  if (tokens[at]?.text !== '(') return at;
  // the receiver's type is its last identifier outside brackets: `(r *T)`, `(T)`, `(c *Cache[K, V])`
  let depth = 0;
  let receiver: string | undefined;
  let j = at;
  for (; j < tokens.length; j++) {
    const x = tokens[j]!;
    if (x.text === '(' || x.text === '[') depth++;
    else if (x.text === ')' || x.text === ']') {
      depth--;
      if (depth === 0) break;
    } else if (x.kind === 'ident' && depth === 1) receiver = x.text;
  }
  const method = tokens[j + 1];
  if (receiver) names.receivers.add(receiver);
  if (method?.kind !== 'ident') return j + 1;
  names.methods.add(method.text);
  if (receiver && method.text === 'Reconcile') names.reconcilers.add(receiver);
  if (receiver && method.text === 'SetupWithManager') names.setups.add(receiver);
  return j + 2;
}

/** The names of `type T ...`, `var a, b = ...` and of each spec of a `( ... )` group. */
function declareSpecs(tokens: Token[], at: number, declared: Set<string>): void {
  const grouped = tokens[at]?.text === '(';
  let j = grouped ? at + 1 : at;
  let depth = 0;
  let specStart = true;
  for (; j < tokens.length; j++) {
    const x = tokens[j]!;
    if (specStart && depth === 0 && x.kind === 'ident') {
      // the spec's leading `a, b, c`
      while (tokens[j]?.kind === 'ident') {
        declared.add(tokens[j]!.text);
        if (tokens[j + 1]?.text !== ',') break;
        j += 2;
      }
      specStart = false;
      if (!grouped) return;
      continue;
    }
    specStart = false;
    if (!grouped && depth === 0) return;
    if (x.text === '(' || x.text === '[' || x.text === '{') depth++;
    else if (x.text === ')' || x.text === ']' || x.text === '}') {
      if (depth === 0) return;
      depth--;
    } else if (x.text === ';' && depth === 0) specStart = true;
  }
}
