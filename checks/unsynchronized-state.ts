// unsynchronized-state: shared mutable state written without synchronization: reconciler fields,
// package-level maps and counters written from reconciles or goroutines, variables appended to
// from `go func` closures, and TS/JS check-then-act across an `await`.

import type { Check, CheckContext, GoNode, ParsedFile, Severity } from '../src/engine/types.js';
import { enclosingDeclaration } from '../src/lang/go.js';
import {
  dirOf,
  functionAt,
  loadGoPackage,
  maxConcurrency,
  reconcilePath,
  setupPath,
  setupsFor,
  type GoPackage,
  type StateKind,
} from '../src/analysis/controller.js';
import {
  FunctionFacts,
  goroutines,
  goroutineStartedNames,
  goWrites,
  innermostFunction,
  isFunctionNode,
  packageVariables,
  type Goroutine,
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
  other: 'hold a sync.Mutex around every read and write of it, or use atomic.Value',
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
  const started = new Map<string, { start: GoNode; inLoop: boolean }>();
  for (const f of pkg.files) {
    for (const [name, v] of packageVariables(f.root)) packageVars.set(name, { ...v, path: f.path });
    for (const [name, s] of goroutineStartedNames(f.root)) started.set(name, s);
  }
  const onReconcilePath = reconcilePath(pkg);
  // what SetupWithManager calls (and nothing on the reconcile path does) runs before the manager starts
  const onSetupPath = setupPath(pkg);
  // a type whose methods run as goroutines (`go w.run(ctx)`) shares its fields between them
  const goroutineTypes = new Set<string>();
  for (const [type, methods] of pkg.methodsOf) if (methods.some((m) => started.has(m.name))) goroutineTypes.add(type);
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
      // a read lock lets other readers in, so a write under it still races
      const unlocked = held === 'read' ? 'holding only a read lock (RLock), which a write needs Lock for' : 'without holding a mutex';

      // (a) a field of the receiver: reconcilers and types whose methods run as goroutines
      if (decl.receiver && w.root === decl.receiverName && w.field && !(g && facts.declaredIn(g.literal).has(w.root))) {
        const field = pkg.structs.get(decl.receiver)?.get(w.field);
        if (!field || !TRACKED.has(field.kind) || !racyWrite(field.kind, w)) continue;
        if (decl.name === 'SetupWithManager' || (onSetupPath.has(decl.node.id) && !onReconcilePath.has(decl.node.id) && !g)) continue;
        // a value receiver is a copy: replacing or incrementing its field races with nobody (map and slice contents are still shared)
        if (!decl.pointerReceiver && !w.indexed && w.form !== 'delete' && !w.deep) continue;
        const what = `\`${describeWrite(w)}\` writes the ${field.kind} field \`${w.field}\` of ${decl.receiver}`;
        if (pkg.reconcilers.has(decl.receiver)) {
          const mcr = maxConcurrency(setupsFor(pkg, decl.receiver));
          const where = mcr.path ? ` (${mcr.path}:${mcr.line})` : '';
          const startedAs = started.get(decl.name);
          if (g || startedAs) {
            const how = g ? `${g.how}, line ${lineOfNode(g.start)}` : `\`go ...${decl.name}(...)\`, line ${lineOfNode(startedAs!.start)}`;
            findings.push({ w, file, severity: 'error', message: `${what} from a goroutine (${how}) ${unlocked}: the goroutine outlives the reconcile and races with the next one, so ${HAZARD[field.kind]}. ${capitalize(REMEDY[field.kind]!)}, or send the result back on a channel.` });
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
        const startedAs = started.get(decl.name);
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

/** Is a field touched by a goroutine-started method and by some other method (or many goroutines)? */
function sharedAcrossMethods(pkg: GoPackage, type: string, field: string, started: Map<string, { inLoop: boolean }>): boolean {
  const methods = pkg.methodsOf.get(type) ?? [];
  const touching = methods.filter((m) => m.receiverName && m.node.text.includes(`${m.receiverName}.${field}`));
  const inGoroutine = touching.filter((m) => started.has(m.name));
  if (inGoroutine.some((m) => started.get(m.name)!.inLoop)) return true;
  return inGoroutine.length > 0 && touching.length > 1;
}

/** `go c.refresh(ctx)`: how a type's method is started as a goroutine, for messages. */
function goStart(pkg: GoPackage, type: string, started: Map<string, { start: GoNode }>): string {
  const method = pkg.methodsOf.get(type)?.find((m) => started.has(m.name));
  const text = method ? started.get(method.name)!.start.text.replace(/\s+/g, ' ') : 'go ...';
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

async function runGo(ctx: CheckContext): Promise<void> {
  const byDir = new Map<string, ParsedFile[]>();
  for (const file of ctx.files) {
    if (file.language !== 'go' || file.path.endsWith('_test.go')) continue;
    const dir = dirOf(file.path);
    byDir.set(dir, [...(byDir.get(dir) ?? []), file]);
  }
  for (const [dir, changed] of byDir) {
    const pkg = await loadGoPackage(ctx, dir);
    await concurrencyRaised(ctx, pkg);
    // one finding per variable per function: the same race written fifty times is one fix
    const seen = new Set<string>();
    const perFile = new Map<string, number>();
    for (const f of await checkGoPackage(ctx, pkg, changed)) {
      const scope = enclosingDeclaration(f.w.node)?.startIndex ?? -1;
      const variable = `${f.file.path}:${scope}:${f.w.root}.${f.w.field ?? ''}`;
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
      'What is reported (Go): a write to a field of map, slice, counter or pointer type of a reconciler (a type with a `Reconcile` method) or of a type whose methods run as goroutines (`go c.refresh(ctx)`, or `Start` of a Runnable given to `mgr.Add`); a write to a package-level variable from the reconcile path (Reconcile and what it calls in its package) or from a goroutine; and an append, increment or map write to a variable that goroutines started in a loop (`go func`, `g.Go`) capture. The struct, SetupWithManager and the package variables are looked for in every file of the package. One finding per variable per function; at most 50 per file.',
      'Severity (Go). Reconciler fields and package variables written on the reconcile path are errors when SetupWithManager sets `MaxConcurrentReconciles` above 1 or from a variable, and when written from a goroutine; while reconciles run one at a time they are warnings, because nothing races yet but any raise of the setting will. A PR that sets MaxConcurrentReconciles above 1 is reported at that line when the reconciler already writes shared state without a mutex anywhere in the package, since the setting is what makes those writes race. A MaxConcurrentReconciles set outside the package (in cmd/) is not seen and counts as 1.',
      'Silent (Go): a write with a mutex held: a `Lock()` earlier in the same function and not released before the write (`defer mu.Unlock()` keeps it held), a function named `...Locked` (called with its lock held, by Go convention), a literal given to `once.Do(...)` or to a helper whose name says it locks (`r.withLock(func() {...})`). A write under only `RLock()` is reported. `sync.Map`, `sync.Once`, `atomic` types and functions and channel sends are not writes. Fields written in `SetupWithManager` and in constructor functions run before the manager starts; fields of a value receiver are a copy. Locals no goroutine shares are never reported; a map filled before the goroutines start and only read in them is silent; `out[i] = ...` into a pre-sized slice (also with errgroup) is silent, because each goroutine writes its own slot; a variable declared inside the loop body is a new one per goroutine. A closure write is reported only when the goroutine is started in a loop: one goroutine whose result is read after `wg.Wait()` is ordered by the wait, and the check cannot see the reads well enough to say otherwise.',
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
