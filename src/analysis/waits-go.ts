// Go waits for sleep-fix: every `time.Sleep`, blocking `<-time.After`, lone timer receive and call of a
// same-package sleep helper in a file, with the package facts (constants, helpers, the reconcile path) it needs.

import { goConstants, goDurationNs, goLoopKind, goWaitCall, NS_PER_MS, type LoopKind } from './waits.js';
import { inReconcilePath, MAX_PACKAGE_FILES, MAX_SITES_PER_FILE, REQUESTED_DELAY, RETRY_COUNTERS, type WaitSite } from './waits-sites.js';
import { callSiteOf, callSites, descendants, enclosingDeclaration, enclosingFunction, endLineOf, functionName, goImports, lineOf, receiverName, receiverType } from '../lang/go.js';
import type { CheckContext, GoNode, GoTree as Tree, ParsedFile, Revision } from '../engine/types.js';
import { goFilesIn, prefetch } from './controller.js';
import { packageSlice } from './package-slice.js';

interface GoHelper {
  params: string[];
  duration: GoNode;
}

interface GoPackage {
  constants: Map<string, GoNode>;
  /** same-package functions whose body is a sleep of their parameter: name -> how */
  helpers: Map<string, GoHelper>;
  /** function or method name -> call path from Reconcile */
  reconcilePaths: Map<string, string[]>;
}

/** Package facts per directory and revision: constants, sleep helpers, what Reconcile reaches. */
export class PackageCache {
  private readonly packages = new Map<string, Promise<GoPackage>>();
  constructor(private readonly ctx: CheckContext) {}

  get(dir: string, rev: Revision, withReconcile: boolean): Promise<GoPackage> {
    // each commit of a long PR would reparse the whole package: the head's constants and helpers stand in
    // for the intermediate commits (the file itself is still read at the commit)
    const side = typeof rev === 'string' ? rev : 'head';
    const key = `${side}\0${dir}\0${withReconcile}`;
    let p = this.packages.get(key);
    if (!p) this.packages.set(key, (p = this.load(dir, side, withReconcile)));
    return p;
  }

  private async load(dir: string, rev: Revision, withReconcile: boolean): Promise<GoPackage> {
    const pkg: GoPackage = { constants: new Map(), helpers: new Map(), reconcilePaths: new Map() };
    const paths = await packageSlice(this.ctx, dir, await goFilesIn(this.ctx, dir, rev), rev === 'base' ? 'base' : 'head', MAX_PACKAGE_FILES);
    // what each declaration calls is read only for those the reconcile path reaches
    const callers = new Map<string, (() => string[])[]>();
    prefetch(this.ctx, paths, rev);
    for (const path of paths) {
      this.ctx.checkBudget();
      const file = await this.ctx.parse(path, rev);
      if (!file) continue;
      const facts = fileFacts(file.go());
      for (const [name, value] of facts.constants) pkg.constants.set(name, value);
      for (const [name, helper] of facts.helpers) pkg.helpers.set(name, helper);
      if (withReconcile && !path.endsWith('_test.go')) {
        for (const [name, called] of facts.calls) {
          const list = callers.get(name);
          if (list) list.push(called);
          else callers.set(name, [called]);
        }
      }
    }
    const calledBy = (name: string) => new Set((callers.get(name) ?? []).flatMap((called) => called()));
    if (withReconcile && callers.has('Reconcile')) {
      // breadth-first from Reconcile over calls by name within the package: the shortest path is the one shown
      const queue: string[][] = [['Reconcile']];
      pkg.reconcilePaths.set('Reconcile', ['Reconcile']);
      while (queue.length > 0 && pkg.reconcilePaths.size < 2000) {
        const path = queue.shift()!;
        for (const next of calledBy(path[path.length - 1]!)) {
          if (pkg.reconcilePaths.has(next) || !callers.has(next)) continue;
          const longer = [...path, next];
          pkg.reconcilePaths.set(next, longer);
          queue.push(longer);
        }
      }
    }
    return pkg;
  }
}

/** What a package load takes from one file: it depends on the text only, so a file the PR leaves alone is read once for base and head. */
interface GoFileFacts {
  constants: Map<string, GoNode>;
  /** sleep helpers by name, in declaration order */
  helpers: [string, GoHelper][];
  /** each declaration's name and the names it calls (read on first use), in declaration order */
  calls: [string, () => string[]][];
}

const factsByTree = new WeakMap<Tree, GoFileFacts>();

function fileFacts(tree: Tree): GoFileFacts {
  const known = factsByTree.get(tree);
  if (known) return known;
  const root = tree.rootNode;
  const source = root.text;
  const imports = goImports(root);
  const decls: [string, GoNode][] = [];
  const helpers: [string, GoHelper][] = [];
  for (const decl of root.namedChildren) {
    if (!decl || (decl.type !== 'function_declaration' && decl.type !== 'method_declaration')) continue;
    const name = functionName(decl);
    if (!name) continue;
    decls.push([name, decl]);
    const helper = goSleepHelper(decl, imports, source);
    if (helper) helpers.push([name, helper]);
  }
  const calls = decls.map(([name, decl]): [string, () => string[]] => {
    let called: string[] | undefined;
    return [name, () => (called ??= calledNames(decl))];
  });
  const facts: GoFileFacts = { constants: goConstants(root), helpers, calls };
  factsByTree.set(tree, facts);
  return facts;
}

/** Names a function calls: plain functions and methods called on anything (`r.finalize(...)`). */
function calledNames(decl: GoNode): string[] {
  const names: string[] = [];
  for (const call of callSites(decl)) {
    if (call.calleeType === 'identifier') names.push(call.name);
    else if (call.calleeType === 'selector_expression' && call.operandType === 'identifier') names.push(call.name);
    if (names.length > 500) break;
  }
  return names;
}

/** A function whose body is essentially `time.Sleep(param)` or `<-time.After(param)` (maybe in a select on ctx.Done()). */
function goSleepHelper(decl: GoNode, imports: Map<string, string>, text: string): GoHelper | undefined {
  // a helper's wait is `time.Sleep` or `time.After`: a function whose text names neither is none (most are not)
  const own = text.slice(decl.startIndex, decl.endIndex);
  if (!own.includes('Sleep') && !own.includes('After')) return undefined;
  const body = decl.childForFieldName('body');
  const statements = body?.namedChildren.find((c) => c?.type === 'statement_list')?.namedChildren.filter((c) => c && c.type !== 'comment') ?? [];
  if (statements.length === 0 || statements.length > 3) return undefined;
  const params = (decl.childForFieldName('parameters')?.namedChildren ?? [])
    .flatMap((p) => (p?.type === 'parameter_declaration' ? p.childrenForFieldName('name') : []))
    .map((n) => n?.text ?? '')
    .filter(Boolean);
  if (params.length === 0) return undefined;
  for (const statement of statements) {
    if (!statement || statement.type === 'for_statement') continue;
    for (const call of descendants(statement, 'call_expression')) {
      // a sleep inside a closure the helper builds (an HTTP handler, a goroutine) is not the helper sleeping
      if (enclosingFunction(call)?.id !== decl.id) continue;
      const wait = goWaitCall(call, imports);
      if (!wait || !wait.duration || (wait.kind !== 'sleep' && wait.timeFunction !== 'After')) continue;
      const uses = descendants(wait.duration, 'identifier').some((id) => params.includes(id.text)) || params.includes(wait.duration.text);
      if (uses) return { params, duration: wait.duration };
    }
  }
  return undefined;
}

// `.Error(` alone would match `err.Error()` and `.Errorf(` `fmt.Errorf(`: the testing.T calls are matched by the test's own variable
// `.Expect` also matches the assertions of fluent e2e fixtures (`.Then().ExpectRolloutStatus(...)`)
const GO_ASSERTIONS = ['Expect(', '.Expect', 'Ω(', 'assert.', 'require.', '.Should(', '.To(', '.NotTo(', '.ToNot(', 'cmp.Diff(', 'DeepEqual('];
const TESTING_ASSERTIONS = ['Error(', 'Errorf(', 'Fatal(', 'Fatalf(', 'Fail(', 'FailNow('];
/** testify's suite.Suite assertion methods (and its Require()/Assert() accessors), called on the suite's receiver */
const SUITE_ASSERTIONS = [
  'Require(', 'Assert(', 'Equal(', 'EqualValues(', 'EqualError(', 'Exactly(', 'NotEqual(', 'NotEqualValues(', 'True(', 'False(',
  'Nil(', 'NotNil(', 'NoError(', 'Error(', 'ErrorIs(', 'ErrorAs(', 'ErrorContains(', 'Contains(', 'NotContains(', 'Len(', 'Empty(',
  'NotEmpty(', 'Zero(', 'NotZero(', 'Greater(', 'GreaterOrEqual(', 'Less(', 'LessOrEqual(', 'ElementsMatch(', 'Subset(', 'Same(',
  'JSONEq(', 'YAMLEq(', 'Regexp(', 'InDelta(', 'IsType(', 'Implements(', 'Panics(', 'NotPanics(', 'WithinDuration(', 'Fail(', 'FailNow(',
];
const GO_WRITES = ['.Create(', '.Update(', '.Patch(', '.Delete(', '.Apply(', '.DeleteAllOf(', '.Status().Update(', '.Status().Patch('];
const GINKGO_NODES = new Set(['It', 'Specify', 'BeforeEach', 'AfterEach', 'JustBeforeEach', 'BeforeAll', 'AfterAll', 'Describe', 'Context', 'When', 'DescribeTable', 'Entry', 'By']);

/** The names a wait goWaitAt finds is called by (`time.Sleep`, `<-time.After`, a timer's, a `.Sleep` method), as words. */
const GO_SITE_WORDS = /\b(?:Sleep|After|NewTimer)\b/;

/**
 * May `text` call one of `helpers`? Its name is in the text if it does. Past MAX_HELPER_NAMES helpers the
 * answer is yes: a package can declare thousands (PR input is hostile), and a search of the whole text for
 * each would cost more than reading the file's calls one by one.
 */
function mayCallHelper(text: string, helpers: ReadonlyMap<string, GoHelper>): boolean {
  if (helpers.size > MAX_HELPER_NAMES) return true;
  for (const name of helpers.keys()) if (text.includes(name)) return true;
  return false;
}

const MAX_HELPER_NAMES = 32;

export async function goSites(ctx: CheckContext, file: ParsedFile, deep: boolean, packages: PackageCache): Promise<WaitSite[]> {
  const root = file.go().rootNode;
  const imports = goImports(root);
  const slash = file.path.lastIndexOf('/');
  const pkg = await packages.get(slash === -1 ? '' : file.path.slice(0, slash), file.rev, deep);
  // a site is a call whose name is one of these words or a helper's: a file that has none as a word (most
  // files of a package that says them) has none, and is not read call by call
  if (!GO_SITE_WORDS.test(file.text) && !mayCallHelper(file.text, pkg.helpers)) return [];
  const constants = new Map(pkg.constants);
  const fileConstants = goConstants(root);
  for (const [name, value] of fileConstants) constants.set(name, value);
  const isTestFile = file.path.endsWith('_test.go');
  const sites: WaitSite[] = [];

  const localsOf = new Map<number, GoLocals>();
  for (const node of descendants(root, 'call_expression')) {
    if (sites.length >= MAX_SITES_PER_FILE) break;
    // most calls are no wait: tell them apart before reading the function's locals. Whether a call is a
    // wait does not depend on the constants, except for a `Sleep` method, which needs a constant duration
    if (!goWaitAt(node, imports, constants, pkg.helpers) && !isSleepMethodCall(node)) continue;
    const fn = enclosingFunction(node);
    let locals = fn ? localsOf.get(fn.id) : undefined;
    if (fn && !locals) localsOf.set(fn.id, (locals = goLocals(fn)));
    const scoped = locals && locals.constants.size > 0 ? new Map([...constants, ...locals.constants]) : constants;
    const found = goWaitAt(node, imports, scoped, pkg.helpers);
    if (!found) continue;
    if (found.ms === undefined && !found.benign && locals && durationIdentifiers(found, node).some((n) => locals!.computed.has(n))) {
      // `tempDelay *= 2`, `sec, _ := strconv.Atoi(...)`: a delay the function computes is a backoff or a requested time, not a guess
      found.benign = 'a delay computed at run time';
    }
    const decl = enclosingDeclaration(node) ?? (fn?.type === 'function_declaration' || fn?.type === 'method_declaration' ? fn : undefined);
    const site: WaitSite = {
      flavour: 'go',
      path: file.path,
      line: lineOf(found.at ?? found.shown),
      endLine: endLineOf(found.shown),
      scope: goScope(node, decl),
      callee: found.callee,
      text: (found.label ?? found.shown.text).replace(/\s+/g, ' ').slice(0, 300),
      ms: found.ms,
      situation: 'generic',
      poll: false,
      ...(found.benign ? { benign: found.benign } : {}),
    };
    const lines = constantLines(found.helper ? node.childForFieldName('arguments') ?? undefined : found.duration, fileConstants);
    if (lines.length > 0) site.durationLines = lines;
    const durationExpr = found.helper ? node.childForFieldName('arguments') : found.duration;
    if (durationExpr) {
      const names = durationExpr.type === 'identifier' ? [durationExpr.text] : descendants(durationExpr, 'identifier').map((n) => n.text);
      if (names.length > 0) site.durationNames = names.slice(0, 20);
    }
    if (deep) {
      site.judge = () => {
        if (!site.benign) site.benign = goBenign(node, found, decl, fn, imports, pkg);
        if (!site.benign) goSituation(site, found.shown, decl, fn, isTestFile, pkg, file.text);
      };
    }
    sites.push(site);
  }
  return sites;
}

interface GoLocals {
  /** names assigned once, from an expression (evaluated later as a constant if it is one) */
  constants: Map<string, GoNode>;
  /** names declared in the function and assigned from something computed, or more than once */
  computed: Set<string>;
}

/** Local variables and constants of a function (not its parameters), from its own body. */
function goLocals(fn: GoNode): GoLocals {
  const assigned = new Map<string, GoNode[]>();
  const note = (name: string, value: GoNode | undefined | null) => {
    const list = assigned.get(name) ?? [];
    if (value) list.push(value);
    else list.push(fn); // assigned from something this does not track: never a constant
    assigned.set(name, list);
  };
  const body = fn.childForFieldName('body');
  for (const decl of body ? descendants(body, ['short_var_declaration', 'assignment_statement', 'var_spec', 'const_spec', 'inc_statement', 'dec_statement']) : []) {
    if (!decl || assigned.size > 500) break;
    if (decl.type === 'inc_statement' || decl.type === 'dec_statement') {
      note(decl.namedChildren[0]?.text ?? '', undefined);
      continue;
    }
    const left = decl.type === 'var_spec' || decl.type === 'const_spec' ? decl.childrenForFieldName('name').filter((n): n is GoNode => n !== null) : (decl.childForFieldName('left')?.namedChildren ?? []).filter((n): n is GoNode => n !== null);
    const right = (decl.type === 'var_spec' || decl.type === 'const_spec' ? decl.childForFieldName('value') : decl.childForFieldName('right'))?.namedChildren ?? [];
    const compound = decl.type === 'assignment_statement' && decl.childForFieldName('operator')?.text !== '=';
    left.forEach((n, i) => note(n.text, left.length === right.length && !compound ? right[i] : undefined));
  }
  const locals: GoLocals = { constants: new Map(), computed: new Set() };
  for (const [name, values] of assigned) {
    if (values.length === 1 && values[0] !== fn) locals.constants.set(name, values[0]!);
    // a single assignment may still be a computation: it counts as computed when it does not evaluate
    locals.computed.add(name);
  }
  return locals;
}

/** Identifiers a wait's duration is written with (for a helper call, its arguments). */
function durationIdentifiers(found: GoWaitFound, call: GoNode): string[] {
  const expr = found.helper ? call.childForFieldName('arguments') : found.duration;
  if (!expr) return [];
  return expr.type === 'identifier' ? [expr.text] : descendants(expr, 'identifier').map((n) => n.text).slice(0, 50);
}

/** Lines of this file's constants an expression depends on (a few levels deep). */
function constantLines(expr: GoNode | undefined, fileConstants: Map<string, GoNode>): number[] {
  const lines = new Set<number>();
  const visit = (e: GoNode, depth: number) => {
    if (depth > 3 || lines.size > 10) return;
    const ids = e.type === 'identifier' ? [e] : descendants(e, 'identifier');
    for (const id of ids) {
      const value = fileConstants.get(id.text);
      if (!value || lines.has(lineOf(value))) continue;
      lines.add(lineOf(value));
      visit(value, depth + 1);
    }
  };
  if (expr) visit(expr, 0);
  return [...lines];
}

interface GoWaitFound {
  callee: string;
  /** the node shown and reported: the call, or the `<-time.After(...)` receive */
  shown: GoNode;
  /** where the wait starts when that is not where `shown` starts, and how it reads: `.Sleep(2*time.Second)` in a chain */
  at?: GoNode;
  label?: string;
  duration?: GoNode;
  ms?: number;
  benign?: string;
  helper?: boolean;
}

const toMs = (ns: number | undefined) => (ns === undefined ? undefined : ns / NS_PER_MS);

/** Is this call a wait: `time.Sleep`, a blocking `<-time.After`, a call of a package sleep helper? */
function goWaitAt(call: GoNode, imports: Map<string, string>, constants: Map<string, GoNode>, helpers: Map<string, GoHelper>): GoWaitFound | undefined {
  const wait = goWaitCall(call, imports);
  if (wait?.kind === 'sleep') return { callee: wait.callee, shown: call, duration: wait.duration, ms: toMs(goDurationNs(wait.duration, imports, constants)) };
  if (wait?.timeFunction === 'After' || wait?.timeFunction === 'NewTimer') {
    const receive = wait.timeFunction === 'After' ? call.parent : timerReceive(call);
    if (receive?.type !== 'unary_expression' || receive.childForFieldName('operator')?.text !== '<-') return undefined;
    const ms = toMs(goDurationNs(wait.duration, imports, constants));
    const found: GoWaitFound = { callee: wait.callee, shown: receive, duration: wait.duration, ms };
    const holder = receive.parent;
    if (holder?.type === 'expression_statement') return found;
    const kase = holder?.type === 'receive_statement' ? holder.parent : holder;
    const select = kase?.type === 'communication_case' ? kase.parent : undefined;
    if (!kase || select?.type !== 'select_statement') return undefined;
    const others = select.namedChildren.filter((c) => c && c.id !== kase.id && (c.type === 'communication_case' || c.type === 'default_case'));
    const onlyStops = others.every((c) => c?.type === 'communication_case' && isStopSignal(c.childForFieldName('communication')?.text ?? ''));
    // a select that also waits on real work uses time.After as its timeout: that is a deadline, not a sleep
    return onlyStops ? found : { ...found, benign: 'timeout branch of a select on real work' };
  }
  const { name, calleeType } = callSiteOf(call);
  const helper = name ? helpers.get(name) : undefined;
  if (!helper && name === 'Sleep' && calleeType === 'selector_expression') return sleepMethod(call, call.childForFieldName('function')!, imports, constants);
  if (!helper || !name) return undefined;
  const args = call.childForFieldName('arguments')?.namedChildren.filter((n): n is GoNode => n !== null) ?? [];
  const bound = new Map(constants);
  helper.params.forEach((p, i) => {
    if (args[i]) bound.set(p, args[i]!);
    else bound.delete(p);
  });
  return { callee: name, shown: call, duration: args[0], ms: toMs(goDurationNs(helper.duration, imports, bound)), helper: true };
}

function isSleepMethodCall(call: GoNode): boolean {
  const { name, calleeType } = callSiteOf(call);
  return calleeType === 'selector_expression' && name === 'Sleep';
}

/**
 * A `Sleep(d)` method of another package with a constant duration: the step of an e2e fixture DSL
 * (`When().PromoteRollout().Sleep(2 * time.Second).Then()`), whose body is a `time.Sleep` this file cannot see.
 * A clock's `Sleep` is left alone: a fake clock only advances its time, a real one is injected to be faked in tests.
 */
function sleepMethod(call: GoNode, fn: GoNode, imports: Map<string, string>, constants: Map<string, GoNode>): GoWaitFound | undefined {
  const operand = fn.childForFieldName('operand');
  const field = fn.childForFieldName('field');
  const args = call.childForFieldName('arguments')?.namedChildren.filter((n): n is GoNode => n !== null) ?? [];
  if (!operand || !field || args.length !== 1) return undefined;
  // the receiver's own name (`fakeClock`, `PromoteRollout()`), and all of it when it is a plain value (`r.clock`)
  const named = operand.type === 'call_expression' ? operand.childForFieldName('function') : operand;
  const tail = (named?.type === 'selector_expression' ? named.childForFieldName('field')?.text : named?.text) ?? '';
  if (/clock|clk|fake|mock/i.test(tail) || (operand.type !== 'call_expression' && /clock|clk/i.test(operand.text.slice(0, 200)))) return undefined;
  const ns = goDurationNs(args[0], imports, constants);
  if (ns === undefined) return undefined;
  return { callee: 'Sleep', shown: call, at: field, label: `${field.text}(${args[0]!.text})`, duration: args[0], ms: ns / NS_PER_MS };
}

/**
 * The one receive from a timer made by `time.NewTimer(d)`: `<-time.NewTimer(d).C`, or `t := time.NewTimer(d)` and
 * later `<-t.C` in the same function. A timer that is reset, stopped or received from in several places is a
 * timeout machinery, not a sleep: undefined.
 */
function timerReceive(call: GoNode): GoNode | undefined {
  const parent = call.parent;
  if (parent?.type === 'selector_expression' && parent.childForFieldName('field')?.text === 'C') return parent.parent ?? undefined;
  const declaration = parent?.type === 'expression_list' ? parent.parent : undefined;
  if (declaration?.type !== 'short_var_declaration' && declaration?.type !== 'assignment_statement') return undefined;
  const name = declaration.childForFieldName('left')?.namedChildren[0]?.text;
  const fn = enclosingFunction(call);
  if (!name || !fn) return undefined;
  const uses = descendants(fn, 'selector_expression').filter((n) => n?.childForFieldName('operand')?.text === name);
  if (uses.length !== 1 || uses[0]!.childForFieldName('field')?.text !== 'C') return undefined;
  return uses[0]!.parent ?? undefined;
}

function isStopSignal(text: string): boolean {
  const t = text.slice(0, 300);
  return t.includes('.Done()') || /(^|[^\w])(stop|stopCh|quit|shutdown|closing)\w*\s*$/i.test(t.replace(/^<-\s*/, '').replace(/^[\w, ]+:?=\s*<-\s*/, ''));
}

/** Why a Go wait masks nothing, or undefined when it may. */
function goBenign(call: GoNode, found: GoWaitFound, decl: GoNode | undefined, fn: GoNode | undefined, imports: Map<string, string>, pkg: GoPackage): string | undefined {
  if (found.ms === 0) return 'a yield, not a wait';
  const durationText = (found.duration?.text ?? '').toLowerCase();
  if (['backoff', 'jitter', 'reserve', 'limiter', '.delay()', 'ratelimit'].some((w) => durationText.includes(w))) return 'a delay computed by a backoff or rate limiter';
  if (found.ms === undefined && REQUESTED_DELAY.test(durationText.slice(0, 300))) return 'a delay the server or a backoff policy asks for';
  if (durationText.includes('time.until(') || durationText.includes('.sub(')) return 'sleeps until a scheduled time, not for a guessed one';
  if (durationText.includes('rand.')) return 'a random jitter that spreads load, not a fixed delay';
  const next = followingStatements(found.shown).slice(0, 2).map((s) => s.text.slice(0, 500));
  const own = decl ? functionName(decl) : undefined;
  if (own && next[0]?.includes(`${own}(`) && RETRY_COUNTERS.test(next[0])) return 'a retry by recursion with an attempt count';
  // the drain delay before a graceful shutdown lets endpoints stop routing to a terminating pod: there is no event for it
  if (next.some((t) => t.includes('.Shutdown(') || t.includes('.GracefulStop('))) return 'a drain delay before a graceful shutdown';
  // `go func() { <-time.After(d); cancel() }()` is a hand-made timeout, like setTimeout(() => controller.abort())
  const spawned = fn?.type === 'func_literal' && fn.parent?.type === 'call_expression' && fn.parent.parent?.type === 'go_statement';
  if (spawned && next.some((t) => ['cancel(', 'close(', '.Stop(', '.Kill(', '.Abort(', '.Cancel(', 'imeout'].some((w) => t.includes(w)))) return 'a timeout in a goroutine';
  // a handler that sleeps simulates a slow server (in tests) or paces a response: nothing waits on it
  if (fn?.type === 'func_literal' && (fn.childForFieldName('parameters')?.text ?? '').includes('http.ResponseWriter')) return 'simulated latency in an HTTP handler';
  // the body of a sleep helper: its callers are the waits
  if (decl && !found.helper) {
    const name = functionName(decl);
    if (name && pkg.helpers.get(name)?.duration.id === found.duration?.id) return 'the body of a sleep helper';
  }
  // inside a closure handed to a poll, backoff or periodic runner: the library bounds it
  for (let n: GoNode | null = call.parent; n && n.id !== decl?.id; n = n.parent) {
    if (n.type === 'call_expression') {
      const kind = goWaitCall(n, imports)?.kind;
      if (kind === 'poll' || kind === 'backoff' || kind === 'periodic') return `inside ${goWaitCall(n, imports)!.callee}`;
    }
  }
  const loop = loopAround(call, fn);
  if (loop === 'bounded') return 'a retry or poll with an attempt cap or deadline';
  if (loop === 'periodic') return 'a periodic loop';
  return undefined;
}

const deadlineFunctions = new WeakMap<object, Map<number, boolean>>();

/** Does a function derive its ctx with a timeout or deadline? Cached per tree: many waits can share one function. */
function derivesDeadline(fn: GoNode): boolean {
  let perTree = deadlineFunctions.get(fn.tree);
  if (!perTree) deadlineFunctions.set(fn.tree, (perTree = new Map()));
  let derives = perTree.get(fn.id);
  if (derives === undefined) {
    const text = fn.text;
    derives = text.length < 200_000 && (text.includes('context.WithTimeout(') || text.includes('context.WithDeadline('));
    perTree.set(fn.id, derives);
  }
  return derives;
}

/** The kind of the innermost loop around a wait in its own function, if any. */
function loopAround(node: GoNode, fn: GoNode | undefined): LoopKind | undefined {
  const deadlineContext = fn !== undefined && derivesDeadline(fn);
  for (let n: GoNode | null = node.parent; n && n.id !== fn?.id; n = n.parent) {
    if (n.type === 'for_statement') return goLoopKind(n, deadlineContext);
  }
  return undefined;
}

/** A stable name for where a Go wait sits: `Type.method`, plus the innermost Ginkgo node or subtest. */
function goScope(node: GoNode, decl: GoNode | undefined): string {
  let scope = decl ? `${receiverType(decl) ? `${receiverType(decl)}.` : ''}${functionName(decl) ?? ''}` : '(package)';
  for (let n: GoNode | null = node.parent; n && n.id !== decl?.id; n = n.parent) {
    if (n.type !== 'func_literal') continue;
    const call = n.parent?.type === 'argument_list' ? n.parent.parent : undefined;
    const first = call?.childForFieldName('arguments')?.namedChildren[0];
    if (call && first && (first.type === 'interpreted_string_literal' || first.type === 'raw_string_literal')) {
      scope += ` > ${calleeOf(call)} ${first.text.slice(0, 80)}`;
      break;
    }
  }
  return scope;
}

const calleeOf = (call: GoNode) => (call.childForFieldName('function')?.text ?? '').replace(/\s+/g, '');

function goSituation(site: WaitSite, shown: GoNode, decl: GoNode | undefined, fn: GoNode | undefined, isTestFile: boolean, pkg: GoPackage, fileText: string): void {
  site.poll = loopAround(shown, fn) === 'poll';
  const inTest =
    isTestFile ||
    (decl?.childForFieldName('parameters')?.text ?? '').includes('*testing.') ||
    ancestorCalls(shown, decl).some((c) => GINKGO_NODES.has(calleeOf(c)));
  const previous = previousStatements(shown);
  const afterGo = previous.some((s) => s.type === 'go_statement');
  if (inTest) {
    const scopeEnd = (fn ?? decl)?.endIndex ?? shown.endIndex;
    const after = fileText.slice(shown.endIndex, Math.min(scopeEnd, shown.endIndex + 20_000));
    const testing = testingVariables(decl);
    // a chain breaks its lines before the dot: `.Then().\n\t\tExpectRollout(...)`
    const compact = after.replace(/\s+/g, '');
    const suite = suiteVariable(decl, fileText);
    const asserts =
      GO_ASSERTIONS.some((a) => compact.includes(a)) ||
      testing.some((t) => TESTING_ASSERTIONS.some((a) => mentionsCall(after, `${t}.${a}`))) ||
      (suite !== undefined && SUITE_ASSERTIONS.some((a) => mentionsCall(after, `${suite}.${a}`)));
    // before an assertion the flaky test is the point; else a wait right after a `go` statement (the one
    // before it: a test often sleeps later on for other reasons) guesses how long the goroutine takes
    // (`go mgr.Start(ctx)` then a sleep in BeforeSuite)
    site.situation = asserts ? 'test' : previous[previous.length - 1]?.type === 'go_statement' ? 'goroutine' : 'test-helper';
    return;
  }
  if (afterGo) {
    site.situation = 'goroutine';
    return;
  }
  const spawned = fn?.type === 'func_literal' && fn.parent?.type === 'call_expression' && fn.parent.parent?.type === 'go_statement';
  if (spawned && previous.length === 0 && !site.poll) {
    site.situation = 'deferred';
    return;
  }
  const name = decl ? functionName(decl) : undefined;
  if (inReconcilePath(site, name ? pkg.reconcilePaths.get(name) : undefined)) return;
  const write = previous.slice(-2).find((s) => GO_WRITES.some((w) => s.text.includes(w)));
  if (write) {
    site.situation = 'after-write';
    // name the write itself (`c.Status().Update`), not the `if err := ...; err != nil {` around it
    const call = descendants(write, 'call_expression').find((c) => GO_WRITES.some((w) => `${calleeOf(c)}(`.endsWith(w)));
    site.detail = call ? calleeOf(call) : write.text.split('\n')[0]!.trim();
  }
}

/** Does `text` call `callee` (`t.Fatal(`), not a longer name ending the same way (`result.Fatal(`)? */
function mentionsCall(text: string, callee: string): boolean {
  for (let at = text.indexOf(callee); at !== -1; at = text.indexOf(callee, at + 1)) {
    const before = at === 0 ? '' : text[at - 1]!;
    if (!/[\w.]/.test(before)) return true;
  }
  return false;
}

/**
 * The receiver of a testify suite method (`func (s *Suite) TestX()` in a file importing testify's
 * suite package): its assertions are methods, `s.Equal(...)`, `s.Require().NoError(...)`.
 */
function suiteVariable(decl: GoNode | undefined, fileText: string): string | undefined {
  if (decl?.type !== 'method_declaration' || !fileText.includes('"github.com/stretchr/testify/suite"')) return undefined;
  return receiverName(decl);
}

/** Names of a function's `*testing.T`/`*testing.B`/`testing.TB` parameters (`t` when it has none: a subtest closure's). */
function testingVariables(decl: GoNode | undefined): string[] {
  const names = ['t'];
  for (const param of decl?.childForFieldName('parameters')?.namedChildren ?? []) {
    if (!param || !(param.childForFieldName('type')?.text ?? '').includes('testing.')) continue;
    for (const name of param.childrenForFieldName('name')) if (name) names.push(name.text);
  }
  return names;
}

function ancestorCalls(node: GoNode, stop: GoNode | undefined): GoNode[] {
  const calls: GoNode[] = [];
  for (let n: GoNode | null = node.parent; n && n.id !== stop?.id; n = n.parent) if (n.type === 'call_expression') calls.push(n);
  return calls;
}

/** The statement of a block that holds `node`. */
function statementOf(node: GoNode): GoNode | null {
  let statement: GoNode | null = node;
  while (statement?.parent && statement.parent.type !== 'statement_list') statement = statement.parent;
  return statement?.parent ? statement : null;
}

/** The statements after the one holding `node`, in its block. */
function followingStatements(node: GoNode): GoNode[] {
  const out: GoNode[] = [];
  for (let s = statementOf(node)?.nextNamedSibling ?? null; s && out.length < 5; s = s.nextNamedSibling) if (s.type !== 'comment') out.push(s);
  return out;
}

/** The statements before the one holding `node`, in its block, nearest last. */
function previousStatements(node: GoNode): GoNode[] {
  const out: GoNode[] = [];
  for (let s = statementOf(node)?.previousNamedSibling ?? null; s && out.length < 50; s = s.previousNamedSibling) if (s.type !== 'comment') out.unshift(s);
  return out;
}
