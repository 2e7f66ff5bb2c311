// unsynchronized-state: shared mutable state written without synchronization: reconciler fields,
// package-level maps and counters written from reconciles or goroutines, variables appended to
// from `go func` closures, and TS/JS check-then-act across an `await`.

import type { Check, CheckContext, GoNode, ParsedFile, Severity } from '../src/engine/types.js';
import { calleeText, descendants, enclosingDeclaration, receiverName, walk } from '../src/lang/go.js';
import {
  dirOf,
  functionAt,
  loadGoPackage,
  packageSays,
  maxConcurrency,
  reconcilePath,
  setupPath,
  setupsFor,
  type GoFunction,
  type GoPackage,
  type StateKind,
} from '../src/analysis/controller.js';
import {
  FunctionFacts,
  goroutines,
  goroutineStarts,
  goWrites,
  innermostFunction,
  isFunctionNode,
  packageVariables,
  type Goroutine,
  type GoroutineStart,
  type GoWrite,
} from '../src/analysis/concurrency.js';
import { checkThenActAcrossAwait } from '../src/analysis/concurrency-ts.js';

/** Past this many findings in one file the rest is noise: a note says how many were left out. */
const MAX_FINDINGS_PER_FILE = 50;

const TRACKED: ReadonlySet<StateKind> = new Set(['map', 'slice', 'counter', 'pointer']);

const HAZARD: Record<string, string> = {
  map: 'concurrent map writes crash the operator (fatal error: concurrent map writes)',
  slice: 'concurrent appends lose elements or corrupt the slice',
  counter: 'increments are lost, because `x++` is a read-modify-write',
  pointer: 'readers can see a half-written value',
  other: 'readers can see a torn or stale value (a data race)',
};

const REMEDY: Record<string, string> = {
  map: 'hold a sync.Mutex around every read and write of it (or use sync.Map)',
  slice: 'hold a sync.Mutex around the append, send results on a channel, or pre-size the slice and assign by index',
  counter: 'use sync/atomic (an atomic.Int64 and its Add) or hold a sync.Mutex',
  pointer: 'use atomic.Pointer, or hold a sync.Mutex around every read and write',
  other: 'keep it in a local variable of the call instead of shared state, or hold a sync.Mutex around every read and write of it (or use atomic.Value)',
};

/** Does this kind of write change this kind of state in a way that races? */
function racyWrite(kind: StateKind, w: GoWrite): boolean {
  switch (kind) {
    case 'map':
      return true;
    case 'slice':
      return w.form === 'append' || w.form === 'assign' || w.form === 'index' || w.form === 'increment';
    case 'counter':
      return w.form === 'increment' || w.form === 'assign';
    case 'pointer':
      return w.form === 'assign' || w.deep || w.form === 'increment';
    default:
      return false;
  }
}

/** The writing statement as written, on one line and clipped: `r.seen[k] = true`, `delete(m, k)`, `n++`. */
function describeWrite(w: GoWrite): string {
  const text = w.node.text.slice(0, 200).replace(/\s+/g, ' ');
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The innermost goroutine a write runs in, if any: up through the enclosing function literals. */
function goroutineOf(w: GoWrite, byLiteral: Map<number, Goroutine>): Goroutine | undefined {
  for (let n: GoNode | null = w.node.parent; n; n = n.parent) {
    if (n.type === 'func_literal') {
      const g = byLiteral.get(n.id);
      if (g) return g;
    } else if (n.type === 'function_declaration' || n.type === 'method_declaration') return undefined;
  }
  return undefined;
}

/** Is `name` read-modify-written by this assignment (`total = total + n`)? */
function readsItself(w: GoWrite): boolean {
  const right = w.node.childForFieldName('right')?.text ?? '';
  if (right.length > 2_000) return false;
  const name = w.target.text;
  let from = 0;
  for (;;) {
    const i = right.indexOf(name, from);
    if (i === -1) return false;
    const before = right[i - 1] ?? ' ';
    const after = right[i + name.length] ?? ' ';
    if (!/[\w.]/.test(before) && !/\w/.test(after)) return true;
    from = i + name.length;
  }
}

interface GoFinding {
  w: GoWrite;
  file: ParsedFile;
  severity: Severity;
  message: string;
  /** it races because MaxConcurrentReconciles is above 1 (not because of a goroutine) */
  byConcurrentReconciles?: boolean;
}

/**
 * Unsynchronized writes in `files` of a package: on changed lines only, or (`allLines`) anywhere,
 * which is how a PR that raises MaxConcurrentReconciles is shown the writes it makes race.
 */
async function checkGoPackage(ctx: CheckContext, pkg: GoPackage, changed: ParsedFile[], allLines = false): Promise<GoFinding[]> {
  const findings: GoFinding[] = [];
  const packageVars = new Map<string, { kind: StateKind; line: number; path: string }>();
  for (const f of pkg.files) {
    for (const [name, v] of packageVariables(f.root, pkg.namedKinds)) packageVars.set(name, { ...v, path: f.path });
  }
  const started = startedIndex(pkg);
  const callersLock = new CallerLocks(pkg);
  const onReconcilePath = reconcilePath(pkg);
  // what SetupWithManager calls (and nothing on the reconcile path does) runs before the manager starts
  const onSetupPath = setupPath(pkg);
  // a type whose methods run as goroutines (`go w.run(ctx)`) shares its fields between them
  const goroutineTypes = new Set<string>();
  for (const [type, methods] of pkg.methodsOf) if (methods.some((m) => started(m))) goroutineTypes.add(type);
  const shared = new Map<string, boolean>();

  for (const file of changed) {
    const root = file.go().rootNode;
    const byLiteral = new Map(goroutines(root).map((g) => [g.literal.id, g] as const));
    const facts = new FunctionFacts();
    for (const w of goWrites(root)) {
      ctx.checkBudget();
      if (!allLines && !file.isChanged(w.line)) continue;
      const decl = functionAt(pkg, w.node);
      const inner = innermostFunction(w.node);
      if (!decl || !inner) continue;
      const g = goroutineOf(w, byLiteral);
      const held = facts.lockHeldAt(inner, w.node);
      if (held === 'write') continue;
      // `// Assumes db.mu is locked.`, or every caller in the package holds a lock when it calls
      if (inner.id === decl.node.id && callersLock.held(decl)) continue;
      // a read lock lets other readers in, so a write under it still races
      const unlocked = held === 'read' ? 'holding only a read lock (RLock), which a write needs Lock for' : 'without holding a mutex';

      // (a) a field of the receiver: reconcilers and types whose methods run as goroutines
      if (decl.receiver && w.root === decl.receiverName && w.field && !(g && facts.declaredIn(g.literal).has(w.root))) {
        const field = pkg.structs.get(decl.receiver)?.get(w.field);
        // `r.logger = r.Log.WithValues(...)`: replacing a whole field of any other type is a race too, but
        // only reported where it races already (reconciles at once, or a goroutine): a serial reconciler
        // that keeps a per-reconcile logger or client in a field is common and harmless until then
        const replaced = field?.kind === 'other' && w.form === 'assign' && !w.indexed && !w.deep;
        if (!field || (!replaced && (!TRACKED.has(field.kind) || !racyWrite(field.kind, w)))) continue;
        if (replaced && !pkg.reconcilers.has(decl.receiver)) continue;
        // ...but not in a goroutine it starts there (an informer's handler, a RunnableFunc): that runs once the manager does
        if (!g && (decl.name === 'SetupWithManager' || (onSetupPath.has(decl.node.id) && !onReconcilePath.has(decl.node.id)))) continue;
        // a value receiver is a copy: replacing or incrementing its field races with nobody (map and slice contents are still shared)
        if (!decl.pointerReceiver && !w.indexed && w.form !== 'delete' && !w.deep) continue;
        const what = `\`${describeWrite(w)}\` writes the ${field.kind === 'other' ? '' : `${field.kind} `}field \`${w.field}\` of ${decl.receiver}`;
        if (pkg.reconcilers.has(decl.receiver)) {
          const mcr = maxConcurrency(setupsFor(pkg, decl.receiver));
          const where = mcr.path ? ` (${mcr.path}:${mcr.line})` : '';
          const startedAs = started(decl);
          if (g || startedAs) {
            const how = g ? `${g.how}, line ${lineOfNode(g.start)}` : `\`go ...${decl.name}(...)\`, line ${lineOfNode(startedAs!.start)}`;
            findings.push({ w, file, severity: 'error', message: `${what} from a goroutine (${how}) ${unlocked}: the goroutine outlives the reconcile and races with the next one, so ${HAZARD[field.kind]}. ${capitalize(REMEDY[field.kind]!)}, or send the result back on a channel.` });
          } else if (replaced && !(mcr.value === 'variable' || mcr.value > 1)) {
            continue;
          } else if (mcr.value === 'variable' || mcr.value > 1) {
            const n = mcr.value === 'variable' ? 'several' : String(mcr.value);
            const setBy = mcr.value === 'variable' ? 'sets MaxConcurrentReconciles from a variable' : `sets MaxConcurrentReconciles to ${mcr.value}`;
            findings.push({ w, file, severity: 'error', byConcurrentReconciles: true, message: `${what} ${unlocked}, and SetupWithManager ${setBy}${where}: ${n} Reconcile calls run at once on this one reconciler, so ${HAZARD[field.kind]}. ${capitalize(REMEDY[field.kind]!)}, or keep this state in the object's status instead of the reconciler.` });
          } else {
            findings.push({ w, file, severity: 'warning', message: `${what} ${unlocked}. Reconciles are serialized only while MaxConcurrentReconciles stays 1; once it is raised (or another goroutine uses the reconciler), ${HAZARD[field.kind]}. ${capitalize(REMEDY[field.kind]!)}, or keep this state in the object's status instead of the reconciler.` });
          }
          continue;
        }
        const sharedKey = `${decl.receiver}.${w.field}`;
        if (goroutineTypes.has(decl.receiver) && !shared.has(sharedKey)) shared.set(sharedKey, sharedAcrossMethods(pkg, decl.receiver, w.field, started));
        // written before the method starts its goroutines (`w.running = n; go w.runner()`): the go statement orders it
        if (shared.get(sharedKey) && !g && writtenBeforeStart(decl, w)) continue;
        if (shared.get(sharedKey)) {
          findings.push({ w, file, severity: 'error', message: `${what}, whose methods run as goroutines (\`${goStart(pkg, decl.receiver, started)}\`), ${unlocked}: ${HAZARD[field.kind]}. ${capitalize(REMEDY[field.kind]!)}.` });
          continue;
        }
        if (g?.inLoop) {
          findings.push({ w, file, severity: 'error', message: `${what} from goroutines started in a loop (${g.how}, line ${lineOfNode(g.start)}) ${unlocked}: ${HAZARD[field.kind]}. ${capitalize(REMEDY[field.kind]!)}.` });
        }
        continue;
      }

      // (b) a package-level variable written from the reconcile path or a goroutine
      const pv = packageVars.get(w.root);
      const localHere = facts.declaredIn(decl.node).has(w.root);
      if (pv && !localHere) {
        // any package variable counts here, not only maps and counters: every reconcile and goroutine shares it
        if (pv.kind === 'safe' || (TRACKED.has(pv.kind) && !racyWrite(pv.kind, w))) continue;
        if (decl.name === 'init' || decl.name === 'main') continue;
        const fromReconcile = onReconcilePath.has(decl.node.id);
        const startedAs = started(decl);
        if (!g && !fromReconcile && !startedAs) continue;
        const what = `\`${describeWrite(w)}\` writes the package-level ${pv.kind === 'other' ? 'variable' : pv.kind} \`${w.root}\` (${pv.path}:${pv.line})`;
        if (g || startedAs) {
          findings.push({ w, file, severity: 'error', message: `${what} from a goroutine (${g ? `${g.how}, line ${lineOfNode(g.start)}` : `\`go ${decl.name}(...)\``}) ${unlocked}: ${HAZARD[pv.kind]}. ${capitalize(REMEDY[pv.kind]!)}.` });
        } else {
          const recv = decl.receiver && pkg.reconcilers.has(decl.receiver) ? decl.receiver : undefined;
          const mcr = maxConcurrency(setupsFor(pkg, recv));
          const concurrent = mcr.value === 'variable' || mcr.value > 1;
          const why = concurrent
            ? `SetupWithManager sets MaxConcurrentReconciles to ${mcr.value === 'variable' ? 'a variable' : mcr.value}${mcr.path ? ` (${mcr.path}:${mcr.line})` : ''}, so reconciles run at once and ${HAZARD[pv.kind]}`
            : `every controller in the manager runs its reconciles in its own goroutines, and a package variable is shared by all of them: once two run at once, ${HAZARD[pv.kind]}`;
          findings.push({ w, file, severity: concurrent ? 'error' : 'warning', byConcurrentReconciles: concurrent, message: `${what} on the reconcile path (${decl.name}) ${unlocked}; ${why}. ${capitalize(REMEDY[pv.kind]!)}, or move the state into the reconciler behind a mutex.` });
        }
        continue;
      }

      // (c) a local of an enclosing function captured by a goroutine closure
      if (!g || facts.declaredIn(g.literal).has(w.root)) continue;
      const captured = capturedKind(g, w.root, facts);
      if (!captured) continue; // declared where this cannot see it: cannot decide
      if (!racyCapturedWrite(captured.kind, w)) continue;
      // one goroutine writing what its starter reads after wg.Wait() is ordered; many goroutines are not
      if (!g.inLoop) continue;
      // declared inside the loop body: each iteration's goroutine has its own variable
      if (g.loopBody && g.loopBody.startIndex <= captured.at && captured.at < g.loopBody.endIndex) continue;
      findings.push({ w, file, severity: 'error', message: capturedMessage(w, g, captured.kind, held === 'read') });
    }
  }
  return findings;
}

function racyCapturedWrite(kind: StateKind, w: GoWrite): boolean {
  switch (w.form) {
    case 'append':
    case 'increment':
      return true;
    case 'delete':
      return kind === 'map';
    case 'index':
      // distinct pre-sized slots (`out[i] = ...`) are safe; map entries are not
      return kind === 'map';
    case 'assign':
      return !w.deep && !w.indexed && readsItself(w);
  }
}

function capturedMessage(w: GoWrite, g: Goroutine, kind: StateKind, readLocked: boolean): string {
  const guard = readLocked ? 'under only a read lock (RLock)' : 'with no mutex, atomic or channel';
  const head = `\`${w.root}\` is written by every goroutine started in the loop (${g.how}, line ${lineOfNode(g.start)}) ${guard}`;
  if (w.form === 'append') {
    return `${head}: concurrent appends to \`${w.root}\` lose results or corrupt the slice. Hold a sync.Mutex around the append, send each result on a channel and collect them in one goroutine, or pre-size the slice (\`make([]T, n)\`) and assign \`${w.root}[i] = ...\` by goroutine index.`;
  }
  if (w.form === 'increment' || w.form === 'assign') {
    return `${head}: \`${describeWrite(w)}\` is a read-modify-write, so updates are lost. Use sync/atomic (\`atomic.Int64\` and Add), hold a sync.Mutex, or send the values on a channel and sum them in one goroutine.`;
  }
  return `${head}: ${HAZARD[kind]}. Hold a sync.Mutex around the write, send the entries on a channel and fill the map in one goroutine, or use sync.Map.`;
}

/** The kind of a variable captured by a goroutine, from its declaration in an enclosing function. */
function capturedKind(g: Goroutine, name: string, facts: FunctionFacts): { kind: StateKind; at: number } | undefined {
  for (let n: GoNode | null = g.literal.parent; n; n = n.parent) {
    if (!isFunctionNode(n)) continue;
    const found = facts.localKind(n, name);
    if (found) return found;
  }
  return undefined;
}

/** `// Assumes db.mu is locked.`, `// mu must be held`, `// caller holds c.mu`, `// won't be executed concurrently`: the doc comment of a function its callers serialize. */
const LOCKED_BY_CALLER = /\b(?:lock(?:ed)?|mu|mutex|\w+Mu|\w+\.mu)\b[^.\n]{0,40}\b(?:held|must be (?:held|locked)|is (?:held|locked))\b|\b(?:assumes?|requires?|callers? (?:must )?holds?|must (?:be called with|hold))\b[^.\n]{0,40}\b(?:lock(?:ed)?|mu|mutex|held)\b|(?:\bnot|n't) (?:be )?(?:called|executed|run) concurrently\b/i;

/**
 * Functions that run with a lock their caller holds: by doc comment, or because every call in the
 * package (there is at least one) is made with a lock held, which is how code without the `...Locked`
 * naming convention still says so. Callers are followed two levels up.
 */
class CallerLocks {
  private calledAs: Map<string, GoNode[]> | undefined;
  private readonly memo = new Map<number, boolean>();
  private readonly facts = new FunctionFacts();

  constructor(private readonly pkg: GoPackage) {}

  /** The package's calls by the name called, built on the first question: most writes never ask. */
  private get calls(): Map<string, GoNode[]> {
    if (this.calledAs) return this.calledAs;
    const calls = new Map<string, GoNode[]>();
    for (const f of this.pkg.files) {
      for (const n of descendants(f.root, 'call_expression')) {
        const callee = calleeText(n);
        const name = callee.slice(callee.lastIndexOf('.') + 1);
        if (!name || calls.size >= 50_000) continue;
        const list = calls.get(name);
        if (list) list.push(n);
        else calls.set(name, [n]);
      }
    }
    return (this.calledAs = calls);
  }

  held(fn: GoFunction, depth = 0): boolean {
    const known = this.memo.get(fn.node.id);
    if (known !== undefined) return known;
    this.memo.set(fn.node.id, false);
    const result = docSaysLocked(fn) || (depth < 2 && this.allCallersHold(fn, depth));
    this.memo.set(fn.node.id, result);
    return result;
  }

  private allCallersHold(fn: GoFunction, depth: number): boolean {
    // a Reconcile, Start or exported method is called from outside the package too: its callers are not all here
    if (/^[A-Z]/.test(fn.name)) return false;
    const sites = (this.calls.get(fn.name) ?? []).filter((c) => !fn.receiver || c.childForFieldName('function')?.type === 'selector_expression');
    if (sites.length === 0 || sites.length > 50) return false;
    return sites.every((call) => {
      if (call.parent?.type === 'go_statement' || call.parent?.type === 'defer_statement') return false;
      const inner = innermostFunction(call);
      if (!inner) return false;
      if (this.facts.lockHeldAt(inner, call) === 'write') return true;
      const caller = functionAt(this.pkg, call);
      return caller !== undefined && caller.node.id === inner.id && caller.node.id !== fn.node.id && this.held(caller, depth + 1);
    });
  }
}

function docSaysLocked(fn: GoFunction): boolean {
  const lines: string[] = [];
  for (let c = fn.node.previousSibling; c?.type === 'comment' && lines.length < 20; c = c.previousSibling) lines.push(c.text);
  return LOCKED_BY_CALLER.test(lines.join('\n').slice(0, 4_000));
}

type Started = (fn: GoFunction) => GoroutineStart | undefined;

/**
 * Which package functions and methods run as goroutines. `go x.run()` counts for the type of `x`
 * when it can be told (the receiver, a field of it, a local built from a literal or a constructor),
 * else for the one type of the package that has a method of that name: two types each with a `serve`
 * method are not both goroutines because one is started.
 */
function startedIndex(pkg: GoPackage): Started {
  const owners = new Map<string, string[]>();
  for (const [type, methods] of pkg.methodsOf) for (const m of methods) owners.set(m.name, [...(owners.get(m.name) ?? []), type]);
  const byName = new Map<string, { s: GoroutineStart; type: string | undefined }[]>();
  for (const f of pkg.files) {
    for (const s of goroutineStarts(f.root)) {
      const type = s.operand ? operandType(pkg, s.operand) : s.start.type === 'go_statement' ? '' : undefined;
      byName.set(s.name, [...(byName.get(s.name) ?? []), { s, type }]);
    }
  }
  return (fn) => {
    const starts = byName.get(fn.name) ?? [];
    const mine = starts.filter(({ type }) =>
      fn.receiver ? type === fn.receiver || (type === undefined && owners.get(fn.name)?.length === 1) : type === '',
    );
    return mine.find((x) => x.s.inLoop)?.s ?? mine[0]?.s;
  };
}

/** The package type `x` has at a `go x.run()`, `go t.keeper.run()`: '?' when it is another package's, undefined when not known. */
function operandType(pkg: GoPackage, operand: GoNode): string | undefined {
  const decl = functionAt(pkg, operand);
  if (operand.type === 'selector_expression') {
    const base = operand.childForFieldName('operand');
    const field = operand.childForFieldName('field')?.text ?? '';
    if (decl?.receiver && base?.text === decl.receiverName) return typeName(pkg.structs.get(decl.receiver)?.get(field)?.typeText);
    return undefined;
  }
  if (operand.type !== 'identifier' || !decl) return undefined;
  if (operand.text === decl.receiverName) return decl.receiver;
  let found: string | undefined;
  walk(decl.node, (n) => {
    if (found !== undefined || n.startIndex >= operand.startIndex) return false;
    if (n.type === 'short_var_declaration') {
      const i = (n.childForFieldName('left')?.namedChildren ?? []).findIndex((x) => x?.text === operand.text);
      const value = i === -1 ? undefined : n.childForFieldName('right')?.namedChildren[i];
      if (value) found = valueTypeName(pkg, value) ?? '?unknown';
    } else if ((n.type === 'var_spec' || n.type === 'parameter_declaration') && n.childrenForFieldName('name').some((x) => x?.text === operand.text)) {
      const type = n.childForFieldName('type');
      found = type ? typeName(type.text) : '?unknown';
    }
    return true;
  });
  return found === '?unknown' ? undefined : found;
}

/** `*Cache` -> `Cache`; `pkg.Cache` -> '?' (not a type of this package). */
function typeName(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const bare = text.replace(/^\*/, '').replace(/\[.*$/, '');
  return bare.includes('.') ? '?' : /^\w+$/.test(bare) ? bare : undefined;
}

/** The type a value is built as: `&Cache{...}`, `Cache{}`, `newCache(...)` (from its result). */
function valueTypeName(pkg: GoPackage, value: GoNode): string | undefined {
  let v: GoNode | null = value;
  while (v && (v.type === 'unary_expression' || v.type === 'parenthesized_expression')) v = v.namedChildren[v.namedChildren.length - 1] ?? null;
  if (v?.type === 'composite_literal') return typeName(v.childForFieldName('type')?.text);
  if (v?.type === 'call_expression') {
    const callee = v.childForFieldName('function');
    if (callee?.type !== 'identifier') return undefined;
    const result = pkg.functions.find((f) => !f.receiver && f.name === callee.text)?.node.childForFieldName('result');
    const first = result?.type === 'parameter_list' ? result.namedChildren[0]?.childForFieldName('type') : result;
    return typeName(first?.text);
  }
  return undefined;
}

/**
 * Is a field touched both by what runs in the type's goroutines and by something else? The goroutine
 * side is the started methods and the methods of the type they call; a field only that side touches
 * belongs to the goroutine (one owner goroutine, as an event loop is). Many goroutines started in a
 * loop on the same value share everything they touch.
 */
function sharedAcrossMethods(pkg: GoPackage, type: string, field: string, started: Started): boolean {
  const methods = pkg.methodsOf.get(type) ?? [];
  const touches = (m: GoFunction) => m.receiverName !== undefined && m.node.text.includes(`${m.receiverName}.${field}`);
  const goroutineSide = sameReceiverReach(methods, methods.filter((m) => started(m)));
  const touching = methods.filter(touches);
  if (touching.some((m) => goroutineSide.has(m.node.id) && started(m)?.inLoop)) return true;
  const inside = touching.filter((m) => goroutineSide.has(m.node.id));
  const outside = touching.filter((m) => !goroutineSide.has(m.node.id) && !onlyBeforeStart(m, field));
  return inside.length > 0 && outside.length > 0;
}

/** Methods reached from `roots` through calls on their own receiver (`c.flush()` inside a method of c's type). */
function sameReceiverReach(methods: GoFunction[], roots: GoFunction[]): Set<number> {
  const byName = new Map(methods.map((m) => [m.name, m] as const));
  const reached = new Set<number>();
  const queue = [...roots];
  while (queue.length && reached.size < 500) {
    const m = queue.shift()!;
    if (reached.has(m.node.id)) continue;
    reached.add(m.node.id);
    for (const call of descendants(m.node, 'call_expression')) {
      const callee = call.childForFieldName('function');
      if (callee?.type !== 'selector_expression' || callee.childForFieldName('operand')?.text !== m.receiverName) continue;
      const target = byName.get(callee.childForFieldName('field')?.text ?? '');
      if (target && !reached.has(target.node.id)) queue.push(target);
    }
  }
  return reached;
}

/** The `go` statements of a method that start a method of its own receiver (`go c.refresh(ctx)`). */
function ownStarts(m: GoFunction): GoNode[] {
  return descendants(m.node, 'go_statement').filter((g): g is GoNode => {
    const fn = g?.namedChildren[0]?.childForFieldName('function');
    return fn?.type === 'selector_expression' && fn.childForFieldName('operand')?.text === m.receiverName;
  });
}

/** Does a method touch the field only before it starts its goroutines (`c.results = map...; go c.refresh()`)? */
function onlyBeforeStart(m: GoFunction, field: string): boolean {
  const first = ownStarts(m)[0];
  if (!first) return false;
  const at = m.node.startIndex + m.node.text.lastIndexOf(`${m.receiverName}.${field}`);
  const loop = loopOf(first, m.node);
  return at >= m.node.startIndex && at < first.startIndex && !(loop && loop.startIndex <= at);
}

/** Is a write ordered before the goroutines its function starts on its receiver, and not in a loop around them? */
function writtenBeforeStart(decl: GoFunction, w: GoWrite): boolean {
  const first = ownStarts(decl).find((g) => g.startIndex > w.node.startIndex);
  if (!first) return false;
  // a loop around both writes again while the goroutines of the last round run
  const loop = loopOf(first, decl.node);
  return !(loop && loop.startIndex <= w.node.startIndex);
}

/** The outermost loop of `fn` around a node. */
function loopOf(node: GoNode, fn: GoNode): GoNode | undefined {
  let found: GoNode | undefined;
  for (let n: GoNode | null = node.parent; n && n.id !== fn.id; n = n.parent) if (n.type === 'for_statement') found = n;
  return found;
}

/** `go c.refresh(ctx)`: how a type's method is started as a goroutine, for messages. */
function goStart(pkg: GoPackage, type: string, started: Started): string {
  const s = (pkg.methodsOf.get(type) ?? []).map((m) => started(m)).find((x) => x);
  const text = s ? s.start.text.replace(/\s+/g, ' ') : 'go ...';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function lineOfNode(n: GoNode): number {
  return n.startPosition.row + 1;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * A PR that sets MaxConcurrentReconciles above 1 makes every unguarded write of the reconciler race,
 * also those it does not touch: report them at the setting it changed, since that is the line at fault.
 */
async function concurrencyRaised(ctx: CheckContext, pkg: GoPackage): Promise<void> {
  const raised = pkg.setups.filter(
    (s) => s.maxConcurrentLine !== undefined && (s.maxConcurrent === 'variable' || (s.maxConcurrent ?? 1) > 1) && s.fn.file.parsed.isChanged(s.maxConcurrentLine),
  );
  if (raised.length === 0) return;
  const racing = (await checkGoPackage(ctx, pkg, pkg.files.map((f) => f.parsed), true)).filter((f) => f.byConcurrentReconciles);
  for (const setup of raised) {
    const mine = racing.filter((f) => {
      // a write the PR adds is reported at its own line, and says the setting makes it race
      if (f.file.isChanged(f.w.line)) return false;
      const recv = functionAt(pkg, f.w.node)?.receiver;
      return !setup.reconciler || !recv || !pkg.reconcilers.has(recv) || recv === setup.reconciler;
    });
    if (mine.length === 0) continue;
    const list = mine.slice(0, 3).map((f) => `\`${describeWrite(f.w)}\` (${f.file.path}:${f.w.line})`).join(', ');
    const more = mine.length > 3 ? ` and ${mine.length - 3} more` : '';
    const value = setup.maxConcurrent === 'variable' ? 'from a variable' : `to ${setup.maxConcurrent}`;
    ctx.report({
      path: setup.fn.file.path,
      line: setup.maxConcurrentLine!,
      key: `max concurrent reconciles ${setup.reconciler ?? setup.fn.name}`,
      message: `This sets MaxConcurrentReconciles ${value}, so Reconcile calls run at once, but the reconciler writes shared state without a mutex: ${list}${more}. Guard each with a sync.Mutex (or use sync.Map / sync/atomic), or keep the state in the object's status, before raising the concurrency.`,
    });
  }
}

/**
 * A `go` statement (`go func`, `go f(`, `go x.run(`, `go f[T](`; not `//go:build`), `g.Go(...)`, a Runnable given
 * to the manager (`mgr.Add(`), Reconcile, MaxConcurrentReconciles: what goroutineStarts, goroutines and the
 * reconcile path are made of.
 */
export const CONCURRENCY_WORDS =
  /\bgo\s+(?:func\b|\(|[\p{L}_][\p{L}\p{N}_.]*\s*[[(])|\.\s*Go\s*\(|\b(?:mgr|manager|m)\s*\.\s*Add\s*\(|Manager\(\)\s*\.\s*Add\s*\(|\bReconcile\b|MaxConcurrentReconciles/u;

async function runGo(ctx: CheckContext): Promise<void> {
  const byDir = new Map<string, ParsedFile[]>();
  for (const file of ctx.files) {
    if (file.language !== 'go' || file.path.endsWith('_test.go')) continue;
    const dir = dirOf(file.path);
    byDir.set(dir, [...(byDir.get(dir) ?? []), file]);
  }
  for (const [dir, changed] of byDir) {
    // every finding here is a write from a goroutine, on the reconcile path, or under a raised
    // MaxConcurrentReconciles: a package that starts no goroutine and reconciles nothing has none
    if (!(await packageSays(ctx, dir, CONCURRENCY_WORDS))) continue;
    const pkg = await loadGoPackage(ctx, dir);
    await concurrencyRaised(ctx, pkg);
    // one finding per variable per function: the same race written fifty times is one fix
    const seen = new Set<string>();
    const perFile = new Map<string, number>();
    for (const f of await checkGoPackage(ctx, pkg, changed)) {
      const decl = enclosingDeclaration(f.w.node);
      // a receiver's fields are state of their own; the fields of a local or package struct (`summary.Failed`,
      // `summary.Errors`) are one variable, with one fix (a mutex around it)
      const variable = `${f.file.path}:${decl?.startIndex ?? -1}:${decl && f.w.root === receiverName(decl) ? `${f.w.root}.${f.w.field ?? ''}` : f.w.root}`;
      if (seen.has(variable)) continue;
      seen.add(variable);
      const count = (perFile.get(f.file.path) ?? 0) + 1;
      perFile.set(f.file.path, count);
      if (count > MAX_FINDINGS_PER_FILE) {
        if (count === MAX_FINDINGS_PER_FILE + 1) ctx.note?.(`unsynchronized-state: ${f.file.path} has more than ${MAX_FINDINGS_PER_FILE} unsynchronized writes; only the first ${MAX_FINDINGS_PER_FILE} are reported`);
        continue;
      }
      ctx.report({ path: f.file.path, line: f.w.line, endLine: f.w.node.endPosition.row + 1, severity: f.severity, message: f.message, key: `${f.w.target.text} ${f.w.form}` });
    }
  }
}

export const unsynchronizedState: Check = {
  id: 'unsynchronized-state',
  title: 'Shared mutable state written without synchronization',
  docs: {
    summary:
      'Flags state that several goroutines or concurrent async handlers share and write without a lock: fields of a reconciler (or of a type whose methods run as goroutines) of map, slice, counter or pointer type; package-level maps, slices and counters written from the reconcile path or a goroutine; variables a `go func` closure started in a loop appends to, increments or writes map entries of; and in TypeScript, module- or class-level state read, then written after an `await` (check-then-act) in an async function that runs per event or request. Such races pass every test run and corrupt state under load, and a sleep does not fix them.',
    details: [
      'What is reported (Go): a write to a field of map, slice, counter or pointer type of a reconciler (a type with a `Reconcile` method) or of a type whose methods run as goroutines (`go c.refresh(ctx)`, or `Start` of a Runnable given to `mgr.Add`); a write to a package-level variable from the reconcile path (Reconcile and what it calls in its package) or from a goroutine; and an append, increment or map write to a variable that goroutines started in a loop (`go func`, `g.Go`) capture. The struct, SetupWithManager and the package variables are looked for in every file of the package. One finding per variable per function (each field of the receiver is a variable of its own; the fields of a local or package struct, `summary.Failed` and `summary.Errors`, are one); at most 50 per file.',
      'Severity (Go). Reconciler fields and package variables written on the reconcile path are errors when SetupWithManager sets `MaxConcurrentReconciles` above 1 or from a variable (a package constant counts as its value), and when written from a goroutine; while reconciles run one at a time they are warnings, because nothing races yet but any raise of the setting will. A PR that sets MaxConcurrentReconciles above 1 is reported at that line when the reconciler already writes shared state without a mutex anywhere in the package, since the setting is what makes those writes race; writes the same PR adds are reported at their own lines instead, once. A MaxConcurrentReconciles set outside the package (in cmd/) is not seen and counts as 1.',
      'Silent (Go): a write with a mutex held: a `Lock()` earlier in the same function and not released before the write (`defer mu.Unlock()` keeps it held), a function named `...Locked` (called with its lock held, by Go convention), a literal given to `once.Do(...)` or to a helper whose name says it locks (`r.withLock(func() {...})`). A write under only `RLock()` is reported. `sync.Map`, `sync.Once`, `atomic` types and functions and channel sends are not writes. Fields written in `SetupWithManager` and in constructor functions run before the manager starts (but not what they hand the manager to run later: a `manager.RunnableFunc` literal, the handlers given to an informer `AddEventHandler`, which are goroutines); fields of a value receiver are a copy. Locals no goroutine shares are never reported; a map filled before the goroutines start and only read in them is silent; `out[i] = ...` and `out[i] = append(out[i], ...)` into a pre-sized slice (also with errgroup) are silent, because each goroutine writes its own slot; a variable declared inside the loop body is a new one per goroutine. A closure write is reported only when the goroutine is started in a loop: one goroutine whose result is read after `wg.Wait()` is ordered by the wait, and the check cannot see the reads well enough to say otherwise.',
      'TypeScript/JavaScript. Module-level and class-level Maps, Sets, arrays, objects and `let` numbers read, then written after an `await`, in an async function (not `main`, `start`, `init` and other one-shot names), with no write between the read and the await and no fresh read between the await and the write. A `let` holding one value (a lazily created client) is not tracked: re-creating it is usually harmless. Silent when the section runs serialized: inside `mutex.runExclusive(...)`, after `await mutex.acquire()`, in a function given to `p-limit(1)`, to a `p-queue` with concurrency 1, to `lock.acquire(key, fn)`, chained with `x = x.then(...)` or per key (`chains.set(k, (chains.get(k) ?? p).then(...))`), behind a reentrancy guard (`if (draining) return; draining = true`), or only ever called from such places.',
    ].join('\n\n'),
    bad: {
      language: 'go',
      code: [
        'var results []Result',
        'var wg sync.WaitGroup',
        'for _, p := range pods {',
        '\twg.Add(1)',
        '\tgo func(p string) {',
        '\t\tdefer wg.Done()',
        '\t\tresults = append(results, c.check(ctx, p)) // races',
        '\t}(p)',
        '}',
        'wg.Wait()',
      ].join('\n'),
    },
    good: {
      language: 'go',
      code: [
        'results := make([]Result, len(pods))',
        'var wg sync.WaitGroup',
        'for i, p := range pods {',
        '\twg.Add(1)',
        '\tgo func() {',
        '\t\tdefer wg.Done()',
        '\t\tresults[i] = c.check(ctx, p) // each goroutine owns its slot',
        '\t}()',
        '}',
        'wg.Wait()',
      ].join('\n'),
    },
  },
  defaultSeverity: 'error',
  languages: ['go', 'ts', 'js'],
  // each changed file is judged with its own package (read whole or sliced), never with the other changed files
  shardable: true,
  goPackageGate: CONCURRENCY_WORDS,
  async run(ctx) {
    await runGo(ctx);
    for (const file of ctx.files) {
      if (file.language !== 'ts' && file.language !== 'js') continue;
      for (const f of checkThenActAcrossAwait(file, ctx.checkBudget).slice(0, MAX_FINDINGS_PER_FILE)) {
        ctx.report({ path: file.path, line: f.line, endLine: f.endLine, message: f.message, key: f.key });
      }
    }
  },
};
