// symptomatic-tuning: a PR that raises CPU or memory, retry counts, timeouts or probe delays and gives no
// root cause backed by evidence. Base and head values are compared structurally (YAML paths, Go and
// TypeScript declarations and keys, shell flags), never by line text.

import { isMap, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import type { Expression } from 'ts-morph';
import { Node as TsNode } from '../src/lang/ts-morph.js';
import { prText, textEvidence } from '../src/analysis/evidence.js';
import { calleeText, enclosingDeclaration, functionName, lineOf, nodesOf, receiverType } from '../src/lang/go.js';
import { parseQuantity } from '../src/lang/quantity.js';
import type { Check, CheckContext, GoNode, ParsedFile } from '../src/engine/types.js';

export type TuningKind = 'cpu' | 'memory' | 'retries' | 'timeout' | 'probe';

/** One tunable value in one file at one revision. */
interface TunedValue {
  /** what identifies the value across base and head: document, path, declaration, key */
  id: string;
  kind: TuningKind;
  /** "memory limit", "retry count", "timeout", "probe initialDelaySeconds" */
  label: string;
  /** the path or declaration, for the message */
  where: string;
  line: number;
  /** comparable amount: nano-units for quantities, nanoseconds for durations, the count for counts */
  amount: bigint;
  shown: string;
}

/** A value the PR raises. */
export interface TuningChange {
  path: string;
  line: number;
  kind: TuningKind;
  label: string;
  where: string;
  before: string;
  after: string;
  /** "4x", or undefined when the old value was 0 */
  ratio?: string;
}

const NS = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 } as const;

/** vitest's and jest's default per-test timeout: a test that gains a `timeout` option is raised from this. */
export const DEFAULT_TEST_TIMEOUT_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Values: quantities, durations, counts.

/** "1h30m", "30s", "500ms", "2.5s": Go's duration syntax; undefined when it is not one. */
export function parseDuration(text: string): bigint | undefined {
  const s = text.trim();
  if (s.length === 0 || s.length > 40) return undefined;
  let total = 0;
  let i = 0;
  while (i < s.length) {
    let j = i;
    while (j < s.length && ((s[j]! >= '0' && s[j]! <= '9') || s[j] === '.' || s[j] === '_')) j++;
    if (j === i) return undefined;
    const n = Number(s.slice(i, j).replaceAll('_', ''));
    let k = j;
    while (k < s.length && /[a-zµ]/.test(s[k]!)) k++;
    const unit = s.slice(j, k) as keyof typeof NS;
    if (!Number.isFinite(n) || !(unit in NS)) return undefined;
    total += n * NS[unit];
    i = k;
  }
  return BigInt(Math.round(total));
}

export function formatDuration(ns: bigint): string {
  // minutes and hours only from two of them up: "60s" reads better than "1m" next to "5s"
  for (const [unit, size] of [['h', 7200e9], ['m', 120e9], ['s', 1e9], ['ms', 1e6]] as const) {
    const big = BigInt(size);
    const step = BigInt(unit === 'h' ? 3600e9 : unit === 'm' ? 60e9 : size);
    if (ns >= big && ns % step === 0n) return `${ns / step}${unit}`;
  }
  if (ns >= 1_000_000_000n) return `${Number(ns) / 1e9}s`;
  return `${Number(ns) / 1e6}ms`;
}

/** The unit a key or name implies for a bare number: `timeoutSeconds`, `TIMEOUT_MS`, `timeout-minutes`. */
function impliedUnit(name: string, fallback: keyof typeof NS | undefined): keyof typeof NS | undefined {
  const n = name.toLowerCase();
  if (n.endsWith('seconds') || n.endsWith('secs') || n.endsWith('_s') || n.endsWith('sec')) return 's';
  if (n.endsWith('minutes') || n.endsWith('mins')) return 'm';
  if (n.endsWith('ms') || n.endsWith('millis') || n.endsWith('milliseconds')) return 'ms';
  return fallback;
}

function numberOf(text: string): number | undefined {
  const t = text.trim().replaceAll('_', '');
  if (t === '' || t.length > 30 || !/^\d+(\.\d+)?(e\d{1,3})?$/i.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** A timeout value: a duration string, or a number in the unit its key implies (raw when none is implied). */
function durationValue(raw: string | number, name: string, fallback: keyof typeof NS | undefined): { amount: bigint; shown: string } | undefined {
  const n = typeof raw === 'number' ? raw : numberOf(raw);
  if (n !== undefined) {
    const unit = impliedUnit(name, fallback);
    if (!unit) return Number.isInteger(n) ? { amount: BigInt(n), shown: String(n) } : undefined;
    const amount = BigInt(Math.round(n * NS[unit]));
    return { amount, shown: formatDuration(amount) };
  }
  const d = parseDuration(String(raw));
  return d === undefined ? undefined : { amount: d, shown: formatDuration(d) };
}

function countValue(raw: string | number): { amount: bigint; shown: string } | undefined {
  const n = typeof raw === 'number' ? raw : numberOf(raw);
  return n !== undefined && Number.isInteger(n) ? { amount: BigInt(n), shown: String(n) } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Which keys and names are tuning knobs.

const PROBE_KEYS = new Set(['initialdelayseconds', 'periodseconds', 'failurethreshold']);

/** A key or identifier that holds a retry count, a timeout or a probe delay. */
export function knobOf(name: string): { kind: TuningKind; label: string } | undefined {
  const n = name.toLowerCase().replaceAll('_', '').replaceAll('-', '');
  if (PROBE_KEYS.has(n)) return { kind: 'probe', label: `probe ${name}` };
  if (n === 'backofflimit' || n.endsWith('retries') || n.endsWith('retry') || n.endsWith('attempts') || n === 'retrycount' || n === 'maxretry') {
    return { kind: 'retries', label: n === 'backofflimit' ? 'backoffLimit' : 'retry count' };
  }
  if (n === 'testtimeout' || n === 'hooktimeout') return { kind: 'timeout', label: 'test timeout' };
  if (n.includes('timeout') || n.includes('deadline')) return { kind: 'timeout', label: 'timeout' };
  // a leader-election lease raised so the manager "rides out" slow renewals: the same symptom kept longer
  if (n.endsWith('leaseduration')) return { kind: 'timeout', label: 'lease duration' };
  return undefined;
}

/** A knob's value: counts for retries, durations for timeouts and probe delays (failureThreshold is a count). */
function knobValue(knob: { kind: TuningKind }, name: string, raw: string | number, fallback: keyof typeof NS | undefined) {
  if (knob.kind === 'retries' || name.toLowerCase() === 'failurethreshold') return countValue(raw);
  return durationValue(raw, name, fallback);
}

type Knob = { kind: TuningKind; label: string };
type Amount = { amount: bigint; shown: string };

/** Collects values, numbering repeated occurrences of one family (`#0`, `#1`) so base and head pair by position. */
function collector(out: TunedValue[]) {
  const seen = new Map<string, number>();
  return (line: number, family: string, knob: Knob, where: string, value: Amount | undefined) => {
    if (!value) return;
    const i = seen.get(family) ?? 0;
    seen.set(family, i + 1);
    out.push({ id: `${family}#${i}`, ...knob, where, line, ...value });
  };
}

// ---------------------------------------------------------------------------------------------
// YAML: Helm values, manifests, kustomize patches, workflow `timeout-minutes`.

function yamlValues(file: ParsedFile): TunedValue[] {
  const out: TunedValue[] = [];
  let docs: Document[];
  let lineCounter: LineCounter;
  try {
    ({ docs, lineCounter } = file.yaml());
  } catch {
    return out;
  }
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) return;
    const root = doc.contents;
    // manifests are matched by kind and name, so reordering documents is not a change
    let docId = `doc${index}`;
    if (isMap(root)) {
      const kind = root.get('kind');
      const meta = root.get('metadata');
      const name = isMap(meta) ? meta.get('name') : undefined;
      const namespace = isMap(meta) ? meta.get('namespace') : undefined;
      if (typeof kind === 'string' && typeof name === 'string') docId = `${kind}/${typeof namespace === 'string' ? `${namespace}/` : ''}${name}`;
    }
    const visit = (node: unknown, path: string[], depth: number) => {
      if (depth > 40) return;
      if (isMap(node)) {
        for (const pair of node.items) {
          const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
          if (key !== undefined) visit(pair.value, [...path, key], depth + 1);
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => {
          const name = isMap(item) ? item.get('name') : undefined;
          visit(item, [...path, typeof name === 'string' ? `[${name}]` : `[${i}]`], depth + 1);
        });
      } else if (isScalar(node) && node.range && (typeof node.value === 'string' || typeof node.value === 'number')) {
        const value = yamlKnob(path, node.value);
        if (value) {
          const where = path.join('.').replaceAll('.[', '[');
          out.push({ ...value, id: `${docId}:${where}`, where: docId.startsWith('doc') ? where : `${docId} ${where}`, line: lineCounter.linePos(node.range[0]).line });
        }
      }
    };
    visit(root, [], 0);
  });
  // two documents with one identity (same kind and name, no namespace) cannot be told apart: leave them out
  const counts = new Map<string, number>();
  for (const v of out) counts.set(v.id, (counts.get(v.id) ?? 0) + 1);
  return out.filter((v) => counts.get(v.id) === 1);
}

function yamlKnob(path: string[], raw: string | number): Omit<TunedValue, 'id' | 'where' | 'line'> | undefined {
  const key = path[path.length - 1] ?? '';
  const parent = path[path.length - 2] ?? '';
  if ((key === 'cpu' || key === 'memory') && (parent === 'limits' || parent === 'requests')) {
    const q = parseQuantity(raw);
    return q ? { kind: key, label: `${key} ${parent === 'limits' ? 'limit' : 'request'}`, amount: q.nanos, shown: String(raw) } : undefined;
  }
  const knob = knobOf(key);
  if (!knob) return undefined;
  const value = knobValue(knob, key, raw, undefined);
  return value ? { ...knob, ...value } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Go: constants and variables, keyed fields (`Steps: 4`, `TimeoutSeconds: 30`), resource lists,
// context.WithTimeout, Gomega's Eventually/Consistently, wait.Poll* timeouts.

const GO_UNITS: Record<string, bigint> = {
  Nanosecond: 1n,
  Microsecond: 1_000n,
  Millisecond: 1_000_000n,
  Second: 1_000_000_000n,
  Minute: 60_000_000_000n,
  Hour: 3_600_000_000_000n,
};

const GO_WRAPPERS = /^(time\.Duration|ptr\.To(\[\w+\])?|(util)?pointer\.\w{1,20}|u?int(8|16|32|64)?|float64|time\.Now\(\)\.Add)$/;

/** The value of a Go constant expression: an int, or a duration when a `time.X` unit is involved. */
function goValue(node: GoNode | null | undefined, depth = 0): { n: bigint; duration: boolean } | undefined {
  if (!node || depth > 20) return undefined;
  switch (node.type) {
    case 'int_literal': {
      const n = numberOf(node.text);
      return n !== undefined && Number.isInteger(n) ? { n: BigInt(n), duration: false } : undefined;
    }
    case 'parenthesized_expression':
    case 'literal_element':
      return goValue(node.namedChildren[0], depth + 1);
    case 'selector_expression': {
      const field = node.childForFieldName('field')?.text ?? '';
      return node.childForFieldName('operand')?.text === 'time' && field in GO_UNITS ? { n: GO_UNITS[field]!, duration: true } : undefined;
    }
    case 'call_expression': {
      // time.Duration(30), ptr.To[int32](6), pointer.Int32(6), int32(6), time.Now().Add(d): the single argument.
      // Other calls compute their result: `retries := compute(3)` is not 3.
      const args = node.childForFieldName('arguments')?.namedChildren ?? [];
      return args.length === 1 && GO_WRAPPERS.test(calleeText(node)) ? goValue(args[0], depth + 1) : undefined;
    }
    case 'type_conversion_expression': {
      // tree-sitter reads `ptr.To[int32](6)` and some `int32(6)` as conversions
      const type = (node.childForFieldName('type')?.text ?? '').replace(/\s+/g, '');
      return GO_WRAPPERS.test(type) ? goValue(node.childForFieldName('operand'), depth + 1) : undefined;
    }
    case 'binary_expression': {
      const op = node.childForFieldName('operator')?.text;
      const a = goValue(node.childForFieldName('left'), depth + 1);
      const b = goValue(node.childForFieldName('right'), depth + 1);
      if (!a || !b) return undefined;
      if (op === '*') return { n: a.n * b.n, duration: a.duration || b.duration };
      if (op === '+') return { n: a.n + b.n, duration: a.duration || b.duration };
      return undefined;
    }
    case 'interpreted_string_literal':
    case 'raw_string_literal': {
      const d = parseDuration(node.text.slice(1, -1));
      return d === undefined ? undefined : { n: d, duration: true };
    }
    default:
      return undefined;
  }
}

function goKnobValue(knob: { kind: TuningKind; label: string }, name: string, expr: GoNode | null | undefined): { amount: bigint; shown: string } | undefined {
  const v = goValue(expr);
  if (!v) return undefined;
  if (knob.kind === 'retries' || name.toLowerCase() === 'failurethreshold') return v.duration ? undefined : { amount: v.n, shown: String(v.n) };
  if (v.duration) return { amount: v.n, shown: formatDuration(v.n) };
  return durationValue(Number(v.n), name, undefined);
}

function goScope(node: GoNode): string {
  const fn = enclosingDeclaration(node);
  if (!fn) return 'package';
  const recv = receiverType(fn);
  return `${recv ? `${recv}.` : ''}${functionName(fn) ?? 'func'}`;
}

/** Keys of the composite literals around a node, outermost first: `Limits`, `Spec`. */
function goKeyPath(node: GoNode): string[] {
  const keys: string[] = [];
  for (let n: GoNode | null = node.parent; n && keys.length < 10; n = n.parent) {
    if (n.type === 'keyed_element') keys.unshift(n.childForFieldName('key')?.text ?? n.namedChildren[0]?.text ?? '');
    if (n.type === 'function_declaration' || n.type === 'method_declaration') break;
  }
  return keys;
}

const TIMEOUT_CALLS: Record<string, number> = {
  'context.WithTimeout': 1,
  'wait.PollImmediate': 1,
  'wait.Poll': 1,
  'wait.PollUntilContextTimeout': 2,
  Eventually: 1,
  Consistently: 1,
  'gomega.Eventually': 1,
  'gomega.Consistently': 1,
};

function goValues(file: ParsedFile): TunedValue[] {
  const out: TunedValue[] = [];
  let root: GoNode;
  try {
    root = file.go().rootNode;
  } catch {
    // the Go parser is loaded by the engine when a check reads Go; without it this check cannot decide
    return out;
  }
  const collect = collector(out);
  const push = (node: GoNode, family: string, knob: Knob, where: string, value: Amount | undefined) => collect(lineOf(node), family, knob, where, value);
  const visit = (node: GoNode) => {
    if (node.type === 'const_spec' || node.type === 'var_spec') {
      const names = node.childrenForFieldName('name').filter((n): n is GoNode => !!n);
      const values = node.childForFieldName('value')?.namedChildren ?? [];
      names.forEach((name, i) => {
        const knob = knobOf(name.text);
        if (knob) push(name, `${goScope(node)}.${name.text}`, knob, name.text, goKnobValue(knob, name.text, values[i]));
      });
    } else if (node.type === 'short_var_declaration') {
      const left = node.childForFieldName('left')?.namedChildren ?? [];
      const right = node.childForFieldName('right')?.namedChildren ?? [];
      left.forEach((name, i) => {
        const knob = name && knobOf(name.text);
        if (knob && name) push(name, `${goScope(node)}.${name.text}`, knob, `${name.text} in ${goScope(node)}`, goKnobValue(knob, name.text, right[i]));
      });
    } else if (node.type === 'keyed_element') {
      const key = (node.childForFieldName('key') ?? node.namedChildren[0])?.text ?? '';
      const resource = /Resource(CPU|Memory)$/.exec(key) ?? /^"(cpu|memory)"$/.exec(key);
      // `Steps` is a retry count in wait.Backoff; elsewhere in Go the word is too common to read as one
      const knob = key === 'Steps' ? { kind: 'retries' as const, label: 'backoff steps' } : knobOf(key);
      // most keys are neither: their place in the literal (a walk up the tree) is not needed
      if (!resource && !knob) return;
      const value = (node.childForFieldName('value') ?? node.namedChildren[1])?.namedChildren[0] ?? undefined;
      const path = [...goKeyPath(node), key];
      if (resource && value?.type === 'call_expression' && calleeText(value).endsWith('MustParse')) {
        const arg = value.childForFieldName('arguments')?.namedChildren[0];
        const q = arg && /^["`]/.test(arg.text) ? parseQuantity(arg.text.slice(1, -1)) : undefined;
        const kind = resource[1]!.toLowerCase() as 'cpu' | 'memory';
        const side = path.some((k) => k.endsWith('Limits')) ? 'limit' : path.some((k) => k.endsWith('Requests')) ? 'request' : 'value';
        if (q) push(node, `${goScope(node)}.${path.join('.')}`, { kind, label: `${kind} ${side}` }, `${path.join('.')} in ${goScope(node)}`, { amount: q.nanos, shown: q.text });
        return;
      }
      if (knob && value) push(node, `${goScope(node)}.${path.join('.')}`, knob, `${path.join('.')} in ${goScope(node)}`, goKnobValue(knob, key, value));
    } else if (node.type === 'call_expression') {
      const callee = calleeText(node);
      const args = node.childForFieldName('arguments')?.namedChildren ?? [];
      const at = TIMEOUT_CALLS[callee];
      if (at !== undefined && args[at]) {
        push(node, `${goScope(node)}.${callee}`, { kind: 'timeout', label: `${callee} timeout` }, `${callee} in ${goScope(node)}`, goKnobValue({ kind: 'timeout', label: '' }, 'timeout', args[at]));
      }
      // command-line flag defaults: flag.Duration("sync-timeout", 30*time.Second, ...), fs.IntVar(&o.Retries, "max-retries", 3, ...)
      const flagAt = /(^|\.)(Duration|Int|Int32|Int64|Uint)(Var|VarP|P)?$/.test(callee) ? args.findIndex((a) => a?.type === 'interpreted_string_literal') : -1;
      if (flagAt !== -1 && args[flagAt + 1]) {
        const flag = args[flagAt]!.text.slice(1, -1);
        const knob = knobOf(flag.replaceAll('-', '_'));
        const value = callee.endsWith('P') ? args[flagAt + 2] : args[flagAt + 1];
        if (knob && value) push(node, `flag:${flag}`, knob, `flag --${flag}`, goKnobValue(knob, flag, value));
      }
      // Eventually(...).WithTimeout(d) / .Within(d)
      if ((callee.endsWith('.WithTimeout') || callee.endsWith('.Within')) && /(^|\.)(Eventually|Consistently)\(/.test(callee) && args[0]) {
        push(node, `${goScope(node)}.Eventually.WithTimeout`, { kind: 'timeout', label: 'Eventually timeout' }, `Eventually in ${goScope(node)}`, goKnobValue({ kind: 'timeout', label: '' }, 'timeout', args[0]));
      }
    }
  };
  for (const node of nodesOf(root, ['const_spec', 'var_spec', 'short_var_declaration', 'keyed_element', 'call_expression'])) visit(node);
  return out;
}

// ---------------------------------------------------------------------------------------------
// TypeScript / JavaScript: test timeouts, vi.setConfig / jest.setTimeout, object keys, constants.

const TEST_CALLS = new Set(['it', 'test', 'it.only', 'test.only', 'it.concurrent', 'test.concurrent', 'it.skip', 'test.skip']);

function tsAmount(expr: Expression | undefined, depth = 0): number | string | undefined {
  if (!expr || depth > 10) return undefined;
  if (TsNode.isNumericLiteral(expr)) return Number(expr.getText().replaceAll('_', ''));
  if (TsNode.isStringLiteral(expr) || TsNode.isNoSubstitutionTemplateLiteral(expr)) return expr.getLiteralText();
  if (TsNode.isParenthesizedExpression(expr)) return tsAmount(expr.getExpression(), depth + 1);
  if (TsNode.isBinaryExpression(expr) && expr.getOperatorToken().getText() === '*') {
    const a = tsAmount(expr.getLeft(), depth + 1);
    const b = tsAmount(expr.getRight(), depth + 1);
    return typeof a === 'number' && typeof b === 'number' ? a * b : undefined;
  }
  return undefined;
}

function tsKnobValue(knob: { kind: TuningKind }, name: string, expr: Expression | undefined) {
  const raw = tsAmount(expr);
  return raw === undefined ? undefined : knobValue(knob, name, raw, 'ms');
}

/** Property names from the outermost object literal down, and the declaration or call that holds it. */
function tsPropertyPath(node: TsNode): string[] {
  const path: string[] = [];
  for (let n: TsNode | undefined = node; n && path.length < 12; n = n.getParent()) {
    if (TsNode.isPropertyAssignment(n)) path.unshift(n.getName().replace(/^['"]|['"]$/g, ''));
    else if (TsNode.isVariableDeclaration(n)) {
      path.unshift(n.getName());
      break;
    } else if (TsNode.isCallExpression(n)) {
      path.unshift(`${n.getExpression().getText().slice(0, 60)}()`);
      break;
    }
  }
  return path;
}

/** The titles of the describe blocks and test around a call, for a test's identity. */
function testTitle(call: TsNode): string {
  const titles: string[] = [];
  for (let n: TsNode | undefined = call; n && titles.length < 10; n = n.getParent()) {
    if (!TsNode.isCallExpression(n)) continue;
    const first = n.getArguments()[0];
    if (first && (TsNode.isStringLiteral(first) || TsNode.isNoSubstitutionTemplateLiteral(first))) titles.unshift(first.getLiteralText());
  }
  return titles.join(' > ');
}

function tsValues(file: ParsedFile): TunedValue[] {
  const out: TunedValue[] = [];
  let source;
  try {
    source = file.ts();
  } catch {
    return out;
  }
  const collect = collector(out);
  const push = (node: TsNode, family: string, knob: Knob, where: string, value: Amount | undefined) => collect(node.getStartLineNumber(), family, knob, where, value);
  source.forEachDescendant((node) => {
    if (TsNode.isCallExpression(node)) {
      const callee = node.getExpression().getText();
      const args = node.getArguments();
      const title = args[0];
      if (TEST_CALLS.has(callee) && title && (TsNode.isStringLiteral(title) || TsNode.isNoSubstitutionTemplateLiteral(title))) {
        // it(name, { timeout }, fn) and it(name, fn, timeout); a test without either runs under the default
        const options = args.find((a) => TsNode.isObjectLiteralExpression(a));
        const option = options && TsNode.isObjectLiteralExpression(options) ? options.getProperty('timeout') : undefined;
        const expr = option && TsNode.isPropertyAssignment(option) ? option.getInitializer() : args.length >= 3 && !TsNode.isObjectLiteralExpression(args[2]!) ? (args[2] as Expression) : undefined;
        const raw = expr ? tsAmount(expr) : DEFAULT_TEST_TIMEOUT_MS;
        const value = typeof raw === 'number' ? durationValue(raw, 'timeout', 'ms') : undefined;
        if (value) {
          push(expr ?? node, `test:${testTitle(node)}`, { kind: 'timeout', label: 'test timeout' }, `test "${testTitle(node)}"`, {
            ...value,
            shown: expr ? value.shown : `${value.shown} (the vitest/jest default)`,
          });
        }
        return;
      }
      // vi.setConfig({ testTimeout }) and vitest.config's testTimeout are object keys, handled below
      if (callee === 'jest.setTimeout' && args[0]) {
        push(node, callee, { kind: 'timeout', label: 'test timeout' }, callee, tsKnobValue({ kind: 'timeout' }, 'timeout', args[0] as Expression));
        return;
      }
    } else if (TsNode.isPropertyAssignment(node)) {
      const name = node.getName().replace(/^['"]|['"]$/g, '');
      const init = node.getInitializer();
      const call = node.getParent()?.getParent();
      // a test's own `timeout` option is handled with the test, default included
      if (name === 'timeout' && call && TsNode.isCallExpression(call) && TEST_CALLS.has(call.getExpression().getText())) return;
      const path = tsPropertyPath(node);
      const parent = path[path.length - 2] ?? '';
      if ((name === 'cpu' || name === 'memory') && (parent === 'limits' || parent === 'requests')) {
        const raw = tsAmount(init);
        const q = raw === undefined ? undefined : parseQuantity(raw);
        if (q) push(node, path.join('.'), { kind: name, label: `${name} ${parent === 'limits' ? 'limit' : 'request'}` }, path.join('.'), { amount: q.nanos, shown: String(raw) });
        return;
      }
      const knob = knobOf(name);
      if (knob) push(node, path.join('.'), knob, path.join('.'), tsKnobValue(knob, name, init));
    } else if (TsNode.isVariableDeclaration(node)) {
      const name = node.getName();
      const knob = knobOf(name);
      const init = node.getInitializer();
      if (knob && init && !TsNode.isObjectLiteralExpression(init)) push(node, `const:${name}`, knob, name, tsKnobValue(knob, name, init));
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shell: `--timeout 5m`, `--timeout=5m`, `go test -timeout 10m`, `--retries 3`, in scripts,
// Makefile recipes and workflow steps. A command is matched by its text with the value left out.

const SHELL_FLAGS: Record<string, TuningKind> = { '--timeout': 'timeout', '-timeout': 'timeout', '--retries': 'retries', '--retry': 'retries', '--attempts': 'retries', '--max-retries': 'retries' };

function shellValues(file: ParsedFile): TunedValue[] {
  const out: TunedValue[] = [];
  const collect = collector(out);
  for (const command of file.shell().slice(0, 5_000)) {
    const words = command.words;
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!;
      const eq = word.indexOf('=');
      const flag = eq === -1 ? word : word.slice(0, eq);
      const kind = SHELL_FLAGS[flag];
      if (!kind) continue;
      const raw = eq === -1 ? words[i + 1] : word.slice(eq + 1);
      if (raw === undefined) continue;
      const value = kind === 'retries' ? countValue(raw) : durationValue(raw, 'timeout', 's');
      if (!value) continue;
      const shape = [...words.slice(0, i), flag, ...words.slice(i + (eq === -1 ? 2 : 1))].join(' ');
      collect(command.line, `${command.script}:${shape}`, { kind, label: `${flag} ${kind === 'retries' ? 'count' : 'value'}` }, `\`${words.slice(0, 3).join(' ')} ...\``, value);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function valuesOf(file: ParsedFile): TunedValue[] {
  switch (file.language) {
    case 'yaml':
      return [...yamlValues(file), ...shellValues(file)];
    case 'go':
      return goValues(file);
    case 'ts':
    case 'js':
      return tsValues(file);
    case 'shell':
      return shellValues(file);
    default:
      return [];
  }
}

function ratioOf(before: bigint, after: bigint): string | undefined {
  if (before <= 0n) return undefined;
  const r = Number((after * 10n) / before) / 10;
  return `${Number.isInteger(r) ? r : r.toFixed(1)}x`;
}

/** Families (ids without their occurrence index) whose count differs: their occurrences cannot be paired. */
function unpairable(base: TunedValue[], head: TunedValue[]): Set<string> {
  const count = (values: TunedValue[]) => {
    const m = new Map<string, number>();
    for (const v of values) {
      const family = v.id.replace(/#\d+$/, '');
      m.set(family, (m.get(family) ?? 0) + 1);
    }
    return m;
  };
  const a = count(base);
  const b = count(head);
  return new Set([...b.keys()].filter((k) => a.has(k) && a.get(k) !== b.get(k)));
}

/**
 * Every value the PR raises, in files it modifies. A file the PR adds has no previous values, so nothing
 * in it is "raised"; a value new to a modified file has no old one either, except a test's timeout, which
 * had the runner's default.
 */
export async function tuningChanges(ctx: Pick<CheckContext, 'changes' | 'parse' | 'checkBudget'>): Promise<TuningChange[]> {
  const changes: TuningChange[] = [];
  for (const change of ctx.changes.slice(0, 500)) {
    if (change.status !== 'modified' && change.status !== 'renamed') continue;
    ctx.checkBudget();
    const head = await ctx.parse(change.path, 'head');
    const base = await ctx.parse(change.previousPath ?? change.path, 'base');
    if (!head || !base || head.language !== base.language) continue;
    const before = valuesOf(base);
    const after = valuesOf(head);
    const skip = unpairable(before, after);
    const old = new Map(before.map((v) => [v.id, v]));
    for (const value of after) {
      const previous = old.get(value.id);
      if (!previous || previous.kind !== value.kind || skip.has(value.id.replace(/#\d+$/, ''))) continue;
      if (value.amount <= previous.amount) continue;
      const ratio = ratioOf(previous.amount, value.amount);
      changes.push({
        path: change.path,
        line: value.line,
        kind: value.kind,
        label: value.label,
        where: value.where,
        before: previous.shown,
        after: value.shown,
        ...(ratio ? { ratio } : {}),
      });
    }
  }
  return changes;
}

export function describeChange(c: TuningChange): string {
  return `${c.label} ${c.before} -> ${c.after}${c.ratio ? ` (${c.ratio})` : ''} in ${c.path} ${c.where}`;
}

const ADVICE: Record<TuningKind, string> = {
  memory: "find out what uses the memory first: a heap profile (`/debug/pprof/heap`), `OOMKilled` in the pod's last state, or the working-set metrics over time",
  cpu: 'find out where the time goes first: a CPU profile, or CPU throttling metrics (`container_cpu_cfs_throttled_periods_total`) for the operator',
  retries: 'find out why the attempts fail first: the error each attempt gets (logs, events) says whether retrying more can help',
  timeout: 'find out what the operation waits for first: logs or a trace of a slow run say whether it is slow or never finishes, and a wait on that condition or event beats a longer timeout',
  probe: 'find out why the probe fails first: the probe failure events (`kubectl describe pod`) and the container log at startup',
};

export const symptomaticTuning: Check = {
  id: 'symptomatic-tuning',
  title: 'Resources, retries or timeouts raised without a root cause',
  docs: {
    summary:
      'Flags a PR that raises CPU or memory requests or limits, retry counts, timeouts or probe delays while its title, description and commits give no root cause backed by evidence. Raising a limit makes a symptom go away for a while; the leak, the contention or the missed event that caused it stays.',
    details: [
      'Values are compared structurally between the base and the head: YAML by path through each document (manifests matched by kind and name, list items by their `name`), Go by the enclosing declaration and the composite-literal keys (`Steps`, `TimeoutSeconds`, `corev1.ResourceMemory: resource.MustParse(...)`), constants and variables named for retries or timeouts, `context.WithTimeout`, Gomega `Eventually`/`Consistently` and `wait.Poll*` timeouts; TypeScript by object key path, constant name and test title; shell by the command with the `--timeout`/`--retries` value left out. Quantities are compared exactly; durations accept Go expressions (`30*time.Second`), duration strings ("30s") and numbers in the unit the key implies (`timeoutSeconds`, milliseconds in TypeScript).',
      'It stays silent when the value is not raised (a decrease, the same value written differently), when the file is new (a brand-new manifest raises nothing), when the value is new with no old one, and when the PR text holds evidence: a block of observed output, an error quoted with where it was seen, a link to a CI run, issue or logs, a chaos result, or a measurement ("the heap profile shows 700Mi in the informer cache").',
      'One exception to "new value, no old one": a vitest or jest test that gains a `timeout` option had the runner\'s 5 s default before, so `it(name, { timeout: 60_000 }, fn)` is a raise from 5 s to 60 s. Occurrences of an unnamed knob (two `context.WithTimeout` calls in one function) are paired by position only when the base and head have the same number of them.',
    ].join('\n\n'),
    bad: {
      language: 'yaml',
      code: '# PR "Operator is slow to reconcile; give it more CPU and memory"\noperator:\n  resources:\n    limits:\n      cpu: "1"       # was 200m\n      memory: 1Gi    # was 256Mi',
      note: 'No profile, no metrics: the slowness may be a hot loop or a leak that will use the new limit too.',
    },
    good: {
      language: 'yaml',
      code: '# PR body: "The heap profile shows 700Mi retained by the informer cache for 40k Secrets (profile attached);\n# the cache is now limited to our label and the limit covers the measured peak."\noperator:\n  resources:\n    limits:\n      memory: 1Gi',
      note: 'The raise rests on a measurement, and the PR fixes the cause as well.',
    },
  },
  defaultSeverity: 'error',
  languages: ['yaml', 'go', 'ts', 'js', 'shell'],
  // it pairs each modified file's values at base and head, through ctx.parse
  changesOnly: true,
  async run(ctx) {
    const changes = await tuningChanges(ctx);
    if (changes.length === 0) return;
    // someone looked at the runtime: the raise may be right, and the evidence is there to judge it by
    if (textEvidence(prText(ctx.pr)).length > 0) return;
    for (const c of changes) {
      ctx.report({
        path: c.path,
        line: c.line,
        message: `${describeChange(c)}, and the PR gives no root cause backed by evidence. Raising it hides the symptom; ${ADVICE[c.kind]}. Then fix the cause, or put the evidence that this value is what the workload needs in the PR description.`,
        evidence: `${c.before} -> ${c.after}`,
        key: `${c.path} ${c.where} ${c.label}`,
      });
    }
  },
};
