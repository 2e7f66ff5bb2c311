// TypeScript/JavaScript waits for sleep-fix: promise sleeps, sleep helpers (local, imported, guessed),
// Playwright/Cypress fixed waits, timers/promises and deferred `setTimeout`, with where each sits.

import type { ClassLikeDeclarationBase, SourceFile } from 'ts-morph';
import { loadTsMorph, Node as TsNode, SyntaxKind } from '../lang/ts-morph.js';
import { isTsFunction, tsDurationMs, tsPromiseSleep, tsSleepHelper, tsTimersPromisesNames, tsWaitCall, TS_SLEEP_PACKAGES, type LoopKind, type TsSleepHelper } from './waits.js';
import { inReconcilePath, MAX_SITES_PER_FILE, REQUESTED_DELAY, RETRY_COUNTERS, type WaitSite } from './waits-sites.js';
import { dirOf } from '../engine/paths.js';
import type { CheckContext, ParsedFile } from '../engine/types.js';

const TS_ASSERTIONS = ['expect(', 'expect.', 'assert', '.should(', '.toBe', '.toHave', '.toEqual', '.toMatch'];
const TS_WRITES = ['patchNamespaced', 'createNamespaced', 'replaceNamespaced', 'deleteNamespaced', 'deleteCollectionNamespaced', '.patch(', '.create(', '.apply(', '.replace(', '.delete('];
const TS_TEST_CALLS = new Set(['it', 'test', 'describe', 'beforeEach', 'afterEach', 'beforeAll', 'afterAll', 'it.only', 'test.only', 'test.step', 'test.describe', 'test.beforeEach']);

function isTsTestFile(path: string): boolean {
  return /\.(test|spec|cy|e2e)\.[cm]?[jt]sx?$/i.test(path) || /(^|\/)(__tests__|e2e|cypress|playwright|tests?)\//i.test(path) || /(^|\/)tests?\.[cm]?[jt]sx?$/i.test(path);
}

export async function tsSites(ctx: CheckContext, file: ParsedFile, deep: boolean): Promise<WaitSite[]> {
  const sf = file.ts();
  const timers = tsTimersPromisesNames(sf);
  const helpers = await tsHelpers(ctx, file, sf);
  const text = file.text;
  const fakeTimers = text.includes('useFakeTimers(') || text.includes('installFakeTimers') || text.includes('clock.install(');
  const isTest = isTsTestFile(file.path);
  const sites: WaitSite[] = [];
  let consts: Map<string, TsNode> | undefined;
  const add = (node: TsNode, callee: string, duration: TsNode | undefined, benign?: string, scale = 1) => {
    if (sites.length >= MAX_SITES_PER_FILE) return;
    const unscaled = tsDurationMs(duration);
    const ms = unscaled === undefined ? undefined : unscaled * scale;
    const site: WaitSite = {
      flavour: 'ts',
      path: file.path,
      line: node.getStartLineNumber(),
      endLine: node.getEndLineNumber(),
      scope: tsScope(node),
      callee,
      text: node.getText().replace(/\s+/g, ' ').slice(0, 300),
      ms,
      situation: 'generic',
      poll: false,
    };
    const lines = deep ? tsConstantLines(duration, (consts ??= tsFileConstants(sf))) : [];
    if (lines.length > 0) site.durationLines = lines;
    if (benign) site.benign = benign;
    if (deep) {
      site.judge = () => {
        site.benign ??= tsBenign(node, ms, fakeTimers && callee !== 'setTimeout', duration);
        if (!site.benign) site.poll = tsLoopAround(node) === 'poll';
        if (!site.benign) tsSituation(site, node, isTest);
      };
    }
    sites.push(site);
  };

  // only the matching nodes get ts-morph wrappers: wrapping every node of a large file costs more than the analysis
  for (const node of sf.getDescendantsOfKind(SyntaxKind.NewExpression)) {
    if (sites.length >= MAX_SITES_PER_FILE) break;
    const sleep = tsPromiseSleep(node);
    if (!sleep) continue;
    let outer: TsNode = node;
    while (TsNode.isParenthesizedExpression(outer.getParentOrThrow())) outer = outer.getParentOrThrow();
    const parent = outer.getParent();
    const awaited = parent && (TsNode.isAwaitExpression(parent) || (TsNode.isPropertyAccessExpression(parent) && parent.getName() === 'then'));
    const fn = node.getFirstAncestor(isTsFunction);
    // the body of a sleep helper: its callers are the waits
    if (awaited && !(fn && tsSleepHelper(fn) !== undefined)) add(parent!, 'new Promise(setTimeout)', sleep.duration);
  }
  for (const node of sf.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    if (sites.length >= MAX_SITES_PER_FILE) break;
    const wait = tsWaitCall(node, timers);
    if (wait?.kind === 'sleep') {
      add(awaitedOrSelf(node), wait.callee, wait.duration);
      continue;
    }
    if (wait?.kind === 'delay') {
      const deferred = deferredWork(node, isTest);
      if (deferred !== undefined) add(node, 'setTimeout', wait.duration, deferred || undefined);
      continue;
    }
    const expr = node.getExpression();
    const name = TsNode.isIdentifier(expr) || TsNode.isPropertyAccessExpression(expr) ? expr.getText().replace(/\s+/g, '') : undefined;
    const helper = name ? (helpers.get(name) ?? (/^this\.[\w$]+$/.test(name) ? thisHelper(node, name.slice(5)) : undefined)) : undefined;
    if (!name || helper === undefined) continue;
    const args = node.getArguments();
    if (helper === GUESSED) {
      const awaited = TsNode.isAwaitExpression(node.getParentOrThrow());
      if (awaited && args.length === 1 && tsDurationMs(args[0]) !== undefined) add(awaitedOrSelf(node), name, args[0]);
    } else add(awaitedOrSelf(node), name, args[helper.index], undefined, helper.scale);
  }
  // waits are matched across revisions in source order
  return sites.sort((a, b) => a.line - b.line);
}

function tsFileConstants(sf: SourceFile): Map<string, TsNode> {
  const consts = new Map<string, TsNode>();
  for (const statement of sf.getVariableStatements()) {
    if (statement.getDeclarationKind() !== 'const') continue;
    for (const decl of statement.getDeclarations()) consts.set(decl.getName(), decl);
  }
  return consts;
}

/** Lines of the top-level `const`s of this file a TS duration depends on. */
function tsConstantLines(expr: TsNode | undefined, consts: Map<string, TsNode>): number[] {
  if (!expr) return [];
  const lines = new Set<number>();
  const visit = (e: TsNode, depth: number) => {
    if (depth > 3 || lines.size > 10) return;
    const ids = TsNode.isIdentifier(e) ? [e] : e.getDescendants().filter(TsNode.isIdentifier);
    for (const id of ids.slice(0, 50)) {
      const decl = consts.get(id.getText());
      if (!decl || lines.has(decl.getStartLineNumber())) continue;
      lines.add(decl.getStartLineNumber());
      const init = TsNode.isVariableDeclaration(decl) ? decl.getInitializer() : undefined;
      if (init) visit(init, depth + 1);
    }
  };
  visit(expr, 0);
  return [...lines];
}

const awaitedOrSelf = (node: TsNode): TsNode => {
  const parent = node.getParent();
  return parent && TsNode.isAwaitExpression(parent) ? parent : node;
};

/**
 * A `setTimeout(fn, n)` outside a promise sleep: '' when it defers work (a site to judge), a reason
 * when it is benign, undefined when it is not a wait at all (part of a promise sleep, counted there).
 */
function deferredWork(call: TsNode, isTest: boolean): string | undefined {
  const fn = call.getFirstAncestor((a) => TsNode.isFunctionLikeDeclaration(a) || TsNode.isArrowFunction(a));
  const holder = fn?.getParent();
  if (holder && TsNode.isNewExpression(holder) && holder.getExpression().getText() === 'Promise') {
    // a promise sleep is reported where it is awaited; a setTimeout racing a promise is a timeout
    return tsPromiseSleep(holder) ? undefined : 'a timeout racing a promise';
  }
  if (!call.getParent() || !TsNode.isExpressionStatement(call.getParentOrThrow())) return 'a cancellable timer (its handle is kept)';
  const [callbackNode, durationNode] = (call as import('ts-morph').CallExpression).getArguments();
  const capped = (callbackNode?.getText() ?? '').slice(0, 2000);
  if (['reject(', '.abort(', 'throw ', 'imeout', '.destroy(', '.kill(', '.cancel(', '.close('].some((w) => capped.includes(w))) return 'a timeout or abort';
  if (isTest) return 'a test simulating a later event';
  if (guardedByPendingFlag(call)) return 'a debounce: one pending timer at a time, marked by a flag';
  // a delay computed at run time is a backoff or a protocol's interval far more often than a guess
  if (tsDurationMs(durationNode) === undefined) return 'a computed delay';
  // scheduling the enclosing function again is a loop written with timers: periodic work or a bounded retry
  const own = fn ? tsOwnName(fn) : undefined;
  if (own && (capped === own || capped.includes(`${own}(`))) return 'a loop by rescheduling itself';
  if (inErrorBranch(call)) return 'a retry after an error';
  if (/(^|\/)bench/i.test(call.getSourceFile().getFilePath())) return 'a benchmark pacing its load';
  return '';
}

/**
 * `if (!reconcileScheduled) { setTimeout(reconcileNow, 1000, obj); reconcileScheduled = true }`: the flag lets one timer
 * be pending, so a burst of watch events makes one reconcile that reads the state then. A debounce, like a kept handle.
 */
function guardedByPendingFlag(call: TsNode): boolean {
  const block = call.getParent()?.getParent();
  if (!block || !TsNode.isBlock(block)) return false;
  const guard = block.getParent();
  if (!guard || !TsNode.isIfStatement(guard) || guard.getThenStatement() !== block) return false;
  const condition = guard.getExpression();
  if (!TsNode.isPrefixUnaryExpression(condition) || condition.getOperatorToken() !== SyntaxKind.ExclamationToken) return false;
  const flag = condition.getOperand().getText();
  if (flag.length > 100 || /[^\w.]/.test(flag)) return false;
  return block.getStatements().slice(0, 20).some((statement) => {
    const expr = TsNode.isExpressionStatement(statement) ? statement.getExpression() : undefined;
    return !!expr && TsNode.isBinaryExpression(expr) && expr.getOperatorToken().getKind() === SyntaxKind.EqualsToken && expr.getLeft().getText() === flag && expr.getRight().getText() === 'true';
  });
}

/** Does a duration use a variable declared in an enclosing function (not a parameter, not a field)? */
function computedLocally(duration: TsNode): boolean {
  const names = new Set((TsNode.isIdentifier(duration) ? [duration] : duration.getDescendantsOfKind(SyntaxKind.Identifier)).slice(0, 50).map((i) => i.getText()));
  for (let n: TsNode | undefined = duration.getParent(); n; n = n.getParent()) {
    if (isTsFunction(n)) {
      const declared = n.getDescendantsOfKind(SyntaxKind.VariableDeclaration).slice(0, 500);
      if (declared.some((d) => names.has(d.getName()))) return true;
    }
  }
  return false;
}

/** The name a function-like node is declared under (`function f`, `const f = () =>`, a method). */
function tsOwnName(fn: TsNode): string | undefined {
  if (TsNode.isFunctionDeclaration(fn) || TsNode.isMethodDeclaration(fn)) return fn.getName();
  const holder = fn.getParent();
  return holder && (TsNode.isVariableDeclaration(holder) || TsNode.isPropertyDeclaration(holder)) ? holder.getName() : undefined;
}

/** Inside a `catch`, or an `if` on an error, within its own function. */
function inErrorBranch(node: TsNode): boolean {
  for (let n = node.getParent(); n; n = n.getParent()) {
    if (TsNode.isFunctionLikeDeclaration(n) || TsNode.isArrowFunction(n) || TsNode.isSourceFile(n)) return false;
    if (TsNode.isCatchClause(n)) return true;
    if (TsNode.isIfStatement(n) && /\berr(or)?\b|\.code\b|EAGAIN|ECONN/i.test(n.getExpression().getText().slice(0, 300))) return true;
  }
  return false;
}

function tsBenign(node: TsNode, ms: number | undefined, faked: boolean, duration: TsNode | undefined): string | undefined {
  if (faked) return 'fake timers: the test controls the clock';
  if (ms === 0) return 'a yield, not a wait';
  if (ms === undefined && REQUESTED_DELAY.test((duration?.getText() ?? '').slice(0, 300))) return 'a delay the server or a backoff policy asks for';
  // `let delay = 100; ... delay *= 2`, `const wait = Number(header) * 1000`: a delay the function computes, not a guess
  if (ms === undefined && duration && computedLocally(duration)) return 'a delay computed at run time';
  // `await sleep(n); return send(req, retries + 1)`: a retry by recursion that counts its attempts
  const fn = node.getFirstAncestor((a) => TsNode.isFunctionLikeDeclaration(a) || TsNode.isArrowFunction(a));
  const own = fn ? tsOwnName(fn) : undefined;
  const statement = node.getFirstAncestor((a) => TsNode.isStatement(a) && TsNode.isBlock(a.getParentOrThrow()));
  const next = statement?.getNextSibling()?.getText().slice(0, 500) ?? '';
  if (own && next.includes(`${own}(`) && RETRY_COUNTERS.test(next)) return 'a retry by recursion with an attempt count';
  // `catch (e) { if (pending(e)) { await sleep(interval); return poll() } }`: the operation's own retry protocol
  if (own && next.includes(`${own}(`) && inErrorBranch(node)) return 'a retry after an error';
  for (let n = node.getParent(); n; n = n.getParent()) {
    if (TsNode.isCallExpression(n)) {
      const kind = tsWaitCall(n)?.kind;
      if (kind === 'poll' || kind === 'periodic') return `inside ${n.getExpression().getText()}`;
    }
    if (TsNode.isSourceFile(n)) break;
  }
  const loop = tsLoopAround(node);
  if (loop === 'bounded') return 'a retry or poll with an attempt cap or deadline';
  if (loop === 'periodic') return 'a periodic loop';
  return undefined;
}

const TS_BOUND_NAMES = ['now', 'deadline', 'attempt', 'retries', 'retry', 'tries', 'timeout', 'maxwait', 'aborted', 'until'];

/** What bounds a TS loop, read from its code (identifiers and counters), never from its comments. */
function tsBoundedBy(node: TsNode): boolean {
  let bounded = false;
  let seen = 0;
  node.forEachDescendant((d, traversal) => {
    if (bounded || ++seen > 5000) return traversal.stop();
    if (TsNode.isIdentifier(d)) {
      const name = d.getText().toLowerCase();
      if (TS_BOUND_NAMES.some((w) => name.includes(w))) bounded = true;
    } else if ((TsNode.isPostfixUnaryExpression(d) || TsNode.isPrefixUnaryExpression(d)) && d.getOperatorToken() === SyntaxKind.PlusPlusToken) {
      bounded = true;
    } else if (TsNode.isBinaryExpression(d) && d.getOperatorToken().getKind() === SyntaxKind.PlusEqualsToken) {
      bounded = true;
    }
    return undefined;
  });
  return bounded;
}

/** The innermost loop around a TS wait within its function. */
function tsLoopAround(node: TsNode): LoopKind | undefined {
  for (let n = node.getParent(); n; n = n.getParent()) {
    if (TsNode.isFunctionLikeDeclaration(n) || TsNode.isArrowFunction(n) || TsNode.isSourceFile(n)) return undefined;
    if (TsNode.isForOfStatement(n) || TsNode.isForInStatement(n)) return 'each';
    if (TsNode.isForStatement(n) || TsNode.isWhileStatement(n) || TsNode.isDoStatement(n)) {
      const condition = TsNode.isForStatement(n) ? n.getCondition() : n.getExpression();
      if (TsNode.isForStatement(n) && n.getIncrementor() && condition) return 'bounded';
      if ((condition && tsBoundedBy(condition)) || tsBoundedBy(n.getStatement())) return 'bounded';
      const conditionText = condition?.getText() ?? '';
      const endless = conditionText === '' || conditionText === 'true' || conditionText === '1';
      if (!endless) return 'poll';
      let exits = false;
      n.getStatement().forEachDescendant((d, traversal) => {
        if (TsNode.isFunctionLikeDeclaration(d) || TsNode.isArrowFunction(d)) return traversal.skip();
        if (TsNode.isBreakStatement(d) || TsNode.isReturnStatement(d) || TsNode.isThrowStatement(d)) {
          exits = true;
          return traversal.stop();
        }
        return undefined;
      });
      return exits ? 'poll' : 'periodic';
    }
  }
  return undefined;
}

function tsScope(node: TsNode): string {
  const parts: string[] = [];
  for (let n = node.getParent(); n && parts.length < 4; n = n.getParent()) {
    if (TsNode.isFunctionDeclaration(n) || TsNode.isMethodDeclaration(n)) {
      parts.unshift(n.getName() ?? '(anonymous)');
      break;
    }
    if ((TsNode.isArrowFunction(n) || TsNode.isFunctionExpression(n)) && n.getParent()) {
      const parent = n.getParentOrThrow();
      if (TsNode.isVariableDeclaration(parent)) {
        parts.unshift(parent.getName());
        break;
      }
      if (TsNode.isCallExpression(parent)) {
        const callee = parent.getExpression().getText();
        const first = parent.getArguments()[0];
        if (TS_TEST_CALLS.has(callee) && first && (TsNode.isStringLiteral(first) || TsNode.isNoSubstitutionTemplateLiteral(first))) {
          parts.unshift(`${callee} ${first.getLiteralText().slice(0, 80)}`);
        }
      }
    }
  }
  return parts.join(' > ') || '(module)';
}

function tsSituation(site: WaitSite, node: TsNode, isTest: boolean): void {
  if (isTest) {
    const fn = node.getFirstAncestor((a) => TsNode.isArrowFunction(a) || TsNode.isFunctionExpression(a) || TsNode.isFunctionDeclaration(a) || TsNode.isMethodDeclaration(a));
    const end = fn?.getEnd() ?? node.getSourceFile().getEnd();
    const after = node.getSourceFile().getFullText().slice(node.getEnd(), Math.min(end, node.getEnd() + 20_000));
    // Playwright's and Cypress' fixed waits are a flaky-test pattern wherever they sit in a spec (their own linters say so)
    const e2eSleep = site.callee.endsWith('.waitForTimeout') || site.callee === 'cy.wait';
    site.situation = e2eSleep || TS_ASSERTIONS.some((a) => after.includes(a)) ? 'test' : 'test-helper';
    return;
  }
  if (site.callee === 'setTimeout') {
    site.situation = 'deferred';
    return;
  }
  if (inReconcilePath(site, tsReconcilePath(node))) return;
  const statement = node.getFirstAncestor((a) => TsNode.isStatement(a) && TsNode.isBlock(a.getParentOrThrow()));
  const previous = statement?.getPreviousSiblings().slice(0, 2) ?? [];
  const write = previous.find((s) => TS_WRITES.some((w) => s.getText().includes(w)));
  if (write) {
    site.situation = 'after-write';
    const call = write.getFirstDescendant((d) => TsNode.isCallExpression(d) && TS_WRITES.some((w) => d.getExpression().getText().includes(w.replace(/[.(]/g, ''))));
    site.detail = (call && TsNode.isCallExpression(call) ? call.getExpression().getText() : write.getText().split('\n')[0]!).trim();
  }
}

const tsCallGraphs = new WeakMap<SourceFile, Map<string, string[]>>();

/** The name of the function, method or arrow assigned to a name that holds `node`. */
function tsFunctionName(node: TsNode): string | undefined {
  for (let n: TsNode | undefined = node.getParent(); n; n = n.getParent()) {
    if (TsNode.isFunctionDeclaration(n) || TsNode.isMethodDeclaration(n)) return n.getName();
    if (TsNode.isArrowFunction(n) || TsNode.isFunctionExpression(n)) {
      const holder = n.getParentOrThrow();
      if (TsNode.isVariableDeclaration(holder) || TsNode.isPropertyDeclaration(holder)) return holder.getName();
    }
  }
  return undefined;
}

/**
 * The call path from a `reconcile`-named function or method of the file to the function holding `node`, by name
 * (`foo()` and `this.foo()` calls): a TS operator's reconcile loop, the same masking as in Go.
 */
function tsReconcilePath(node: TsNode): string[] | undefined {
  const sf = node.getSourceFile();
  let graph = tsCallGraphs.get(sf);
  if (!graph) {
    graph = new Map();
    const callables = [
      ...sf.getFunctions(),
      ...sf.getClasses().flatMap((c) => [...c.getMethods(), ...c.getProperties().filter((p) => { const i = p.getInitializer(); return i !== undefined && (TsNode.isArrowFunction(i) || TsNode.isFunctionExpression(i)); })]),
      ...sf.getVariableDeclarations().filter((d) => { const i = d.getInitializer(); return i !== undefined && (TsNode.isArrowFunction(i) || TsNode.isFunctionExpression(i)); }),
    ].slice(0, 2000);
    for (const callable of callables) {
      const name = callable.getName();
      if (!name) continue;
      const calls = callable.getDescendantsOfKind(SyntaxKind.CallExpression).slice(0, 500).map((c) => {
        const e = c.getExpression();
        return TsNode.isIdentifier(e) ? e.getText() : TsNode.isPropertyAccessExpression(e) && e.getExpression().getKind() === SyntaxKind.ThisKeyword ? e.getName() : '';
      });
      graph.set(name, [...(graph.get(name) ?? []), ...calls.filter(Boolean)]);
    }
    tsCallGraphs.set(sf, graph);
  }
  const target = tsFunctionName(node);
  if (!target) return undefined;
  const roots = [...graph.keys()].filter((name) => /^reconcile/i.test(name));
  const seen = new Map<string, string[]>(roots.map((r) => [r, [r]]));
  const queue = roots.map((r) => [r]);
  while (queue.length > 0 && seen.size < 2000) {
    const path = queue.shift()!;
    if (path[path.length - 1] === target) return path;
    for (const next of graph.get(path[path.length - 1]!) ?? []) {
      if (seen.has(next) || !graph.has(next)) continue;
      seen.set(next, [...path, next]);
      queue.push([...path, next]);
    }
  }
  return undefined;
}

/** Sleep helpers a TS file can call: its own, those it imports from relative paths, and sleep packages. */
/** Imported names taken for a sleep when their module cannot be read, if called with a constant number. */
const GUESSED_SLEEP_NAMES = new Set(['sleep', 'msleep', 'delay', 'pause']);
/** `delay` of rxjs is an operator, of msw a mock's simulated latency: neither waits for the system under test. */
const SIMULATED_LATENCY_PACKAGES = new Set(['rxjs', 'rxjs/operators', 'msw', 'redux-saga/effects', 'typed-redux-saga']);
/** Marks a guessed helper in the helpers map: its duration is the first argument. */
const GUESSED: TsSleepHelper = { index: 0, scale: 1 };

async function tsHelpers(ctx: CheckContext, file: ParsedFile, sf: SourceFile): Promise<Map<string, TsSleepHelper>> {
  const helpers = new Map<string, TsSleepHelper>();
  for (const [name, index] of localHelpers(sf)) helpers.set(name, index);
  for (const decl of sf.getImportDeclarations().slice(0, 100)) {
    const from = decl.getModuleSpecifierValue();
    const known = TS_SLEEP_PACKAGES[from];
    const imported: { name: string; local: string }[] = [
      ...decl.getNamedImports().map((n) => ({ name: n.getName(), local: n.getAliasNode()?.getText() ?? n.getName() })),
      ...(decl.getDefaultImport() ? [{ name: 'default', local: decl.getDefaultImport()!.getText() }] : []),
    ];
    const namespace = decl.getNamespaceImport()?.getText();
    if (known) {
      // timers/promises' setTimeout is classified by tsWaitCall itself
      if (!from.includes('timers/promises')) for (const i of imported) if (known.includes(i.name)) helpers.set(i.local, { index: 0, scale: 1 });
      continue;
    }
    if (imported.length === 0 && !namespace) continue;
    // a relative path, or a path alias of the nearest tsconfig.json (`@/test/time` -> src/test/time.ts)
    const target = from.startsWith('.') ? await resolveRelative(ctx, file, from) : await resolveAlias(ctx, file, from);
    if (!target) {
      // a workspace package or an alias this cannot resolve: only the unmistakable names count, and only with a number
      if (!from.startsWith('.') && !SIMULATED_LATENCY_PACKAGES.has(from)) for (const i of imported) if (GUESSED_SLEEP_NAMES.has(i.name)) helpers.set(i.local, GUESSED);
      continue;
    }
    const theirs = await exportedHelpers(ctx, target, 1);
    for (const i of imported) {
      const index = theirs.get(i.name);
      if (index !== undefined) helpers.set(i.local, index);
    }
    // `import * as timing from './timing'` then `timing.pause(ms)`
    if (namespace) for (const [name, index] of theirs) helpers.set(`${namespace}.${name}`, index);
    // `import { Timing } from './timing'` then `Timing.sleep(ms)`: a class's static helpers
    for (const i of imported) for (const [name, index] of theirs) if (name.startsWith(`${i.name}.`)) helpers.set(`${i.local}${name.slice(i.name.length)}`, index);
  }
  for (const { spec, names, whole } of requires(sf)) {
    const known = TS_SLEEP_PACKAGES[spec];
    if (known) {
      for (const n of names) if (known.includes(n.name)) helpers.set(n.local, { index: 0, scale: 1 });
      continue;
    }
    const target = spec.startsWith('.') ? await resolveRelative(ctx, file, spec) : undefined;
    if (!target) continue;
    const theirs = await exportedHelpers(ctx, target, 1);
    for (const n of names) {
      const index = theirs.get(n.name);
      if (index !== undefined) helpers.set(n.local, index);
    }
    // `const util = require('./util')` then `util.sleep(ms)`, or `const sleep = require('./sleep')` then `sleep(ms)`
    if (whole) {
      const main = theirs.get('default');
      if (main !== undefined) helpers.set(whole, main);
      for (const [name, index] of theirs) if (name !== 'default') helpers.set(`${whole}.${name}`, index);
    }
  }
  return helpers;
}

/** The top-level `require('...')` of a CommonJS file: `const { sleep, wait: pause } = require(...)` or `const util = require(...)`. */
function requires(sf: SourceFile): { spec: string; names: { name: string; local: string }[]; whole?: string }[] {
  const found: { spec: string; names: { name: string; local: string }[]; whole?: string }[] = [];
  for (const statement of sf.getVariableStatements().slice(0, 200)) {
    for (const decl of statement.getDeclarations()) {
      const init = decl.getInitializer();
      if (!init || !TsNode.isCallExpression(init) || init.getExpression().getText() !== 'require') continue;
      const arg = init.getArguments()[0];
      if (!arg || !TsNode.isStringLiteral(arg)) continue;
      const binding = decl.getNameNode();
      if (TsNode.isIdentifier(binding)) found.push({ spec: arg.getLiteralValue(), names: [], whole: binding.getText() });
      else if (TsNode.isObjectBindingPattern(binding)) {
        const names = binding.getElements().map((e) => ({ name: e.getPropertyNameNode()?.getText() ?? e.getName(), local: e.getName() }));
        found.push({ spec: arg.getLiteralValue(), names });
      }
    }
  }
  return found;
}

/** The sleep helpers a module exports, following one level of relative re-exports (`export * from './time'`). */
async function exportedHelpers(ctx: CheckContext, target: ParsedFile, reexportDepth: number): Promise<Map<string, TsSleepHelper>> {
  ctx.checkBudget();
  if (target.language !== 'ts' && target.language !== 'js') return new Map();
  const sf = target.ts();
  const helpers = localHelpers(sf, true);
  if (reexportDepth > 0) {
    for (const exported of sf.getExportDeclarations().slice(0, 50)) {
      const next = exported.getModuleSpecifierValue();
      if (!next?.startsWith('.')) continue;
      const module = await resolveRelative(ctx, target, next);
      const theirs = module ? await exportedHelpers(ctx, module, reexportDepth - 1) : new Map<string, TsSleepHelper>();
      const named = exported.getNamedExports();
      if (named.length === 0) for (const [name, index] of theirs) helpers.set(name, index);
      for (const n of named) {
        const index = theirs.get(n.getName());
        if (index !== undefined) helpers.set(n.getAliasNode()?.getText() ?? n.getName(), index);
      }
    }
  }
  return helpers;
}

/**
 * name -> duration parameter index of the sleep helpers a file declares (exported only, when asked;
 * `default` for the default export): functions, `const`s, a class's static members as `Class.member`,
 * `export default <helper>`, and, for what a module exports, CommonJS `module.exports`/`exports.x`.
 */
function localHelpers(sf: SourceFile, exportedOnly = false): Map<string, TsSleepHelper> {
  const helpers = new Map<string, TsSleepHelper>();
  // every top-level helper by its local name, exported or not: `export default sleep`, `module.exports = { sleep }`
  const declared = new Map<string, TsSleepHelper>();
  for (const fn of sf.getFunctions()) {
    const helper = tsSleepHelper(fn);
    if (helper === undefined) continue;
    const name = fn.getName();
    if (name) declared.set(name, helper);
    if (!exportedOnly || fn.isExported()) helpers.set(fn.isDefaultExport() ? 'default' : (name ?? 'default'), helper);
  }
  for (const statement of sf.getVariableStatements()) {
    for (const decl of statement.getDeclarations()) {
      const helper = expressionHelper(decl.getInitializer(), declared);
      if (helper === undefined) continue;
      declared.set(decl.getName(), helper);
      if (!exportedOnly || statement.isExported()) helpers.set(decl.getName(), helper);
    }
  }
  for (const cls of sf.getClasses()) {
    const owner = cls.isDefaultExport() ? 'default' : cls.getName();
    if (!owner || (exportedOnly && !cls.isExported())) continue;
    for (const [member, helper] of classHelpers(cls, true)) helpers.set(`${owner}.${member}`, helper);
  }
  for (const assignment of sf.getExportAssignments()) {
    const helper = expressionHelper(assignment.getExpression(), declared);
    if (helper !== undefined) helpers.set('default', helper);
  }
  if (exportedOnly) for (const [name, helper] of commonJsExports(sf, declared)) helpers.set(name, helper);
  return helpers;
}

/** A helper written as an expression: an arrow or function expression, `promisify(setTimeout)`, or the name of one declared. */
function expressionHelper(expr: TsNode | undefined, declared: Map<string, TsSleepHelper>): TsSleepHelper | undefined {
  while (expr && (TsNode.isParenthesizedExpression(expr) || TsNode.isAsExpression(expr))) expr = expr.getExpression();
  if (!expr) return undefined;
  if (TsNode.isIdentifier(expr)) return declared.get(expr.getText());
  if (isPromisifiedSetTimeout(expr)) return { index: 0, scale: 1 };
  return tsSleepHelper(expr);
}

/** The sleep helpers among a class's members, static or instance ones: methods, and properties holding an arrow. */
function classHelpers(cls: ClassLikeDeclarationBase, statics: boolean): Map<string, TsSleepHelper> {
  const helpers = new Map<string, TsSleepHelper>();
  for (const method of cls.getMethods()) {
    if (method.isStatic() !== statics) continue;
    const helper = tsSleepHelper(method);
    if (helper !== undefined) helpers.set(method.getName(), helper);
  }
  for (const property of cls.getProperties()) {
    if (property.isStatic() !== statics) continue;
    const helper = expressionHelper(property.getInitializer(), new Map());
    if (helper !== undefined) helpers.set(property.getName(), helper);
  }
  return helpers;
}

/** A class's instance helpers, read once per class: a class calls `this.x(...)` many times. */
const instanceHelpers = new WeakMap<object, Map<string, TsSleepHelper>>();

/** `this.pause(ms)` inside a class whose own `pause` is a sleep helper (a method or an arrow property). */
function thisHelper(call: TsNode, member: string): TsSleepHelper | undefined {
  const cls = call.getFirstAncestor((n) => TsNode.isClassDeclaration(n) || TsNode.isClassExpression(n));
  if (!cls || !(TsNode.isClassDeclaration(cls) || TsNode.isClassExpression(cls))) return undefined;
  let helpers = instanceHelpers.get(cls.compilerNode);
  if (!helpers) instanceHelpers.set(cls.compilerNode, (helpers = classHelpers(cls, false)));
  return helpers.get(member);
}

/**
 * What a CommonJS module exports that is a sleep helper: `module.exports = { sleep, pause: wait }`,
 * `module.exports = sleep` (as `default`, what `require` returns), `module.exports.sleep = ...`, `exports.sleep = ...`.
 */
function commonJsExports(sf: SourceFile, declared: Map<string, TsSleepHelper>): Map<string, TsSleepHelper> {
  const helpers = new Map<string, TsSleepHelper>();
  for (const statement of sf.getStatements().slice(0, 2000)) {
    if (!TsNode.isExpressionStatement(statement)) continue;
    const expr = statement.getExpression();
    if (!TsNode.isBinaryExpression(expr) || expr.getOperatorToken().getKind() !== SyntaxKind.EqualsToken) continue;
    const target = expr.getLeft().getText().replace(/\s+/g, '');
    const value = expr.getRight();
    const member = /^(?:module\.exports|exports)\.([\w$]+)$/.exec(target)?.[1];
    if (member) {
      const helper = expressionHelper(value, declared);
      if (helper !== undefined) helpers.set(member, helper);
      continue;
    }
    if (target !== 'module.exports') continue;
    if (!TsNode.isObjectLiteralExpression(value)) {
      const helper = expressionHelper(value, declared);
      if (helper !== undefined) helpers.set('default', helper);
      continue;
    }
    for (const property of value.getProperties()) {
      let helper: TsSleepHelper | undefined;
      if (TsNode.isShorthandPropertyAssignment(property)) helper = declared.get(property.getName());
      else if (TsNode.isPropertyAssignment(property)) helper = expressionHelper(property.getInitializer(), declared);
      else if (TsNode.isMethodDeclaration(property)) helper = tsSleepHelper(property);
      if (helper !== undefined && !TsNode.isSpreadAssignment(property)) helpers.set(property.getName(), helper);
    }
  }
  return helpers;
}

/** `promisify(setTimeout)` / `util.promisify(setTimeout)`: a sleep of its first argument. */
function isPromisifiedSetTimeout(init: TsNode): boolean {
  if (!TsNode.isCallExpression(init)) return false;
  const callee = init.getExpression().getText();
  return (callee === 'promisify' || callee === 'util.promisify') && init.getArguments()[0]?.getText() === 'setTimeout';
}

async function resolveRelative(ctx: CheckContext, file: ParsedFile, spec: string): Promise<ParsedFile | undefined> {
  return resolveModule(ctx, joinPath(dirOf(file.path), spec), file.rev);
}

/** `dir` + `spec` with `.` and `..` taken out; '' is the repository root. */
function joinPath(dir: string, spec: string): string {
  const out: string[] = [];
  for (const part of (dir ? dir.split('/') : []).concat(spec.split('/'))) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

/** What `compilerOptions.paths` and `baseUrl` of a tsconfig.json map to, as repository paths. */
interface PathAliases {
  /** `@/*` -> [`src/*`], targets joined to the directory they are relative to */
  paths: [string, string[]][];
  /** where a bare specifier is looked up, when baseUrl is set */
  baseDir?: string;
}

/**
 * A path alias (`@/test/time`, `~utils/sleep`) resolved through the nearest tsconfig.json above the file
 * (and one it `extends` by a relative path), as TypeScript resolves it: the longest matching pattern first.
 */
async function resolveAlias(ctx: CheckContext, file: ParsedFile, spec: string): Promise<ParsedFile | undefined> {
  const aliases = await nearestAliases(ctx, dirOf(file.path), file.rev);
  if (!aliases) return undefined;
  const matches = aliases.paths
    .map(([pattern, targets]) => {
      const star = pattern.indexOf('*');
      if (star === -1) return pattern === spec ? { prefix: pattern.length, targets, rest: '' } : undefined;
      const [head, tail] = [pattern.slice(0, star), pattern.slice(star + 1)];
      return spec.startsWith(head) && spec.endsWith(tail) && spec.length >= head.length + tail.length
        ? { prefix: head.length, targets, rest: spec.slice(head.length, spec.length - tail.length) }
        : undefined;
    })
    .filter((m) => m !== undefined)
    .sort((a, b) => b.prefix - a.prefix);
  for (const match of matches.slice(0, 5)) {
    for (const target of match.targets.slice(0, 5)) {
      const found = await resolveModule(ctx, target.replace('*', match.rest), file.rev);
      if (found) return found;
    }
  }
  return aliases.baseDir !== undefined ? resolveModule(ctx, joinPath(aliases.baseDir, spec), file.rev) : undefined;
}

async function nearestAliases(ctx: CheckContext, dir: string, rev: ParsedFile['rev']): Promise<PathAliases | undefined> {
  const read = async () => {
    for (let d: string | undefined = dir, depth = 0; d !== undefined && depth < 30; d = d === '' ? undefined : dirOf(d), depth++) {
      const config = joinPath(d, 'tsconfig.json');
      if ((await ctx.read(config, rev)) !== undefined) return aliasesOf(ctx, config, rev, 2);
    }
    return undefined;
  };
  return ctx.memo ? ctx.memo(`ts-aliases:${typeof rev === 'string' ? rev : rev.commit}:${dir}`, read) : read();
}

/** The aliases a tsconfig.json declares, or inherits through `extends` (relative paths only, `depth` levels). */
async function aliasesOf(ctx: CheckContext, config: string, rev: ParsedFile['rev'], depth: number): Promise<PathAliases | undefined> {
  const text = await ctx.read(config, rev);
  if (text === undefined || text.length > 1_000_000) return undefined;
  const { ts } = loadTsMorph();
  const parsed = ts.parseConfigFileTextToJson(config, text);
  const json = parsed.config as { extends?: unknown; compilerOptions?: { baseUrl?: unknown; paths?: unknown } } | undefined;
  if (parsed.error || !json || typeof json !== 'object') return undefined;
  const inherited = typeof json.extends === 'string' && json.extends.startsWith('.') && depth > 0
    ? await aliasesOf(ctx, joinPath(dirOf(config), json.extends.endsWith('.json') ? json.extends : `${json.extends}.json`), rev, depth - 1)
    : undefined;
  const options = json.compilerOptions ?? {};
  const here = dirOf(config);
  const baseDir = typeof options.baseUrl === 'string' ? joinPath(here, options.baseUrl) : inherited?.baseDir;
  if (!options.paths || typeof options.paths !== 'object') return inherited ?? (baseDir !== undefined ? { paths: [], baseDir } : undefined);
  // paths are relative to baseUrl, or to the tsconfig.json that declares them when it has none
  const from = typeof options.baseUrl === 'string' ? baseDir! : here;
  const paths: [string, string[]][] = Object.entries(options.paths as Record<string, unknown>)
    .slice(0, 200)
    .map(([pattern, targets]) => [pattern, Array.isArray(targets) ? targets.filter((t): t is string => typeof t === 'string').map((t) => joinPath(from, t)) : []]);
  return { paths, baseDir };
}

/** A module path (no extension, `.js`, or a directory with an index) as the file it names. */
async function resolveModule(ctx: CheckContext, base: string, rev: ParsedFile['rev']): Promise<ParsedFile | undefined> {
  const stem = base.replace(/\.(m|c)?js$/, '');
  const candidates = [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${stem}.js`, `${stem}.mjs`, `${stem}.cjs`, `${base}/index.ts`, `${base}/index.js`];
  for (const candidate of candidates) {
    const parsed = await ctx.parse(candidate, rev);
    if (parsed) return parsed;
  }
  return undefined;
}
