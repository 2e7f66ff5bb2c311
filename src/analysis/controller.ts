// A Go package seen as a controller-runtime operator: its files, struct types and methods, the
// reconcilers (types with a Reconcile method), what their SetupWithManager watches, how many
// reconciles run at once, and which functions the reconcile path reaches. Shared by the
// unsynchronized-state and event-ordering checks; reads only through the check's context.

import type { CheckContext, GoNode, ParsedFile, Revision } from '../engine/types.js';
export { dirOf } from '../engine/paths.js';
import { goFilesIn } from '../engine/packages.js';
import { goConstants } from './waits.js';
import { packageSlice } from './package-slice.js';
import { calleeText, callSites, descendants, functionName, goImports, lineOf, receiverName, receiverType, walk } from '../lang/go.js';

/** Bounds on what one package may cost: PR input is hostile and packages can be huge. */
const MAX_PACKAGE_FILES = 200;
const MAX_REACHABLE_FUNCTIONS = 2_000;

export interface GoFile {
  path: string;
  parsed: ParsedFile;
  root: GoNode;
  /** local name -> import path (the inverse of `goImports`) */
  importsByName: Map<string, string>;
  /** import path -> local name, as `goImports` gives it (what waits.ts wants) */
  imports: Map<string, string>;
}

export interface GoFunction {
  file: GoFile;
  node: GoNode;
  name: string;
  /** receiver type name for methods */
  receiver?: string;
  receiverName?: string;
  /** `func (r *T)`: writes to fields reach the shared value */
  pointerReceiver?: boolean;
}

export interface StructField {
  name: string;
  typeText: string;
  kind: StateKind;
}

/** The kinds of state whose unsynchronized writes race; `other` is not tracked, `safe` synchronizes itself. */
export type StateKind = 'map' | 'slice' | 'counter' | 'pointer' | 'other' | 'safe';

/** A kind of object as `For`, `Owns` and `Watches` name it and as a Go composite literal builds it. */
export interface ObjectKind {
  importPath: string;
  kind: string;
}

export interface ControllerSetup {
  /** reconciler type whose SetupWithManager this is, when it is a method */
  reconciler?: string;
  fn: GoFunction;
  kinds: ObjectKind[];
  /** a For/Owns/Watches argument names no kind this can resolve (a variable, a helper call): what is watched is unknown */
  opaque: boolean;
  /** the MaxConcurrentReconciles value: a number, `variable` when set from an expression, undefined when not set */
  maxConcurrent?: number | 'variable';
  maxConcurrentLine?: number;
}

export interface GoPackage {
  dir: string;
  files: GoFile[];
  structs: Map<string, Map<string, StructField>>;
  functions: GoFunction[];
  methodsOf: Map<string, GoFunction[]>;
  reconcilers: Set<string>;
  setups: ControllerSetup[];
  /** declarations by node id, for `functionAt` */
  byId: Map<number, GoFunction>;
  /** the package's named non-struct types that hold state: `type Cache map[string]T` -> map */
  namedKinds: Map<string, StateKind>;
  /** memo of `reconcilePath` and `setupPath`: the package is shared by checks, so each is computed once */
  reconcilePath?: Set<number>;
  setupPath?: Set<number>;
  /** memo of what a call can reach (reachableFrom): package functions by name, methods by receiver type and name */
  callTargets?: { functionsNamed: Map<string, GoFunction[]>; methodsNamed: Map<string, Map<string, GoFunction[]>> };
}

/**
 * The Go files of one package directory (tests excluded: they do not run in the operator), indexed once
 * per snapshot and shared by the checks that ask: the package is read-only to them.
 */
export function loadGoPackage(ctx: CheckContext, dir: string): Promise<GoPackage> {
  return memoized(ctx, `go-package:head:${dir}`, () => readGoPackage(ctx, dir));
}

// the package gates and the listing of a package's Go files live with the engine, which asks the gates
// too (to know which files a parse thread is to parse), and are used from here
export { goFilesIn, packageSays } from '../engine/packages.js';

/** ctx.memo when the engine gives one (it does not keep a computation that failed, e.g. over a check's budget). */
function memoized<T>(ctx: CheckContext, key: string, compute: () => T): T {
  return ctx.memo ? ctx.memo(key, compute) : compute();
}

async function readGoPackage(ctx: CheckContext, dir: string): Promise<GoPackage> {
  const inPackage = (await goFilesIn(ctx, dir)).filter((p) => !p.endsWith('_test.go'));
  const paths = await packageSlice(ctx, dir, inPackage, 'head', MAX_PACKAGE_FILES);
  prefetch(ctx, paths, 'head');
  const files: GoFile[] = [];
  for (const path of paths) {
    ctx.checkBudget();
    const parsed = await ctx.parse(path);
    if (!parsed || parsed.language !== 'go') continue;
    const root = parsed.go().rootNode;
    const imports = goImports(root);
    const importsByName = new Map<string, string>();
    for (const [importPath, name] of imports) importsByName.set(name, importPath);
    files.push({ path, parsed, root, imports, importsByName });
  }
  return buildPackage(dir, files);
}

/**
 * Ask for a package's files all at once, so the git adapter reads them in one pipelined batch instead of
 * one round trip each; they are still taken (and their errors met) one by one, in order, by the caller.
 */
export function prefetch(ctx: Pick<CheckContext, 'parse'>, paths: string[], rev: Revision): void {
  for (const path of paths) ctx.parse(path, rev).catch(() => undefined);
}

function buildPackage(dir: string, files: GoFile[]): GoPackage {
  const structs = new Map<string, Map<string, StructField>>();
  const functions: GoFunction[] = [];
  const methodsOf = new Map<string, GoFunction[]>();
  const namedKinds = namedStateKinds(files);
  for (const file of files) {
    for (const decl of file.root.namedChildren) {
      if (!decl) continue;
      if (decl.type === 'type_declaration') {
        for (const spec of decl.namedChildren) {
          const type = spec?.childForFieldName('type');
          const name = spec?.childForFieldName('name')?.text;
          if (spec?.type === 'type_spec' && name && type?.type === 'struct_type') structs.set(name, structFields(type, namedKinds));
        }
      } else if (decl.type === 'function_declaration' || decl.type === 'method_declaration') {
        const method = decl.type === 'method_declaration';
        const fn: GoFunction = {
          file,
          node: decl,
          name: functionName(decl) ?? '',
          receiver: method ? receiverType(decl) : undefined,
          receiverName: method ? receiverName(decl) : undefined,
          pointerReceiver: method && (decl.childForFieldName('receiver')?.text.includes('*') ?? false),
        };
        functions.push(fn);
        if (fn.receiver) {
          const list = methodsOf.get(fn.receiver) ?? [];
          list.push(fn);
          methodsOf.set(fn.receiver, list);
        }
      }
    }
  }
  const reconcilers = new Set(functions.filter(isReconcileMethod).map((f) => f.receiver!));
  const constants = new Map<string, GoNode>();
  for (const file of files) goConstants(file.root, constants);
  const setups = functions.filter(isControllerSetup).map((fn) => controllerSetup(fn, constants));
  const byId = new Map(functions.map((f) => [f.node.id, f] as const));
  return { dir, files, structs, functions, methodsOf, reconcilers, setups, byId, namedKinds };
}

/**
 * What the package's own named types hold: `type AdminAPICache map[string]API` is a map, `type Seen []string`
 * a slice. Followed one step, so a field of such a type is state of that kind, not an opaque value.
 */
function namedStateKinds(files: GoFile[]): Map<string, StateKind> {
  const kinds = new Map<string, StateKind>();
  for (const file of files) {
    for (const decl of file.root.namedChildren) {
      if (decl?.type !== 'type_declaration') continue;
      for (const spec of decl.namedChildren) {
        const type = spec?.childForFieldName('type');
        const name = spec?.childForFieldName('name')?.text;
        // `type X = Y` is an alias (type_alias): it names the same type, so it counts too
        if (!name || !type || (spec?.type !== 'type_spec' && spec?.type !== 'type_alias') || type.type === 'struct_type' || type.type === 'interface_type') continue;
        const kind = stateKindOfType(type.text);
        if (kind !== 'other') kinds.set(name, kind);
      }
    }
  }
  return kinds;
}

/** The kind of a type, seeing through the package's own named map, slice and counter types. */
export function stateKindIn(typeText: string, namedKinds: Map<string, StateKind>): StateKind {
  const kind = stateKindOfType(typeText);
  if (kind !== 'other') return kind;
  return namedKinds.get(typeText.replace(/\s+/g, '')) ?? 'other';
}

function structFields(struct: GoNode, namedKinds: Map<string, StateKind>): Map<string, StructField> {
  const fields = new Map<string, StructField>();
  for (const decl of descendants(struct, 'field_declaration')) {
    if (decl.parent?.parent?.id !== struct.id) continue;
    const type = decl.childForFieldName('type');
    if (!type) continue;
    for (const name of decl.childrenForFieldName('name')) {
      if (name) fields.set(name.text, { name: name.text, typeText: type.text, kind: stateKindIn(type.text, namedKinds) });
    }
  }
  return fields;
}

const INTEGER_TYPES = new Set(['int', 'int8', 'int16', 'int32', 'int64', 'uint', 'uint8', 'uint16', 'uint32', 'uint64', 'uintptr', 'float32', 'float64']);

/** What kind of shared state a Go type is, from its text. */
export function stateKindOfType(typeText: string): StateKind {
  const t = typeText.replace(/\s+/g, '');
  const bare = t.replace(/^\*/, '');
  if (bare.startsWith('sync.') || bare.startsWith('atomic.') || t.startsWith('chan') || t.startsWith('<-chan')) return 'safe';
  if (t.startsWith('map[')) return 'map';
  if (t.startsWith('[')) return 'slice';
  if (t.startsWith('*')) return 'pointer';
  if (INTEGER_TYPES.has(t)) return 'counter';
  return 'other';
}

/** The kind of state a Go initializer expression creates (`map[string]int{}`, `make([]T, 0)`, `0`, `&T{}`). */
export function stateKindOfValue(value: GoNode | null | undefined): StateKind {
  if (!value) return 'other';
  if (value.type === 'composite_literal') return stateKindOfType(value.childForFieldName('type')?.text ?? '');
  if (value.type === 'int_literal') return 'counter';
  if (value.type === 'unary_expression' && value.text.startsWith('&')) {
    const operand = value.childForFieldName('operand');
    return stateKindOfType(`*${operand?.childForFieldName('type')?.text ?? operand?.text ?? ''}`);
  }
  if (value.type === 'call_expression') {
    const callee = calleeText(value);
    const first = value.childForFieldName('arguments')?.namedChildren[0];
    if (callee === 'make' || callee === 'new') {
      const kind = stateKindOfType(first?.text ?? '');
      return callee === 'new' && kind !== 'safe' ? 'pointer' : kind;
    }
    if (/^(int|int64|int32|uint|uint64|uint32)$/.test(callee)) return 'counter';
  }
  return 'other';
}

/**
 * A controller-runtime `Reconcile`: a method of that name returning a `Result` (`ctrl.Result`,
 * `reconcile.Result`). A `Reconcile(ctx, client, owner) error` of some helper type is a name only: it is
 * not run by a controller's workers, so its fields and its waits are not those of a reconciler.
 */
function isReconcileMethod(fn: GoFunction): boolean {
  if (!fn.receiver || fn.name !== 'Reconcile') return false;
  const result = fn.node.childForFieldName('result')?.text ?? '';
  return /\bResult\b/.test(result.slice(0, 200));
}

function isControllerSetup(fn: GoFunction): boolean {
  if (fn.name === 'SetupWithManager') return true;
  // a function whose text names neither callee calls neither: most functions (`New` alone is in every constructor)
  if (!/NewControllerManagedBy|controller\s*\.\s*New/.test(fn.file.parsed.text.slice(fn.node.startIndex, fn.node.endIndex))) return false;
  return descendants(fn.node, 'call_expression').some((n) => {
    const callee = calleeText(n);
    return callee.endsWith('NewControllerManagedBy') || callee.endsWith('controller.New');
  });
}

/** A whole number written as a literal or as the name of a package constant that is one (`const workers = 1`). */
function wholeNumber(value: GoNode | null | undefined, constants: Map<string, GoNode>): number | undefined {
  for (let depth = 0; value && depth < 5; depth++) {
    const text = value.text.replaceAll('_', '');
    if (/^\d+$/.test(text)) return Number(text);
    // a composite literal's value is a literal_element around the expression
    if (value.type === 'literal_element') value = value.namedChildren[0];
    else if (value.type === 'identifier') value = constants.get(value.text);
    else return undefined;
  }
  return undefined;
}

function controllerSetup(fn: GoFunction, constants: Map<string, GoNode>): ControllerSetup {
  const kinds: ObjectKind[] = [];
  let opaque = false;
  let maxConcurrent: number | 'variable' | undefined;
  let maxConcurrentLine: number | undefined;
  // the builder handed to a helper (`ownChildren(b)`): what it watches there is not seen here
  const builders = new Set<string>();
  for (const assign of descendants(fn.node, ['assignment_statement', 'short_var_declaration'])) {
    if (!assign.childForFieldName('right')?.text.includes('NewControllerManagedBy(')) continue;
    for (const target of assign.childForFieldName('left')?.namedChildren ?? []) if (target?.type === 'identifier') builders.add(target.text);
  }
  walk(fn.node, (n) => {
    if (n.type === 'call_expression') {
      const callee = calleeText(n);
      const method = callee.slice(callee.lastIndexOf('.') + 1);
      const handed = n.childForFieldName('arguments')?.namedChildren.some((a) => a !== null && (builders.has(a.text) || a.text.includes('NewControllerManagedBy(')));
      if (handed) opaque = true;
      if (method === 'For' || method === 'Owns' || method.startsWith('Watch')) {
        // `For(&v1.Database{})`, `Owns(&appsv1.Deployment{})`, `Watches(&corev1.ConfigMap{}, h)`,
        // `Watches(source.Kind(cache, &corev1.Secret{}), h)`, `c.Watch(source.Kind(...))`: every kind in the arguments counts
        const args = n.childForFieldName('arguments');
        let resolved = 0;
        if (args) for (const lit of descendants(args, 'composite_literal')) {
          const kind = kindOfTypeNode(lit.childForFieldName('type'), fn.file);
          if (kind) {
            kinds.push(kind);
            resolved++;
          }
        }
        if (resolved === 0 && (args?.namedChildCount ?? 0) > 0) opaque = true;
      }
    }
    if (n.type === 'keyed_element' && n.namedChildren[0]?.text === 'MaxConcurrentReconciles') {
      maxConcurrent = wholeNumber(n.namedChildren[n.namedChildren.length - 1], constants) ?? 'variable';
      maxConcurrentLine = lineOf(n);
    }
    return true;
  });
  return { reconciler: fn.receiver, fn, kinds, opaque, maxConcurrent, maxConcurrentLine };
}

/** `appsv1.Deployment` in a file importing `k8s.io/api/apps/v1` as appsv1 -> {k8s.io/api/apps/v1, Deployment}. */
export function kindOfTypeNode(type: GoNode | null | undefined, file: GoFile): ObjectKind | undefined {
  if (!type) return undefined;
  if (type.type === 'pointer_type') return kindOfTypeNode(type.namedChildren[0], file);
  if (type.type === 'qualified_type') {
    const pkg = type.childForFieldName('package')?.text ?? '';
    const name = type.childForFieldName('name')?.text ?? '';
    const importPath = file.importsByName.get(pkg);
    return importPath && name ? { importPath, kind: name } : undefined;
  }
  if (type.type === 'type_identifier') return { importPath: `.${file.path.slice(0, file.path.lastIndexOf('/'))}`, kind: type.text };
  return undefined;
}

export function sameKind(a: ObjectKind, b: ObjectKind): boolean {
  return a.kind === b.kind && a.importPath === b.importPath;
}

/** `apps/v1 Deployment`, `v1 PersistentVolumeClaim` (core), `Database (example.com/op/api/v1)`, with its article. */
export function describeKind(k: ObjectKind): string {
  const text = kindText(k);
  return `${/^[aeiou]/i.test(text) ? 'an' : 'a'} ${text}`;
}

function kindText(k: ObjectKind): string {
  const prefix = 'k8s.io/api/';
  if (k.importPath.startsWith(prefix)) {
    const [group, version] = k.importPath.slice(prefix.length).split('/');
    return group === 'core' ? `${version} ${k.kind}` : `${group}/${version} ${k.kind}`;
  }
  return `${k.kind} (${k.importPath.replace(/^\./, '')})`;
}

/** The setups that govern a reconciler type: its own SetupWithManager, else every setup of the package. */
export function setupsFor(pkg: GoPackage, reconciler: string | undefined): ControllerSetup[] {
  const own = pkg.setups.filter((s) => s.reconciler !== undefined && s.reconciler === reconciler);
  return own.length ? own : pkg.setups;
}

/** The largest MaxConcurrentReconciles among setups (`variable` wins: it can be anything). */
export function maxConcurrency(setups: ControllerSetup[]): { value: number | 'variable'; line?: number; path?: string } {
  let best: { value: number | 'variable'; line?: number; path?: string } = { value: 1 };
  for (const s of setups) {
    if (s.maxConcurrent === undefined) continue;
    if (s.maxConcurrent === 'variable' || (best.value !== 'variable' && s.maxConcurrent > best.value)) {
      best = { value: s.maxConcurrent, line: s.maxConcurrentLine, path: s.fn.file.path };
    }
  }
  return best;
}

/**
 * Functions the reconcile path reaches: every Reconcile method, then what they call in the package
 * (`r.method(...)` on the same receiver type, `helper(...)` package functions), transitively.
 */
export function reconcilePath(pkg: GoPackage): Set<number> {
  return (pkg.reconcilePath ??= reachableFrom(pkg, pkg.functions.filter(isReconcileMethod)));
}

/** Functions SetupWithManager reaches: they run once, before the manager starts. */
export function setupPath(pkg: GoPackage): Set<number> {
  return (pkg.setupPath ??= reachableFrom(pkg, pkg.functions.filter((f) => f.name === 'SetupWithManager')));
}

/** Node ids of `roots` and of the package functions and same-receiver methods they call, transitively. */
function reachableFrom(pkg: GoPackage, roots: GoFunction[]): Set<number> {
  const { functionsNamed, methodsNamed } = (pkg.callTargets ??= callTargetsOf(pkg));
  // node ids: web-tree-sitter hands out a new wrapper object on every access
  const reached = new Set<number>();
  const queue = [...roots];
  for (let next = 0; next < queue.length && reached.size < MAX_REACHABLE_FUNCTIONS; next++) {
    const fn = queue[next]!;
    if (reached.has(fn.node.id)) continue;
    reached.add(fn.node.id);
    const ownMethods = fn.receiver ? methodsNamed.get(fn.receiver) : undefined;
    for (const call of callSites(fn.node)) {
      let targets: GoFunction[] | undefined;
      if (call.calleeType === 'identifier') targets = functionsNamed.get(call.name);
      else if (ownMethods && call.calleeType === 'selector_expression' && call.operand === fn.receiverName) targets = ownMethods.get(call.name);
      for (const t of targets ?? []) if (!reached.has(t.node.id)) queue.push(t);
    }
  }
  return reached;
}

/** The package's functions by name, and its methods by receiver type and name: what a call can reach. */
function callTargetsOf(pkg: GoPackage): NonNullable<GoPackage['callTargets']> {
  const functionsNamed = new Map<string, GoFunction[]>();
  const methodsNamed = new Map<string, Map<string, GoFunction[]>>();
  for (const f of pkg.functions) {
    let byName = functionsNamed;
    if (f.receiver) {
      byName = methodsNamed.get(f.receiver) ?? new Map<string, GoFunction[]>();
      methodsNamed.set(f.receiver, byName);
    }
    const same = byName.get(f.name);
    if (same) same.push(f);
    else byName.set(f.name, [f]);
  }
  return { functionsNamed, methodsNamed };
}

/** The package function or method declaration around a node. */
export function functionAt(pkg: GoPackage, node: GoNode): GoFunction | undefined {
  for (let n: GoNode | null = node; n; n = n.parent) {
    if (n.type === 'function_declaration' || n.type === 'method_declaration') return pkg.byId.get(n.id);
  }
  return undefined;
}
