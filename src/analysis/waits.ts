// What counts as a wait in Go, TypeScript and shell, and how long it waits: shared by sleep-fix
// (is this a sleep?) and event-ordering (is this loop polling?). Pure functions over parse trees.
//
// Durations are nanoseconds for Go and milliseconds everywhere else in this module's results:
// `goDurationNs` evaluates Go constant expressions, `tsDurationMs` TS numbers, `shellSleepMs` a
// `sleep` argument, and `formatDuration(ms)` prints them the way people write them (500ms, 15s, 2m).

import { Node as TsNode, SyntaxKind } from '../lang/ts-morph.js';
import type { ArrowFunction, CallExpression, FunctionDeclaration, FunctionExpression, MethodDeclaration, SourceFile, VariableDeclaration } from 'ts-morph';
import type { GoNode } from '../engine/types.js';
import { calleeText, callSiteOf } from '../lang/go.js';

/**
 * What a wait call is:
 * - `sleep`: blocks for a fixed time (`time.Sleep`, `page.waitForTimeout`, `await setTimeout(n)` from timers/promises);
 * - `delay`: a timer channel or callback (`time.After`, `time.NewTimer`, `time.AfterFunc`, `setTimeout(fn, n)`):
 *   a wait only when something blocks on it;
 * - `periodic`: a ticker or interval (`time.NewTicker`, `time.Tick`, `wait.Until`, `setInterval`);
 * - `poll`: a condition poll with a deadline or attempt cap (`wait.PollUntilContextTimeout`, `Eventually`, `vi.waitFor`);
 * - `backoff`: a retry library (`wait.ExponentialBackoff`, `retry.RetryOnConflict`, `backoff.Retry`);
 * - `fake`: fake-timer control in tests (`vi.advanceTimersByTime`), which waits for nothing.
 */
export type WaitKind = 'sleep' | 'delay' | 'periodic' | 'poll' | 'backoff' | 'fake';

export interface GoWait {
  kind: WaitKind;
  /** the callee as written, e.g. `time.Sleep`, `wait.PollUntilContextTimeout` */
  callee: string;
  /** for a wait of package time: the function, `Sleep`, `After`, `NewTimer` (whether time is qualified or dot-imported) */
  timeFunction?: string;
  /** the duration argument of sleep/delay/periodic calls */
  duration?: GoNode;
}

export const NS_PER_MS = 1_000_000;

const TIME_UNITS_NS: Record<string, number> = {
  Nanosecond: 1,
  Microsecond: 1_000,
  Millisecond: 1_000_000,
  Second: 1_000_000_000,
  Minute: 60_000_000_000,
  Hour: 3_600_000_000_000,
};

const GO_POLLS = new Set([
  'Poll', 'PollImmediate', 'PollInfinite', 'PollUntil', 'PollImmediateUntil', 'PollWithContext', 'PollImmediateWithContext',
  'PollUntilWithContext', 'PollImmediateUntilWithContext', 'PollUntilContextTimeout', 'PollUntilContextCancel',
  'PollInfiniteWithContext', 'PollImmediateInfinite', 'PollImmediateInfiniteWithContext',
]);
const GO_PERIODIC = new Set(['Until', 'UntilWithContext', 'Forever', 'JitterUntil', 'JitterUntilWithContext', 'NonSlidingUntil', 'NonSlidingUntilWithContext']);
const GO_BACKOFF = new Set(['ExponentialBackoff', 'ExponentialBackoffWithContext', 'OnError', 'RetryOnConflict', 'Retry', 'RetryNotify', 'RetryWithData']);
const GO_TIME_WAITS = ['Sleep', 'After', 'NewTimer', 'AfterFunc', 'NewTicker', 'Tick'];
const GO_GOMEGA_POLLS = ['Eventually', 'Consistently', 'EventuallyWithT', 'EventuallyWithOffset'];
/** every name goWaitCall knows: any other call is no wait, whatever it is called on */
const GO_WAIT_NAMES = new Set([...GO_TIME_WAITS, ...GO_POLLS, ...GO_PERIODIC, ...GO_BACKOFF, 'Do', 'DoWithData', ...GO_GOMEGA_POLLS]);
const GO_WAIT_NAME_WORD = new RegExp(`\\b(?:${[...GO_WAIT_NAMES].join('|')})\\b`);

/**
 * May Go source `text` hold a call goWaitCall recognises? Each is called by one of its names, an identifier
 * of the text, so a word there: text with none (`RequeueAfter` is no `After`) holds none, and need not be
 * read call by call.
 */
export function mayCallGoWait(text: string): boolean {
  return GO_WAIT_NAME_WORD.test(text);
}

/** The local name a Go file gives an import whose path is `path` or starts with `path/v` (major versions). */
export function goImportName(imports: Map<string, string>, path: string): string | undefined {
  const direct = imports.get(path);
  if (direct) return direct;
  for (const [p, name] of imports) {
    if (p.startsWith(`${path}/v`) && /^\d+$/.test(p.slice(path.length + 2))) return /^v\d+$/.test(name) ? path.split('/').pop() : name;
  }
  return undefined;
}

/** Is a call's qualifier the package imported as `local`? A dot import (`. "time"`) calls it unqualified: `Sleep(d)`. */
function qualifies(qualifier: string, local: string): boolean {
  return local === '.' ? qualifier === '' : qualifier === local;
}

const versionedByImports = new WeakMap<Map<string, string>, { backoff?: string; avastRetry?: string; gomega?: string }>();

/** The local names of the libraries imported with a major version suffix, read once per file's imports, not per call. */
function versionedImports(imports: Map<string, string>): { backoff?: string; avastRetry?: string; gomega?: string } {
  let names = versionedByImports.get(imports);
  if (!names) {
    names = {
      backoff: goImportName(imports, 'github.com/cenkalti/backoff'),
      avastRetry: goImportName(imports, 'github.com/avast/retry-go'),
      gomega: goImportName(imports, 'github.com/onsi/gomega'),
    };
    versionedByImports.set(imports, names);
  }
  return names;
}

/** A call's first argument: read only for a time call, as building the argument nodes of every call costs more than the rest. */
function firstArgument(call: GoNode): GoNode | undefined {
  return call.childForFieldName('arguments')?.namedChildren.find((n): n is GoNode => n !== null);
}

/**
 * Classify a Go `call_expression` as a wait, or undefined when it is not one.
 * `imports` is `goImports(root)`: import path -> local name, so aliased imports are honoured.
 */
export function goWaitCall(call: GoNode, imports: Map<string, string>): GoWait | undefined {
  if (call.type !== 'call_expression') return undefined;
  // the name called and what it is called on, as the call graph reads them (from the nodes where a comment
  // sits inside the callee: `time. // why`, then `Sleep(d)`)
  const { name, operand } = callSiteOf(call);
  // most calls are none of these: told apart before the imports are looked at
  if (!GO_WAIT_NAMES.has(name)) return undefined;
  const qualifier = operand ?? '';
  const callee = operand === undefined ? name : `${operand}.${name}`;
  const time = imports.get('time');
  if (time && qualifies(qualifier, time)) {
    if (name === 'Sleep') return { kind: 'sleep', callee, timeFunction: name, duration: firstArgument(call) };
    if (name === 'After' || name === 'NewTimer' || name === 'AfterFunc') return { kind: 'delay', callee, timeFunction: name, duration: firstArgument(call) };
    if (name === 'NewTicker' || name === 'Tick') return { kind: 'periodic', callee, timeFunction: name, duration: firstArgument(call) };
    return undefined;
  }
  const wait = imports.get('k8s.io/apimachinery/pkg/util/wait');
  if (wait && qualifies(qualifier, wait)) {
    if (GO_POLLS.has(name)) return { kind: 'poll', callee };
    if (GO_PERIODIC.has(name)) return { kind: 'periodic', callee };
    if (GO_BACKOFF.has(name)) return { kind: 'backoff', callee };
    return undefined;
  }
  const retry = imports.get('k8s.io/client-go/util/retry');
  if (retry && qualifies(qualifier, retry) && GO_BACKOFF.has(name)) return { kind: 'backoff', callee };
  const { backoff, avastRetry, gomega } = versionedImports(imports);
  if (backoff && qualifies(qualifier, backoff) && GO_BACKOFF.has(name)) return { kind: 'backoff', callee };
  if (avastRetry && qualifies(qualifier, avastRetry) && (name === 'Do' || name === 'DoWithData')) return { kind: 'backoff', callee };
  // Gomega is usually dot-imported (`Eventually(...)`) or reached through a `g Gomega` (`g.Eventually`).
  if (GO_GOMEGA_POLLS.includes(name)) {
    const testify = qualifier === (imports.get('github.com/stretchr/testify/require') ?? '\0') || qualifier === (imports.get('github.com/stretchr/testify/assert') ?? '\0');
    if (testify || gomega !== undefined) return { kind: 'poll', callee };
  }
  return undefined;
}

/** Package-level constants of a Go file: name -> its value expression (iota and typed lists are skipped). */
export function goConstants(root: GoNode, into = new Map<string, GoNode>()): Map<string, GoNode> {
  for (const decl of root.namedChildren) {
    if (decl?.type !== 'const_declaration') continue;
    for (const spec of decl.namedChildren) {
      if (spec?.type !== 'const_spec') continue;
      const names = spec.childrenForFieldName('name').filter((n): n is GoNode => n !== null);
      const values = spec.childForFieldName('value')?.namedChildren.filter((n): n is GoNode => n !== null) ?? [];
      names.forEach((n, i) => {
        if (values[i]) into.set(n.text, values[i]!);
      });
    }
  }
  return into;
}

/**
 * The value of a Go constant duration expression in nanoseconds (`15 * time.Second`,
 * `time.Duration(n) * time.Millisecond`, `2*time.Minute + 30*time.Second`), or undefined when it
 * is not a constant this can see. `constants` maps identifiers to their value expressions.
 */
export function goDurationNs(expr: GoNode | undefined, imports: Map<string, string>, constants: Map<string, GoNode> = new Map()): number | undefined {
  const time = imports.get('time') ?? 'time';
  const seen = new Set<string>();
  const evaluate = (e: GoNode | null | undefined, depth: number): number | undefined => {
    if (!e || depth > 40) return undefined;
    switch (e.type) {
      case 'int_literal':
      case 'float_literal': {
        const value = Number(e.text.replaceAll('_', ''));
        return Number.isFinite(value) ? value : undefined;
      }
      case 'parenthesized_expression':
        return evaluate(e.namedChildren[0], depth + 1);
      case 'identifier': {
        const value = constants.get(e.text);
        // `5 * Second` with time dot-imported
        if (!value && time === '.') return Object.hasOwn(TIME_UNITS_NS, e.text) ? TIME_UNITS_NS[e.text] : undefined;
        if (!value || seen.has(e.text)) return undefined;
        seen.add(e.text);
        const result = evaluate(value, depth + 1);
        seen.delete(e.text);
        return result;
      }
      case 'selector_expression': {
        const operand = e.childForFieldName('operand')?.text;
        const field = e.childForFieldName('field')?.text ?? '';
        return operand === time && Object.hasOwn(TIME_UNITS_NS, field) ? TIME_UNITS_NS[field] : undefined;
      }
      case 'call_expression': {
        // conversions: time.Duration(x), int64(x), float64(x)
        const fn = calleeText(e);
        const args = e.childForFieldName('arguments')?.namedChildren ?? [];
        if (args.length !== 1) return undefined;
        if (fn === (time === '.' ? 'Duration' : `${time}.Duration`) || fn === 'int' || fn === 'int64' || fn === 'float64' || fn === 'uint64') {
          return evaluate(args[0], depth + 1);
        }
        return undefined;
      }
      case 'binary_expression': {
        const left = evaluate(e.childForFieldName('left'), depth + 1);
        const right = evaluate(e.childForFieldName('right'), depth + 1);
        if (left === undefined || right === undefined) return undefined;
        switch (e.childForFieldName('operator')?.text) {
          case '*':
            return left * right;
          case '+':
            return left + right;
          case '-':
            return left - right;
          case '/':
            return right === 0 ? undefined : left / right;
          case '<<':
            return right > 62 ? undefined : left * 2 ** right;
          default:
            return undefined;
        }
      }
      default:
        return undefined;
    }
  };
  return evaluate(expr, 0);
}

// ---- TypeScript / JavaScript ----

export interface TsWait {
  kind: WaitKind;
  callee: string;
  /** the duration argument, when the call has one */
  duration?: TsNode;
}

const TS_POLLS = new Set(['waitFor', 'waitUntil', 'poll', 'waitForExpect', 'pRetry', 'retry', 'waitForCondition']);

/** Names whose `.waitForTimeout(n)` is Playwright/Puppeteer's fixed sleep (not `rampage.waitForTimeout`). */
function isPageLike(receiver: string): boolean {
  const last = receiver.slice(receiver.lastIndexOf('.') + 1);
  return last === 'page' || last === 'frame' || last === 'popup' || last.endsWith('Page') || last.endsWith('Frame');
}

/**
 * Classify a TS/JS call as a wait. It does not resolve helpers (see `tsSleepHelper`) nor decide
 * whether a `setTimeout` is a sleep: `setTimeout(fn, n)` is a `delay`; a `new Promise` resolved by it
 * is recognised by `tsPromiseSleep`. `timersPromises` is the local names bound to
 * `setTimeout` from `timers/promises` in the file (see `tsTimersPromisesNames`).
 */
export function tsWaitCall(call: CallExpression, timersPromises: ReadonlySet<string> = new Set()): TsWait | undefined {
  const expr = call.getExpression();
  const args = call.getArguments();
  const callee = expr.getText().replace(/\s+/g, '');
  if (TsNode.isIdentifier(expr)) {
    const name = expr.getText();
    if (timersPromises.has(name)) return { kind: 'sleep', callee, duration: args[0] };
    if (name === 'setTimeout') return { kind: 'delay', callee, duration: args[1] };
    if (name === 'setInterval') return { kind: 'periodic', callee, duration: args[1] };
    if (TS_POLLS.has(name)) return { kind: 'poll', callee };
    return undefined;
  }
  if (!TsNode.isPropertyAccessExpression(expr)) return undefined;
  if (timersPromises.has(callee)) return { kind: 'sleep', callee, duration: args[0] };
  const name = expr.getName();
  const receiver = expr.getExpression().getText().replace(/\s+/g, '');
  if ((receiver === 'window' || receiver === 'globalThis' || receiver === 'global') && name === 'setTimeout') {
    return { kind: 'delay', callee, duration: args[1] };
  }
  if ((receiver === 'window' || receiver === 'globalThis' || receiver === 'global') && name === 'setInterval') {
    return { kind: 'periodic', callee, duration: args[1] };
  }
  if (name === 'waitForTimeout' && isPageLike(receiver)) return { kind: 'sleep', callee, duration: args[0] };
  if (receiver === 'cy' && name === 'wait') {
    const first = args[0];
    // cy.wait('@alias') waits for a request, which is the right thing to do
    if (first && !TsNode.isStringLiteral(first) && !TsNode.isNoSubstitutionTemplateLiteral(first) && !TsNode.isArrayLiteralExpression(first)) {
      return { kind: 'sleep', callee, duration: first };
    }
    return undefined;
  }
  if ((receiver === 'vi' || receiver === 'jest') && /^(advanceTimers|runAllTimers|runOnlyPendingTimers|tick)/.test(name)) return { kind: 'fake', callee };
  if (receiver === 'clock' && (name === 'tick' || name === 'tickAsync' || name === 'runAll')) return { kind: 'fake', callee };
  if ((receiver === 'vi' && (name === 'waitFor' || name === 'waitUntil')) || (receiver === 'expect' && name === 'poll')) return { kind: 'poll', callee };
  if (receiver === 'scheduler' && name === 'wait') return { kind: 'sleep', callee, duration: args[0] };
  return undefined;
}

/**
 * How a file calls `setTimeout` from `timers/promises`: `sleep` for `import { setTimeout as sleep } from 'node:timers/promises'`,
 * `timers.setTimeout` for `import timers from ...` or `import * as timers from ...`.
 */
export function tsTimersPromisesNames(file: SourceFile): Set<string> {
  const names = new Set<string>();
  for (const decl of file.getImportDeclarations()) {
    const from = decl.getModuleSpecifierValue();
    if (from !== 'timers/promises' && from !== 'node:timers/promises') continue;
    for (const named of decl.getNamedImports()) {
      if (named.getName() === 'setTimeout') names.add(named.getAliasNode()?.getText() ?? 'setTimeout');
    }
    const whole = decl.getDefaultImport()?.getText() ?? decl.getNamespaceImport()?.getText();
    if (whole) names.add(`${whole}.setTimeout`);
  }
  return names;
}

/** Packages whose default or named export is a plain sleep: `import delay from 'delay'`, `import { sleep } from 'zx'`. */
export const TS_SLEEP_PACKAGES: Record<string, string[]> = {
  delay: ['default'],
  'p-sleep': ['default'],
  sleep: ['default', 'sleep', 'msleep'],
  'sleep-promise': ['default'],
  zx: ['sleep'],
  'timers/promises': ['setTimeout'],
  'node:timers/promises': ['setTimeout'],
};

/**
 * Is `node` a `new Promise(...)` whose executor only resolves it from a `setTimeout`?
 * Returns the timeout's duration argument (possibly undefined for `setTimeout(r)`), or false.
 * `new Promise((r) => setTimeout(r, n))`, `new Promise((resolve) => { setTimeout(() => resolve(), n); })`.
 */
export function tsPromiseSleep(node: TsNode): { duration?: TsNode } | false {
  if (!TsNode.isNewExpression(node) || node.getExpression().getText() !== 'Promise') return false;
  const executor = node.getArguments()[0];
  if (!executor || !(TsNode.isArrowFunction(executor) || TsNode.isFunctionExpression(executor))) return false;
  const resolve = executor.getParameters()[0]?.getName();
  if (!resolve) return false;
  const body = executor.getBody();
  let call: TsNode | undefined = body;
  if (TsNode.isBlock(body)) {
    const statements = body.getStatements();
    if (statements.length !== 1 || !TsNode.isExpressionStatement(statements[0])) return false;
    call = statements[0].getExpression();
  }
  if (!call || !TsNode.isCallExpression(call)) return false;
  const fn = call.getExpression().getText();
  if (fn !== 'setTimeout' && fn !== 'globalThis.setTimeout' && fn !== 'window.setTimeout') return false;
  const [callback, duration] = call.getArguments();
  if (!callback) return false;
  if (callback.getText() === resolve) return { duration };
  // () => resolve() / () => resolve(undefined) / () => { resolve(); }
  if (TsNode.isArrowFunction(callback) || TsNode.isFunctionExpression(callback)) {
    const inner = callback.getBody();
    const text = TsNode.isBlock(inner) ? inner.getStatements().map((s) => s.getText()).join('') : inner.getText();
    const compact = text.replace(/[\s;]/g, '');
    if (compact.startsWith(`${resolve}(`) && compact.endsWith(')') && compact.indexOf(')') === compact.length - 1) return { duration };
  }
  return false;
}

/** A sleep helper's duration: which parameter, times what (`seconds * 1e3` is parameter 0 times 1000). */
export interface TsSleepHelper {
  index: number;
  scale: number;
}

/**
 * Is a function (declaration, arrow, function expression) a sleep helper: its body only returns (or awaits)
 * a promise resolved by `setTimeout` after one of its parameters, possibly scaled by a constant?
 */
export function tsSleepHelper(fn: TsNode): TsSleepHelper | undefined {
  if (!(TsNode.isFunctionDeclaration(fn) || TsNode.isArrowFunction(fn) || TsNode.isFunctionExpression(fn) || TsNode.isMethodDeclaration(fn))) return undefined;
  const body = fn.getBody();
  if (!body) return undefined;
  let returned: TsNode | undefined = body;
  if (TsNode.isBlock(body)) {
    const statements = body.getStatements();
    if (statements.length !== 1) return undefined;
    const only = statements[0]!;
    if (TsNode.isReturnStatement(only)) returned = only.getExpression();
    else if (TsNode.isExpressionStatement(only) && TsNode.isAwaitExpression(only.getExpression())) {
      returned = (only.getExpression() as import('ts-morph').AwaitExpression).getExpression();
    } else return undefined;
  }
  if (!returned) return undefined;
  while (TsNode.isParenthesizedExpression(returned) || TsNode.isAsExpression(returned)) returned = returned.getExpression();
  const sleep = tsPromiseSleep(returned);
  if (!sleep || !sleep.duration) return undefined;
  const params = fn.getParameters().map((p) => p.getName());
  let duration: TsNode = sleep.duration;
  while (TsNode.isParenthesizedExpression(duration)) duration = duration.getExpression();
  const direct = params.indexOf(duration.getText());
  if (direct !== -1) return { index: direct, scale: 1 };
  // `seconds * 1000` or `1e3 * seconds`
  if (!TsNode.isBinaryExpression(duration) || duration.getOperatorToken().getKind() !== SyntaxKind.AsteriskToken) return undefined;
  const [left, right] = [duration.getLeft(), duration.getRight()];
  for (const [param, factor] of [[left, right], [right, left]] as const) {
    const index = params.indexOf(param.getText());
    const scale = tsDurationMs(factor);
    if (index !== -1 && scale !== undefined) return { index, scale };
  }
  return undefined;
}

/** A TS/JS number expression in milliseconds: literals (`10_000`), `*`/`+`/`-`, and `const` names of the same file. */
export function tsDurationMs(expr: TsNode | undefined, depth = 0): number | undefined {
  if (!expr || depth > 40) return undefined;
  if (TsNode.isNumericLiteral(expr)) return expr.getLiteralValue();
  if (TsNode.isParenthesizedExpression(expr) || TsNode.isAsExpression(expr)) return tsDurationMs(expr.getExpression(), depth + 1);
  if (TsNode.isBinaryExpression(expr)) {
    const left = tsDurationMs(expr.getLeft(), depth + 1);
    const right = tsDurationMs(expr.getRight(), depth + 1);
    if (left === undefined || right === undefined) return undefined;
    switch (expr.getOperatorToken().getKind()) {
      case SyntaxKind.AsteriskToken:
        return left * right;
      case SyntaxKind.PlusToken:
        return left + right;
      case SyntaxKind.MinusToken:
        return left - right;
      case SyntaxKind.SlashToken:
        return right === 0 ? undefined : left / right;
      default:
        return undefined;
    }
  }
  if (TsNode.isIdentifier(expr)) {
    // only a `const` (of an enclosing function, else of the file): a parameter or a `let` can be anything
    return tsDurationMs(tsConstDeclaration(expr)?.getInitializer(), depth + 1);
  }
  return undefined;
}

/** A function with a body of its own: declaration, method, function expression or arrow. */
export function isTsFunction(n: TsNode): n is FunctionDeclaration | MethodDeclaration | FunctionExpression | ArrowFunction {
  return TsNode.isFunctionDeclaration(n) || TsNode.isMethodDeclaration(n) || TsNode.isFunctionExpression(n) || TsNode.isArrowFunction(n);
}

/** The `const` declaration an identifier names: in an enclosing function first, then at the top of the file. */
export function tsConstDeclaration(id: TsNode): VariableDeclaration | undefined {
  const name = id.getText();
  const isConst = (d: VariableDeclaration) => d.getName() === name && d.getVariableStatement()?.getDeclarationKind() === 'const';
  for (let n: TsNode | undefined = id.getParent(); n; n = n.getParent()) {
    if (isTsFunction(n)) {
      const body = n.getBody();
      const statements = body && TsNode.isBlock(body) ? body.getStatements() : [];
      for (const statement of statements.slice(0, 500)) {
        if (!TsNode.isVariableStatement(statement)) continue;
        const found = statement.getDeclarations().find(isConst);
        if (found) return found;
      }
    }
  }
  return id.getSourceFile().getVariableStatements().flatMap((s) => s.getDeclarations()).find(isConst);
}

// ---- shell ----

const SHELL_UNITS_MS: Record<string, number> = { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `sleep` arguments in milliseconds (`5`, `0.5`, `1m`, `1m 30s` summed), or undefined (`$DELAY`, `infinity`). */
export function shellSleepMs(args: string[]): number | undefined {
  if (args.length === 0) return undefined;
  let total = 0;
  for (const arg of args) {
    if (arg.length > 32) return undefined;
    let k = 0;
    while (k < arg.length && ((arg[k]! >= '0' && arg[k]! <= '9') || arg[k] === '.')) k++;
    const number = Number(arg.slice(0, k));
    const unit = SHELL_UNITS_MS[arg.slice(k)];
    if (k === 0 || !Number.isFinite(number) || unit === undefined) return undefined;
    total += number * unit;
  }
  return total;
}

// ---- printing ----

/**
 * A duration the way people write sleeps: 500ms, 15s, 1.5s, 120s, 600s; past ten minutes 15m,
 * 2m30s, 1h. Seconds up to 600 keep an escalation readable as one scale ("5s -> 30s -> 120s -> 600s").
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1000) {
    if (ms > 0 && ms < 1) return `${Math.round(ms * 1000)}µs`;
    return `${round(ms)}ms`;
  }
  if (ms <= 600_000) return `${round(ms / 1000)}s`;
  const units: [string, number][] = [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  let rest = ms;
  let out = '';
  for (const [unit, size] of units) {
    if (unit === 's') {
      if (rest > 0 || out === '') out += `${round(rest / size)}s`;
      break;
    }
    const whole = Math.floor(rest / size);
    if (whole > 0) {
      out += `${whole}${unit}`;
      rest -= whole * size;
    }
  }
  return out;
}

function round(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

/** "5s -> 30s -> 120s": a wait's successive durations. */
export function formatEscalation(durationsMs: number[]): string {
  return durationsMs.map(formatDuration).join(' -> ');
}

// ---- loops around a wait ----

/**
 * What a loop around a wait does:
 * - `bounded`: a retry or poll capped by an attempt counter or a deadline (`for i := 0; i < n; i++`,
 *   `for time.Now().Before(deadline)`, an `if attempt >= max { return }`, a ctx with a timeout);
 * - `periodic`: runs until stopped (`for { ... }` left only through `ctx.Done()`/a stop channel, `for range ticker.C`);
 * - `poll`: left when a condition holds, with no cap: a wait without a deadline;
 * - `each`: one pass over a collection (`for _, x := range items`).
 */
export type LoopKind = 'bounded' | 'periodic' | 'poll' | 'each';

const BOUND_WORDS = ['deadline', 'Deadline', 'time.Since(', 'time.Until(', '.Before(', '.After(', 'attempt', 'Attempt', 'retries', 'Retries', 'retry', 'Retry', 'tries', 'Tries', 'maxWait', 'timeout', 'Timeout'];
// `done` alone is left out: `if done { break }` is a poll's condition, not a stop signal.
const STOP_WORDS = ['.Done()', '.Err()', 'stop', 'Stop', 'quit', 'Quit', 'doneCh', 'closing', 'shutdown', 'Shutdown'];

function hasAny(text: string, words: readonly string[]): boolean {
  const capped = text.length > 2000 ? text.slice(0, 2000) : text;
  return words.some((w) => capped.includes(w));
}

/** Does this Go node mention a comparison of a counter (`n >= max`, `i < 10`)? */
function comparesCounter(expr: GoNode, counters: Set<string>): boolean {
  let found = false;
  const visit = (n: GoNode, depth: number) => {
    if (found || depth > 30) return;
    if (n.type === 'binary_expression') {
      const op = n.childForFieldName('operator')?.text ?? '';
      if (op === '<' || op === '<=' || op === '>' || op === '>=' || op === '==') {
        const sides = [n.childForFieldName('left')?.text ?? '', n.childForFieldName('right')?.text ?? ''];
        if (sides.some((s) => counters.has(s))) found = true;
      }
    }
    for (const c of n.namedChildren) if (c) visit(c, depth + 1);
  };
  visit(expr, 0);
  return found;
}

/** Visit a loop body's statements without entering function literals; `inner` tells whether a node sits in a nested loop, select or switch. */
function visitBody(node: GoNode, visit: (n: GoNode, breakable: boolean) => void, breakable = false, budget = { left: 5000 }): void {
  for (const child of node.namedChildren) {
    if (!child || budget.left-- <= 0) return;
    if (child.type === 'func_literal') continue;
    visit(child, breakable);
    const nested = child.type === 'for_statement' || child.type === 'select_statement' || child.type.endsWith('switch_statement');
    visitBody(child, visit, breakable || nested, budget);
  }
}

/** Is a `return`/`break` inside the loop body guarded by a stop signal (`ctx.Done()`, `ctx.Err()`, a stop channel)? */
function stopGuarded(exit: GoNode, loop: GoNode): boolean {
  for (let n = exit.parent; n && n.id !== loop.id; n = n.parent) {
    if (n.type === 'if_statement' && hasAny(n.childForFieldName('condition')?.text ?? '', STOP_WORDS)) return true;
    if (n.type === 'communication_case' && hasAny(n.childForFieldName('communication')?.text ?? '', STOP_WORDS)) return true;
  }
  return false;
}

/**
 * Classify a Go `for_statement`. `deadlineContext` says the enclosing function derives its ctx
 * with a timeout or deadline, so an exit on `ctx.Done()` is a deadline, not only a stop.
 */
export function goLoopKind(loop: GoNode, deadlineContext = false): LoopKind {
  const body = loop.childForFieldName('body');
  const header = loop.namedChildren.find((c) => c && c.id !== body?.id) ?? undefined;
  if (header?.type === 'range_clause') {
    const right = header.childForFieldName('right');
    const text = right?.text ?? '';
    if (right?.type === 'int_literal' || text.endsWith('.C') || text.includes('Tick(')) return right?.type === 'int_literal' ? 'bounded' : 'periodic';
    if (right && rangesOverCount(right)) return 'bounded';
    return 'each';
  }
  const counters = new Set<string>();
  if (body) {
    visitBody(body, (n) => {
      if (n.type === 'inc_statement' || n.type === 'dec_statement') counters.add(n.namedChildren[0]?.text ?? '');
      if (n.type === 'assignment_statement' && (n.childForFieldName('operator')?.text === '+=' || n.childForFieldName('operator')?.text === '-=')) {
        counters.add(n.childForFieldName('left')?.text ?? '');
      }
    });
  }
  if (header?.type === 'for_clause') {
    const update = header.childForFieldName('update');
    if (update) counters.add(update.namedChildren[0]?.text ?? '');
    const condition = header.childForFieldName('condition');
    if (condition && (comparesCounter(condition, counters) || hasAny(condition.text, BOUND_WORDS))) return 'bounded';
    if (condition) return body && boundedInBody(body, counters, deadlineContext) ? 'bounded' : 'poll';
  } else if (header) {
    if (comparesCounter(header, counters) || hasAny(header.text, BOUND_WORDS)) return 'bounded';
    if (deadlineContext && hasAny(header.text, STOP_WORDS)) return 'bounded';
    // `for ctx.Err() == nil { ... }` runs until stopped, like `for { ... }` with a stop check: judged by its other exits below
    if (!hasAny(header.text, STOP_WORDS)) return body && boundedInBody(body, counters, deadlineContext) ? 'bounded' : 'poll';
  }
  if (!body) return 'periodic';
  if (boundedInBody(body, counters, deadlineContext)) return 'bounded';
  let exits = false;
  visitBody(body, (n, inner) => {
    const leaves = n.type === 'return_statement' || n.type === 'goto_statement' || (n.type === 'break_statement' && (!inner || n.namedChildren.length > 0));
    if (leaves && !stopGuarded(n, loop)) exits = true;
  });
  return exits ? 'poll' : 'periodic';
}

/**
 * Does a `range` expression count (Go 1.22 range over an int) rather than list? `range maxRetries`, `range r.MaxAttempts`,
 * `range retries + 1`: a retry capped by its attempts. A collection named like a count (`range attempts` of a channel)
 * reads the same; the names are the ones retry loops use.
 */
function rangesOverCount(expr: GoNode): boolean {
  if (expr.type === 'binary_expression') return ['+', '-', '*'].includes(expr.childForFieldName('operator')?.text ?? '') && expr.text.length < 200;
  const name = expr.type === 'identifier' ? expr.text : expr.type === 'selector_expression' ? (expr.childForFieldName('field')?.text ?? '') : '';
  // a camel-case suffix only: `connectRetries` counts, `entries` and `countries` are collections
  return /^(n|count|times|retries|attempts|tries|max\w*|num\w*)$/i.test(name) || /[a-z\d_](Retries|Attempts|Tries)$/.test(name);
}

/** An `if` in the loop body that leaves the loop on a deadline or an attempt cap. */
function boundedInBody(body: GoNode, counters: Set<string>, deadlineContext: boolean): boolean {
  let bounded = false;
  visitBody(body, (n) => {
    if (bounded) return;
    if (n.type === 'if_statement') {
      const condition = n.childForFieldName('condition');
      if (!condition) return;
      const capped = comparesCounter(condition, counters) || hasAny(condition.text, BOUND_WORDS) || (deadlineContext && hasAny(condition.text, STOP_WORDS));
      if (capped) bounded = true;
    }
    if (deadlineContext && n.type === 'communication_case' && hasAny(n.childForFieldName('communication')?.text ?? '', STOP_WORDS)) bounded = true;
  });
  return bounded;
}
