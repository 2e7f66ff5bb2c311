// Go front-end: go-syntax.ts, a parser in JavaScript that builds tree-sitter-go's tree, and tree-sitter
// with the grammar's .wasm from tree-sitter-go (no native build) for what that parser gives up on.
// The tree-sitter parser is initialised once per process; its trees are freed when their snapshot is done.

import { createRequire } from 'node:module';
import { Edit, Language, Parser, type Tree } from 'web-tree-sitter';
import { lowerBound } from '../util/sorted.js';
import { parseGoSyntax } from './go-syntax.js';
import { SyntaxNode, SyntaxTree, type GoNode as Node, type GoTree } from './go-syntax-tree.js';

let parser: Parser | undefined;
let loading: Promise<Parser> | undefined;

/** Load the Go grammar once; later calls return the same parser. */
export function loadGoParser(): Promise<Parser> {
  loading ??= (async () => {
    const require = createRequire(import.meta.url);
    await Parser.init();
    const grammar = await Language.load(require.resolve('tree-sitter-go/tree-sitter-go.wasm'));
    const p = new Parser();
    p.setLanguage(grammar);
    parser = p;
    return p;
  })();
  return loading;
}

/** The file's tree: from the JavaScript parser where it is sure of tree-sitter's reading, else from tree-sitter. */
export function parseGo(text: string): GoTree {
  return parseGoSyntax(text) ?? parseGoWithTreeSitter(text);
}

export function parseGoWithTreeSitter(text: string): Tree {
  if (!parser) throw new Error('Go parser used before loadGoParser() resolved');
  const tree = parser.parse(text);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}

/**
 * Parse `text`, another version of the file `previous` was parsed from (a PR's file at base and at head
 * differ in a few lines): the JavaScript parser reads the whole text faster than tree-sitter re-reads an
 * edited span; where it gives up, tree-sitter reparses from the old tree when it has one.
 */
export function reparseGo(previous: { tree: GoTree; text: string }, text: string): GoTree {
  const fresh = parseGoSyntax(text);
  if (fresh) return fresh;
  if (previous.tree instanceof SyntaxTree) return parseGoWithTreeSitter(text);
  return reparseGoWithTreeSitter(previous as { tree: Tree; text: string }, text);
}

/**
 * tree-sitter's incremental reparse: it re-reads only the span that differs (from the first changed
 * character to the last) and reuses the rest of the old tree, which is left as it was.
 */
export function reparseGoWithTreeSitter(previous: { tree: Tree; text: string }, text: string): Tree {
  if (!parser) throw new Error('Go parser used before loadGoParser() resolved');
  const old = previous.text;
  let start = 0;
  const shorter = Math.min(old.length, text.length);
  while (start < shorter && old.charCodeAt(start) === text.charCodeAt(start)) start++;
  let tail = 0;
  while (tail < shorter - start && old.charCodeAt(old.length - 1 - tail) === text.charCodeAt(text.length - 1 - tail)) tail++;
  const edited = previous.tree.copy();
  try {
    edited.edit(
      new Edit({
        startIndex: start,
        oldEndIndex: old.length - tail,
        newEndIndex: text.length - tail,
        startPosition: pointAt(old, start),
        oldEndPosition: pointAt(old, old.length - tail),
        newEndPosition: pointAt(text, text.length - tail),
      }),
    );
    const tree = parser.parse(text, edited);
    if (!tree) throw new Error('tree-sitter returned no tree');
    return tree;
  } finally {
    edited.delete();
  }
}

/** Row and column (in UTF-16 units, as tree-sitter's positions here are) of an index. */
function pointAt(text: string, index: number): { row: number; column: number } {
  let row = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) row++;
  return { row, column: index - (text.lastIndexOf('\n', index - 1) + 1) };
}

/** 1-based line of a node's first character. */
export function lineOf(node: Node): number {
  return node.startPosition.row + 1;
}

export function endLineOf(node: Node): number {
  return node.endPosition.row + 1;
}

/** Depth-first walk over named nodes; return false from visit to skip a subtree. */
export function walk(node: Node, visit: (n: Node) => boolean | void): void {
  if (node instanceof SyntaxNode) return node.walkNamed(visit);
  const cursor = (node as unknown as import('web-tree-sitter').Node).walk();
  let descend = true;
  for (;;) {
    // nodeIsNamed reads the cursor without building a Node: most nodes are punctuation, skipped cheaply
    if (descend && cursor.nodeIsNamed) {
      descend = visit(cursor.currentNode) !== false;
    }
    if (descend && cursor.gotoFirstChild()) continue;
    descend = true;
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) {
        cursor.delete();
        return;
      }
    }
  }
}

/** The innermost enclosing function or method declaration, or function literal. */
export function enclosingFunction(node: Node): Node | undefined {
  for (let n: Node | null = node.parent; n; n = n.parent) {
    if (n.type === 'function_declaration' || n.type === 'method_declaration' || n.type === 'func_literal') return n;
  }
  return undefined;
}

/** The outermost declared function or method (not a literal) around a node. */
export function enclosingDeclaration(node: Node): Node | undefined {
  for (let n: Node | null = node.parent; n; n = n.parent) {
    if (n.type === 'function_declaration' || n.type === 'method_declaration') return n;
  }
  return undefined;
}

/** Name of a function or method declaration. */
export function functionName(fn: Node): string | undefined {
  return fn.childForFieldName('name')?.text;
}

/** Receiver type name of a method declaration (`func (r *Foo) M()` gives `Foo`). */
export function receiverType(method: Node): string | undefined {
  if (method.type !== 'method_declaration') return undefined;
  const receiver = method.childForFieldName('receiver');
  const param = receiver?.namedChildren.find((c) => c?.type === 'parameter_declaration');
  const type = param?.childForFieldName('type');
  return type?.text.replace(/^\*/, '').replace(/\[.*$/, '');
}

/** Receiver variable name of a method declaration (`r` in `func (r *Foo) M()`). */
export function receiverName(method: Node): string | undefined {
  const receiver = method.childForFieldName('receiver');
  const param = receiver?.namedChildren.find((c) => c?.type === 'parameter_declaration');
  return param?.childForFieldName('name')?.text;
}

const calleesByTree = new WeakMap<GoTree, Map<number, string>>();

/** `pkg.Func` or `x.y.Method` text of a call's function, whitespace removed. Read once per call: every check asks. */
export function calleeText(call: Node): string {
  let byId = calleesByTree.get(call.tree);
  if (!byId) calleesByTree.set(call.tree, (byId = new Map()));
  let text = byId.get(call.id);
  if (text === undefined) {
    text = call.childForFieldName('function')?.text ?? '';
    if (/\s/.test(text)) text = text.replace(/\s+/g, '');
    byId.set(call.id, text);
  }
  return text;
}

const importsByTree = new WeakMap<GoTree, ReadonlyMap<string, string>>();

/**
 * Import path -> local name for a Go file (`time` -> `time`, aliased imports honoured). Read once per
 * tree (several analyses ask for the same file's imports); the map is shared, so it is read-only.
 */
export function goImports(root: Node): Map<string, string> {
  if (root.parent) return readImports(root);
  let imports = importsByTree.get(root.tree);
  if (!imports) importsByTree.set(root.tree, (imports = readImports(root)));
  return imports as Map<string, string>;
}

function readImports(root: Node): Map<string, string> {
  const imports = new Map<string, string>();
  // imports come first in a file, after its package clause: read its declarations up to the first that is
  // none of these, not every top-level declaration, nor a walk of the whole tree
  let specs: Node[] = [];
  if (root.parent) specs = descendants(root, 'import_spec');
  else {
    for (let d = root.firstNamedChild; d; d = d.nextNamedSibling) {
      if (d.type === 'import_declaration') specs.push(...descendants(d, 'import_spec'));
      else if (d.type !== 'package_clause' && d.type !== 'comment' && d.type !== 'ERROR') break;
    }
  }
  for (const spec of specs) {
    const path = spec.childForFieldName('path')?.text.replace(/^["`]|["`]$/g, '');
    if (!path) continue;
    const alias = spec.childForFieldName('name')?.text;
    imports.set(path, alias ?? path.split('/').pop()!.replace(/^go-/, '').replace(/\.v\d+$/, ''));
  }
  return imports;
}

/**
 * Node types read often enough, by enough analyses, to be collected once per tree: each
 * `descendantsOfType` walks its whole subtree in wasm, and the analyses ask a file for calls,
 * declarations and statements some thirty times. Types asked of small scopes only (a struct's
 * fields, the literals in a call's arguments) are not worth bringing every node of out of wasm.
 */
const INDEXED = ['assignment_statement', 'call_expression', 'dec_statement', 'for_statement', 'func_literal', 'go_statement', 'inc_statement'];
const INDEXED_TYPES = new Set(INDEXED);

/** One type's nodes of a tree in document order, with their spans (read once: `endIndex` is a wasm call). */
interface TypeIndex {
  nodes: Node[];
  starts: number[];
  ends: number[];
}

const indexesByTree = new WeakMap<GoTree, Map<string, TypeIndex>>();

function typeIndex(tree: GoTree, type: string): TypeIndex {
  let index = indexesByTree.get(tree);
  if (!index) {
    // one walk for every indexed type: a walk per type asked costs more (measured: 13.6 s against 8.2 s
    // for the 3,000-file tree), since each walk passes over the whole tree in wasm
    index = new Map(INDEXED.map((t) => [t, { nodes: [], starts: [], ends: [] }]));
    for (const n of tree.rootNode.descendantsOfType(INDEXED)) {
      if (!n) continue;
      const entry = index.get(n.type)!;
      entry.nodes.push(n);
      entry.starts.push(n.startIndex);
      entry.ends.push(n.endIndex);
    }
    indexesByTree.set(tree, index);
  }
  return index.get(type)!;
}

/** Is `n`, which spans exactly what `scope` spans, `scope` or inside it (not an ancestor of the same span)? */
function insideSameSpan(n: Node, scope: Node): boolean {
  if (n.id === scope.id) return true;
  for (let p = n.parent; p && p.startIndex === scope.startIndex; p = p.parent) if (p.id === scope.id) return true;
  return false;
}

/**
 * `scope.descendantsOfType(types)` (itself included, document order), answered from the tree's index
 * when every type is indexed.
 */
export function descendants(scope: Node, types: string | readonly string[]): Node[] {
  const list = typeof types === 'string' ? [types] : types;
  // a JavaScript tree keeps its own index of nodes by type, in typed arrays
  if (scope instanceof SyntaxNode) return scope.descendantsOfType(list as string[]);
  if (!list.every((t) => INDEXED_TYPES.has(t))) return scope.descendantsOfType(list as string[]).filter((n): n is Node => n !== null);
  const start = scope.startIndex;
  const end = scope.endIndex;
  const found: { n: Node; start: number; end: number }[] = [];
  for (const type of new Set(list)) {
    const { nodes, starts, ends } = typeIndex(scope.tree, type);
    // from the first node starting at or after the scope
    for (let i = lowerBound(starts, start); i < starts.length && starts[i]! <= end; i++) {
      if (ends[i]! > end) continue;
      if (ends[i] === end && starts[i] === start && !insideSameSpan(nodes[i]!, scope)) continue;
      found.push({ n: nodes[i]!, start: starts[i]!, end: ends[i]! });
    }
  }
  // document order: by start, the enclosing node (longer span) first
  if (list.length > 1) found.sort((a, b) => a.start - b.start || b.end - a.end);
  return found.map((f) => f.n);
}

/**
 * The nodes of `types` under `scope` (itself included), in document order, leaving out those inside a node
 * `prune` says to skip (the pruning node itself is kept when its type is asked for). The same nodes `walk`
 * would visit for those types, at a fifth of its cost: tree-sitter collects them in wasm without a cursor
 * step per node. `prune` is asked only about nodes of `types` and `pruneTypes`.
 */
export function nodesOf(scope: Node, types: readonly string[], prune?: { types: readonly string[]; skip: (n: Node) => boolean }): Node[] {
  const asked = new Set(types);
  const all = prune ? [...new Set([...types, ...prune.types])] : [...asked];
  const found: Node[] = [];
  let skipEnd = -1;
  for (const n of descendants(scope, all)) {
    if (n.startIndex < skipEnd) continue;
    if (asked.has(n.type)) found.push(n);
    if (prune && n.id !== scope.id && prune.skip(n)) skipEnd = Math.max(skipEnd, n.endIndex);
  }
  return found;
}

/** A call as the call-graph analyses see it: `name(...)`, or `operand.name(...)`. Shared by every analysis that asks, so read-only. */
export interface CallSite {
  readonly node: Node;
  /** `identifier` for `name(...)`, `selector_expression` for `operand.name(...)`, `other` for anything else called */
  readonly calleeType: 'identifier' | 'selector_expression' | 'other';
  /** the identifier, or the selector's field */
  readonly name: string;
  /** a selector's operand, as written (whitespace removed), and whether it is a plain identifier */
  readonly operand?: string;
  readonly operandType?: 'identifier' | 'other';
}

const callSitesByTree = new WeakMap<GoTree, Map<number, CallSite[]>>();
const IDENTIFIER = /^[\p{L}_][\p{L}\p{N}_]*$/u;

/** IDENTIFIER.test, with ASCII text (nearly every name) read without the Unicode regex. */
function isIdentifier(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128) return IDENTIFIER.test(text);
    const letter = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
    if (!letter && !(i > 0 && c >= 48 && c <= 57)) return false;
  }
  return true;
}

/** The calls under a node (a function declaration), read once per tree and node: several analyses follow the same calls. */
export function callSites(scope: Node): CallSite[] {
  let byNode = callSitesByTree.get(scope.tree);
  if (!byNode) callSitesByTree.set(scope.tree, (byNode = new Map()));
  let sites = byNode.get(scope.id);
  if (!sites) {
    // pushed into a literal, not mapped: an empty map() result has another elements kind than a full one,
    // and optimized code iterating both was thrown away and compiled again (V8's "wrong map")
    sites = [];
    for (const call of descendants(scope, 'call_expression')) sites.push(callSiteOf(call));
    byNode.set(scope.id, sites);
  }
  return sites;
}

const siteByTree = new WeakMap<GoTree, Map<number, CallSite>>();

/** One call as a CallSite, read once per call: the wait, goroutine and call-graph analyses each ask. */
export function callSiteOf(node: Node): CallSite {
  let byId = siteByTree.get(node.tree);
  if (!byId) siteByTree.set(node.tree, (byId = new Map()));
  let site = byId.get(node.id);
  if (!site) byId.set(node.id, (site = readCallSite(node)));
  return site;
}

/** A call as a CallSite, from its callee's text (which every check reads anyway), not from its nodes. */
function readCallSite(node: Node): CallSite {
  const callee = calleeText(node);
  // a comment inside a chained call (`.Sleep(d). // why`): the nodes say what is called
  if (callee.includes('/')) return callSiteOfNodes(node);
  if (isIdentifier(callee)) return { node, calleeType: 'identifier', name: callee };
  // `operand.name`: a name has no dot, so it follows the last one
  const dot = callee.lastIndexOf('.');
  const name = callee.slice(dot + 1);
  if (dot < 1 || !isIdentifier(name)) return { node, calleeType: 'other', name: '' };
  const operand = callee.slice(0, dot);
  return { node, calleeType: 'selector_expression', name, operand, operandType: isIdentifier(operand) ? 'identifier' : 'other' };
}

function callSiteOfNodes(node: Node): CallSite {
  const fn = node.childForFieldName('function');
  if (fn?.type === 'identifier') return { node, calleeType: 'identifier', name: fn.text };
  if (fn?.type !== 'selector_expression') return { node, calleeType: 'other', name: '' };
  const operand = fn.childForFieldName('operand');
  return {
    node,
    calleeType: 'selector_expression',
    name: fn.childForFieldName('field')?.text ?? '',
    operand: operand?.text.replace(/\s+/g, ''),
    operandType: operand?.type === 'identifier' ? 'identifier' : 'other',
  };
}
