// event-ordering: event-driven state handled step by step: reconcilers that poll the API in a
// loop instead of requeueing, children created with an owner reference that the controller
// never watches, and TS watch/informer handlers that run async work unordered per object.

import type { Check, CheckContext, GoNode, ParsedFile } from '../src/engine/types.js';
import { calleeText, descendants, lineOf, nodesOf, walk } from '../src/lang/go.js';
import { goWaitCall, mayCallGoWait } from '../src/analysis/waits.js';
import {
  describeKind,
  dirOf,
  functionAt,
  kindOfTypeNode,
  loadGoPackage,
  packageSays,
  reconcilePath,
  sameKind,
  setupsFor,
  type GoFile,
  type GoFunction,
  type GoPackage,
  type ObjectKind,
} from '../src/analysis/controller.js';
import { goroutines, isFunctionNode } from '../src/analysis/concurrency.js';
import { posix } from 'node:path';
import type { Node as TsNode } from 'ts-morph';
import {
  checkHandlers,
  exportedFunctionReach,
  exportsAsyncFunction,
  relativeImports,
  statusWritesWithoutPrecondition,
  type ImportedCall,
} from '../src/analysis/concurrency-ts.js';

// ---- Go: polling loops in the reconcile path ----

/** A controller-runtime or client-go read: `r.Get(ctx, key, obj)`, `r.List(ctx, list)`, `cs.CoreV1().Pods(ns).Get(ctx, name, opts)`. */
function isClientRead(call: GoNode): boolean {
  const callee = calleeText(call);
  if (!callee.endsWith('.Get') && !callee.endsWith('.List')) return false;
  const args = call.childForFieldName('arguments')?.namedChildren ?? [];
  // a Kubernetes Get takes the object's key and where to put it (or options): a key-value store's `rdb.Get(ctx, key)` does not
  if (callee.endsWith('.Get') && args.length < 3) return false;
  const text = args[0]?.text ?? '';
  return text === 'ctx' || text.endsWith('Ctx') || text.endsWith('ctx') || text.startsWith('context.');
}

/** A wait that blocks a loop iteration: a sleep, a timer or ticker receive, a poll. Retry-on-conflict is not waiting for a state. */
function loopWait(n: GoNode, imports: Map<string, string>): string | undefined {
  if (n.type === 'call_expression') {
    const wait = goWaitCall(n, imports);
    if (wait && (wait.kind === 'sleep' || wait.kind === 'delay' || wait.kind === 'periodic' || wait.kind === 'poll')) return wait.callee;
  }
  // `<-ticker.C`, `<-timer.C`
  if (n.type === 'unary_expression' && n.text.startsWith('<-') && n.namedChildren[0]?.type === 'selector_expression' && n.namedChildren[0].childForFieldName('field')?.text === 'C') {
    return n.text;
  }
  return undefined;
}

/** Nodes under `scope` not inside a nested function literal. */
function ownNodes(scope: GoNode, types: readonly string[], visit: (n: GoNode) => void): void {
  const prune = { types: ['func_literal', 'function_declaration', 'method_declaration'], skip: isFunctionNode };
  for (const n of nodesOf(scope, types, prune)) if (n.id === scope.id || !isFunctionNode(n)) visit(n);
}

const REQUEUE_ADVICE =
  'Return `ctrl.Result{RequeueAfter: d}` (or rely on the watch of that object) and check the condition again on the next reconcile: a reconcile that blocks holds its worker, sees the object late, and a restart loses the wait.';

function pollingLoops(ctx: CheckContext, file: ParsedFile, fn: GoFunction, pkg: GoPackage): void {
  const text = fn.file.parsed.text.slice(fn.node.startIndex, fn.node.endIndex);
  // whatever is reported below waits: a call goWaitCall knows, or a `<-` receive from a ticker or timer (a
  // function with neither, most on the reconcile path, has no polling loop)
  if (!text.includes('<-') && !mayCallGoWait(text)) return;
  // a goroutine starts with `go` or a `.Go(...)` call: a function whose text has neither word starts none
  const goroutineLiterals = new Set(/\b[gG]o\b/.test(text) ? goroutines(fn.node).map((g) => g.literal.id) : []);
  const prune = { types: ['func_literal'], skip: (n: GoNode) => goroutineLiterals.has(n.id) };
  for (const n of nodesOf(fn.node, ['for_statement', 'call_expression'], prune)) {
    if (n.type === 'for_statement') {
      const body = n.childForFieldName('body');
      // `for _, x := range items` walks a collection (a throttle at most), it does not wait for a state
      if (!body || n.namedChildren.some((c) => c?.type === 'range_clause')) continue;
      const reads: GoNode[] = [];
      const waits: { node: GoNode; callee: string }[] = [];
      // what loopWait and isClientRead look at: calls and `<-ticker.C` receives (calls alone, read from the
      // tree's index, when the loop has no `<-`)
      const receives = fn.file.parsed.text.slice(body.startIndex, body.endIndex).includes('<-');
      ownNodes(body, receives ? ['call_expression', 'unary_expression'] : ['call_expression'], (x) => {
        if (x.type === 'call_expression' && isClientRead(x)) reads.push(x);
        const w = loopWait(x, fn.file.imports);
        if (w) waits.push({ node: x, callee: w });
      });
      // a poll whose condition reads the API is itself the wait: reported below, not twice
      if (reads.length && waits.length && !waits.some((w) => w.node.type === 'call_expression' && polledCondition(w.node, fn, pkg))) {
        const lines = [lineOf(n), lineOf(reads[0]!), lineOf(waits[0]!.node)];
        const line = lines.find((l) => file.isChanged(l));
        if (line !== undefined) {
          ctx.report({
            path: file.path,
            line,
            endLine: n.endPosition.row + 1,
            key: `polling loop ${fn.name} ${calleeText(reads[0]!)} ${waits[0]!.callee}`,
            message: `This loop in the reconcile path (${fn.name}) reads the API (\`${clipGo(calleeText(reads[0]!))}\`, line ${lines[1]}) and waits (\`${clipGo(waits[0]!.callee)}\`, line ${lines[2]}) until a condition holds. ${REQUEUE_ADVICE}`,
          });
        }
      }
      continue;
    }
    if (n.type === 'call_expression') {
      const wait = goWaitCall(n, fn.file.imports);
      if (wait?.kind === 'poll' || (wait?.kind === 'backoff' && wait.callee.includes('ExponentialBackoff'))) {
        const found = polledCondition(n, fn, pkg);
        const here = found?.path === file.path;
        if (found && (file.isChanged(lineOf(n)) || (here && file.isChanged(lineOf(found.read))))) {
          const { read } = found;
          ctx.report({
            path: file.path,
            line: file.isChanged(lineOf(n)) ? lineOf(n) : lineOf(read),
            endLine: n.endPosition.row + 1,
            key: `poll ${fn.name} ${wait.callee}`,
            message: `\`${wait.callee}\` in the reconcile path (${fn.name}) polls the API (\`${clipGo(calleeText(read))}\`, ${here ? '' : `${found.path} `}line ${lineOf(read)}) until a condition holds. ${REQUEUE_ADVICE}`,
          });
        }
      }
    }
  }
}

/**
 * The client read in a poll's condition, if any: a function literal argument, or a condition of the
 * package given by name (`r.primaryElected`, `isReady`) or made by a call (`r.primaryElected(&rc)`
 * returning the condition), whose body is read instead.
 */
function polledCondition(call: GoNode, fn: GoFunction, pkg: GoPackage): { read: GoNode; path: string } | undefined {
  const args = call.childForFieldName('arguments')?.namedChildren ?? [];
  for (const arg of args) {
    if (!arg) continue;
    let body: GoNode | undefined;
    let path = fn.file.path;
    if (arg.type === 'func_literal') body = arg;
    else {
      const target = conditionFunction(arg.type === 'call_expression' ? arg.childForFieldName('function') : arg, fn, pkg);
      if (target) [body, path] = [target.node, target.file.path];
    }
    const read = body ? descendants(body, 'call_expression').find((x) => isClientRead(x)) : undefined;
    if (read) return { read, path };
  }
  return undefined;
}

/** The package function or same-receiver method an expression names: `isReady`, `r.primaryElected`. */
function conditionFunction(expr: GoNode | null | undefined, fn: GoFunction, pkg: GoPackage): GoFunction | undefined {
  if (expr?.type === 'identifier') return pkg.functions.find((f) => !f.receiver && f.name === expr.text);
  if (expr?.type !== 'selector_expression' || !fn.receiver || expr.childForFieldName('operand')?.text !== fn.receiverName) return undefined;
  const name = expr.childForFieldName('field')?.text;
  return pkg.methodsOf.get(fn.receiver)?.find((m) => m.name === name);
}

function clipGo(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// ---- Go: owned children that nothing watches ----

/** The type node a child expression was declared with, looking outward through enclosing functions. */
function childType(pkg: GoPackage, file: GoFile, expr: GoNode): { type: GoNode; file: GoFile } | undefined {
  let e: GoNode | null = expr;
  while (e && (e.type === 'unary_expression' || e.type === 'parenthesized_expression')) e = e.namedChildren[e.namedChildren.length - 1] ?? null;
  if (!e) return undefined;
  if (e.type === 'composite_literal') return { type: e.childForFieldName('type')!, file };
  if (e.type !== 'identifier') return undefined; // `obj.child`, `objs[i]`: cannot decide
  const name = e.text;
  for (let scope: GoNode | null = e.parent; scope; scope = scope.parent) {
    if (!isFunctionNode(scope)) continue;
    const found = declarationType(pkg, file, scope, name);
    if (found) return found;
  }
  return undefined;
}

function declarationType(pkg: GoPackage, file: GoFile, scope: GoNode, name: string): { type: GoNode; file: GoFile } | undefined {
  let found: { type: GoNode; file: GoFile } | undefined;
  walk(scope, (n) => {
    if (found) return false;
    if (n.id !== scope.id && n.type === 'func_literal') return false;
    if (n.type === 'var_spec' || n.type === 'parameter_declaration') {
      if (!n.childrenForFieldName('name').some((x) => x?.text === name)) return true;
      const type = n.childForFieldName('type');
      if (type) found = { type, file };
      else {
        const value = n.childForFieldName('value')?.namedChildren[0];
        if (value) found = valueType(pkg, file, value);
      }
      return false;
    }
    if (n.type === 'short_var_declaration') {
      const left = n.childForFieldName('left')?.namedChildren ?? [];
      const i = left.findIndex((x) => x?.text === name);
      if (i === -1) return true;
      const value = n.childForFieldName('right')?.namedChildren[i];
      if (value) found = valueType(pkg, file, value);
      return false;
    }
    return true;
  });
  return found;
}

/** The type of `&appsv1.Deployment{...}`, `appsv1.Deployment{}`, or of a package function's (first) result. */
function valueType(pkg: GoPackage, file: GoFile, value: GoNode): { type: GoNode; file: GoFile } | undefined {
  let v: GoNode | null = value;
  while (v && (v.type === 'unary_expression' || v.type === 'parenthesized_expression')) v = v.namedChildren[v.namedChildren.length - 1] ?? null;
  if (!v) return undefined;
  if (v.type === 'composite_literal') {
    const type = v.childForFieldName('type');
    return type ? { type, file } : undefined;
  }
  if (v.type === 'call_expression') {
    const callee = v.childForFieldName('function');
    const name = callee?.type === 'identifier' ? callee.text : callee?.type === 'selector_expression' ? callee.childForFieldName('field')?.text : undefined;
    const target = pkg.functions.find((f) => f.name === name);
    const result = target?.node.childForFieldName('result');
    if (!target || !result) return undefined;
    const type = result.type === 'parameter_list' ? result.namedChildren[0]?.childForFieldName('type') : result;
    return type ? { type, file: target.file } : undefined;
  }
  return undefined;
}

const OWNER_FUNCS = new Set(['SetControllerReference', 'SetOwnerReference']);

/** Packages whose object types are interfaces (`metav1.Object`, `client.Object`, `runtime.Object`), not kinds. */
const INTERFACE_PACKAGES = new Set([
  'k8s.io/apimachinery/pkg/apis/meta/v1',
  'k8s.io/apimachinery/pkg/runtime',
  'k8s.io/apimachinery/pkg/api/meta',
  'sigs.k8s.io/controller-runtime/pkg/client',
]);

/**
 * Is a resolved child type a kind a setup could name? A helper taking `object *metav1.Object` or
 * `obj client.Object` sets owners on whatever it is given: the type says nothing about the kind. A type
 * of this package counts only when it is a struct here (a local interface says nothing either).
 */
function concreteKind(pkg: GoPackage, kind: ObjectKind): boolean {
  if (INTERFACE_PACKAGES.has(kind.importPath)) return false;
  if (kind.importPath.startsWith('.')) return pkg.structs.has(kind.kind);
  return true;
}

function unwatchedChildren(ctx: CheckContext, pkg: GoPackage, file: ParsedFile): void {
  // every call looked at below names one of these: a file that never does has no child to check
  if (![...OWNER_FUNCS, 'NewControllerRef'].some((name) => file.text.includes(name))) return;
  const goFile = pkg.files.find((f) => f.path === file.path);
  if (!goFile) return;
  for (const n of descendants(goFile.root, 'call_expression')) {
    if (!file.isChanged(lineOf(n))) continue;
    const callee = calleeText(n);
    const fnName = callee.slice(callee.lastIndexOf('.') + 1);
    let child: { type: GoNode; file: GoFile } | undefined;
    if (OWNER_FUNCS.has(fnName)) {
      const arg = n.childForFieldName('arguments')?.namedChildren[1];
      if (arg) child = childType(pkg, goFile, arg);
    } else if (fnName === 'NewControllerRef') {
      // OwnerReferences set by hand inside the child's literal: `&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{OwnerReferences: ...}}`
      for (let up: GoNode | null = n.parent; up && !isFunctionNode(up); up = up.parent) {
        if (up.type !== 'composite_literal') continue;
        const type = up.childForFieldName('type');
        const kind = type && kindOfTypeNode(type, goFile);
        if (kind && !kind.importPath.endsWith('apimachinery/pkg/apis/meta/v1') && type.type !== 'slice_type') {
          child = { type: type!, file: goFile };
          break;
        }
      }
    } else continue;
    const kind = child && kindOfTypeNode(child.type, child.file);
    // an unresolved child (a variable of interface type, unstructured) cannot be compared: stay silent
    if (!kind || kind.importPath.includes('unstructured') || !concreteKind(pkg, kind)) continue;
    const decl = functionAt(pkg, n);
    const setups = setupsFor(pkg, decl?.receiver);
    // no SetupWithManager in this package (it may be wired in cmd/ or elsewhere), or one that watches
    // through a variable: what is watched is unknown, so the check cannot decide and stays silent
    if (setups.length === 0 || setups.some((s) => s.opaque)) {
      const why = setups.length === 0 ? `no SetupWithManager in ${pkg.dir || 'the root package'}` : 'its setup watches through a variable or a helper';
      ctx.note?.(`event-ordering: ${file.path}:${lineOf(n)} sets an owner reference on ${describeKind(kind)}, but ${why}, so whether it is watched was not checked`);
      continue;
    }
    if (setups.some((s) => s.kinds.some((k) => sameKind(k, kind)))) continue;
    const setup = setups[0]!;
    const alias = child!.file.importsByName.size ? [...child!.file.importsByName].find(([, p]) => p === kind.importPath)?.[0] : undefined;
    const literal = alias ? `&${alias}.${kind.kind}{}` : `&${kind.kind}{}`;
    ctx.report({
      path: file.path,
      line: lineOf(n),
      key: `unwatched child ${kind.importPath} ${kind.kind}`,
      message: `This sets an owner reference on ${describeKind(kind)}, but ${setup.reconciler ? `${setup.reconciler}.` : ''}${setup.fn.name} (${setup.fn.file.path}:${lineOf(setup.fn.node)}) neither Owns nor Watches that kind: when the ${kind.kind} changes, is deleted or fails, no reconcile is triggered, and the owner only catches up on its next unrelated event. Add \`Owns(${literal})\` to SetupWithManager.`,
    });
  }
}

/** Past this many findings in one file the rest is noise: a note says so. */
const MAX_FINDINGS_PER_FILE = 50;

/** The context with `report` limited to MAX_FINDINGS_PER_FILE findings for one file. */
function capReports(ctx: CheckContext, path: string): CheckContext {
  let count = 0;
  return {
    ...ctx,
    report(finding) {
      count++;
      if (count <= MAX_FINDINGS_PER_FILE) ctx.report(finding);
      else if (count === MAX_FINDINGS_PER_FILE + 1) ctx.note?.(`event-ordering: ${path} has more than ${MAX_FINDINGS_PER_FILE} findings; only the first ${MAX_FINDINGS_PER_FILE} are reported`);
    },
  };
}

export const CONTROLLER_WORDS = /\bReconcile\b|SetControllerReference|SetOwnerReference|NewControllerRef/;

async function runGo(ctx: CheckContext): Promise<void> {
  const byDir = new Map<string, ParsedFile[]>();
  for (const file of ctx.files) {
    if (file.language !== 'go' || file.path.endsWith('_test.go')) continue;
    byDir.set(dirOf(file.path), [...(byDir.get(dirOf(file.path)) ?? []), file]);
  }
  for (const [dir, changed] of byDir) {
    // a polling loop counts on the reconcile path, a child on an owner reference: a package with neither has no finding
    if (!(await packageSays(ctx, dir, CONTROLLER_WORDS))) continue;
    const pkg = await loadGoPackage(ctx, dir);
    const onPath = reconcilePath(pkg);
    for (const file of changed) {
      ctx.checkBudget();
      const capped = capReports(ctx, file.path);
      for (const fn of pkg.functions) if (fn.file.path === file.path && onPath.has(fn.node.id)) pollingLoops(capped, file, fn, pkg);
      unwatchedChildren(capped, pkg, file);
    }
  }
}

/** Bounds the modules read to resolve a handler's imports. */
const MAX_IMPORTED_MODULES = 20;

/** A function a handler's file imports from a relative module: its local name, the module, and the name it exports. */
interface ImportedFunction {
  node: TsNode;
  module: ParsedFile;
  exported: string;
}

/**
 * Async functions of relative imports (`import { reconcile } from './reconcile'`) by local name, so a
 * handler that fires one off without awaiting it counts as async work, and the status writes it makes
 * in its own module are checked there. Packages are not read.
 */
async function importedAsyncFunctions(ctx: CheckContext, file: ParsedFile): Promise<Map<string, ImportedFunction>> {
  const found = new Map<string, ImportedFunction>();
  // only files with handlers need it, and reading modules costs
  if (!file.text.includes('.on(') && !file.text.includes('.watch(')) return found;
  for (const imp of relativeImports(file.ts()).slice(0, MAX_IMPORTED_MODULES)) {
    const stem = posix.normalize(posix.join(dirOf(file.path), imp.specifier)).replace(/\.(m|c)?js$/, '');
    for (const candidate of [`${stem}.ts`, `${stem}.js`, `${stem}.mts`, `${stem}/index.ts`, `${stem}/index.js`]) {
      const module = await ctx.parse(candidate);
      if (!module || (module.language !== 'ts' && module.language !== 'js')) continue;
      for (const [local, exported] of imp.names) {
        if (exportsAsyncFunction(module.ts(), exported)) found.set(local, { node: imp.node, module, exported });
      }
      break;
    }
  }
  return found;
}

async function runTs(ctx: CheckContext): Promise<void> {
  for (const file of ctx.files) {
    if (file.language !== 'ts' && file.language !== 'js') continue;
    const imported = await importedAsyncFunctions(ctx, file);
    const calls: ImportedCall[] = [];
    const nodes = new Map([...imported].map(([local, f]) => [local, f.node] as const));
    for (const f of checkHandlers(file, ctx.checkBudget, nodes, calls).slice(0, MAX_FINDINGS_PER_FILE)) {
      ctx.report({ path: file.path, line: f.line, endLine: f.endLine, message: f.message, key: f.key });
    }
    // the status writes of imported functions those handlers call, reported in their own module
    const done = new Set<string>();
    for (const call of calls) {
      const target = imported.get(call.local);
      if (!target || done.has(call.local)) continue;
      done.add(call.local);
      for (const fn of exportedFunctionReach(target.module.ts(), target.exported)) {
        for (const f of statusWritesWithoutPrecondition(fn, target.module, call.what, call.from)) {
          ctx.report({ path: target.module.path, line: f.line, endLine: f.endLine, message: f.message, key: f.key });
        }
      }
    }
  }
}

export const eventOrdering: Check = {
  id: 'event-ordering',
  title: 'Event-driven state handled by polling or out of order',
  docs: {
    summary:
      'Flags controllers that handle events step by step instead of by events: a loop in the reconcile path that reads an object and sleeps, ticks or polls until a condition holds (instead of returning `RequeueAfter` or relying on a watch); a child created with an owner reference whose kind the controller neither `Owns` nor `Watches`, so its changes never trigger a reconcile; and TypeScript watch or informer handlers that do async work directly, so two events for one object run at once and finish out of order, or that write status with a merge patch and no resourceVersion, so a stale handler overwrites a newer status.',
    details: [
      'Polling (Go). The reconcile path is every `Reconcile` method and what it calls in its package. A loop is reported when its body (not a goroutine it starts) both reads through a client (`Get`/`List` with a context; a `Get` with the key and the object or options, not the `rdb.Get(ctx, key)` of a key-value store) and waits (`time.Sleep`, `time.After`, a ticker or timer receive, `wait.Poll*`); a `wait.Poll*` or `wait.ExponentialBackoff` whose condition reads the API is reported at the call (the condition written inline, or a package function or same-receiver method given by name, `r.replicasSynced`, or called to make it, `r.primaryElected(&rc)`). Silent: `retry.RetryOnConflict` (a retry, not a wait for a state), loops that read without waiting, and polling outside the reconcile path (a start-up wait in main).',
      'Unwatched children (Go). Owner references come from `SetControllerReference`/`SetOwnerReference` (also inside a `CreateOrUpdate`/`CreateOrPatch` mutate function) and from `metav1.NewControllerRef` in a child\'s literal. The child\'s kind is resolved from its Go type (a composite literal, a declared variable, or a package function\'s result type) and compared with `For`, `Owns` and `Watches` (including `source.Kind`) of the controller\'s setup in the same package, in any file. When there is no setup in the package, when the setup watches through a variable or hands its builder to a helper (`ownChildren(b)`), or when the child\'s type cannot be resolved (an interface, unstructured), the check cannot decide and stays silent.',
      'TypeScript/JavaScript. Handlers of `makeInformer(...).on(\'add\'|\'update\'|\'change\'|\'delete\')` (or `k8s.ADD`, `k8s.UPDATE`, ...) and `Watch.watch` callbacks are reported when they await, `.then` or call a same-file async function directly. They stay silent when they only enqueue a key (a work queue), chain work per key, or serialize it (async-mutex `runExclusive`, `p-limit(1)`, a concurrency-1 `p-queue`). A status write (`replace...Status`, `patch...Status`) from such an unordered handler, or from a same-file function it calls, is reported when its body carries no `resourceVersion` and no JSON-patch `test` op; replacing the object the handler read, or a body spread from it, is silent because it carries its resourceVersion. A call of an async function imported from a relative module (\`import { reconcile } from \'./reconcile\'\`) counts as async work, and that function\'s status writes are checked in its own module; a PR that changes only that module, not the file with the handler, is not traced back to the handler. At most 50 findings per file.',
    ].join('\n\n'),
    bad: {
      language: 'go',
      code: [
        'for {',
        '\tif err := r.Get(ctx, key, &dep); err != nil {',
        '\t\treturn ctrl.Result{}, err',
        '\t}',
        '\tif dep.Status.ReadyReplicas == *dep.Spec.Replicas {',
        '\t\tbreak',
        '\t}',
        '\ttime.Sleep(5 * time.Second)',
        '}',
      ].join('\n'),
    },
    good: {
      language: 'go',
      code: [
        'if err := r.Get(ctx, key, &dep); err != nil {',
        '\treturn ctrl.Result{}, client.IgnoreNotFound(err)',
        '}',
        'if dep.Status.ReadyReplicas < *dep.Spec.Replicas {',
        '\t// Owns(&appsv1.Deployment{}) brings us back when it changes',
        '\treturn ctrl.Result{RequeueAfter: 30 * time.Second}, nil',
        '}',
      ].join('\n'),
    },
  },
  defaultSeverity: 'error',
  languages: ['go', 'ts', 'js'],
  // each changed file is judged with its own package (read whole or sliced), never with the other changed files
  shardable: true,
  goPackageGate: CONTROLLER_WORDS,
  async run(ctx) {
    await runGo(ctx);
    await runTs(ctx);
  },
};
