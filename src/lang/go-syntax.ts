// A Go parser in plain JavaScript that builds the tree tree-sitter-go builds (same node types, spans,
// fields, anonymous tokens and comments), four to five times faster than the grammar in wasm, into a
// NodeStore (typed arrays) the analyses read through small views. It takes gofmt-shaped Go only:
// at anything it is not sure tree-sitter-go reads the same way (a syntax error, a construct whose
// tree-sitter reading depends on its GLR precedences, a carriage return, a non-ASCII identifier) it
// gives up, and the caller parses the file with tree-sitter. test/lang/go-syntax.test.ts compares the
// two trees node for node on every fixture and, where Go is installed, on Go's own sources.

import { fieldId, NodeStore, SyntaxTree, typeId, typeName } from './go-syntax-tree.js';

/**
 * A node being built is a number: a lexer token's index (>= 0, a leaf: most nodes are), or `~i` for node
 * `i` of BUILT (< 0). A token is anonymous unless the parser named it (`identifier`, `field_identifier`, ...).
 */
type Node = number;

/**
 * The nodes the parser builds for one file, in arrays kept from file to file (a file is parsed and stored
 * before the next is read): as objects, with an array of children each, they were most of what a
 * whole-tree scan allocated. Node `i`'s children are `refs[childFrom[i]]` onwards, their fields (F, 0 for
 * none) `refFields` there. store() copies the tree into a NodeStore.
 */
const BUILT = {
  count: 0,
  /** each node's type (T: its typeId) */
  kinds: new Uint16Array(1024),
  named: new Uint8Array(1024),
  start: new Int32Array(1024),
  end: new Int32Array(1024),
  /** nodes in the subtree, itself included */
  size: new Int32Array(1024),
  childFrom: new Int32Array(1024),
  childCount: new Int32Array(1024),
  refCount: 0,
  refs: new Int32Array(4096),
  refFields: new Uint8Array(4096),
};

function grown<A extends Int32Array | Uint16Array | Uint8Array>(array: A, wanted: number): A {
  if (wanted <= array.length) return array;
  const bigger = new (array.constructor as new (length: number) => A)(Math.max(wanted, 2 * array.length));
  bigger.set(array);
  return bigger;
}

/** Room for `children` more child references; their place. */
function reserveRefs(children: number): number {
  const b = BUILT;
  const from = b.refCount;
  b.refCount += children;
  b.refs = grown(b.refs, b.refCount);
  b.refFields = grown(b.refFields, b.refCount);
  return from;
}

/** A new node of type `kind` (T) over children already in `refs` from `from`. */
function builtNode(kind: number, named: boolean, start: number, end: number, from: number, count: number): Node {
  const b = BUILT;
  const i = b.count++;
  if (i >= b.named.length) {
    b.kinds = grown(b.kinds, i + 1);
    b.named = grown(b.named, i + 1);
    b.start = grown(b.start, i + 1);
    b.end = grown(b.end, i + 1);
    b.size = grown(b.size, i + 1);
    b.childFrom = grown(b.childFrom, i + 1);
    b.childCount = grown(b.childCount, i + 1);
  }
  let size = 1;
  for (let k = from; k < from + count; k++) {
    const c = b.refs[k]!;
    size += c >= 0 ? 1 : b.size[~c]!;
  }
  b.kinds[i] = kind;
  b.named[i] = named ? 1 : 0;
  b.start[i] = start;
  b.end[i] = end;
  b.size[i] = size;
  b.childFrom[i] = from;
  b.childCount[i] = count;
  return ~i;
}

/** A node with no children the parser makes itself (a piece of a string literal, a comment). */
function builtLeaf(kind: number, named: boolean, start: number, end: number): Node {
  return builtNode(kind, named, start, end, 0, 0);
}

/** A named node around one token (`dot`, `fallthrough_statement`). */
function builtAround(kind: number, token: Node): Node {
  const from = reserveRefs(1);
  BUILT.refs[from] = token;
  BUILT.refFields[from] = 0;
  return builtNode(kind, true, startOf(token), endOf(token), from, 1);
}

/**
 * The type (T) the parser gave each token of the file being parsed (TOKENS) that it made a named leaf, 0
 * for an anonymous one (kept from file to file: every token in a tree was set by token() or leaf() of this
 * parse). Sized with TOKENS' arrays.
 */
let leafKinds = new Uint16Array(0);

function typeOf(n: Node): string {
  if (n < 0) return typeName(BUILT.kinds[~n]!);
  const kind = leafKinds[n]!;
  return kind ? typeName(kind) : TOKENS.types[n]!;
}

function startOf(n: Node): number {
  return n >= 0 ? TOKENS.starts[n]! : BUILT.start[~n]!;
}

function endOf(n: Node): number {
  return n >= 0 ? TOKENS.ends[n]! : BUILT.end[~n]!;
}

function childCountOf(n: Node): number {
  return n >= 0 ? 0 : BUILT.childCount[~n]!;
}

/** child `k` of `n` (which has one) */
function childOf(n: Node, k: number): Node {
  return BUILT.refs[BUILT.childFrom[~n]! + k]!;
}

/** The types of the nodes the parser makes (tokens have theirs from the lexer: TokenType). */
const TYPES = [
  'argument_list', 'array_type', 'assignment_statement', 'binary_expression', 'blank_identifier', 'block',
  'break_statement', 'call_expression', 'channel_type', 'comment', 'communication_case', 'composite_literal',
  'const_declaration', 'const_spec', 'continue_statement', 'dec_statement', 'default_case', 'defer_statement',
  'dot', 'escape_sequence', 'expression_case', 'expression_list', 'expression_statement',
  'expression_switch_statement', 'fallthrough_statement', 'false', 'field_declaration',
  'field_declaration_list', 'field_identifier', 'for_clause', 'for_statement', 'func_literal',
  'function_declaration', 'function_type', 'generic_type', 'go_statement', 'goto_statement', 'identifier',
  'if_statement', 'implicit_length_array_type', 'import_declaration', 'import_spec', 'import_spec_list',
  'inc_statement', 'index_expression', 'interface_type', 'interpreted_string_literal',
  'interpreted_string_literal_content', 'iota', 'keyed_element', 'label_name', 'labeled_statement',
  'literal_element', 'literal_value', 'map_type', 'method_declaration', 'method_elem', 'negated_type', 'nil',
  'package_clause', 'package_identifier', 'parameter_declaration', 'parameter_list',
  'parenthesized_expression', 'parenthesized_type', 'pointer_type', 'qualified_type', 'range_clause',
  'raw_string_literal', 'raw_string_literal_content', 'receive_statement', 'return_statement',
  'select_statement', 'selector_expression', 'send_statement', 'short_var_declaration', 'slice_expression',
  'slice_type', 'source_file', 'statement_list', 'struct_type', 'true', 'type_alias', 'type_arguments',
  'type_assertion_expression', 'type_case', 'type_constraint', 'type_conversion_expression',
  'type_declaration', 'type_elem', 'type_identifier', 'type_parameter_declaration', 'type_parameter_list',
  'type_spec', 'type_switch_statement', 'unary_expression', 'var_declaration', 'var_spec', 'var_spec_list',
  'variadic_argument', 'variadic_parameter_declaration',
] as const;

/**
 * Each type as the NodeStore keeps it (its typeId), taken once, and F the same for fields: store() copies
 * numbers. It looked up the name of every node and field it copied, millions in a whole-tree scan, and that
 * was about half its time; the parse of the generated 3,000-file tree is 13-15% faster without it.
 */
const T = Object.fromEntries(TYPES.map((name) => [name, typeId(name)])) as Record<(typeof TYPES)[number], number>;

/** The fields the parser puts children in. */
const FIELDS = [
  'alias', 'alternative', 'arguments', 'body', 'capacity', 'channel', 'communication', 'condition',
  'consequence', 'element', 'end', 'field', 'function', 'index', 'initializer', 'key', 'label', 'left',
  'length', 'name', 'operand', 'operator', 'package', 'parameters', 'path', 'receiver', 'result', 'right',
  'start', 'tag', 'type', 'type_arguments', 'type_parameters', 'update', 'value',
] as const;

/** Each field as the NodeStore keeps it (its fieldId), taken once (see T). */
const F = Object.fromEntries(FIELDS.map((name) => [name, fieldId(name)])) as Record<(typeof FIELDS)[number], number>;

/** Thrown where the parser is not sure of tree-sitter's reading; parseGoSyntax returns undefined. */
class GiveUp extends Error {}

const KEYWORDS = new Set([
  'break', 'case', 'chan', 'const', 'continue', 'default', 'defer', 'else', 'fallthrough', 'for', 'func', 'go', 'goto',
  'if', 'import', 'interface', 'map', 'package', 'range', 'return', 'select', 'struct', 'switch', 'type', 'var',
]);

/** A type of token the lexer gives: the parser reads `type`, the tree keeps `kind` (its typeId). */
interface TokenType {
  readonly type: string;
  readonly kind: number;
}

const tokenType = (type: string): TokenType => ({ type, kind: typeId(type) });

/** interned token types: a token's type is one of these strings or a keyword/operator from the sets below */
const IDENT = 'identifier';
const EOF = 'EOF';
const IDENT_TOKEN = tokenType(IDENT);
const EOF_TOKEN = tokenType(EOF);
const STRING_TOKEN = tokenType('"');
const RAW_STRING_TOKEN = tokenType('`');
const RUNE_TOKEN = tokenType('rune_literal');
const INT_TOKEN = tokenType('int_literal');
const FLOAT_TOKEN = tokenType('float_literal');
const IMAGINARY_TOKEN = tokenType('imaginary_literal');

/** the keywords by their first character (all are lower-case) */
const KEYWORDS_BY_FIRST: (TokenType[] | undefined)[] = [];
for (const keyword of KEYWORDS) (KEYWORDS_BY_FIRST[keyword.charCodeAt(0)] ??= []).push(tokenType(keyword));

/** The keyword src[i, j) is, else IDENT: compared in place, as slicing out every name to look it up was a twentieth of the parse's allocation. */
function keywordAt(src: string, i: number, j: number): TokenType {
  const candidates = KEYWORDS_BY_FIRST[src.charCodeAt(i)];
  if (candidates) for (const keyword of candidates) if (keyword.type.length === j - i && src.startsWith(keyword.type, i)) return keyword;
  return IDENT_TOKEN;
}

/** Go's operators and punctuation by their first character, longest first (the lexer takes the longest) */
const OPERATORS_BY_FIRST: (TokenType[] | undefined)[] = [];
for (const op of ['<<=', '>>=', '&^=', '...', ...['&&', '||', '<-', '++', '--', '==', '!=', '<=', '>=', ':=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<', '>>', '&^'], ...'+-*/%&|^<>=!()[]{},;.:~']) {
  (OPERATORS_BY_FIRST[op.charCodeAt(0)] ??= []).push(tokenType(op));
}
/** The operator at src[i] (its first character `c`), the longest that matches. */
function operatorAt(src: string, i: number, c: number): TokenType | undefined {
  const candidates = OPERATORS_BY_FIRST[c];
  if (candidates) for (const op of candidates) if (src.startsWith(op.type, i)) return op;
  return undefined;
}

const ASSIGNMENT = new Set(['=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=', '&^=']);
const BINARY_PRECEDENCE: Record<string, number> = {
  '*': 5, '/': 5, '%': 5, '<<': 5, '>>': 5, '&': 5, '&^': 5,
  '+': 4, '-': 4, '|': 4, '^': 4,
  '==': 3, '!=': 3, '<': 3, '<=': 3, '>': 3, '>=': 3,
  '&&': 2,
  '||': 1,
};
const UNARY = new Set(['+', '-', '!', '^', '*', '&', '<-']);
/** identifiers tree-sitter-go reads as literals */
const LITERAL_KEYWORDS = ['nil', 'true', 'false', 'iota'] as const;
/** tokens a type can start with */
const TYPE_START = new Set([IDENT, '*', '[', 'map', 'chan', 'func', 'struct', 'interface', '<-', '(', '~']);
/** what follows a type parameter's name in `type T[P C]` or `type T[P, Q C]` (not `[N * 2]`: an array length) */
const TYPE_PARAMETER_NEXT = new Set([IDENT, ',', 'interface', '~', '[', 'map', 'chan', 'func', 'struct']);
const MAX_NAMES_IN_GROUP = 9;
const BLOCK_END = ['}'];
const CASE_END = ['case', 'default', '}'];
const TYPE_GROUP_END = [')'];
const NO_CLOSER: string[] = [];
const RETURN_ALONE = new Set(['}', ';', 'case', 'default', ')']);
const FIELD_ALONE = new Set([';', '}', '"', '`']);

/** Where one file's tokens are: parallel arrays, so the parser can look ahead and back up freely. */
interface Tokens {
  types: string[];
  /** the typeId of each type */
  kinds: Uint16Array;
  starts: Int32Array;
  ends: Int32Array;
  /** the first line break between the token before and this one, outside comments; -1 when none */
  breaks: Int32Array;
  count: number;
  comments: { start: number; end: number }[];
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}

const TOKENS: Tokens = { types: [], kinds: new Uint16Array(0), starts: new Int32Array(0), ends: new Int32Array(0), breaks: new Int32Array(0), count: 0, comments: [] };

/** Token `t.count`, of `type` over [start, end), after a line break at `lineBreak` (-1 for none); its end. */
function pushToken(t: Tokens, type: TokenType, start: number, end: number, lineBreak: number): number {
  const k = t.count++;
  t.types[k] = type.type;
  t.kinds[k] = type.kind;
  t.starts[k] = start;
  t.ends[k] = end;
  t.breaks[k] = lineBreak;
  return end;
}

function lex(src: string): Tokens {
  // a carriage return, even in a comment or a string: whether tree-sitter's tokens take it is not copied here
  if (src.includes('\r')) throw new GiveUp('carriage return');
  const n = src.length;
  // one set of buffers for every file (a file is parsed and stored before the next is lexed): arrays
  // grown token by token were a sixth of all a whole-tree scan allocated. A token is at least one
  // character long, so the text's length bounds their count.
  const t = TOKENS;
  if (t.starts.length < n + 1) {
    const size = Math.max(n + 1, 2 * t.starts.length);
    t.kinds = new Uint16Array(size);
    leafKinds = new Uint16Array(size);
    t.starts = new Int32Array(size);
    t.ends = new Int32Array(size);
    t.breaks = new Int32Array(size);
  }
  t.comments = [];
  t.count = 0;
  let i = 0;
  // the line break before the next token: each pushToken() takes it, and it is reset (no closure here:
  // variables a closure writes are read from memory at every step of the loop)
  let lineBreak = -1;
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    if (c === 10) {
      if (lineBreak === -1) lineBreak = i;
      i++;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(src.charCodeAt(j))) j++;
      if (j < n && src.charCodeAt(j) >= 128) throw new GiveUp('non-ASCII identifier');
      i = pushToken(t, c >= 97 ? keywordAt(src, i, j) : IDENT_TOKEN, i, j, lineBreak);
      lineBreak = -1;
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(src.charCodeAt(i + 1)))) {
      const [type, end] = number(src, i);
      i = pushToken(t, type, i, end, lineBreak);
      lineBreak = -1;
      continue;
    }
    if (c === 47 /* / */) {
      const next = src.charCodeAt(i + 1);
      if (next === 47) {
        let j = src.indexOf('\n', i);
        if (j === -1) j = n;
        t.comments.push({ start: i, end: j });
        i = j;
        continue;
      }
      if (next === 42) {
        const j = src.indexOf('*/', i + 2);
        if (j === -1) throw new GiveUp('unterminated comment');
        t.comments.push({ start: i, end: j + 2 });
        i = j + 2;
        continue;
      }
    }
    if (c === 34 /* " */) {
      let j = i + 1;
      for (;;) {
        const d = src.charCodeAt(j);
        if (j >= n || d === 10) throw new GiveUp('unterminated string');
        if (d === 34) break;
        j += d === 92 ? 2 : 1;
      }
      i = pushToken(t, STRING_TOKEN, i, j + 1, lineBreak);
      lineBreak = -1;
      continue;
    }
    if (c === 96 /* ` */) {
      const j = src.indexOf('`', i + 1);
      if (j === -1) throw new GiveUp('unterminated raw string');
      i = pushToken(t, RAW_STRING_TOKEN, i, j + 1, lineBreak);
      lineBreak = -1;
      continue;
    }
    if (c === 39 /* ' */) {
      i = pushToken(t, RUNE_TOKEN, i, rune(src, i), lineBreak);
      lineBreak = -1;
      continue;
    }
    const operator = operatorAt(src, i, c);
    if (operator) {
      i = pushToken(t, operator, i, i + operator.type.length, lineBreak);
      lineBreak = -1;
      continue;
    }
    // a carriage return, a form feed, a NUL, a non-ASCII letter or space: tree-sitter's reading of these is not copied here
    throw new GiveUp(`unexpected character ${c}`);
  }
  pushToken(t, EOF_TOKEN, n, n, lineBreak);
  return t;
}

function digits(src: string, i: number, test: (c: number) => boolean): number {
  while (i < src.length) {
    const c = src.charCodeAt(i);
    if (test(c) || (c === 95 && test(src.charCodeAt(i + 1)))) i++;
    else break;
  }
  return i;
}

/** A number literal's type and end, as Go (and tree-sitter-go) read it. */
function number(src: string, i: number): [TokenType, number] {
  let type = INT_TOKEN;
  const c = src.charCodeAt(i);
  const x = src.charCodeAt(i + 1) | 32;
  let j: number;
  if (c === 48 && x === 120 /* x */) {
    j = digits(src, src.charCodeAt(i + 2) === 95 ? i + 3 : i + 2, isHex);
    if (src.charCodeAt(j) === 46 || (src.charCodeAt(j) | 32) === 112) throw new GiveUp('hexadecimal float');
  } else if (c === 48 && (x === 98 || x === 111) /* b o */) {
    j = digits(src, src.charCodeAt(i + 2) === 95 ? i + 3 : i + 2, isDigit);
  } else {
    j = digits(src, i, isDigit);
    if (src.charCodeAt(j) === 46) {
      type = FLOAT_TOKEN;
      j = digits(src, j + 1, isDigit);
    }
    if ((src.charCodeAt(j) | 32) === 101 /* e */) {
      let k = j + 1;
      if (src.charCodeAt(k) === 43 || src.charCodeAt(k) === 45) k++;
      if (!isDigit(src.charCodeAt(k))) throw new GiveUp('exponent without digits');
      type = FLOAT_TOKEN;
      j = digits(src, k, isDigit);
    }
  }
  if (src.charCodeAt(j) === 105 /* i */) return [IMAGINARY_TOKEN, j + 1];
  if (isIdentPart(src.charCodeAt(j)) || src.charCodeAt(j) === 46) throw new GiveUp('number followed by a letter or dot');
  return [type, j];
}

/** The end of a rune literal starting at i. */
function rune(src: string, i: number): number {
  let j = i + 1;
  if (src.charCodeAt(j) === 92) {
    const e = src[j + 1]!;
    const width = e === 'x' ? 3 : e === 'u' ? 5 : e === 'U' ? 9 : isDigit(src.charCodeAt(j + 1)) ? 3 : 1;
    j += 1 + width;
  } else {
    const c = src.codePointAt(j)!;
    if (c === 39 || c === 10) throw new GiveUp('bad rune');
    j += c > 0xffff ? 2 : 1;
  }
  if (src.charCodeAt(j) !== 39) throw new GiveUp('bad rune');
  return j + 1;
}

/**
 * Children and their fields, gathered while a node is parsed. node() copies them into the node and puts
 * the Kids back in a pool for the next node: a Kids and its two arrays per node were over a third of all
 * a whole-tree scan allocated. A Kids dropped without a node (the parser backs up) is simply collected.
 */
class Kids {
  private static readonly pool: Kids[] = [];
  /** the first `length` are this node's children (the arrays are kept at their longest, for the next user) */
  readonly nodes: Node[] = [];
  /** fieldIds (F), 0 for none */
  readonly fields: number[] = [];
  length = 0;
  /** the span of hidden tokens (a newline terminator) at the end, which tree-sitter counts in the node */
  hiddenEnd = -1;
  /** in the pool: a Kids used after its node was made would give another node its children */
  private released = false;

  static take(): Kids {
    const kids = Kids.pool.pop();
    if (!kids) return new Kids();
    kids.released = false;
    return kids;
  }

  add(node: Node | undefined | null, field = 0): this {
    if (this.released) throw new Error('go-syntax: children added to a node already made');
    // not `!node`: the file's first token is node 0
    if (node === undefined || node === null) return this;
    this.nodes[this.length] = node;
    this.fields[this.length++] = field;
    this.hiddenEnd = -1;
    return this;
  }

  first(): Node | undefined {
    return this.length ? this.nodes[0] : undefined;
  }

  /** A node of these children; the Kids goes back to the pool. */
  build(kind: number, start: number, end: number): Node {
    if (this.released) throw new Error(`go-syntax: ${typeName(kind)} made of children already used`);
    const from = reserveRefs(this.length);
    const { refs, refFields } = BUILT;
    for (let k = 0; k < this.length; k++) {
      refs[from + k] = this.nodes[k]!;
      refFields[from + k] = this.fields[k]!;
    }
    const built = builtNode(kind, true, start, end, from, this.length);
    this.released = true;
    this.length = 0;
    this.hiddenEnd = -1;
    Kids.pool.push(this);
    return built;
  }
}

/** A node of the children gathered. */
function node(kind: number, kids: Kids): Node {
  const first = kids.first();
  if (first === undefined) throw new GiveUp(`empty ${typeName(kind)}`);
  const end = kids.hiddenEnd >= 0 ? kids.hiddenEnd : endOf(kids.nodes[kids.length - 1]!);
  return kids.build(kind, startOf(first), end);
}

class Parser {
  private p = 0;
  /** composite literals of a bare type name are not read here (an if, for or switch header) */
  private noLiteral = false;
  /** stop before `.(type)` (a type switch header) */
  private typeGuard = false;
  /**
   * a line break ends the statement here (a statement list or declaration group, where tree-sitter-go reads a
   * line break as a terminator), not inside parentheses, brackets or a composite literal's braces
   */
  private lineEnds = true;

  /** where a line break ends what is being read */
  private get atLineEnd(): boolean {
    return this.lineEnds && this.t.breaks[this.p]! >= 0;
  }

  constructor(
    private readonly src: string,
    private readonly t: Tokens,
  ) {}

  // tokens

  /** the current token's type */
  private kind(): string {
    return this.t.types[this.p]!;
  }

  private peek(k = 1): string {
    return this.t.types[Math.min(this.p + k, this.t.count - 1)]!;
  }

  /** is the current token's text `word` (compared in place: no slice per name) */
  private textIs(word: string): boolean {
    const start = this.t.starts[this.p]!;
    return this.t.ends[this.p]! - start === word.length && this.src.startsWith(word, start);
  }

  /** a line break before the current token */
  private get lineBreak(): boolean {
    return this.t.breaks[this.p]! >= 0;
  }

  private fail(what: string): never {
    throw new GiveUp(`${what} at ${this.t.starts[this.p]} (${this.kind()})`);
  }

  private expect(type: string): Node {
    if (this.kind() !== type) this.fail(`expected ${type}`);
    return this.token();
  }

  /** the current token as an anonymous leaf */
  private token(): number {
    leafKinds[this.p] = 0;
    return this.p++;
  }

  /** the current token as a named leaf of type `kind` (T) */
  private leaf(kind: number): number {
    leafKinds[this.p] = kind;
    return this.p++;
  }

  private identifier(kind = T.identifier): number {
    if (this.kind() !== IDENT) this.fail(`expected ${typeName(kind)}`);
    return this.leaf(kind);
  }

  /** with the parse state switched for a nested part (inside parentheses, brackets, braces) */
  private nested<T>(noLiteral: boolean, read: () => T): T {
    const savedNoLiteral = this.noLiteral;
    const savedTypeGuard = this.typeGuard;
    const savedLineEnds = this.lineEnds;
    this.noLiteral = noLiteral;
    this.typeGuard = false;
    this.lineEnds = false;
    const result = read();
    // no finally: a GiveUp abandons the whole parse
    this.noLiteral = savedNoLiteral;
    this.typeGuard = savedTypeGuard;
    this.lineEnds = savedLineEnds;
    return result;
  }

  /** what `read` gives, or undefined (and the tokens and state as they were) where it gives up or gives nothing */
  private attempt<T>(read: () => T | undefined): T | undefined {
    const saved = { p: this.p, noLiteral: this.noLiteral, typeGuard: this.typeGuard, lineEnds: this.lineEnds };
    try {
      const result = read();
      if (result !== undefined) return result;
    } catch (error) {
      if (!(error instanceof GiveUp)) throw error;
    }
    Object.assign(this, saved);
    return undefined;
  }

  /** with line breaks ending statements (a statement list or a declaration group) */
  private statements<T>(read: () => T): T {
    const saved = this.lineEnds;
    this.lineEnds = true;
    const result = read();
    this.lineEnds = saved;
    return result;
  }

  /**
   * A statement or declaration terminator: `;` (a child), a line break (hidden, but in the span of the node
   * it ends, as tree-sitter's `\n` token is), or nothing before a closing token.
   */
  private terminator(kids: Kids, closers: readonly string[]): boolean {
    if (this.kind() === ';') {
      kids.add(this.token());
      return true;
    }
    const at = this.t.breaks[this.p]!;
    if (at >= 0) {
      // tree-sitter-go's newline token takes the whole run of line breaks, not the spaces between them
      let end = at + 1;
      while (this.src.charCodeAt(end) === 10) end++;
      kids.hiddenEnd = end;
      return true;
    }
    if (closers.includes(this.kind())) return false;
    this.fail('expected a terminator');
  }

  // the file

  parseFile(): Node {
    const kids = Kids.take();
    while (this.kind() !== EOF) {
      switch (this.kind()) {
        case 'package':
          kids.add(node(T.package_clause, Kids.take().add(this.token()).add(this.identifier(T.package_identifier))));
          break;
        case 'import':
          kids.add(this.importDeclaration());
          break;
        case 'func':
          kids.add(this.peek() === '(' ? this.methodDeclaration() : this.functionDeclaration());
          break;
        case 'var':
        case 'const':
        case 'type':
          kids.add(this.declaration());
          break;
        default:
          this.fail('top-level statement');
      }
      if (this.kind() !== EOF) this.terminator(kids, NO_CLOSER);
    }
    // a declaration other than a function's ending the file with no line break after it: tree-sitter-go
    // gives it a zero-width terminator node, which is not copied here
    const last = kids.length ? typeOf(kids.nodes[kids.length - 1]!) : 'function_declaration';
    if (this.t.breaks[this.p]! < 0 && last !== 'function_declaration' && last !== 'method_declaration') this.fail('no line break after the last declaration');
    return kids.build(T.source_file, 0, this.src.length);
  }

  private importDeclaration(): Node {
    const kids = Kids.take().add(this.token());
    if (this.kind() === '(') {
      const list = Kids.take().add(this.token());
      while (this.kind() !== ')') {
        list.add(this.importSpec());
        if (!this.terminator(list, TYPE_GROUP_END)) break;
      }
      list.add(this.expect(')'));
      list.hiddenEnd = -1;
      kids.add(node(T.import_spec_list, list));
    } else kids.add(this.importSpec());
    return node(T.import_declaration, kids);
  }

  private importSpec(): Node {
    const kids = Kids.take();
    if (this.kind() === '.') {
      // tree-sitter-go's dot is a node around the `.` token
      const dot = this.token();
      kids.add(builtAround(T.dot, dot), F.name);
    }
    else if (this.kind() === IDENT) kids.add(this.textIs('_') ? this.leaf(T.blank_identifier) : this.leaf(T.package_identifier), F.name);
    kids.add(this.stringLiteral(), F.path);
    return node(T.import_spec, kids);
  }

  private functionDeclaration(): Node {
    const kids = Kids.take().add(this.token()).add(this.identifier(), F.name);
    if (this.kind() === '[') kids.add(this.typeParameterList(), F.type_parameters);
    this.signature(kids);
    if (this.kind() === '{' && !this.lineBreak) kids.add(this.block(), F.body);
    return node(T.function_declaration, kids);
  }

  private methodDeclaration(): Node {
    const kids = Kids.take().add(this.token()).add(this.parameterList(), F.receiver).add(this.identifier(T.field_identifier), F.name);
    this.signature(kids);
    if (this.kind() === '{' && !this.lineBreak) kids.add(this.block(), F.body);
    return node(T.method_declaration, kids);
  }

  /** parameters and result of a function, method, function type, literal or interface method */
  private signature(kids: Kids): void {
    kids.add(this.parameterList(), F.parameters);
    if (this.lineBreak) return;
    if (this.kind() === '(') kids.add(this.parameterList(), F.result);
    else if (this.kind() !== '{' && TYPE_START.has(this.kind())) kids.add(this.type_(), F.result);
  }

  private typeParameterList(): Node {
    const kids = Kids.take().add(this.expect('['));
    this.nested(false, () => {
      for (;;) {
        const decl = Kids.take().add(this.identifier(), F.name);
        while (this.kind() === ',') decl.add(this.token()).add(this.identifier(), F.name);
        decl.add(node(T.type_constraint, this.typeElemKids()), F.type);
        kids.add(node(T.type_parameter_declaration, decl));
        if (this.kind() !== ',') break;
        kids.add(this.token());
        if (this.kind() === ']') break;
      }
    });
    kids.add(this.expect(']'));
    return node(T.type_parameter_list, kids);
  }

  /** `(a, b int, c ...string)`, `(int, error)`: Go groups names with the type after them */
  private parameterList(): Node {
    const kids = Kids.take().add(this.expect('('));
    interface Entry {
      name?: Node;
      variadic?: Node;
      type?: Node;
      comma?: Node;
    }
    const entries: Entry[] = [];
    this.nested(false, () => {
      while (this.kind() !== ')') {
        const entry: Entry = {};
        if (this.kind() === '...') {
          entry.variadic = this.token();
          entry.type = this.type_();
        } else if (this.kind() === IDENT && (this.peek() === ',' || this.peek() === ')')) {
          entry.name = this.leaf(T.identifier);
        } else if (this.kind() === IDENT && this.peek() === '...') {
          entry.name = this.leaf(T.identifier);
          entry.variadic = this.token();
          entry.type = this.type_();
        } else if (this.kind() === IDENT && this.peek() !== '.' && this.peek() !== '[' && TYPE_START.has(this.peek())) {
          entry.name = this.leaf(T.identifier);
          entry.type = this.type_();
        } else if (this.kind() === IDENT && this.peek() === '[') {
          // `name []T` or `name [N]T`, against a generic type `List[T]`
          const named = this.attempt(() => {
            const name = this.leaf(T.identifier);
            const type = this.type_();
            return this.kind() === ',' || this.kind() === ')' ? { name, type } : undefined;
          });
          if (named) Object.assign(entry, named);
          else entry.type = this.type_();
        } else entry.type = this.type_();
        if (this.kind() === ',') entry.comma = this.token();
        else if (this.kind() !== ')') this.fail('parameter list');
        entries.push(entry);
      }
    });
    const named = entries.some((e) => e.name && e.type);
    let group = Kids.take();
    for (const e of entries) {
      if (e.variadic) {
        const v = Kids.take();
        if (e.name) v.add(e.name, F.name);
        v.add(e.variadic).add(e.type!, F.type);
        kids.add(node(T.variadic_parameter_declaration, v));
        if (group.length) this.fail('names without a type');
      } else if (!named) {
        const type = e.type ?? retype(e.name!, T.type_identifier);
        kids.add(node(T.parameter_declaration, Kids.take().add(type, F.type)));
      } else {
        if (!e.name) this.fail('unnamed parameter among named ones');
        group.add(e.name, F.name);
        if (!e.type) {
          if (!e.comma) this.fail('names without a type');
          group.add(e.comma);
          continue;
        }
        group.add(e.type, F.type);
        // tree-sitter's GLR parse keeps so few readings of a long run of names that it splits one (`a1, ... a9 uintptr`)
        if (group.length > 2 * MAX_NAMES_IN_GROUP) this.fail('long run of parameter names');
        kids.add(node(T.parameter_declaration, group));
        group = Kids.take();
      }
      if (e.comma) kids.add(e.comma);
    }
    if (group.length) this.fail('names without a type');
    kids.add(this.expect(')'));
    return node(T.parameter_list, kids);
  }

  // declarations

  private declaration(): Node {
    const keyword = this.kind();
    const kind = keyword === 'var' ? T.var_declaration : keyword === 'const' ? T.const_declaration : T.type_declaration;
    const kids = Kids.take().add(this.token());
    const spec = keyword === 'var' ? () => this.varSpec() : keyword === 'const' ? () => this.constSpec() : () => this.typeSpec();
    if (this.kind() !== '(') {
      kids.add(spec());
      return node(kind, kids);
    }
    const group = keyword === 'var' ? Kids.take() : kids;
    group.add(this.token());
    this.statements(() => {
      while (this.kind() !== ')') {
        group.add(spec());
        // const and var groups need a terminator after every spec; a type group may end without one
        if (!this.terminator(group, keyword === 'type' ? TYPE_GROUP_END : NO_CLOSER)) break;
      }
    });
    group.add(this.expect(')'));
    group.hiddenEnd = -1;
    if (keyword === 'var') kids.add(node(T.var_spec_list, group));
    return node(kind, kids);
  }

  private constSpec(): Node {
    const kids = Kids.take().add(this.identifier(), F.name);
    while (this.kind() === ',') kids.add(this.token(), F.name).add(this.identifier(), F.name);
    if (this.kind() !== '=' && TYPE_START.has(this.kind()) && !this.lineBreak) kids.add(this.type_(), F.type);
    if (this.kind() === '=') kids.add(this.token()).add(this.expressionList(), F.value);
    return node(T.const_spec, kids);
  }

  private varSpec(): Node {
    const kids = Kids.take().add(this.identifier(), F.name);
    while (this.kind() === ',') kids.add(this.token()).add(this.identifier(), F.name);
    if (this.kind() !== '=') kids.add(this.type_(), F.type);
    if (this.kind() === '=') kids.add(this.token()).add(this.expressionList(), F.value);
    return node(T.var_spec, kids);
  }

  private typeSpec(): Node {
    const kids = Kids.take().add(this.identifier(T.type_identifier), F.name);
    if (this.kind() === '[' && this.peek() === IDENT && this.peek(2) !== ']') {
      // `type List[T any] ...` against an array type `type A [N]int` (`[N]` was passed over above)
      if (!TYPE_PARAMETER_NEXT.has(this.peek(2))) this.fail('type parameter or array length');
      kids.add(this.typeParameterList(), F.type_parameters);
    }
    if (this.kind() === '=') {
      kids.add(this.token()).add(this.type_(), F.type);
      return node(T.type_alias, kids);
    }
    kids.add(this.type_(), F.type);
    return node(T.type_spec, kids);
  }

  // types

  private type_(): Node {
    switch (this.kind()) {
      case IDENT: {
        let name: Node;
        if (this.peek() === '.' && this.peek(2) === IDENT) {
          const q = Kids.take().add(this.leaf(T.package_identifier), F.package).add(this.token()).add(this.leaf(T.type_identifier), F.name);
          name = node(T.qualified_type, q);
        } else name = this.leaf(T.type_identifier);
        if (this.kind() === '[' && !this.lineBreak) return node(T.generic_type, Kids.take().add(name, F.type).add(this.typeArguments(), F.type_arguments));
        return name;
      }
      case '*':
        return node(T.pointer_type, Kids.take().add(this.token()).add(this.type_()));
      case '[': {
        const kids = Kids.take().add(this.token());
        if (this.kind() === ']') return node(T.slice_type, kids.add(this.token()).add(this.type_(), F.element));
        if (this.kind() === '...') return node(T.implicit_length_array_type, kids.add(this.token()).add(this.expect(']')).add(this.type_(), F.element));
        kids.add(
          this.nested(false, () => this.expression()),
          F.length,
        );
        return node(T.array_type, kids.add(this.expect(']')).add(this.type_(), F.element));
      }
      case 'map': {
        const kids = Kids.take().add(this.token()).add(this.expect('['));
        kids.add(
          this.nested(false, () => this.type_()),
          F.key,
        );
        return node(T.map_type, kids.add(this.expect(']')).add(this.type_(), F.value));
      }
      case 'chan': {
        const kids = Kids.take().add(this.token());
        if (this.kind() === '<-') kids.add(this.token());
        return node(T.channel_type, kids.add(this.type_(), F.value));
      }
      case '<-': {
        const kids = Kids.take().add(this.token()).add(this.expect('chan'));
        return node(T.channel_type, kids.add(this.type_(), F.value));
      }
      case 'func': {
        const kids = Kids.take().add(this.token());
        this.signature(kids);
        return node(T.function_type, kids);
      }
      case 'struct':
        return node(T.struct_type, Kids.take().add(this.token()).add(this.fieldDeclarationList()));
      case 'interface':
        return this.interfaceType();
      case '(': {
        const kids = Kids.take().add(this.token());
        kids.add(this.nested(false, () => this.type_()));
        return node(T.parenthesized_type, kids.add(this.expect(')')));
      }
      case '~':
        return node(T.negated_type, Kids.take().add(this.token()).add(this.type_()));
      default:
        this.fail('type');
    }
  }

  private typeArguments(): Node {
    const kids = Kids.take().add(this.expect('['));
    this.nested(false, () => {
      for (;;) {
        kids.add(node(T.type_elem, this.typeElemKids()));
        if (this.kind() !== ',') break;
        kids.add(this.token());
        if (this.kind() === ']') break;
      }
    });
    return node(T.type_arguments, kids.add(this.expect(']')));
  }

  /** `T`, `~int | ~string`: types separated by `|` */
  private typeElemKids(): Kids {
    const kids = Kids.take().add(this.type_());
    while (this.kind() === '|') kids.add(this.token()).add(this.type_());
    return kids;
  }

  private fieldDeclarationList(): Node {
    const kids = Kids.take().add(this.expect('{'));
    this.nested(false, () => {
      while (this.kind() !== '}') {
        kids.add(this.fieldDeclaration());
        if (!this.terminator(kids, ['}'])) break;
      }
    });
    kids.add(this.expect('}'));
    kids.hiddenEnd = -1;
    return node(T.field_declaration_list, kids);
  }

  private fieldDeclaration(): Node {
    const kids = Kids.take();
    const embeddedEnd = (k: number) => this.t.breaks[this.p + k]! >= 0 || FIELD_ALONE.has(this.peek(k));
    if (this.kind() === '*') {
      kids.add(this.token()).add(this.embeddedType(), F.type);
    } else if (this.kind() === IDENT && this.peek() === '.') {
      kids.add(this.embeddedType(), F.type);
    } else if (this.kind() === IDENT && embeddedEnd(1)) {
      kids.add(this.leaf(T.type_identifier), F.type);
    } else if (this.kind() === IDENT && this.peek() === '[' && this.peek(2) !== ']') {
      // `buf [N]byte`, against an embedded generic type `List[T]`
      const named = this.attempt(() => {
        const name = this.leaf(T.field_identifier);
        const type = this.type_();
        return this.t.breaks[this.p]! >= 0 || FIELD_ALONE.has(this.kind()) ? { name, type } : undefined;
      });
      if (named) kids.add(named.name, F.name).add(named.type, F.type);
      else kids.add(this.embeddedType(), F.type);
    } else {
      kids.add(this.identifier(T.field_identifier), F.name);
      while (this.kind() === ',') kids.add(this.token()).add(this.identifier(T.field_identifier), F.name);
      kids.add(this.type_(), F.type);
    }
    if ((this.kind() === '"' || this.kind() === '`') && !this.lineBreak) kids.add(this.stringLiteral(), F.tag);
    return node(T.field_declaration, kids);
  }

  private embeddedType(): Node {
    const type = this.type_();
    if (typeOf(type) !== 'type_identifier' && typeOf(type) !== 'qualified_type' && typeOf(type) !== 'generic_type') this.fail('embedded type');
    return type;
  }

  private interfaceType(): Node {
    const kids = Kids.take().add(this.token()).add(this.expect('{'));
    this.nested(false, () => {
      while (this.kind() !== '}') {
        if (this.kind() === IDENT && this.peek() === '(') {
          const method = Kids.take().add(this.leaf(T.field_identifier), F.name);
          this.signature(method);
          kids.add(node(T.method_elem, method));
        } else kids.add(node(T.type_elem, this.typeElemKids()));
        if (!this.terminator(kids, ['}'])) break;
      }
    });
    kids.add(this.expect('}'));
    kids.hiddenEnd = -1;
    return node(T.interface_type, kids);
  }

  // statements

  private block(): Node {
    const kids = Kids.take().add(this.expect('{'));
    const list = this.nested(false, () => this.statements(() => this.statementList(BLOCK_END)));
    kids.add(list).add(this.expect('}'));
    return node(T.block, kids);
  }

  /** statements up to one of `closers` (not consumed); undefined when there are none */
  private statementList(closers: readonly string[]): Node | undefined {
    const kids = Kids.take();
    while (!closers.includes(this.kind())) {
      if (this.kind() === IDENT && this.peek() === ':') {
        const label = Kids.take().add(this.leaf(T.label_name), F.label).add(this.token());
        if (closers.includes(this.kind())) {
          kids.add(node(T.labeled_statement, label));
          break;
        }
        kids.add(node(T.labeled_statement, label.add(this.statement())));
      } else kids.add(this.statement());
      if (!this.terminator(kids, closers)) break;
    }
    return kids.length ? node(T.statement_list, kids) : undefined;
  }

  private statement(): Node {
    switch (this.kind()) {
      case 'var':
      case 'const':
      case 'type':
        return this.declaration();
      case 'return': {
        const kids = Kids.take().add(this.token());
        if (!this.lineBreak && !RETURN_ALONE.has(this.kind())) kids.add(this.expressionList());
        return node(T.return_statement, kids);
      }
      case 'go':
      case 'defer':
        return node(this.kind() === 'go' ? T.go_statement : T.defer_statement, Kids.take().add(this.token()).add(this.expression()));
      case 'if':
        return this.ifStatement();
      case 'for':
        return this.forStatement();
      case 'switch':
        return this.switchStatement();
      case 'select': {
        const kids = Kids.take().add(this.token()).add(this.expect('{'));
        while (this.kind() === 'case' || this.kind() === 'default') kids.add(this.kind() === 'default' ? this.defaultCase() : this.communicationCase());
        return node(T.select_statement, kids.add(this.expect('}')));
      }
      case 'break':
      case 'continue': {
        const kind = this.kind() === 'break' ? T.break_statement : T.continue_statement;
        const kids = Kids.take().add(this.token());
        if (this.kind() === IDENT && !this.lineBreak) kids.add(this.leaf(T.label_name));
        return node(kind, kids);
      }
      case 'goto':
        return node(T.goto_statement, Kids.take().add(this.token()).add(this.identifier(T.label_name)));
      case 'fallthrough': {
        return builtAround(T.fallthrough_statement, this.token());
      }
      case '{':
        return this.block();
      default:
        return this.simpleStatement();
    }
  }

  /** an expression, send, inc/dec, assignment or short variable declaration */
  /** `left`: its expression list, where the caller read it already */
  private simpleStatement(left = this.expressionListKids()): Node {
    const op = this.atLineEnd ? ';' : this.kind();
    if (op === ':=' || ASSIGNMENT.has(op)) {
      const kids = Kids.take().add(node(T.expression_list, left), F.left);
      if (op === ':=') kids.add(this.token());
      else kids.add(this.token(), F.operator);
      kids.add(this.expressionList(), F.right);
      return node(op === ':=' ? T.short_var_declaration : T.assignment_statement, kids);
    }
    if (left.length !== 1) this.fail('expression list as a statement');
    const expression = left.first()!;
    if (op === '++' || op === '--') return node(op === '++' ? T.inc_statement : T.dec_statement, Kids.take().add(expression).add(this.token()));
    if (op === '<-') return node(T.send_statement, Kids.take().add(expression, F.channel).add(this.token()).add(this.expression(), F.value));
    return node(T.expression_statement, Kids.take().add(expression));
  }

  /** a for header's first part: a range clause, or the simple statement before `;` */
  private forHeader(): Node {
    if (this.kind() === 'range') {
      return node(T.range_clause, Kids.take().add(this.token()).add(this.expression(), F.right));
    }
    const left = this.expressionListKids();
    if ((this.kind() === ':=' || this.kind() === '=') && this.peek() === 'range') {
      const kids = Kids.take().add(node(T.expression_list, left), F.left).add(this.token()).add(this.token()).add(this.expression(), F.right);
      return node(T.range_clause, kids);
    }
    return this.simpleStatement(left);
  }

  private ifStatement(): Node {
    const kids = Kids.take().add(this.token());
    this.nested(true, () => {
      const first = this.simpleStatement();
      if (this.kind() === ';') {
        kids.add(first, F.initializer).add(this.token());
        kids.add(this.expression(), F.condition);
      } else kids.add(unwrapExpression(first), F.condition);
    });
    kids.add(this.block(), F.consequence);
    if (this.kind() === 'else') {
      kids.add(this.token());
      kids.add(this.kind() === 'if' ? this.ifStatement() : this.block(), F.alternative);
    }
    return node(T.if_statement, kids);
  }

  private forStatement(): Node {
    const kids = Kids.take().add(this.token());
    this.nested(true, () => {
      if (this.kind() === '{') return;
      if (this.kind() === ';') {
        kids.add(this.forClause(undefined));
        return;
      }
      const first = this.forHeader();
      if (typeOf(first) === 'range_clause') kids.add(first);
      else if (this.kind() === ';') kids.add(this.forClause(first));
      else kids.add(unwrapExpression(first));
    });
    kids.add(this.block(), F.body);
    return node(T.for_statement, kids);
  }

  private forClause(initializer: Node | undefined): Node {
    const kids = Kids.take().add(initializer, F.initializer).add(this.expect(';'));
    if (this.kind() !== ';') kids.add(this.expression(), F.condition);
    kids.add(this.expect(';'));
    if (this.kind() !== '{') kids.add(this.simpleStatement(), F.update);
    return node(T.for_clause, kids);
  }

  private switchStatement(): Node {
    const kids = Kids.take().add(this.token());
    let typeSwitch = false;
    this.nested(true, () => {
      this.typeGuard = true;
      if (this.kind() === '{') return;
      let header = this.simpleStatement();
      if (this.kind() === ';') {
        kids.add(header, F.initializer).add(this.token());
        if (this.kind() === '{') return;
        header = this.simpleStatement();
      }
      if (this.kind() === '.' && this.peek() === '(' && this.peek(2) === 'type') {
        typeSwitch = true;
        if (typeOf(header) === 'short_var_declaration') {
          if (childCountOf(header) !== 3 || childCountOf(childOf(header, 2)) !== 1) this.fail('type switch alias');
          kids.add(childOf(header, 0), F.alias).add(childOf(header, 1)).add(childOf(childOf(header, 2), 0), F.value);
        } else kids.add(unwrapExpression(header), F.value);
        kids.add(this.token()).add(this.token()).add(this.token()).add(this.expect(')'));
      } else kids.add(unwrapExpression(header), F.value);
    });
    kids.add(this.expect('{'));
    while (this.kind() === 'case' || this.kind() === 'default') {
      if (this.kind() === 'default') kids.add(this.defaultCase());
      else if (typeSwitch) kids.add(this.typeCase());
      else kids.add(this.expressionCase());
    }
    kids.add(this.expect('}'));
    return node(typeSwitch ? T.type_switch_statement : T.expression_switch_statement, kids);
  }

  private caseBody(kids: Kids): void {
    kids.add(this.expect(':'));
    kids.add(this.statements(() => this.statementList(CASE_END)));
  }

  private expressionCase(): Node {
    const kids = Kids.take().add(this.token()).add(this.expressionList(), F.value);
    this.caseBody(kids);
    return node(T.expression_case, kids);
  }

  private typeCase(): Node {
    const kids = Kids.take().add(this.token()).add(this.type_(), F.type);
    while (this.kind() === ',') kids.add(this.token(), F.type).add(this.type_(), F.type);
    this.caseBody(kids);
    return node(T.type_case, kids);
  }

  private defaultCase(): Node {
    const kids = Kids.take().add(this.token());
    this.caseBody(kids);
    return node(T.default_case, kids);
  }

  private communicationCase(): Node {
    const kids = Kids.take().add(this.token());
    const left = this.expressionListKids();
    let communication: Node;
    if (this.kind() === '=' || this.kind() === ':=') {
      const receive = Kids.take().add(node(T.expression_list, left), F.left).add(this.token()).add(this.expression(), F.right);
      communication = node(T.receive_statement, receive);
    } else {
      if (left.length !== 1) this.fail('communication');
      if (this.kind() === '<-') communication = node(T.send_statement, Kids.take().add(left.first(), F.channel).add(this.token()).add(this.expression(), F.value));
      else communication = node(T.receive_statement, Kids.take().add(left.first(), F.right));
    }
    kids.add(communication, F.communication);
    this.caseBody(kids);
    return node(T.communication_case, kids);
  }

  // expressions

  private expressionList(): Node {
    return node(T.expression_list, this.expressionListKids());
  }

  private expressionListKids(): Kids {
    const kids = Kids.take().add(this.expression());
    while (this.kind() === ',') kids.add(this.token()).add(this.expression());
    return kids;
  }

  private expression(minPrecedence = 0): Node {
    let left = this.unary();
    for (;;) {
      const precedence = BINARY_PRECEDENCE[this.kind()];
      if (precedence === undefined || precedence <= minPrecedence || this.atLineEnd) return left;
      const kids = Kids.take().add(left, F.left).add(this.token(), F.operator).add(this.expression(precedence), F.right);
      left = node(T.binary_expression, kids);
    }
  }

  private unary(): Node {
    if (UNARY.has(this.kind())) {
      if (this.kind() === '<-' && this.peek() === 'chan') this.fail('channel type in an expression');
      const kids = Kids.take().add(this.token(), F.operator).add(this.unary(), F.operand);
      return node(T.unary_expression, kids);
    }
    return this.primary();
  }

  private primary(): Node {
    const start = this.p;
    let x = this.operand();
    /** what a composite literal's type could be read from: `T`, `pkg.T`, `T[A]`, `pkg.T[A]` */
    let typeLike = typeOf(x) === 'identifier' ? 1 : 0;
    for (;;) {
      if (this.atLineEnd) return x;
      switch (this.kind()) {
        case '.': {
          if (this.peek() === '(') {
            if (this.peek(2) === 'type') {
              if (this.typeGuard) return x;
              this.fail('.(type) outside a type switch');
            }
            const kids = Kids.take().add(x, F.operand).add(this.token()).add(this.token());
            kids.add(this.nested(false, () => this.type_()), F.type).add(this.expect(')'));
            x = node(T.type_assertion_expression, kids);
            typeLike = 0;
            break;
          }
          const kids = Kids.take().add(x, F.operand).add(this.token());
          if (this.kind() !== IDENT) this.fail('selector');
          kids.add(this.leaf(T.field_identifier), F.field);
          x = node(T.selector_expression, kids);
          typeLike = typeLike === 1 ? 2 : 0;
          break;
        }
        case '(':
          x = node(T.call_expression, Kids.take().add(x, F.function).add(this.argumentList(), F.arguments));
          typeLike = 0;
          break;
        case '[': {
          const index = this.indexOrSlice(x, start);
          x = index;
          typeLike = typeLike > 0 && typeOf(x) === 'index_expression' ? 3 : 0;
          if (typeOf(x) === 'type_conversion_expression') typeLike = 0;
          break;
        }
        case '{':
          if (typeLike === 0 || this.noLiteral) return x;
          this.p = start;
          x = this.compositeLiteral(this.type_());
          typeLike = 0;
          break;
        default:
          return x;
      }
    }
  }

  /**
   * `x[i]`, `x[i:j]`, `x[i:j:k]`, or the conversion `T[A](v)`. Where an index could also be read as a generic
   * type, tree-sitter-go keeps both readings and takes the one of higher dynamic precedence, the type's on
   * a tie (`m[k](v)` is a conversion, `f.Blocks[idx[p.ID]]` an instantiation): the scores below follow
   * its grammar, and where the type reading wins but is not one built here, the parser gives up.
   */
  private indexOrSlice(operand: Node, operandStart: number): Node {
    const kids = Kids.take().add(operand, F.operand).add(this.token());
    return this.nested(false, () => {
      let first: Node | undefined;
      if (this.kind() !== ':') first = this.expression();
      if (this.kind() === ']') {
        const index = node(T.index_expression, kids.add(first, F.index).add(this.token()));
        const asIndex = indexCount(index);
        if (-1 + typeScore(operand) + typeScore(first!) >= asIndex) this.fail('index or generic type instantiation');
        if (this.kind() !== '(' || -1 + typeScore(index) < asIndex) return index;
        // `T[A](v)`: a conversion to a generic type
        const simple = (n: Node) => typeOf(n) === 'identifier' || typeOf(n) === 'selector_expression';
        if (!simple(operand) || !simple(first!)) this.fail('conversion to a generic type');
        const call = this.p;
        this.p = operandStart;
        const type = this.type_();
        if (typeOf(type) !== 'generic_type' || this.p !== call) this.fail('generic conversion');
        const conversion = Kids.take().add(type, F.type).add(this.expect('('));
        conversion.add(this.expression(), F.operand);
        if (this.kind() === ',') conversion.add(this.token());
        if (this.kind() !== ')') this.fail('generic call with several arguments');
        return node(T.type_conversion_expression, conversion.add(this.token()));
      }
      if (this.kind() === ',') this.fail('several type arguments');
      kids.add(first, F.start).add(this.expect(':'));
      if (this.kind() !== ']' && this.kind() !== ':') kids.add(this.expression(), F.end);
      if (this.kind() === ':') kids.add(this.token()).add(this.expression(), F.capacity);
      return node(T.slice_expression, kids.add(this.expect(']')));
    });
  }

  private argumentList(): Node {
    const kids = Kids.take().add(this.expect('('));
    this.nested(false, () => {
      while (this.kind() !== ')') {
        const value = this.expression();
        if (this.kind() === '...') kids.add(node(T.variadic_argument, Kids.take().add(value).add(this.token())));
        else kids.add(value);
        if (this.kind() !== ',') break;
        kids.add(this.token());
      }
    });
    return node(T.argument_list, kids.add(this.expect(')')));
  }

  /** `make(T, n)`, `new(T)`: a type first */
  private specialArgumentList(): Node {
    const kids = Kids.take().add(this.expect('('));
    this.nested(false, () => {
      if (this.kind() === ')') return;
      kids.add(this.type_());
      while (this.kind() === ',') {
        kids.add(this.token());
        if (this.kind() === ')') break;
        kids.add(this.expression());
      }
    });
    return node(T.argument_list, kids.add(this.expect(')')));
  }

  private operand(): Node {
    switch (this.kind()) {
      case IDENT: {
        if ((this.textIs('make') || this.textIs('new')) && this.peek() === '(') {
          const kids = Kids.take().add(this.leaf(T.identifier), F.function).add(this.specialArgumentList(), F.arguments);
          return node(T.call_expression, kids);
        }
        for (const word of LITERAL_KEYWORDS) if (this.textIs(word)) return this.leaf(T[word]);
        return this.leaf(T.identifier);
      }
      case 'int_literal':
      case 'float_literal':
      case 'imaginary_literal':
      case 'rune_literal':
        return this.leaf(this.t.kinds[this.p]!);
      case '"':
      case '`':
        return this.stringLiteral();
      case '(': {
        const kids = Kids.take().add(this.token());
        const inner = this.nested(false, () => this.expression());
        kids.add(inner).add(this.expect(')'));
        // `(*Pointer[T])(v)`: tree-sitter reads a conversion to a pointer to a generic type
        if (this.kind() === '(' && typeOf(inner) === 'unary_expression' && typeOf(childOf(inner, 1)) === 'index_expression') this.fail('conversion to a generic pointer type');
        return node(T.parenthesized_expression, kids);
      }
      case 'func': {
        const kids = Kids.take().add(this.token());
        this.signature(kids);
        if (this.kind() !== '{') this.fail('function type in an expression');
        kids.add(this.nested(false, () => this.block()), F.body);
        return node(T.func_literal, kids);
      }
      case '[':
      case 'map':
      case 'struct':
      case 'chan':
      case 'interface': {
        const type = this.type_();
        if (this.kind() === '{' && typeOf(type) !== 'channel_type' && typeOf(type) !== 'interface_type') return this.compositeLiteral(type);
        if (this.kind() === '(') {
          const kids = Kids.take().add(type, F.type).add(this.token());
          kids.add(this.nested(false, () => this.expression()), F.operand);
          if (this.kind() === ',') kids.add(this.token());
          return node(T.type_conversion_expression, kids.add(this.expect(')')));
        }
        return this.fail('type in an expression');
      }
      default:
        return this.fail('operand');
    }
  }

  private compositeLiteral(type: Node): Node {
    return node(T.composite_literal, Kids.take().add(type, F.type).add(this.literalValue(), F.body));
  }

  private literalValue(): Node {
    const kids = Kids.take().add(this.expect('{'));
    this.nested(false, () => {
      while (this.kind() !== '}') {
        const key = this.literalElement();
        if (this.kind() === ':') kids.add(node(T.keyed_element, Kids.take().add(key, F.key).add(this.token()).add(this.literalElement(), F.value)));
        else kids.add(key);
        if (this.kind() !== ',') break;
        kids.add(this.token());
      }
    });
    return node(T.literal_value, kids.add(this.expect('}')));
  }

  private literalElement(): Node {
    const value = this.kind() === '{' ? this.literalValue() : this.expression();
    return node(T.literal_element, Kids.take().add(value));
  }

  private stringLiteral(): Node {
    const start = this.t.starts[this.p]!;
    const end = this.t.ends[this.p]!;
    const raw = this.kind() === '`';
    if (!raw && this.kind() !== '"') this.fail('string');
    this.p++;
    // the quotes: anonymous leaves of the quote's type
    const quote = (raw ? RAW_STRING_TOKEN : STRING_TOKEN).kind;
    const kids = Kids.take().add(builtLeaf(quote, false, start, start + 1));
    if (raw) kids.add(builtLeaf(T.raw_string_literal_content, true, start + 1, end - 1));
    else {
      let i = start + 1;
      let run = i;
      while (i < end - 1) {
        if (this.src.charCodeAt(i) !== 92) {
          i++;
          continue;
        }
        if (i > run) kids.add(builtLeaf(T.interpreted_string_literal_content, true, run, i));
        const escapeEnd = escapeSequenceEnd(this.src, i, end - 1);
        kids.add(builtLeaf(T.escape_sequence, true, i, escapeEnd));
        i = run = escapeEnd;
      }
      if (i > run) kids.add(builtLeaf(T.interpreted_string_literal_content, true, run, i));
    }
    kids.add(builtLeaf(quote, false, end - 1, end));
    return kids.build(raw ? T.raw_string_literal : T.interpreted_string_literal, start, end);
  }
}

/**
 * The end of tree-sitter-go's escape_sequence token at `i` (a backslash): the longest of `\` and one
 * character other than x, u, U; two or three digits; `x` and two or more hex digits; `u` and four;
 * `U` and eight. A shape none of these match is left to tree-sitter.
 */
function escapeSequenceEnd(src: string, i: number, limit: number): number {
  const c = src.charCodeAt(i + 1);
  const hexRun = (from: number) => {
    let j = from;
    while (j < limit && isHex(src.charCodeAt(j))) j++;
    return j - from;
  };
  if (c === 120 /* x */) {
    // the grammar says two or more hex digits, but tree-sitter-go's lexer ends the token after two
    if (hexRun(i + 2) < 2) throw new GiveUp('escape');
    return i + 4;
  }
  if (c === 117 /* u */ || c === 85 /* U */) {
    const want = c === 117 ? 4 : 8;
    if (hexRun(i + 2) < want) throw new GiveUp('escape');
    return i + 2 + want;
  }
  if (isDigit(c)) {
    let j = i + 1;
    while (j < limit && j < i + 4 && isDigit(src.charCodeAt(j))) j++;
    return j - (i + 1) >= 2 ? j : i + 2;
  }
  if (c >= 0xd800 && c <= 0xdbff) throw new GiveUp('escaped surrogate');
  return i + 2;
}

/**
 * tree-sitter-go's dynamic precedence for an expression read as a type (-Infinity where it cannot be
 * one): a type name -1 (0 as a generic type's base), a qualified name 0, a generic type 1 and its type
 * arguments 2 more. `generic` says the node would be a generic type's base.
 */
function typeScore(n: Node, generic = false): number {
  switch (typeOf(n)) {
    case 'identifier':
      return generic ? 0 : -1;
    case 'selector_expression':
      return typeOf(childOf(n, 0)) === 'identifier' ? 0 : -Infinity;
    case 'index_expression':
      return generic ? -Infinity : 3 + typeScore(childOf(n, 0), true) + typeScore(childOf(n, 2));
    case 'unary_expression':
      return !generic && typeOf(childOf(n, 0)) === '*' ? typeScore(childOf(n, 1)) : -Infinity;
    default:
      return -Infinity;
  }
}

/** The same expression's precedence read as a value: 1 for each index expression in it. */
function indexCount(n: Node): number {
  switch (typeOf(n)) {
    case 'index_expression':
      return 1 + indexCount(childOf(n, 0)) + indexCount(childOf(n, 2));
    case 'selector_expression':
      return indexCount(childOf(n, 0));
    case 'unary_expression':
      return indexCount(childOf(n, 1));
    default:
      return 0;
  }
}

/** A node parsed as a type although read as an expression (`T` in `T{}`): the same token, another type. */
function retype(leaf: Node, kind: number): Node {
  if (leaf < 0) throw new GiveUp('retype of a built node');
  leafKinds[leaf] = kind;
  return leaf;
}

/** The expression of an expression statement (a header's condition or value). */
function unwrapExpression(statement: Node): Node {
  if (typeOf(statement) !== 'expression_statement') throw new GiveUp(`${typeOf(statement)} where an expression is wanted`);
  return childOf(statement, 0);
}

/**
 * Comments are tree-sitter "extras": each is a child of the deepest node whose children come both
 * before and after it (a comment trailing a node's last child belongs to the node's parent).
 */
function placeComments(root: Node, comments: { start: number; end: number }[]): void {
  const b = BUILT;
  // where each comment goes, found in the children as parsed: a parent, and the place among them
  const byParent = new Map<number, { place: number; comment: Node }[]>();
  for (const c of comments) {
    let parent = ~root;
    for (;;) {
      b.size[parent]!++;
      const from = b.childFrom[parent]!;
      let lo = 0;
      let hi = b.childCount[parent]!;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (startOf(b.refs[from + mid]!) < c.start) lo = mid + 1;
        else hi = mid;
      }
      // lo: the first child starting at or after the comment; the one before may span it (a token cannot)
      const before = lo > 0 ? b.refs[from + lo - 1]! : 0;
      if (before < 0 && b.end[~before]! > c.start && b.childCount[~before]! > 0) {
        parent = ~before;
        continue;
      }
      let placed = byParent.get(parent);
      if (!placed) byParent.set(parent, (placed = []));
      placed.push({ place: lo, comment: builtLeaf(T.comment, true, c.start, c.end) });
      break;
    }
  }
  // each parent's children once more, at the end of refs, with its comments among them (in document
  // order, so their places do not decrease): inserting them one by one was quadratic in a file of comments
  for (const [parent, placed] of byParent) {
    const from = b.childFrom[parent]!;
    const count = b.childCount[parent]!;
    const to = reserveRefs(count + placed.length);
    const { refs, refFields } = b;
    let out = to;
    let next = 0;
    for (let k = 0; k <= count; k++) {
      for (; next < placed.length && placed[next]!.place === k; next++) {
        refs[out] = placed[next]!.comment;
        refFields[out++] = 0;
      }
      if (k === count) break;
      refs[out] = refs[from + k]!;
      refFields[out++] = refFields[from + k]!;
    }
    b.childFrom[parent] = to;
    b.childCount[parent] = count + placed.length;
  }
}

/** where store() is in the built tree: (built node, its place, its parent's place) triples */
const STORE_STACK: number[] = [];

/** The built tree, copied into a NodeStore in document order: a node's subtree is the range after it. */
function store(root: Node, src: string): SyntaxTree {
  const b = BUILT;
  const { store, first } = NodeStore.reserve(b.size[~root]!);
  const { kind, flags, field, start, end, parent, subtreeEnd } = store;
  // every array read in locals, and only numbers copied (types and fields are ids from the start)
  const { refs, refFields, kinds, named: isNamed, start: starts, end: ends, size, childFrom, childCount } = b;
  const { kinds: tokenKinds, starts: tokenStarts, ends: tokenEnds } = TOKENS;
  const named = leafKinds;
  const stack = STORE_STACK;
  let top = 0;
  stack[top++] = ~root;
  stack[top++] = first;
  stack[top++] = -1;
  field[first] = 0;
  while (top > 0) {
    const parentAt = stack[--top]!;
    const at = stack[--top]!;
    const i = stack[--top]!;
    kind[at] = kinds[i]!;
    flags[at] = isNamed[i]!;
    start[at] = starts[i]!;
    end[at] = ends[i]!;
    parent[at] = parentAt;
    subtreeEnd[at] = at + size[i]!;
    const from = childFrom[i]!;
    // the children follow their parent, each after the subtree of the one before
    let next = at + 1;
    for (let k = from; k < from + childCount[i]!; k++) {
      const child = refs[k]!;
      field[next] = refFields[k]!;
      if (child >= 0) {
        // a token: stored here; a named one has the type the parser gave it
        const leafKind = named[child]!;
        kind[next] = leafKind || tokenKinds[child]!;
        flags[next] = leafKind ? 1 : 0;
        start[next] = tokenStarts[child]!;
        end[next] = tokenEnds[child]!;
        parent[next] = at;
        subtreeEnd[next] = next + 1;
        next++;
      } else if (childCount[~child] === 0) {
        // a leaf the parser made itself (a piece of a string literal, a comment)
        const c = ~child;
        kind[next] = kinds[c]!;
        flags[next] = isNamed[c]!;
        start[next] = starts[c]!;
        end[next] = ends[c]!;
        parent[next] = at;
        subtreeEnd[next] = next + 1;
        next++;
      } else {
        stack[top++] = ~child;
        stack[top++] = next;
        stack[top++] = at;
        next += size[~child]!;
      }
    }
  }
  return new SyntaxTree(src, store, first);
}

/** The file's tree as built, comments placed; throws GiveUp (or RangeError, nested too deep). */
function build(src: string): Node {
  BUILT.count = 0;
  BUILT.refCount = 0;
  const tokens = lex(src);
  const root = new Parser(src, tokens).parseFile();
  const first = Math.min(tokens.starts[0]!, tokens.comments[0]?.start ?? Infinity);
  BUILT.start[~root] = first === Infinity || first >= src.length ? 0 : first;
  placeComments(root, tokens.comments);
  return root;
}

/** Why `error` ends a parse: the GiveUp's words, or undefined for an error that is a bug. */
function giveUpReason(error: unknown): string | undefined {
  if (error instanceof GiveUp) return error.message;
  if (error instanceof RangeError) return 'nested too deep';
  return undefined;
}

/** The tree tree-sitter-go would give for `src`, or undefined where this parser is not sure of it. */
export function parseGoSyntax(src: string): SyntaxTree | undefined {
  try {
    return store(build(src), src);
  } catch (error) {
    if (giveUpReason(error) !== undefined) return undefined;
    throw error;
  }
}

/** Why the parser gives up on `src` (for tests and for measuring how often it does), or undefined. */
export function goSyntaxGiveUpReason(src: string): string | undefined {
  try {
    build(src);
    return undefined;
  } catch (error) {
    const reason = giveUpReason(error);
    if (reason !== undefined) return reason;
    throw error;
  }
}
