// TypeScript/JavaScript concurrency facts over ts-morph trees: shared module/class state, what
// serializes an async section (mutexes, p-limit(1), p-queue concurrency 1, per-key promise
// chains), check-then-act across an `await`, and Kubernetes watch/informer event handlers.

import type { CallExpression, SourceFile } from 'ts-morph';
import { Node, SyntaxKind } from '../lang/ts-morph.js';
import type { ParsedFile } from '../engine/types.js';

/** Bounds: PR files are hostile, and each function is scanned a few times. */
const MAX_FUNCTIONS = 2_000;
const MAX_EVENTS_PER_FUNCTION = 5_000;

type FunctionLike = Node & { getBody(): Node | undefined; isAsync?(): boolean };

export interface TsFinding {
  line: number;
  endLine?: number;
  message: string;
  key: string;
}

export function isFunctionLike(n: Node): n is FunctionLike {
  return (
    Node.isFunctionDeclaration(n) ||
    Node.isFunctionExpression(n) ||
    Node.isArrowFunction(n) ||
    Node.isMethodDeclaration(n) ||
    Node.isConstructorDeclaration(n) ||
    Node.isGetAccessorDeclaration(n) ||
    Node.isSetAccessorDeclaration(n)
  );
}

function isAsyncFunction(fn: Node): boolean {
  return (Node.isFunctionDeclaration(fn) || Node.isFunctionExpression(fn) || Node.isArrowFunction(fn) || Node.isMethodDeclaration(fn)) && fn.isAsync();
}

function functionName(fn: Node): string | undefined {
  if (Node.isFunctionDeclaration(fn) || Node.isMethodDeclaration(fn)) return fn.getName();
  const parent = fn.getParent();
  if (parent && (Node.isVariableDeclaration(parent) || Node.isPropertyAssignment(parent) || Node.isPropertyDeclaration(parent))) return parent.getName();
  return undefined;
}

/** Visit the nodes of a function body in source order, not entering nested functions. */
function forEachInBody(fn: Node, visit: (n: Node) => void): void {
  const body = (fn as FunctionLike).getBody?.();
  if (!body) return;
  let count = 0;
  const go = (n: Node) => {
    if (count++ > MAX_EVENTS_PER_FUNCTION * 4) return;
    visit(n);
    n.forEachChild((c) => {
      if (!isFunctionLike(c)) go(c);
    });
  };
  go(body);
}

// ---- shared state ----

/** Does an initializer create mutable state: a Map/Set, an array or object literal, a number (for `let`)? */
function isMutableState(init: Node | undefined, isLet: boolean): boolean {
  if (!init) return false;
  while (Node.isAsExpression(init) || Node.isParenthesizedExpression(init) || Node.isSatisfiesExpression(init)) init = init.getExpression();
  if (Node.isNewExpression(init)) {
    const name = init.getExpression().getText();
    return name === 'Map' || name === 'Set' || name === 'Array';
  }
  if (Node.isArrayLiteralExpression(init) || Node.isObjectLiteralExpression(init)) return true;
  return isLet && Node.isNumericLiteral(init);
}

/** `name` for module state, `this.name` for class state. */
export interface SharedState {
  ref: string;
  line: number;
  /** a plain object is a bag of fields: each field is its own state, so reading one and writing another is no check-then-act */
  object: boolean;
}

/** Is an initializer a plain object literal (a bag of fields), as opposed to a Map/Set/array/number? */
function isObjectLiteral(init: Node | undefined): boolean {
  while (init && (Node.isAsExpression(init) || Node.isParenthesizedExpression(init) || Node.isSatisfiesExpression(init))) init = init.getExpression();
  return !!init && Node.isObjectLiteralExpression(init);
}

function moduleState(file: SourceFile): Map<string, SharedState> {
  const state = new Map<string, SharedState>();
  for (const statement of file.getVariableStatements()) {
    const isLet = statement.getDeclarationKind() !== 'const';
    for (const decl of statement.getDeclarations()) {
      if (Node.isIdentifier(decl.getNameNode()) && isMutableState(decl.getInitializer(), isLet)) {
        state.set(decl.getName(), { ref: decl.getName(), line: decl.getStartLineNumber(), object: isObjectLiteral(decl.getInitializer()) });
      }
    }
  }
  return state;
}

function classState(cls: Node): Map<string, SharedState> {
  const state = new Map<string, SharedState>();
  if (!Node.isClassDeclaration(cls) && !Node.isClassExpression(cls)) return state;
  for (const prop of cls.getProperties()) {
    if (prop.isStatic()) continue;
    if (isMutableState(prop.getInitializer(), !prop.isReadonly())) {
      state.set(`this.${prop.getName()}`, { ref: `this.${prop.getName()}`, line: prop.getStartLineNumber(), object: isObjectLiteral(prop.getInitializer()) });
    }
  }
  for (const ctor of cls.getConstructors()) {
    for (const assign of ctor.getDescendantsOfKind(SyntaxKind.BinaryExpression)) {
      const left = assign.getLeft();
      if (assign.getOperatorToken().getKind() !== SyntaxKind.EqualsToken || !Node.isPropertyAccessExpression(left)) continue;
      if (left.getExpression().getKind() === SyntaxKind.ThisKeyword && isMutableState(assign.getRight(), true)) {
        state.set(`this.${left.getName()}`, { ref: `this.${left.getName()}`, line: assign.getStartLineNumber(), object: isObjectLiteral(assign.getRight()) });
      }
    }
  }
  return state;
}

const MUTATORS = new Set(['add', 'set', 'delete', 'clear', 'push', 'pop', 'shift', 'unshift', 'splice', 'sort', 'reverse', 'fill']);

type Access = { kind: 'read' | 'write'; node: Node; pos: number };

/**
 * Classify a reference to shared state: a write (`s.add(..)`, `s[k] = v`, `s = ..`, `s++`, `delete s[k]`)
 * or a read (anything else). Writes take effect at their end, after their operands are evaluated.
 */
function classify(ref: Node): Access {
  const parent = ref.getParent();
  if (parent && Node.isPropertyAccessExpression(parent) && parent.getExpression() === ref) {
    const call = parent.getParent();
    if (call && Node.isCallExpression(call) && call.getExpression() === parent && MUTATORS.has(parent.getName())) {
      return { kind: 'write', node: call, pos: call.getEnd() };
    }
  }
  // climb through `s[k]`, `s.x` to find an assignment target
  let target: Node = ref;
  for (let up = target.getParent(); up; up = target.getParent()) {
    if ((Node.isElementAccessExpression(up) || Node.isPropertyAccessExpression(up)) && up.getExpression() === target) {
      target = up;
      continue;
    }
    break;
  }
  const holder = target.getParent();
  if (holder && Node.isBinaryExpression(holder) && holder.getLeft() === target) {
    const op = holder.getOperatorToken().getKind();
    if (op >= SyntaxKind.FirstAssignment && op <= SyntaxKind.LastAssignment) return { kind: 'write', node: holder, pos: holder.getEnd() };
  }
  if (holder && (Node.isPostfixUnaryExpression(holder) || Node.isPrefixUnaryExpression(holder))) {
    const op = holder.getOperatorToken();
    if (op === SyntaxKind.PlusPlusToken || op === SyntaxKind.MinusMinusToken) return { kind: 'write', node: holder, pos: holder.getEnd() };
  }
  if (holder && Node.isDeleteExpression(holder)) return { kind: 'write', node: holder, pos: holder.getEnd() };
  return { kind: 'read', node: ref, pos: ref.getStart() };
}

// ---- serialization ----

const SERIALIZING_CALLS = new Set(['runExclusive', 'acquire', 'withLock', 'lock', 'enqueue', 'exclusive']);

/** Variables and properties bound to something that runs one task at a time. */
export function serializerNames(file: SourceFile): Set<string> {
  const names = new Set<string>();
  const consider = (name: string, init: Node | undefined) => {
    if (!init) return;
    const text = init.getText();
    if (text.length > 500) return;
    if (Node.isNewExpression(init)) {
      const ctor = init.getExpression().getText();
      if (/^(Mutex|AsyncLock|Lock)$/.test(ctor)) names.add(name);
      if (/^(Semaphore|Sema)$/.test(ctor) && init.getArguments()[0]?.getText() === '1') names.add(name);
      // p-queue: new PQueue({ concurrency: 1 })
      if (/Queue$/.test(ctor) && /concurrency\s*:\s*1\b/.test(text)) names.add(name);
    } else if (Node.isCallExpression(init)) {
      const callee = init.getExpression().getText();
      const args = init.getArguments();
      if (/^(pLimit|plimit|limit|pThrottle)$/.test(callee) && args[0]?.getText() === '1') names.add(name);
      // fastq(worker, 1), fastq.promise(worker, 1), async.queue(worker, 1)
      if (/(^|\.)(fastq|queue|promise)$/.test(callee) && args[args.length - 1]?.getText() === '1') names.add(name);
    }
  };
  for (const decl of file.getDescendantsOfKind(SyntaxKind.VariableDeclaration)) consider(decl.getName(), decl.getInitializer());
  for (const prop of file.getDescendantsOfKind(SyntaxKind.PropertyDeclaration)) consider(`this.${prop.getName()}`, prop.getInitializer());
  for (const assign of file.getDescendantsOfKind(SyntaxKind.BinaryExpression)) {
    const left = assign.getLeft();
    if (assign.getOperatorToken().getKind() === SyntaxKind.EqualsToken && Node.isPropertyAccessExpression(left) && left.getExpression().getKind() === SyntaxKind.ThisKeyword) {
      consider(`this.${left.getName()}`, assign.getRight());
    }
  }
  return names;
}

/** Is this call a serializing entry: `mutex.runExclusive(fn)`, `limit(fn)` of a p-limit(1), `queue.add(fn)` of a concurrency-1 queue, `lock.acquire(key, fn)`? */
function isSerializingCall(call: CallExpression, serializers: Set<string>): boolean {
  const expr = call.getExpression();
  const callee = expr.getText();
  if (serializers.has(callee)) return true;
  if (Node.isPropertyAccessExpression(expr)) {
    const name = expr.getName();
    const receiver = expr.getExpression().getText();
    if (SERIALIZING_CALLS.has(name)) return true;
    if ((name === 'add' || name === 'push' || name === 'run') && serializers.has(receiver)) return true;
  }
  return false;
}

/**
 * Is `.then(fn)` a promise chain that orders the work: `x = x.then(fn)`, or a per-key chain
 * `const next = (chains.get(k) ?? p).then(fn); chains.set(k, next)`?
 */
function isChainedThen(call: CallExpression): boolean {
  const expr = call.getExpression();
  if (!Node.isPropertyAccessExpression(expr) || (expr.getName() !== 'then' && expr.getName() !== 'finally')) return false;
  const receiver = expr.getExpression().getText();
  if (receiver.length > 500) return false;
  const get = receiver.indexOf('.get(');
  if (get > 0) {
    const map = receiver.slice(0, get).replace(/^[(\s]+/, '');
    const scope = call.getFirstAncestor(isFunctionLike) ?? call.getSourceFile();
    if (/^[\w.$]+$/.test(map) && scope.getText().includes(`${map}.set(`)) return true;
  }
  const parent = call.getParent();
  if (parent && Node.isBinaryExpression(parent) && parent.getOperatorToken().getKind() === SyntaxKind.EqualsToken && parent.getRight() === call) {
    return receiver === parent.getLeft().getText();
  }
  return false;
}

/**
 * Functions whose bodies run one at a time: given to a serializing call or a promise chain, or,
 * by name, only ever called from such functions. A fixpoint over the file, bounded.
 */
export function serializedFunctions(file: SourceFile): Set<Node> {
  const serializers = serializerNames(file);
  const serialized = new Set<Node>();
  for (const call of file.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    if (!isSerializingCall(call, serializers) && !isChainedThen(call)) continue;
    for (const arg of call.getArguments()) {
      if (isFunctionLike(arg)) serialized.add(arg);
      else if (Node.isIdentifier(arg)) {
        const fn = file.getFunction(arg.getText());
        if (fn) serialized.add(fn);
      }
    }
  }
  // the worker of a fastq/async.queue with concurrency 1 is the first argument of its constructor call
  for (const decl of file.getDescendantsOfKind(SyntaxKind.VariableDeclaration)) {
    if (!serializers.has(decl.getName())) continue;
    const init = decl.getInitializer();
    if (init && Node.isCallExpression(init)) {
      const worker = init.getArguments()[0];
      if (worker && isFunctionLike(worker)) serialized.add(worker);
      else if (worker && Node.isIdentifier(worker)) {
        const fn = file.getFunction(worker.getText());
        if (fn) serialized.add(fn);
      }
    }
  }
  // a reentrancy guard (`if (this.draining) return; this.draining = true;`) lets one run at a time
  file.forEachDescendant((fn) => {
    if (isFunctionLike(fn) && hasReentrancyGuard(fn)) serialized.add(fn);
  });
  // a named function called only from serialized functions is serialized too
  const functions = file.getFunctions().slice(0, MAX_FUNCTIONS);
  const wanted = new Set(functions.filter((fn) => !fn.isExported() && !fn.isDefaultExport()).map((fn) => fn.getName() ?? '').filter(Boolean));
  // one pass over the file's identifiers, not one per function
  const refsByName = new Map<string, Node[]>();
  if (wanted.size) {
    file.forEachDescendant((n) => {
      if (Node.isIdentifier(n) && wanted.has(n.getText()) && !Node.isFunctionDeclaration(n.getParent()!)) {
        const list = refsByName.get(n.getText()) ?? [];
        list.push(n);
        refsByName.set(n.getText(), list);
      }
    });
  }
  const enclosing = new Map<Node, Node | undefined>();
  const enclosingFunction = (id: Node) => {
    if (!enclosing.has(id)) enclosing.set(id, id.getFirstAncestor(isFunctionLike));
    return enclosing.get(id);
  };
  for (let round = 0; round < 5; round++) {
    let grew = false;
    for (const fn of functions) {
      const name = fn.getName();
      if (!name || !wanted.has(name) || serialized.has(fn)) continue;
      const refs = refsByName.get(name) ?? [];
      if (refs.length === 0) continue;
      if (refs.every((id) => { const outer = enclosingFunction(id); return !!outer && serialized.has(outer); })) {
        serialized.add(fn);
        grew = true;
      }
    }
    if (!grew) break;
  }
  return serialized;
}

/**
 * Does a function start with a test-and-set guard: `if (flag) return;` then `flag = true;` (or a
 * state machine: `if (this.state !== IDLE) return this.done; this.state = RUNNING;`)? Between the
 * test and the set nothing awaits, so one call runs past it at a time.
 */
function hasReentrancyGuard(fn: Node): boolean {
  const body = (fn as FunctionLike).getBody?.();
  if (!body || !Node.isBlock(body)) return false;
  const [first, second] = body.getStatements();
  if (!first || !second || !Node.isIfStatement(first) || !Node.isExpressionStatement(second)) return false;
  const then = first.getThenStatement();
  const exits = Node.isReturnStatement(then) || (Node.isBlock(then) && then.getStatements().length === 1 && Node.isReturnStatement(then.getStatements()[0]));
  const set = second.getExpression();
  if (!exits || !Node.isBinaryExpression(set) || set.getOperatorToken().getKind() !== SyntaxKind.EqualsToken) return false;
  const flag = set.getLeft().getText();
  const test = first.getExpression().getText();
  if (test.length > 300) return false;
  // the flag as a whole reference in the test: `flag`, `!flag`, `flag === true`, `this.state !== IDLE`
  let from = 0;
  for (let i = test.indexOf(flag); i !== -1; i = test.indexOf(flag, from)) {
    const after = test[i + flag.length] ?? ' ';
    const before = test[i - 1] ?? ' ';
    if (!/[\w.$#]/.test(after) && !/[\w.$#]/.test(before)) return true;
    from = i + flag.length;
  }
  return false;
}

/** Does a function hold a lock from before `pos`: `await mutex.acquire()`, `const release = await lock.acquire()`? */
function lockAcquiredBefore(fn: Node, pos: number): boolean {
  let found = false;
  forEachInBody(fn, (n) => {
    if (found || !Node.isAwaitExpression(n) || n.getStart() >= pos) return;
    const call = n.getExpression();
    if (Node.isCallExpression(call)) {
      const expr = call.getExpression();
      if (Node.isPropertyAccessExpression(expr) && (expr.getName() === 'acquire' || expr.getName() === 'lock' || expr.getName() === 'waitForUnlock')) found = true;
    }
  });
  return found;
}

// ---- check-then-act ----

/** Run once at start-up, not per event or request: their check-then-act has nobody to race with. */
const ONE_SHOT = new Set(['main', 'init', 'initialize', 'bootstrap', 'setup', 'start', 'run', 'constructor']);

/**
 * Shared state read, then written after an `await`, in an async function, with no write in between
 * (the act happened before the await) and no fresh read after the last await (a re-check).
 */
export function checkThenActAcrossAwait(file: ParsedFile, checkBudget: () => void): TsFinding[] {
  const source = file.ts();
  const findings: TsFinding[] = [];
  const modState = moduleState(source);
  // what serializes a function costs several passes over the file: computed only once a candidate is found
  let serialized: Set<Node> | undefined;
  const isSerialized = (fn: Node) => (serialized ??= serializedFunctions(source)).has(fn);
  let functions = 0;
  const classStates = new Map<Node, Map<string, SharedState>>();
  const stateOfClass = (cls: Node) => {
    if (!classStates.has(cls)) classStates.set(cls, classState(cls));
    return classStates.get(cls)!;
  };
  source.forEachDescendant((fn) => {
    if (!isFunctionLike(fn) || !isAsyncFunction(fn)) return;
    if (++functions > MAX_FUNCTIONS) return;
    checkBudget();
    if (ONE_SHOT.has(functionName(fn) ?? '')) return;
    const cls = fn.getFirstAncestor((a) => Node.isClassDeclaration(a) || Node.isClassExpression(a));
    const state = new Map([...modState, ...(cls && (Node.isMethodDeclaration(fn) || Node.isArrowFunction(fn)) ? stateOfClass(cls) : [])]);
    if (state.size === 0) return;
    const shadowed = localNames(fn);
    const accesses = new Map<string, Access[]>();
    const awaits: Node[] = [];
    forEachInBody(fn, (n) => {
      if (Node.isAwaitExpression(n) || (Node.isForOfStatement(n) && n.isAwaited())) awaits.push(n);
      let ref: string | undefined;
      if (Node.isIdentifier(n) && state.has(n.getText()) && !shadowed.has(n.getText())) {
        const parent = n.getParent();
        // `x.seen` or `{ seen: 1 }` is not the variable `seen`
        if (parent && Node.isPropertyAccessExpression(parent) && parent.getNameNode() === n) return;
        if (parent && (Node.isPropertyAssignment(parent) || Node.isShorthandPropertyAssignment(parent)) && parent.getNameNode() === n && !Node.isShorthandPropertyAssignment(parent)) return;
        ref = n.getText();
      } else if (Node.isPropertyAccessExpression(n) && n.getExpression().getKind() === SyntaxKind.ThisKeyword && state.has(n.getText())) {
        ref = n.getText();
      }
      if (!ref) return;
      let at: Node = n;
      const parent = n.getParent();
      if (state.get(ref)?.object && parent && Node.isPropertyAccessExpression(parent) && parent.getExpression() === n) {
        ref = `${ref}.${parent.getName()}`;
        at = parent;
      }
      const list = accesses.get(ref) ?? [];
      if (list.length < MAX_EVENTS_PER_FUNCTION) list.push(classify(at));
      accesses.set(ref, list);
    });
    if (awaits.length === 0) return;
    for (const [ref, list] of accesses) {
      const found = staleWrite(list, awaits);
      if (!found) continue;
      const { read, wait, write } = found;
      if (isSerialized(fn) || lockAcquiredBefore(fn, read.pos)) continue;
      const lines = [read.node.getStartLineNumber(), wait.getStartLineNumber(), write.node.getStartLineNumber()];
      const changed = lines.filter((l) => file.isChanged(l));
      if (changed.length === 0) continue;
      const line = file.isChanged(lines[2]!) ? lines[2]! : changed[0]!;
      findings.push({
        line,
        endLine: Math.max(line, write.node.getEndLineNumber()),
        key: `${ref} check-then-act ${functionName(fn) ?? ''}`,
        message: `\`${ref}\` is read at line ${lines[0]} (\`${clip(readContext(read.node))}\`), then written at line ${lines[2]} (\`${clip(write.node.getText())}\`) after \`${clip(wait.getText())}\` (line ${lines[1]}): two events or requests handled at once both pass the check before either writes, so the work runs twice or one update is lost (check-then-act across an await). Serialize the section (async-mutex \`runExclusive\`, a per-key promise chain, or a work queue), or write first (mark the key as in progress before awaiting) and undo on failure.`,
      });
    }
  });
  return findings;
}

function localNames(fn: Node): Set<string> {
  const names = new Set<string>();
  for (const d of fn.getDescendantsOfKind(SyntaxKind.VariableDeclaration)) names.add(d.getName());
  if (Node.isFunctionDeclaration(fn) || Node.isFunctionExpression(fn) || Node.isArrowFunction(fn) || Node.isMethodDeclaration(fn)) {
    for (const p of fn.getParameters()) names.add(p.getName());
  }
  return names;
}

/** A read, then an await, then a write, with no write between the read and the await and no re-read after it. */
function staleWrite(list: Access[], awaits: Node[]): { read: Access; wait: Node; write: Access } | undefined {
  for (const write of list) {
    if (write.kind !== 'write') continue;
    // the last await that completes before this write takes effect, and is not inside the write's own operands
    const before = awaits.filter((a) => a.getEnd() <= write.pos && !(a.getStart() >= write.node.getStart() && a.getEnd() <= write.node.getEnd()));
    const inWrite = awaits.filter((a) => a.getStart() >= write.node.getStart() && a.getEnd() <= write.node.getEnd());
    const wait = [...before, ...inWrite].sort((a, b) => a.getEnd() - b.getEnd()).pop();
    if (!wait) continue;
    const reRead = list.some((a) => a.kind === 'read' && a.pos >= wait.getEnd() && a.pos < write.pos && !withinNode(a.node, write.node));
    if (reRead) continue;
    const read = list.find(
      (a) =>
        a.kind === 'read' &&
        a.pos < wait.getStart() &&
        !list.some((b) => b.kind === 'write' && b.pos > a.pos && b.pos <= wait.getStart()) &&
        isCheck(a.node, write.node),
    );
    if (read) return { read, wait, write };
  }
  return undefined;
}

// built on first use: SyntaxKind is bound only once ts-morph is loaded (src/lang/ts-morph.ts)
let comparisons: Set<SyntaxKind> | undefined;
const COMPARISONS = () => (comparisons ??= new Set([
  SyntaxKind.AmpersandAmpersandToken, SyntaxKind.BarBarToken, SyntaxKind.QuestionQuestionToken,
  SyntaxKind.LessThanToken, SyntaxKind.GreaterThanToken, SyntaxKind.LessThanEqualsToken, SyntaxKind.GreaterThanEqualsToken,
  SyntaxKind.EqualsEqualsEqualsToken, SyntaxKind.ExclamationEqualsEqualsToken, SyntaxKind.EqualsEqualsToken, SyntaxKind.ExclamationEqualsToken,
]));

/**
 * Does the act depend on this read: it is tested (an `if`/`while`/ternary condition, a comparison,
 * `&&`/`||`/`??`), or it initializes a local that is? A read only logged or returned is not a check.
 */
function isCheck(read: Node, write: Node, followLocals = true): boolean {
  for (let n: Node | undefined = read, child: Node = read; n; child = n, n = n.getParent()) {
    if (Node.isIfStatement(n) || Node.isWhileStatement(n) || Node.isDoStatement(n)) return n.getExpression() === child;
    if (Node.isConditionalExpression(n)) return n.getCondition() === child;
    if (Node.isBinaryExpression(n) && COMPARISONS().has(n.getOperatorToken().getKind())) return true;
    if (Node.isVariableDeclaration(n)) {
      if (!followLocals) return false;
      const name = n.getNameNode();
      const scope = n.getFirstAncestor(isFunctionLike);
      if (!Node.isIdentifier(name) || !scope) return false;
      // the local is tested, or carried into the write (`usage[t] = used + 1`)
      return localUsedAsCheck(scope, name.getText(), n.getEnd(), write);
    }
    if (Node.isStatement(n) || isFunctionLike(n)) return false;
  }
  return false;
}

/** Is local `name` used after `from` in a condition or in the write itself? Matches identifiers by text: no type checker here. */
function localUsedAsCheck(scope: Node, name: string, from: number, write: Node): boolean {
  let used = false;
  forEachInBody(scope, (n) => {
    if (used || !Node.isIdentifier(n) || n.getText() !== name || n.getStart() < from) return;
    const parent = n.getParent();
    if (parent && Node.isPropertyAccessExpression(parent) && parent.getNameNode() === n) return;
    used = withinNode(n, write) || isCheck(n, write, false);
  });
  return used;
}

function withinNode(inner: Node, outer: Node): boolean {
  return inner.getStart() >= outer.getStart() && inner.getEnd() <= outer.getEnd();
}

function readContext(ref: Node): string {
  const parent = ref.getParent();
  const grand = parent?.getParent();
  if (parent && Node.isPropertyAccessExpression(parent) && grand && Node.isCallExpression(grand)) return grand.getText();
  if (parent && Node.isElementAccessExpression(parent)) return parent.getText();
  return ref.getText();
}

export function clip(text: string, max = 60): string {
  let firstLine = text.split('\n', 1)[0]!;
  // a trailing line comment is not part of the code quoted back
  const comment = firstLine.search(/\s\/\/\s/);
  if (comment !== -1) firstLine = firstLine.slice(0, comment);
  firstLine = firstLine.trim();
  const one = (firstLine.length < text.length ? `${firstLine} ...` : firstLine).replace(/\s+/g, ' ');
  return one.length > max ? `${one.slice(0, max - 3)}...` : one;
}

// ---- Kubernetes event handlers ----

const INFORMER_EVENTS = new Set(['add', 'update', 'change', 'delete']);

/** `'update'`, or client-node's constants `k8s.UPDATE` / `UPDATE` for it. */
function informerEvent(arg: Node): string | undefined {
  if (Node.isStringLiteral(arg)) return INFORMER_EVENTS.has(arg.getLiteralValue()) ? arg.getLiteralValue() : undefined;
  const name = Node.isIdentifier(arg) ? arg.getText() : Node.isPropertyAccessExpression(arg) ? arg.getName() : '';
  const lower = name.toLowerCase();
  return name === name.toUpperCase() && INFORMER_EVENTS.has(lower) ? lower : undefined;
}

export interface EventHandler {
  /** the `.on(...)` or `.watch(...)` call */
  registration: CallExpression;
  /** the handler function, when this file declares it */
  fn: Node;
  /** `informer 'update'` or `Watch.watch` */
  what: string;
}

/** Informer `.on('add'|'update'|'change'|'delete', fn)` and `Watch.watch(path, query, fn, done)` handlers. */
export function eventHandlers(source: SourceFile): EventHandler[] {
  const informers = new Set<string>();
  const watches = new Set<string>();
  for (const decl of source.getDescendantsOfKind(SyntaxKind.VariableDeclaration)) {
    const init = decl.getInitializer();
    const text = init?.getText() ?? '';
    if (init && Node.isCallExpression(init) && /(^|\.)makeInformer$/.test(init.getExpression().getText())) informers.add(decl.getName());
    if (init && Node.isNewExpression(init) && /(^|\.)Watch$/.test(init.getExpression().getText()) && text.length < 500) watches.add(decl.getName());
  }
  const handlers: EventHandler[] = [];
  for (const call of source.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    const expr = call.getExpression();
    if (!Node.isPropertyAccessExpression(expr)) continue;
    const receiver = expr.getExpression().getText();
    const args = call.getArguments();
    if (expr.getName() === 'on' && args.length >= 2) {
      const event = informerEvent(args[0]!);
      if (!event) continue;
      if (!informers.has(receiver) && !/informer/i.test(receiver)) continue;
      const fn = resolveFunction(source, args[1]!);
      if (fn) handlers.push({ registration: call, fn, what: `informer '${event}' handler` });
    } else if (expr.getName() === 'watch' && args.length >= 3) {
      if (!watches.has(receiver) && !/watch/i.test(receiver)) continue;
      const fn = resolveFunction(source, args[2]!);
      if (fn) handlers.push({ registration: call, fn, what: 'Watch.watch callback' });
    }
  }
  return handlers;
}

/** A function argument, or the file's function (or const arrow) of that name. */
export function resolveFunction(source: SourceFile, arg: Node): Node | undefined {
  if (isFunctionLike(arg)) return arg;
  if (Node.isIdentifier(arg)) {
    const fn = source.getFunction(arg.getText());
    if (fn) return fn;
    const init = source.getVariableDeclaration(arg.getText())?.getInitializer();
    if (init && isFunctionLike(init)) return init;
  }
  if (Node.isPropertyAccessExpression(arg) && arg.getExpression().getKind() === SyntaxKind.ThisKeyword) {
    const cls = arg.getFirstAncestorByKind(SyntaxKind.ClassDeclaration);
    return cls?.getMethod(arg.getName());
  }
  // `this.onUpdate.bind(this)`
  if (Node.isCallExpression(arg)) {
    const inner = arg.getExpression();
    if (Node.isPropertyAccessExpression(inner) && inner.getName() === 'bind') return resolveFunction(source, inner.getExpression());
  }
  return undefined;
}

/** The relative modules a file imports from, with the names it binds: `{ reconcile as r }` gives r -> reconcile. */
export function relativeImports(source: SourceFile): { specifier: string; names: Map<string, string>; node: Node }[] {
  const imports: { specifier: string; names: Map<string, string>; node: Node }[] = [];
  for (const decl of source.getImportDeclarations()) {
    const specifier = decl.getModuleSpecifierValue();
    if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue;
    const names = new Map<string, string>();
    for (const named of decl.getNamedImports()) names.set(named.getAliasNode()?.getText() ?? named.getName(), named.getName());
    const fallback = decl.getDefaultImport();
    if (fallback) names.set(fallback.getText(), 'default');
    if (names.size) imports.push({ specifier, names, node: decl });
  }
  return imports;
}

/** Is `exported` (a name, or `default`) an async function this module exports? */
export function exportsAsyncFunction(source: SourceFile, exported: string): boolean {
  if (exported === 'default') {
    const fn = source.getFunctions().find((f) => f.isDefaultExport());
    return !!fn?.isAsync();
  }
  const fn = source.getFunction(exported);
  if (fn) return fn.isExported() && fn.isAsync();
  const decl = source.getVariableDeclaration(exported);
  const init = decl?.getInitializer();
  return !!decl && decl.isExported() && !!init && (Node.isArrowFunction(init) || Node.isFunctionExpression(init)) && init.isAsync();
}

/** Same-file async functions by name (`this.name` for methods), so a fire-and-forget `reconcile(obj)` counts as async work. */
export function asyncFunctionNames(source: SourceFile): Map<string, Node> {
  const names = new Map<string, Node>();
  for (const fn of source.getFunctions()) if (fn.isAsync() && fn.getName()) names.set(fn.getName()!, fn);
  for (const decl of source.getDescendantsOfKind(SyntaxKind.VariableDeclaration)) {
    const init = decl.getInitializer();
    if (init && (Node.isArrowFunction(init) || Node.isFunctionExpression(init)) && init.isAsync()) names.set(decl.getName(), init);
  }
  for (const m of source.getDescendantsOfKind(SyntaxKind.MethodDeclaration)) if (m.isAsync()) names.set(`this.${m.getName()}`, m);
  return names;
}

/**
 * The async work a handler starts directly, outside any serialization: its awaits, `.then(...)`
 * calls and calls of same-file async functions. Empty when the handler serializes (a mutex, a
 * concurrency-1 limiter or queue, a per-key chain) or only enqueues.
 */
export function directAsyncWork(fn: Node, asyncNames: Map<string, Node>, serialized: Set<Node>, serializers = new Set<string>()): Node[] {
  if (serialized.has(fn)) return [];
  const work: Node[] = [];
  let serializes = false;
  forEachInBody(fn, (n) => {
    if (Node.isAwaitExpression(n)) work.push(n);
    if (!Node.isCallExpression(n)) return;
    const expr = n.getExpression();
    const callee = expr.getText();
    if (isSerializingCall(n, serializers) || isChainedThen(n) || /enqueue/i.test(callee) || (Node.isPropertyAccessExpression(expr) && /queue/i.test(expr.getExpression().getText()) && /^(add|push|enqueue|addRateLimited|addAfter)$/.test(expr.getName()))) {
      serializes = true;
    } else if (Node.isPropertyAccessExpression(expr) && expr.getName() === 'then') work.push(n);
    else if (asyncNames.has(callee) && !serialized.has(asyncNames.get(callee)!)) work.push(n);
  });
  return serializes ? [] : work;
}

// ---- handler findings (event-ordering) ----

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

/** Same-file functions a handler reaches by name, itself included (depth-bounded). */
function reachedFunctions(source: SourceFile, fn: Node, depth = 3): Node[] {
  const reached: Node[] = [fn];
  for (let i = 0; i < reached.length && reached.length < 50; i++) {
    const current = reached[i]!;
    if (i > 0 && depth <= 0) break;
    for (const call of current.getDescendantsOfKind(SyntaxKind.CallExpression)) {
      const target = resolveFunction(source, call.getExpression());
      if (target && !reached.includes(target)) reached.push(target);
    }
    depth--;
  }
  return reached;
}

/** The body a status write sends: `{ ..., body }` (client-node 1.x) or the positional body argument (0.x). */
function statusBody(call: CallExpression): Node | undefined {
  const args = call.getArguments();
  const first = args[0];
  if (first && Node.isObjectLiteralExpression(first)) {
    const prop = first.getProperty('body');
    if (prop && Node.isPropertyAssignment(prop)) return prop.getInitializer();
    if (prop && Node.isShorthandPropertyAssignment(prop)) return prop.getNameNode();
    return undefined;
  }
  const name = Node.isPropertyAccessExpression(call.getExpression()) ? (call.getExpression() as import('ts-morph').PropertyAccessExpression).getName() : '';
  return args[name.includes('CustomObject') ? 5 : 2];
}

/**
 * Does a status write carry a precondition: a `resourceVersion` in its body, a JSON-patch `test` op,
 * or the whole object the handler read (which carries its resourceVersion)? Undecidable bodies count as yes.
 */
function hasPrecondition(body: Node | undefined): boolean {
  if (!body) return true;
  while (Node.isAsExpression(body) || Node.isParenthesizedExpression(body)) body = body.getExpression();
  if (Node.isIdentifier(body)) {
    const decl = body
      .getFirstAncestor(isFunctionLike)
      ?.getDescendantsOfKind(SyntaxKind.VariableDeclaration)
      .find((d) => d.getName() === body!.getText());
    const init = decl?.getInitializer();
    // a parameter or a read object: it is the object itself, resourceVersion included
    if (!init || !(Node.isObjectLiteralExpression(init) || Node.isArrayLiteralExpression(init))) return true;
    const assigned = body.getFirstAncestor(isFunctionLike)?.getText() ?? '';
    return hasPrecondition(init) || assigned.includes(`${body.getText()}.metadata.resourceVersion`);
  }
  if (Node.isObjectLiteralExpression(body)) {
    const text = body.getText();
    if (text.includes('resourceVersion')) return true;
    // `{ ...obj, status }` copies the read object's metadata, resourceVersion included
    return body.getProperties().some((p) => Node.isSpreadAssignment(p) && !Node.isObjectLiteralExpression(p.getExpression()));
  }
  if (Node.isArrayLiteralExpression(body)) {
    return body.getElements().some((e) => {
      if (!Node.isObjectLiteralExpression(e)) return false;
      const op = e.getProperty('op');
      return !!op && Node.isPropertyAssignment(op) && /^['"`]test['"`]$/.test(op.getInitializer()?.getText() ?? '');
    });
  }
  return true;
}

function isStatusWrite(call: CallExpression): boolean {
  const expr = call.getExpression();
  if (!Node.isPropertyAccessExpression(expr)) return false;
  const name = expr.getName();
  return (name.startsWith('replace') || name.startsWith('patch')) && name.endsWith('Status');
}

/** Unordered async work in watch/informer handlers, and status writes from them without a precondition. */
/** An unordered handler's call of a function imported from another module: its status writes are checked there. */
export interface ImportedCall {
  /** the local name the handler calls */
  local: string;
  /** `informer 'update' handler` */
  what: string;
  /** where the handler is registered, as `path:line` */
  from: string;
}

export function checkHandlers(
  file: ParsedFile,
  checkBudget: () => void,
  importedAsync: ReadonlyMap<string, Node> = new Map(),
  importedCalls: ImportedCall[] = [],
): TsFinding[] {
  const source = file.ts();
  const handlers = eventHandlers(source);
  if (handlers.length === 0) return [];
  const findings: TsFinding[] = [];
  const asyncNames = new Map([...importedAsync, ...asyncFunctionNames(source)]);
  const serialized = serializedFunctions(source);
  const serializers = serializerNames(source);
  for (const h of handlers) {
    checkBudget();
    const work = directAsyncWork(h.fn, asyncNames, serialized, serializers);
    if (work.length === 0) continue;
    const start = h.registration.getStartLineNumber();
    const lines = [start, ...work.map((w) => w.getStartLineNumber())];
    const line = lines.find((l) => file.isChanged(l));
    if (line !== undefined) {
      findings.push({
        line,
        endLine: Math.max(line, h.fn.getEndLineNumber()),
        key: `unordered handler ${h.what} ${clip(work[0]!.getText())}`,
        message: `This ${h.what} runs async work directly (\`${clip(work[0]!.getText())}\`, line ${work[0]!.getStartLineNumber()}): the next event for the same object starts before this one finishes, so two handlers run at once and can finish out of order, leaving the older event's result last. Put the object's key on a per-key work queue and process it from there (or chain the work per key, or serialize it with a mutex).`,
      });
    }
    for (const fn of reachedFunctions(source, h.fn)) {
      findings.push(...statusWritesWithoutPrecondition(fn, file, h.what, `line ${start}`));
      for (const call of fn.getDescendantsOfKind(SyntaxKind.CallExpression)) {
        const callee = call.getExpression();
        if (Node.isIdentifier(callee) && importedAsync.has(callee.getText())) {
          importedCalls.push({ local: callee.getText(), what: h.what, from: `${file.path}:${start}` });
        }
      }
    }
  }
  return findings;
}

/** Status writes under `fn` (on changed lines of `file`) with no resourceVersion precondition, called from a handler. */
export function statusWritesWithoutPrecondition(fn: Node, file: ParsedFile, what: string, from: string): TsFinding[] {
  const findings: TsFinding[] = [];
  for (const call of fn.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    if (!isStatusWrite(call) || !file.isChanged(call.getStartLineNumber())) continue;
    if (hasPrecondition(statusBody(call))) continue;
    const name = (call.getExpression() as import('ts-morph').PropertyAccessExpression).getName();
    findings.push({
      line: call.getStartLineNumber(),
      endLine: call.getEndLineNumber(),
      key: `status write without resourceVersion ${name}`,
      message: `\`${name}\` is called from ${article(what)} ${what} (${from}) without a resourceVersion precondition: a handler working from an older event overwrites a newer status, silently. Include the resourceVersion you read (\`metadata: { resourceVersion: obj.metadata.resourceVersion }\` in the body, or a JSON-patch \`test\` op) so a stale write fails with 409 Conflict and is retried from a fresh read.`,
    });
  }
  return findings;
}

/** The function a module exports under `exported` (a name, or `default`), and what it reaches in that module. */
export function exportedFunctionReach(source: SourceFile, exported: string): Node[] {
  let fn: Node | undefined;
  if (exported === 'default') fn = source.getFunctions().find((f) => f.isDefaultExport());
  else fn = source.getFunction(exported) ?? source.getVariableDeclaration(exported)?.getInitializer();
  return fn && isFunctionLike(fn) ? reachedFunctions(source, fn) : [];
}
