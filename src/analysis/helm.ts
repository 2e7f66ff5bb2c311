// Renders the simple, common forms of Helm chart templates against the chart's values.yaml, keeping for
// every output line the template and values.yaml lines it came from, so a finding can sit on the values
// line a PR changed. What cannot be evaluated renders as UNRESOLVED (a value nobody knows); where the
// document's shape depends on it (an `if` on something unknown), the whole file is given up, never guessed.

import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, parseDocument, visit, type Document, type Node as YamlNode } from 'yaml';
import { UNRESOLVED, type ManifestDocument, type Origin } from './workloads.js';

/** The template cannot be rendered without guessing; the message says what stopped it. */
export class Undecidable extends Error {}

export interface RenderedLine {
  text: string;
  origins: Origin[];
}

export interface RenderedTemplate {
  text: string;
  /** per output line (0-based), the lines it came from: values.yaml lines first, then template lines */
  lineOrigins: Origin[][];
}

const MAX_OUTPUT_LINES = 20_000;
const MAX_ACTIONS = 5_000;
const MAX_DEPTH = 40;
const MAX_RANGE = 500;
const MAX_VALUES_BYTES = 512_000;
const MAX_STEPS = 200_000;

// ---- lexing: text and {{ actions }}, with the {{- and -}} trim markers applied as Go applies them ----

type Token = { t: 'text'; text: string; line: number } | { t: 'action'; body: string; line: number };

function countNewlines(s: string, from = 0, to = s.length): number {
  let n = 0;
  for (let i = s.indexOf('\n', from); i !== -1 && i < to; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

function lex(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open === -1 ? src.length : open);
    let textLine = line;
    line += countNewlines(text);
    if (trimNext) {
      let k = 0;
      while (k < text.length && isSpace(text[k])) k++;
      textLine += countNewlines(text, 0, k);
      text = text.slice(k);
      trimNext = false;
    }
    if (open === -1) {
      if (text) tokens.push({ t: 'text', text, line: textLine });
      break;
    }
    let start = open + 2;
    const trimLeft = src[start] === '-' && isSpace(src[start + 1]);
    if (trimLeft) {
      start += 2;
      text = text.trimEnd();
    }
    if (text) tokens.push({ t: 'text', text, line: textLine });
    let close: number;
    if (src.startsWith('/*', skipSpaces(src, start))) {
      const end = src.indexOf('*/', start);
      close = end === -1 ? -1 : src.indexOf('}}', end);
    } else close = src.indexOf('}}', start);
    if (close === -1) throw new Undecidable(`line ${line}: an action is not closed`);
    let body = src.slice(start, close);
    if (body.endsWith('-') && isSpace(body[body.length - 2])) {
      body = body.slice(0, -1);
      trimNext = true;
    }
    tokens.push({ t: 'action', body: body.trim(), line });
    line += countNewlines(src, open, close);
    i = close + 2;
    if (tokens.length > MAX_ACTIONS * 2) throw new Undecidable('too many template actions');
  }
  return tokens;
}

function skipSpaces(s: string, i: number): number {
  while (isSpace(s[i])) i++;
  return i;
}

// ---- parsing: actions into if / with / range / define blocks ----

type Item =
  | { t: 'text'; text: string; line: number }
  | { t: 'out'; pipe: string; line: number }
  | { t: 'assign'; name: string; pipe: string; line: number }
  | { t: 'if' | 'with' | 'range'; pipe: string; line: number; then: Item[]; otherwise: Item[] };

function firstWord(body: string): string {
  let end = 0;
  while (end < body.length && !isSpace(body[end]) && body[end] !== '(') end++;
  return body.slice(0, end);
}

class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}

  /** Items up to an `else`/`end` (returned as `stop`) or the end of input. */
  list(depth: number): { items: Item[]; stop?: { body: string; line: number } } {
    if (depth > MAX_DEPTH) throw new Undecidable('blocks nested too deep');
    const items: Item[] = [];
    while (this.at < this.tokens.length) {
      const token = this.tokens[this.at++]!;
      if (token.t === 'text') {
        items.push(token);
        continue;
      }
      const body = token.body;
      if (body.startsWith('/*')) continue;
      const word = firstWord(body);
      if (word === 'end' || word === 'else') return { items, stop: { body, line: token.line } };
      if (word === 'if' || word === 'with' || word === 'range') {
        items.push(this.block(word, body.slice(word.length).trim(), token.line, depth));
      } else if (word === 'define' || word === 'block') {
        // A definition renders nothing here; a `block` renders a template we do not evaluate.
        this.block('if', 'true', token.line, depth);
        if (word === 'block') items.push({ t: 'out', pipe: 'include', line: token.line });
      } else if (word.startsWith('$') && (body.includes(':=') || /^\$\w*\s*=[^=]/.test(body))) {
        const op = body.indexOf('=');
        const name = body.slice(0, op).replace(':', '').trim();
        if (name.includes(',')) throw new Undecidable(`line ${token.line}: "${body.slice(0, 60)}" is not evaluated`);
        items.push({ t: 'assign', name, pipe: body.slice(op + 1).trim(), line: token.line });
      } else {
        items.push({ t: 'out', pipe: body, line: token.line });
      }
    }
    return { items };
  }

  private block(kind: 'if' | 'with' | 'range', pipe: string, line: number, depth: number): Item {
    const then = this.list(depth + 1);
    if (!then.stop) throw new Undecidable(`line ${line}: "${kind}" has no end`);
    let otherwise: Item[] = [];
    const stop = then.stop.body;
    if (stop.startsWith('else')) {
      const rest = stop.slice(4).trim();
      const word = firstWord(rest);
      if (word === 'if' || word === 'with') {
        // `else if` shares the `end` of the block it continues.
        otherwise = [this.block(word, rest.slice(word.length).trim(), then.stop.line, depth + 1)];
      } else {
        const tail = this.list(depth + 1);
        if (!tail.stop || firstWord(tail.stop.body) !== 'end') throw new Undecidable(`line ${line}: "${kind}" has no end`);
        otherwise = tail.items;
      }
    }
    return { t: kind, pipe, line, then: then.items, otherwise };
  }
}

// ---- values and evaluation ----

type Value =
  | { k: 'root' }
  | { k: 'data'; value: unknown; node?: YamlNode; origin?: Origin }
  | { k: 'text'; lines: RenderedLine[] }
  | { k: 'unknown' };

const UNKNOWN: Value = { k: 'unknown' };
const data = (value: unknown): Value => ({ k: 'data', value });

interface Scope {
  dot: Value;
  vars: Map<string, Value>;
}

type Operand =
  | { t: 'field'; base: 'dot' | 'root' | 'var'; name?: string; path: string[] }
  | { t: 'literal'; value: unknown }
  | { t: 'ident'; name: string }
  | { t: 'group'; commands: Operand[][] };

/** Split a pipeline into commands of operands; unreadable input gives undefined. */
function parsePipeline(src: string): Operand[][] | undefined {
  let i = 0;
  const group = (depth: number): Operand[][] | undefined => {
    if (depth > 10) return undefined;
    const commands: Operand[][] = [[]];
    while (i < src.length) {
      const c = src[i]!;
      if (isSpace(c)) {
        i++;
      } else if (c === '|') {
        i++;
        commands.push([]);
      } else if (c === ')') {
        if (depth === 0) return undefined;
        i++;
        return commands;
      } else if (c === '(') {
        i++;
        const inner = group(depth + 1);
        if (!inner) return undefined;
        commands[commands.length - 1]!.push({ t: 'group', commands: inner });
      } else if (c === '"' || c === '`') {
        const end = c === '`' ? src.indexOf('`', i + 1) : closingQuote(src, i + 1);
        if (end === -1) return undefined;
        const raw = src.slice(i, end + 1);
        let value: string;
        try {
          value = c === '`' ? raw.slice(1, -1) : (JSON.parse(raw) as string);
        } catch {
          return undefined;
        }
        commands[commands.length - 1]!.push({ t: 'literal', value });
        i = end + 1;
      } else if (c === '.' || c === '$') {
        let base: 'dot' | 'root' | 'var' = 'dot';
        let name: string | undefined;
        if (c === '$') {
          i++;
          const start = i;
          while (i < src.length && isWordChar(src[i]!)) i++;
          name = src.slice(start, i);
          base = name === '' ? 'root' : 'var';
        }
        const path: string[] = [];
        while (src[i] === '.') {
          i++;
          const start = i;
          while (i < src.length && isWordChar(src[i]!)) i++;
          if (i === start) {
            if (path.length > 0 || base !== 'dot') return undefined;
            break;
          }
          path.push(src.slice(start, i));
        }
        commands[commands.length - 1]!.push({ t: 'field', base, ...(name ? { name } : {}), path });
      } else if ((c >= '0' && c <= '9') || (c === '-' && src[i + 1]! >= '0' && src[i + 1]! <= '9')) {
        const start = i++;
        while (i < src.length && ((src[i]! >= '0' && src[i]! <= '9') || src[i] === '.')) i++;
        const n = Number(src.slice(start, i));
        if (!Number.isFinite(n)) return undefined;
        commands[commands.length - 1]!.push({ t: 'literal', value: n });
      } else if (isWordChar(c)) {
        const start = i;
        while (i < src.length && isWordChar(src[i]!)) i++;
        const word = src.slice(start, i);
        const literal = word === 'true' ? true : word === 'false' ? false : word === 'nil' ? null : undefined;
        commands[commands.length - 1]!.push(literal === undefined && word !== 'nil' ? { t: 'ident', name: word } : { t: 'literal', value: literal });
      } else {
        return undefined;
      }
    }
    return depth === 0 ? commands : undefined;
  };
  const commands = group(0);
  return commands && commands.every((c) => c.length > 0) ? commands : undefined;
}

function isWordChar(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_';
}

function closingQuote(src: string, from: number): number {
  for (let i = from; i < src.length; i++) {
    if (src[i] === '\\') i++;
    else if (src[i] === '"') return i;
  }
  return -1;
}

/** Go template truthiness; undefined when the value is unknown. */
function truthy(v: Value): boolean | undefined {
  switch (v.k) {
    case 'unknown':
      return undefined;
    case 'root':
      return true;
    case 'text':
      return v.lines.some((l) => l.text !== '');
    case 'data': {
      // A collection's size from its node: converting a large one to count its keys costs more than the render.
      if (isMap(v.node) || isSeq(v.node)) return v.node.items.length > 0;
      const x = v.value;
      if (x === null || x === undefined || x === false || x === 0 || x === '') return false;
      if (Array.isArray(x)) return x.length > 0;
      if (typeof x === 'object') return Object.keys(x).length > 0;
      return true;
    }
  }
}

class Renderer {
  private readonly out: RenderedLine[] = [{ text: '', origins: [] }];
  private readonly converted = new WeakMap<YamlNode, unknown>();
  private readonly keys = new WeakMap<YamlNode, Map<string, YamlNode | undefined>>();
  private steps = 0;
  private readonly valuesRoot: Value;

  constructor(
    private readonly templatePath: string,
    private readonly values: ChartValues | undefined,
  ) {
    this.valuesRoot = values ? this.nodeValue(values.doc.contents as YamlNode | null) : { k: 'data', value: {} };
  }

  render(items: Item[]): RenderedTemplate {
    this.items(items, { dot: { k: 'root' }, vars: new Map() }, 0);
    const template = this.templatePath;
    const lineOrigins = this.out.map((l) => {
      const unique = [...new Map(l.origins.map((o) => [`${o.path}:${o.line}`, o])).values()];
      return [...unique.filter((o) => o.path !== template), ...unique.filter((o) => o.path === template)];
    });
    return { text: this.out.map((l) => l.text).join('\n'), lineOrigins };
  }

  private nodeValue(node: YamlNode | null | undefined): Value {
    let n: unknown = node;
    if (isAlias(n)) n = n.resolve(this.values!.doc);
    if (n === null || n === undefined) return data(null);
    const origin = this.originOf(n as YamlNode);
    if (isScalar(n)) return { k: 'data', value: n.value, node: n, ...(origin ? { origin } : {}) };
    // Converted once per node: templates look the same values up many times.
    let value = this.converted.get(n as YamlNode);
    if (value === undefined) {
      try {
        value = (n as YamlNode).toJSON() as unknown;
      } catch {
        throw new Undecidable('values.yaml has an alias without its anchor');
      }
      this.converted.set(n as YamlNode, value);
    }
    return { k: 'data', value, node: n as YamlNode, ...(origin ? { origin } : {}) };
  }

  private originOf(node: YamlNode | undefined): Origin | undefined {
    if (!node?.range || !this.values) return undefined;
    return { path: this.values.path, line: this.values.lineCounter.linePos(node.range[0]).line };
  }

  private append(lines: RenderedLine[], extra: Origin[]): void {
    lines.forEach((line, i) => {
      if (i > 0) {
        if (this.out.length >= MAX_OUTPUT_LINES) throw new Undecidable('renders to too many lines');
        this.out.push({ text: '', origins: [] });
      }
      const last = this.out[this.out.length - 1]!;
      last.text += line.text;
      if (line.text.trim() !== '') last.origins.push(...line.origins, ...extra);
    });
  }

  private items(items: Item[], scope: Scope, depth: number): void {
    if (depth > MAX_DEPTH) throw new Undecidable('blocks nested too deep');
    const here = (line: number): Origin => ({ path: this.templatePath, line });
    for (const item of items) {
      // Nested ranges multiply: the step count bounds the work whatever the output.
      if (++this.steps > MAX_STEPS) throw new Undecidable(`takes more than ${MAX_STEPS} steps to render`);
      switch (item.t) {
        case 'text': {
          const parts = item.text.split('\n');
          this.append(parts.map((text, i) => ({ text, origins: [here(item.line + i)] })), []);
          break;
        }
        case 'out':
          this.append(this.toLines(this.pipeline(item.pipe, scope)), [here(item.line)]);
          break;
        case 'assign':
          scope.vars.set(item.name, this.pipeline(item.pipe, scope));
          break;
        case 'if':
        case 'with': {
          const v = this.pipeline(item.pipe, scope);
          const yes = truthy(v);
          if (yes === undefined) throw new Undecidable(`line ${item.line}: cannot evaluate "${item.t} ${item.pipe.slice(0, 80)}"`);
          // The values line that decided the block belongs to the line before it, so that a PR emptying
          // `resources:` in values.yaml still has a changed line inside the container it affects.
          if (v.k === 'data' && v.origin) this.out[this.out.length - 1]!.origins.push(v.origin);
          const inner = item.t === 'with' && yes ? { dot: v, vars: scope.vars } : scope;
          this.items(yes ? item.then : item.otherwise, inner, depth + 1);
          break;
        }
        case 'range': {
          const v = this.pipeline(item.pipe, scope);
          if (v.k !== 'data' || (v.value !== null && v.value !== undefined && typeof v.value !== 'object')) {
            throw new Undecidable(`line ${item.line}: cannot evaluate "range ${item.pipe.slice(0, 80)}"`);
          }
          const elements = this.elements(v);
          if (elements.length > MAX_RANGE) throw new Undecidable(`line ${item.line}: range over ${elements.length} items`);
          this.steps += elements.length;
          if (elements.length === 0) this.items(item.otherwise, scope, depth + 1);
          for (const element of elements) this.items(item.then, { dot: element, vars: scope.vars }, depth + 1);
          break;
        }
      }
    }
  }

  private elements(v: Value & { k: 'data' }): Value[] {
    const node = isAlias(v.node) ? (v.node.resolve(this.values!.doc) as YamlNode | undefined) : v.node;
    if (isSeq(node)) return node.items.map((item) => this.nodeValue(item as YamlNode));
    if (isMap(node)) {
      // Go ranges over a map in key order.
      const pairs = [...node.items].sort((a, b) => (String(keyOf(a.key)) < String(keyOf(b.key)) ? -1 : 1));
      return pairs.map((p) => this.nodeValue(p.value as YamlNode));
    }
    if (Array.isArray(v.value)) return v.value.map(data);
    return [];
  }

  private pipeline(src: string, scope: Scope): Value {
    const commands = parsePipeline(src);
    if (!commands) return UNKNOWN;
    return this.run(commands, scope);
  }

  private run(commands: Operand[][], scope: Scope): Value {
    let piped: Value | undefined;
    for (const command of commands) {
      const [head, ...rest] = command;
      if (head!.t === 'ident') {
        const args = rest.map((o) => this.operand(o, scope));
        if (piped) args.push(piped);
        piped = this.call(head!.name, args);
      } else {
        if (rest.length > 0 || piped) return UNKNOWN;
        piped = this.operand(head!, scope);
      }
    }
    return piped ?? UNKNOWN;
  }

  private operand(o: Operand, scope: Scope): Value {
    switch (o.t) {
      case 'literal':
        return data(o.value);
      case 'ident':
        return this.call(o.name, []);
      case 'group':
        return this.run(o.commands, scope);
      case 'field': {
        let v: Value = o.base === 'dot' ? scope.dot : o.base === 'root' ? { k: 'root' } : scope.vars.get(o.name!) ?? UNKNOWN;
        for (const key of o.path) v = this.field(v, key);
        return v;
      }
    }
  }

  private field(v: Value, key: string): Value {
    if (v.k === 'root') return key === 'Values' ? this.valuesRoot : UNKNOWN;
    if (v.k !== 'data') return UNKNOWN;
    const node = isAlias(v.node) ? (v.node.resolve(this.values!.doc) as YamlNode | undefined) : v.node;
    if (isMap(node)) {
      let index = this.keys.get(node);
      if (!index) {
        index = new Map();
        // The first of two equal keys wins, as in a scan.
        for (const pair of node.items) {
          const name = String(keyOf(pair.key));
          if (!index.has(name)) index.set(name, pair.value as YamlNode);
        }
        this.keys.set(node, index);
      }
      return index.has(key) ? this.nodeValue(index.get(key)) : data(undefined);
    }
    if (v.value !== null && typeof v.value === 'object' && !Array.isArray(v.value)) {
      return data((v.value as Record<string, unknown>)[key]);
    }
    // Helm fails to render a field of nothing; the chart is broken, which is not this check's business.
    throw new Undecidable(`.${key} of a value that has no fields`);
  }

  private call(name: string, args: Value[]): Value {
    const known = args.every((a) => a.k !== 'unknown');
    const last = args[args.length - 1];
    switch (name) {
      case 'toYaml':
        return last && known ? { k: 'text', lines: this.yamlLines(last) } : UNKNOWN;
      case 'nindent':
      case 'indent': {
        const n = args[0]?.k === 'data' ? Number(args[0].value) : NaN;
        if (!Number.isInteger(n) || n < 0 || n > 200 || !last || args.length !== 2) return UNKNOWN;
        const pad = ' '.repeat(n);
        // An unknown block (an `include` of labels, say) most often holds map entries beside others written
        // out: as an entry it keeps the document parseable, and readers treat a map holding it as unknown.
        const block = last.k === 'unknown' ? [{ text: `${UNRESOLVED}: ${UNRESOLVED}`, origins: [] }] : this.toLines(last);
        const lines = block.map((l) => ({ ...l, text: pad + l.text }));
        return { k: 'text', lines: name === 'nindent' ? [{ text: '', origins: [] }, ...lines] : lines };
      }
      case 'default':
        if (args.length !== 2) return UNKNOWN;
        if (args[1]!.k === 'unknown') return UNKNOWN;
        return truthy(args[1]!) ? args[1]! : args[0]!;
      case 'required':
        return args.length === 2 && truthy(args[1]!) === true ? args[1]! : UNKNOWN;
      case 'quote':
      case 'squote': {
        if (!known || !last) return UNKNOWN;
        const q = name === 'quote' ? '"' : "'";
        const lines = this.toLines(last);
        return lines.length === 1 ? { k: 'text', lines: [{ text: q + lines[0]!.text + q, origins: lines[0]!.origins }] } : UNKNOWN;
      }
      case 'int':
      case 'int64':
      case 'float64': {
        if (!last || last.k !== 'data' || !known) return UNKNOWN;
        const n = Number(last.value ?? 0);
        if (!Number.isFinite(n)) return UNKNOWN;
        return { ...last, value: name === 'float64' ? n : Math.trunc(n) };
      }
      case 'toString':
      case 'trim': {
        if (!last || !known) return UNKNOWN;
        const lines = [...this.toLines(last)];
        if (name === 'trim') {
          // Whitespace lines at either end go with the spaces, as strings.TrimSpace takes them.
          while (lines.length > 1 && lines[0]!.text.trim() === '') lines.shift();
          while (lines.length > 1 && lines[lines.length - 1]!.text.trim() === '') lines.pop();
          lines[0] = { ...lines[0]!, text: lines[0]!.text.trimStart() };
          lines[lines.length - 1] = { ...lines[lines.length - 1]!, text: lines[lines.length - 1]!.text.trimEnd() };
        }
        return { k: 'text', lines };
      }
      case 'not':
      case 'empty': {
        const t = last ? truthy(last) : undefined;
        return t === undefined || args.length !== 1 ? UNKNOWN : data(!t);
      }
      case 'and':
      case 'or': {
        if (!known || args.length === 0) return UNKNOWN;
        const hit = args.find((a) => truthy(a) === (name === 'or'));
        return hit ?? args[args.length - 1]!;
      }
      case 'eq':
      case 'ne': {
        if (!known || args.length !== 2 || args.some((a) => a.k !== 'data' || (typeof a.value === 'object' && a.value !== null))) return UNKNOWN;
        const same = (args[0] as { value: unknown }).value === (args[1] as { value: unknown }).value;
        return data(name === 'eq' ? same : !same);
      }
      case 'hasKey': {
        const [map, key] = args;
        if (!known || map?.k !== 'data' || key?.k !== 'data' || typeof map.value !== 'object' || map.value === null) return UNKNOWN;
        return data(Object.prototype.hasOwnProperty.call(map.value, String(key.value)));
      }
      default:
        // include, template, tpl, printf, lookup, ...: not evaluated here.
        return UNKNOWN;
    }
  }

  /** How a value prints inline: a scalar as Go prints it; a map or list would print as Go's map[...], so it is unknown. */
  private toLines(v: Value): RenderedLine[] {
    switch (v.k) {
      case 'text':
        return v.lines;
      case 'unknown':
      case 'root':
        return [{ text: UNRESOLVED, origins: [] }];
      case 'data': {
        const x = v.value;
        const origins = v.origin ? [v.origin] : [];
        if (x === null || x === undefined) return [{ text: '', origins }];
        if (typeof x === 'object') return [{ text: UNRESOLVED, origins }];
        return String(x)
          .split('\n')
          .map((text) => ({ text, origins }));
      }
    }
  }

  /** toYaml: one output line per entry, each carrying the values.yaml line it came from. */
  private yamlLines(v: Value): RenderedLine[] {
    if (v.k === 'text') return v.lines;
    if (v.k !== 'data') return [{ text: UNRESOLVED, origins: [] }];
    if (!v.node) return [{ text: scalarYaml(v.value ?? null), origins: [] }];
    const lines: RenderedLine[] = [];
    this.emit(v.node, lines, 0);
    return lines;
  }

  private emit(raw: unknown, lines: RenderedLine[], depth: number): void {
    if (depth > MAX_DEPTH || lines.length > MAX_OUTPUT_LINES) throw new Undecidable('values too deep or too large to render');
    const node = isAlias(raw) ? (raw.resolve(this.values!.doc) as YamlNode | undefined) : (raw as YamlNode | undefined | null);
    const origins = (n: unknown) => {
      const o = this.originOf(n as YamlNode);
      return o ? [o] : [];
    };
    if (isMap(node)) {
      if (node.items.length === 0) lines.push({ text: '{}', origins: origins(node) });
      for (const pair of node.items) {
        const key = keyYaml(keyOf(pair.key));
        const value = isAlias(pair.value) ? (pair.value.resolve(this.values!.doc) as YamlNode | undefined) : (pair.value as YamlNode | null);
        if ((isMap(value) && value.items.length > 0) || (isSeq(value) && value.items.length > 0)) {
          lines.push({ text: `${key}:`, origins: origins(pair.key) });
          const start = lines.length;
          this.emit(value, lines, depth + 1);
          for (let i = start; i < lines.length; i++) lines[i] = { ...lines[i]!, text: `  ${lines[i]!.text}` };
        } else {
          const inner: RenderedLine[] = [];
          this.emit(value, inner, depth + 1);
          lines.push({ text: `${key}: ${inner[0]?.text ?? 'null'}`, origins: [...origins(pair.key), ...(inner[0]?.origins ?? [])] });
        }
      }
    } else if (isSeq(node)) {
      if (node.items.length === 0) lines.push({ text: '[]', origins: origins(node) });
      for (const item of node.items) {
        const start = lines.length;
        this.emit(item, lines, depth + 1);
        for (let i = start; i < lines.length; i++) lines[i] = { ...lines[i]!, text: `${i === start ? '- ' : '  '}${lines[i]!.text}` };
      }
    } else if (isScalar(node)) {
      lines.push({ text: scalarYaml(node.value), origins: origins(node) });
    } else {
      lines.push({ text: 'null', origins: [] });
    }
  }
}

function keyOf(key: unknown): unknown {
  return isScalar(key) ? key.value : key;
}

function keyYaml(key: unknown): string {
  const s = String(key);
  return /^[A-Za-z0-9_./-]+$/.test(s) && !/^[0-9.+-]/.test(s) ? s : JSON.stringify(s);
}

function scalarYaml(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
  if (typeof value === 'boolean') return String(value);
  return JSON.stringify(String(value));
}

/** A chart's values.yaml, parsed once. */
export interface ChartValues {
  doc: Document;
  lineCounter: LineCounter;
  path: string;
}

/** Parse a chart's values.yaml; undefined when it does not parse (Helm would refuse the chart). */
export function parseValues(text: string, path: string): ChartValues | undefined {
  // Larger than any chart's values we know of (kube-prometheus-stack's is about 200 kB); parsing more costs seconds.
  if (text.length > MAX_VALUES_BYTES) return undefined;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, logLevel: 'silent', uniqueKeys: false });
  let aliases = 0;
  visit(doc, { Alias: () => (++aliases > 100 ? visit.BREAK : undefined) });
  // Many aliases can expand into a huge rendering: not worth the risk on PR input.
  return doc.errors.length > 0 || aliases > 100 ? undefined : { doc, lineCounter, path };
}

/**
 * Render one chart template. Throws Undecidable when its output depends on something not evaluated
 * here; values nobody can know (include, .Release, tpl) render as UNRESOLVED.
 */
export function renderTemplate(template: string, templatePath: string, values: ChartValues | undefined): RenderedTemplate {
  const items = new Parser(lex(template)).list(0);
  if (items.stop) throw new Undecidable(`line ${items.stop.line}: "${items.stop.body.slice(0, 40)}" without a block`);
  return new Renderer(templatePath, values).render(items.items);
}

/** values.yaml per chart root, parsed once per revision; null when it does not parse. */
export type ChartCache = Map<string, ChartValues | null | undefined>;

export type ChartRendering = (RenderedTemplate | { undecidable: string }) & { valuesPath?: string };

/**
 * Render a template file of a chart (the nearest directory above its `templates/` with a Chart.yaml)
 * against that chart's values.yaml. `read` reads at the revision being analysed.
 */
export async function renderChartFile(
  read: (path: string) => Promise<string | undefined>,
  path: string,
  text: string,
  charts: ChartCache,
): Promise<ChartRendering> {
  let root: string | undefined;
  for (let at = path.lastIndexOf('templates/'); at !== -1; at = at === 0 ? -1 : path.lastIndexOf('templates/', at - 1)) {
    if (at > 0 && path[at - 1] !== '/') continue;
    const candidate = at === 0 ? '' : path.slice(0, at - 1);
    if ((await read(candidate === '' ? 'Chart.yaml' : `${candidate}/Chart.yaml`)) !== undefined) {
      root = candidate;
      break;
    }
  }
  if (root === undefined) return { undecidable: "has template expressions but is not in a chart's templates/ directory" };
  if (path.slice(path.lastIndexOf('/') + 1).startsWith('_')) return { text: '', lineOrigins: [] };
  const valuesPath = root === '' ? 'values.yaml' : `${root}/values.yaml`;
  if (!charts.has(root)) {
    const valuesText = await read(valuesPath);
    charts.set(root, valuesText === undefined ? undefined : (parseValues(valuesText, valuesPath) ?? null));
  }
  const values = charts.get(root);
  if (values === null) return { undecidable: `${valuesPath} does not parse, is over ${MAX_VALUES_BYTES / 1000} kB, or has too many aliases`, valuesPath };
  try {
    return { ...renderTemplate(text, path, values), ...(values ? { valuesPath } : {}) };
  } catch (error) {
    if (error instanceof Undecidable) return { undecidable: `not evaluated: ${error.message}`, ...(values ? { valuesPath } : {}) };
    throw error;
  }
}

/** The YAML documents of a rendering, each mapping its lines back to the template and values lines. */
export function parseRenderedManifests(rendered: RenderedTemplate, path: string): ManifestDocument[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(rendered.text, { lineCounter, logLevel: 'silent', uniqueKeys: false }) as Document[];
  return [...docs].map((doc, index) => ({ doc, lineCounter, path, index, originsAt: (line: number) => rendered.lineOrigins[line - 1] ?? [] }));
}
