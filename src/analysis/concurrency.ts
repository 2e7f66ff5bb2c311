// Go concurrency facts over tree-sitter trees: where state is written, whether a mutex is held at
// a point, which function literals run as goroutines, and what kind of variable a name is.
// Shared by unsynchronized-state (shared writes) and event-ordering (reconcile-path loops).

import type { GoNode } from '../engine/types.js';
import { calleeText, descendants, functionName, lineOf, nodesOf, walk } from '../lang/go.js';
import { stateKindIn, stateKindOfType, stateKindOfValue, type StateKind } from './controller.js';

export type WriteForm = 'assign' | 'append' | 'increment' | 'index' | 'delete';

/** One write to a variable or a field: `x = ...`, `x = append(x, ...)`, `x++`, `m[k] = v`, `delete(m, k)`. */
export interface GoWrite {
  node: GoNode;
  /** the written expression (for delete, the map) */
  target: GoNode;
  /** the identifier the expression starts from: `r` in `r.cache[k]`, `results` in `results` */
  root: string;
  /** the field selected on the root, when there is one: `cache` in `r.cache[k]` */
  field?: string;
  /** the write goes through an index (`m[k] = v`, `s[i] = v`, `delete(m, k)`) */
  indexed: boolean;
  /** the index expression of the outermost index, for `s[i] = v` */
  index?: GoNode;
  /** the write goes through a selector beyond the field (`r.stats.count++`): a pointee or nested value */
  deep: boolean;
  form: WriteForm;
  line: number;
}

interface Access {
  root: string;
  field?: string;
  indexed: boolean;
  index?: GoNode;
  deep: boolean;
}

/** Peel `a.b[c].d` down to its root identifier. Undefined for writes through calls or dereferences of expressions. */
function accessOf(expr: GoNode): Access | undefined {
  const chain: GoNode[] = [];
  let n: GoNode | null = expr;
  let index: GoNode | undefined;
  for (let depth = 0; n && depth < 50; depth++) {
    if (n.type === 'identifier') break;
    if (n.type === 'selector_expression') {
      chain.push(n);
      n = n.childForFieldName('operand');
    } else if (n.type === 'index_expression') {
      chain.push(n);
      index ??= n.childForFieldName('index') ?? undefined;
      n = n.childForFieldName('operand');
    } else if (n.type === 'parenthesized_expression' || (n.type === 'unary_expression' && n.text.startsWith('*'))) {
      n = n.namedChildren[0] ?? null;
    } else return undefined;
  }
  if (!n || n.type !== 'identifier') return undefined;
  chain.reverse();
  const first = chain[0];
  const field = first?.type === 'selector_expression' ? first.childForFieldName('field')?.text : undefined;
  const rest = field ? chain.slice(1) : chain;
  return {
    root: n.text,
    field,
    indexed: rest.some((c) => c.type === 'index_expression'),
    index,
    deep: rest.some((c) => c.type === 'selector_expression'),
  };
}

/** Every write under `scope`, in source order (nested function literals included). */
export function goWrites(scope: GoNode): GoWrite[] {
  const writes: GoWrite[] = [];
  const add = (node: GoNode, target: GoNode, form: WriteForm) => {
    const access = accessOf(target);
    if (!access || access.root === '_') return;
    // `out[i] = v` and `out[i] = append(out[i], v)` write an element (a slot), not the variable itself
    const indexedForm = (form === 'assign' || form === 'append') && access.indexed ? 'index' : form;
    writes.push({ node, target, ...access, form: indexedForm, line: lineOf(node) });
  };
  for (const n of nodesOf(scope, ['assignment_statement', 'inc_statement', 'dec_statement', 'call_expression'])) {
    if (n.type === 'assignment_statement') {
      const left = n.childForFieldName('left')?.namedChildren ?? [];
      const right = n.childForFieldName('right')?.namedChildren ?? [];
      const operator = n.childForFieldName('operator')?.text ?? '=';
      left.forEach((l, i) => {
        if (!l) return;
        const r = right[i];
        if (operator !== '=') add(n, l, 'increment');
        else if (r?.type === 'call_expression' && calleeText(r) === 'append') add(n, l, 'append');
        else add(n, l, 'assign');
      });
    } else if (n.type === 'inc_statement' || n.type === 'dec_statement') {
      const target = n.namedChildren[0];
      if (target) add(n, target, 'increment');
    } else if (n.type === 'call_expression' && calleeText(n) === 'delete') {
      const target = n.childForFieldName('arguments')?.namedChildren[0];
      if (target) add(n, target, 'delete');
    }
  }
  return writes;
}

export function isFunctionNode(n: GoNode): boolean {
  return n.type === 'function_declaration' || n.type === 'method_declaration' || n.type === 'func_literal';
}

/** The innermost function (declaration or literal) a node sits in. */
export function innermostFunction(node: GoNode): GoNode | undefined {
  for (let n: GoNode | null = node.parent; n; n = n.parent) if (isFunctionNode(n)) return n;
  return undefined;
}

export type LockHeld = 'write' | 'read' | 'none';

/**
 * Is a mutex held at `at`, counting only `Lock`/`RLock` calls of the same function before it and
 * not released (`Unlock` outside a `defer`) before it? Branches are not followed: a lock taken in
 * one branch counts as held after it, which errs on the silent side.
 * A function named `...Locked` is, by Go convention, called with its lock held.
 */
export function lockHeldAt(fn: GoNode, at: GoNode, events = lockEvents(fn)): LockHeld {
  if (/Locked$/.test(functionName(fn) ?? '')) return 'write';
  if (runsSynchronized(fn)) return 'write';
  const held = new Map<string, 'write' | 'read'>();
  for (const e of events) {
    if (e.at >= at.startIndex) break;
    // `if done { mu.Unlock(); return }`: the path on to `at` never went through that unlock
    if (e.op === 'release' && e.exits && !(e.exits.start <= at.startIndex && at.startIndex < e.exits.end)) continue;
    if (e.op === 'release') held.delete(e.mutex);
    else held.set(e.mutex, e.op);
  }
  const modes = [...held.values()];
  return modes.includes('write') ? 'write' : modes.includes('read') ? 'read' : 'none';
}

export interface LockEvent {
  at: number;
  mutex: string;
  op: 'write' | 'read' | 'release';
  /** for a release: the outermost block around it that ends by leaving (return, panic, continue, goto) */
  exits?: { start: number; end: number };
}

const CLAUSES = new Set(['block', 'communication_case', 'expression_case', 'default_case', 'type_case']);

/** Does a statement list end by leaving it: `return`, `panic(...)`, `continue`, `goto`, `log.Fatal...`? */
function endsByLeaving(list: GoNode): boolean {
  const last = list.namedChildren.filter((c) => c && c.type !== 'comment').pop();
  if (!last) return false;
  if (last.type === 'return_statement' || last.type === 'continue_statement' || last.type === 'goto_statement') return true;
  if (last.type === 'statement_list') return endsByLeaving(last);
  const call = last.type === 'expression_statement' ? last.namedChildren[0] : undefined;
  return call?.type === 'call_expression' && /^(panic|os\.Exit|log\.Fatal\w*|log\.Panic\w*)$/.test(calleeText(call));
}

/** The outermost block between `node` and `fn` that ends by leaving, as a source range. */
function exitingBlock(node: GoNode, fn: GoNode): { start: number; end: number } | undefined {
  let found: { start: number; end: number } | undefined;
  for (let n: GoNode | null = node.parent; n && n.id !== fn.id; n = n.parent) {
    const list = n.namedChildren.find((c) => c?.type === 'statement_list') ?? n;
    if (CLAUSES.has(n.type) && n.parent?.id !== fn.id && endsByLeaving(list)) found = { start: n.startIndex, end: n.endIndex };
  }
  return found;
}

/** The `Lock`/`RLock`/`Unlock`/`RUnlock` calls of a function (not its nested literals), in order; deferred unlocks are left out. */
export function lockEvents(fn: GoNode): LockEvent[] {
  const events: LockEvent[] = [];
  for (const n of nodesOf(fn, ['call_expression'], { types: ['func_literal'], skip: (x) => x.type === 'func_literal' })) {
    const callee = calleeText(n);
    const dot = callee.lastIndexOf('.');
    // the runtime's own `lock(&sched.lock)` / `unlock(&sched.lock)`
    const only = n.childForFieldName('arguments')?.namedChildren;
    if ((callee === 'lock' || callee === 'unlock') && only?.length === 1 && only[0]?.text.startsWith('&')) {
      const mutex = only[0].text.slice(1);
      events.push(callee === 'lock' ? { at: n.startIndex, mutex, op: 'write' } : { at: n.startIndex, mutex, op: 'release', exits: exitingBlock(n, fn) });
      continue;
    }
    if (dot === -1 || (n.childForFieldName('arguments')?.namedChildCount ?? 0) > 0) continue;
    const mutex = callee.slice(0, dot);
    const method = callee.slice(dot + 1);
    if (method === 'Lock') events.push({ at: n.startIndex, mutex, op: 'write' });
    else if (method === 'RLock') events.push({ at: n.startIndex, mutex, op: 'read' });
    else if ((method === 'Unlock' || method === 'RUnlock') && n.parent?.type !== 'defer_statement') events.push({ at: n.startIndex, mutex, op: 'release', exits: exitingBlock(n, fn) });
  }
  return events;
}

/** Per-tree memo of what a function declares and locks: a file's writes ask the same function many times. */
export class FunctionFacts {
  private readonly declared = new Map<number, Set<string>>();
  private readonly locks = new Map<number, LockEvent[]>();
  private readonly locals = new Map<number, Map<string, { kind: StateKind; line: number; at: number }>>();

  /** What a local of `fn` holds, from its declaration. */
  localKind(fn: GoNode, name: string): { kind: StateKind; line: number; at: number } | undefined {
    let kinds = this.locals.get(fn.id);
    if (!kinds) this.locals.set(fn.id, (kinds = localKinds(fn)));
    return kinds.get(name);
  }

  declaredIn(fn: GoNode): Set<string> {
    let names = this.declared.get(fn.id);
    if (!names) this.declared.set(fn.id, (names = declaredNames(fn)));
    return names;
  }

  lockHeldAt(fn: GoNode, at: GoNode): LockHeld {
    let events = this.locks.get(fn.id);
    if (!events) this.locks.set(fn.id, (events = lockEvents(fn)));
    return lockHeldAt(fn, at, events);
  }
}

/**
 * Is a function literal run under synchronization by what it is given to: `once.Do(func() {...})`
 * (sync.Once), or a helper that takes the lock around it (`r.withLock(func() {...})`, `locked(...)`)?
 */
function runsSynchronized(fn: GoNode): boolean {
  if (fn.type !== 'func_literal' || fn.parent?.type !== 'argument_list') return false;
  const call = fn.parent.parent;
  if (call?.type !== 'call_expression') return false;
  const callee = calleeText(call);
  const name = callee.slice(callee.lastIndexOf('.') + 1);
  return name === 'Do' || /lock/i.test(name);
}

/** A function literal that runs as a goroutine: `go func() {...}()`, `g.Go(func() error {...})`. */
export interface Goroutine {
  literal: GoNode;
  /** the `go` statement or the `.Go(...)` call */
  start: GoNode;
  /** started inside a loop of its enclosing function: many run at once */
  inLoop: boolean;
  /** that loop's body, when there is one: a variable declared in it is a new one on every iteration */
  loopBody?: GoNode;
  /** how it is started, for messages: `go func` or `g.Go` */
  how: string;
}

export function goroutines(root: GoNode): Goroutine[] {
  const found: Goroutine[] = [];
  for (const n of nodesOf(root, ['go_statement', 'call_expression'])) {
    if (n.type === 'go_statement') {
      const call = n.namedChildren[0];
      const fn = call?.type === 'call_expression' ? call.childForFieldName('function') : undefined;
      if (fn?.type === 'func_literal') found.push({ literal: fn, start: n, ...loopAround(n), how: 'go func' });
    } else if (n.type === 'call_expression') {
      // errgroup.Group.Go, sync.WaitGroup.Go (Go 1.25), conc pools: each call runs its literal concurrently
      // (the callee first: reading the arguments of every call costs more than the rest)
      const callee = calleeText(n);
      if (callee.endsWith('.Go')) {
        const first = n.childForFieldName('arguments')?.namedChildren[0];
        if (first?.type === 'func_literal') found.push({ literal: first, start: n, ...loopAround(n), how: callee });
      } else if (callee.endsWith('RunnableFunc')) {
        // `mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {...}))`: the manager runs it in a goroutine
        const first = n.childForFieldName('arguments')?.namedChildren[0];
        if (first?.type === 'func_literal') found.push({ literal: first, start: n, inLoop: false, how: callee });
      } else if (callee.endsWith('.AddEventHandler') || callee.endsWith('.AddEventHandlerWithResyncPeriod') || callee.endsWith('.AddEventHandlerWithOptions')) {
        // client-go informer handlers (`ResourceEventHandlerFuncs{AddFunc: func(obj any) {...}}`) run on the informer's goroutine
        const handlers = n.childForFieldName('arguments')?.namedChildren[0];
        if (handlers?.type !== 'composite_literal') continue;
        for (const literal of descendants(handlers, 'func_literal')) {
          if (literal.parent?.type === 'literal_element' && literal.parent.parent?.type === 'keyed_element') {
            found.push({ literal, start: n, inLoop: false, how: 'an informer event handler' });
          }
        }
      }
    }
  }
  return found;
}

function loopAround(start: GoNode): { inLoop: boolean; loopBody?: GoNode } {
  for (let n: GoNode | null = start.parent; n && !isFunctionNode(n); n = n.parent) {
    if (n.type === 'for_statement') return { inLoop: true, loopBody: n.childForFieldName('body') ?? undefined };
  }
  return { inLoop: false };
}

/** A function or method started as a goroutine by name: `go r.worker(ctx)`, `go run()`, or a Runnable's Start. */
export interface GoroutineStart {
  name: string;
  /** what the method is called on: `r` in `go r.worker(ctx)`, `t.keeper` in `go t.keeper.run()`, `c` in `mgr.Add(c)`; none for `go run()` */
  operand?: GoNode;
  start: GoNode;
  /** started in a loop on one shared value: many run at once. A value made fresh in the loop body (`c := newConn(rw)`) is one per goroutine. */
  inLoop: boolean;
}

export function goroutineStarts(root: GoNode): GoroutineStart[] {
  const starts: GoroutineStart[] = [];
  for (const stmt of descendants(root, 'go_statement')) {
    const call = stmt.namedChildren[0];
    const fn = call?.type === 'call_expression' ? call.childForFieldName('function') : undefined;
    if (!fn) continue;
    const operand = fn.type === 'selector_expression' ? (fn.childForFieldName('operand') ?? undefined) : undefined;
    const name = fn.type === 'identifier' ? fn.text : fn.type === 'selector_expression' ? fn.childForFieldName('field')?.text : undefined;
    if (!name) continue;
    const loop = loopAround(stmt);
    const fresh = loop.loopBody && operand?.type === 'identifier' && declaredBefore(loop.loopBody, operand.text, stmt.startIndex);
    starts.push({ name, operand, start: stmt, inLoop: loop.inLoop && !fresh });
  }
  // a controller-runtime Runnable given to the manager (`mgr.Add(r)`) has its Start run in a goroutine
  // (every callee matched ends in `Add`: a file that never says it has none, and most do not)
  for (const call of root.text.includes('Add') ? descendants(root, 'call_expression') : []) {
    const callee = calleeText(call);
    if (/^(mgr|manager|m)\.Add$|Manager\(\)\.Add$|\.GetManager\(\)\.Add$/.test(callee) || callee.endsWith('mgr.Add')) {
      const runnable = call.childForFieldName('arguments')?.namedChildren[0];
      starts.push({ name: 'Start', operand: runnable?.type === 'identifier' ? runnable : undefined, start: call, inLoop: false });
      break;
    }
  }
  return starts;
}

/** Is `name` declared (`:=`, `var`) in `scope` before `before`? */
function declaredBefore(scope: GoNode, name: string, before: number): boolean {
  let found = false;
  walk(scope, (n) => {
    if (found || n.startIndex >= before) return false;
    if (n.type === 'short_var_declaration') {
      if ((n.childForFieldName('left')?.namedChildren ?? []).some((x) => x?.text === name)) found = true;
    } else if (n.type === 'var_spec' && n.childrenForFieldName('name').some((x) => x?.text === name)) found = true;
    return !isFunctionNode(n);
  });
  return found;
}

/** Every name a function declares: parameters, `:=`, `var`, range variables (nested literals included). */
export function declaredNames(fn: GoNode): Set<string> {
  const names = new Set<string>();
  for (const n of nodesOf(fn, ['parameter_declaration', 'variadic_parameter_declaration', 'var_spec', 'const_spec', 'short_var_declaration', 'range_clause'])) {
    if (n.type === 'parameter_declaration' || n.type === 'variadic_parameter_declaration' || n.type === 'var_spec' || n.type === 'const_spec') {
      for (const name of n.childrenForFieldName('name')) if (name) names.add(name.text);
    } else if (n.type === 'short_var_declaration' || (n.type === 'range_clause' && n.text.includes(':='))) {
      for (const id of n.childForFieldName('left')?.namedChildren ?? []) if (id?.type === 'identifier') names.add(id.text);
    }
  }
  // the receiver of a method is declared in its receiver list, which `parameter_declaration` covers
  return names;
}

/** Every local a function declares (not in nested literals), with what it holds: the first declaration of each name. */
export function localKinds(fn: GoNode): Map<string, { kind: StateKind; line: number; at: number }> {
  const kinds = new Map<string, { kind: StateKind; line: number; at: number }>();
  const add = (name: string, kind: StateKind, n: GoNode) => {
    if (!kinds.has(name)) kinds.set(name, { kind, line: lineOf(n), at: n.startIndex });
  };
  // a declaration's own subtree is not looked into (`f func(x int)` declares f, not x)
  const skip = (n: GoNode) => n.type === 'func_literal' || n.type === 'var_spec' || n.type === 'parameter_declaration';
  for (const n of nodesOf(fn, ['var_spec', 'parameter_declaration', 'short_var_declaration'], { types: ['func_literal'], skip })) {
    if (n.type === 'var_spec' || n.type === 'parameter_declaration') {
      const type = n.childForFieldName('type');
      const values = n.childForFieldName('value')?.namedChildren ?? [];
      n.childrenForFieldName('name').forEach((name, i) => {
        if (name) add(name.text, type ? stateKindOfType(type.text) : stateKindOfValue(values[i]), n);
      });
      continue;
    }
    if (n.type === 'short_var_declaration') {
      const right = n.childForFieldName('right')?.namedChildren ?? [];
      (n.childForFieldName('left')?.namedChildren ?? []).forEach((name, i) => {
        if (name?.type === 'identifier') add(name.text, stateKindOfValue(right[i]), n);
      });
    }
  }
  return kinds;
}

/** Package-level variables of a file with the kind of state they hold. */
export function packageVariables(root: GoNode, namedKinds = new Map<string, StateKind>()): Map<string, { kind: StateKind; line: number; typeText: string }> {
  const vars = new Map<string, { kind: StateKind; line: number; typeText: string }>();
  for (const decl of root.namedChildren) {
    if (decl?.type !== 'var_declaration') continue;
    for (const spec of descendants(decl, 'var_spec')) {
      const type = spec.childForFieldName('type');
      const values = spec.childForFieldName('value')?.namedChildren ?? [];
      spec.childrenForFieldName('name').forEach((name, i) => {
        if (!name || name.text === '_') return;
        const kind = type ? stateKindIn(type.text, namedKinds) : stateKindOfValue(values[i]);
        vars.set(name.text, { kind, line: lineOf(spec), typeText: type?.text ?? values[i]?.text.slice(0, 40) ?? '' });
      });
    }
  }
  return vars;
}
