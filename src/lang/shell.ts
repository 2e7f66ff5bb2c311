// Shell front-end: splits scripts into simple commands, line by line, with quotes, comments,
// continuations and here-documents handled. One pass over the text, no regular expressions
// that can backtrack: the input comes from pull requests.

import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node as YamlNode } from 'yaml';
import type { ShellCommand } from '../engine/types.js';

/** Words that start a compound command or a pipeline modifier and are not the command itself. */
const PREFIX_KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', 'time', 'exec', '{', 'command']);

interface Builder {
  words: string[];
  word: string;
  wordStarted: boolean;
  raw: string;
  line: number;
  endLine: number;
}

/**
 * Split a script into simple commands. `firstLine` is the file line of the script's first line;
 * `lineMap`, when given, maps a script line index to its file line (for scripts assembled from pieces).
 */
export function splitShell(script: string, firstLine = 1, name = '', lineMap?: number[]): ShellCommand[] {
  const commands: ShellCommand[] = [];
  const fileLine = (index: number) => lineMap?.[index] ?? firstLine + index;
  let row = 0;
  let b: Builder = { words: [], word: '', wordStarted: false, raw: '', line: fileLine(0), endLine: fileLine(0) };
  const heredocs: { delimiter: string; stripTabs: boolean }[] = [];
  let quote: '' | "'" | '"' = '';
  let depth = 0; // nesting of $( ... ) and ` ... ` inside a word

  const endWord = () => {
    if (b.wordStarted) b.words.push(b.word);
    b.word = '';
    b.wordStarted = false;
  };
  const endCommand = () => {
    endWord();
    while (b.words.length > 0 && PREFIX_KEYWORDS.has(b.words[0]!)) b.words.shift();
    // leading assignments (FOO=bar cmd) are not the command
    while (b.words.length > 1 && isAssignment(b.words[0]!)) b.words.shift();
    if (b.words.length > 0) {
      commands.push({ words: b.words, text: b.raw.trim(), line: b.line, endLine: b.endLine, script: name, index: commands.length });
    }
    b = { words: [], word: '', wordStarted: false, raw: '', line: fileLine(row), endLine: fileLine(row) };
  };
  const addChar = (c: string) => {
    if (!b.wordStarted && b.words.length === 0 && b.raw.trim() === '') b.line = fileLine(row);
    b.word += c;
    b.wordStarted = true;
    b.raw += c;
    b.endLine = fileLine(row);
  };

  const n = script.length;
  for (let i = 0; i < n; i++) {
    const c = script[i]!;
    if (quote === "'") {
      if (c === "'") {
        quote = '';
        b.raw += c;
      } else addChar(c);
      if (c === '\n') row++;
      continue;
    }
    if (quote === '"') {
      if (c === '\\' && i + 1 < n && '"\\$`'.includes(script[i + 1]!)) {
        // the word has the character, the command's text keeps what was written
        b.raw += c;
        addChar(script[++i]!);
      } else if (c === '"') {
        quote = '';
        b.raw += c;
      } else {
        if (c === '\n') row++;
        addChar(c);
      }
      continue;
    }
    if (c === '\\' && script[i + 1] === '\n') {
      i++;
      row++;
      b.raw += ' ';
      continue;
    }
    if (c === '\\' && i + 1 < n) {
      b.raw += c;
      addChar(script[++i]!);
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      b.wordStarted = true;
      b.raw += c;
      continue;
    }
    if (c === '$' && script[i + 1] === '(') {
      depth++;
      addChar('$');
      addChar('(');
      i++;
      continue;
    }
    if (c === '`') {
      depth = depth > 0 && script[i - 1] !== '$' ? depth - 1 : depth + 1;
      addChar(c);
      continue;
    }
    if (depth > 0) {
      if (c === '(') depth++;
      if (c === ')') depth--;
      if (c === '\n') row++;
      addChar(c);
      continue;
    }
    if (c === '#' && !b.wordStarted) {
      while (i + 1 < n && script[i + 1] !== '\n') i++;
      continue;
    }
    if (c === '<' && script[i + 1] === '<' && script[i + 2] !== '<') {
      // here-document: remember the delimiter, skip its body after the end of this line
      let j = i + 2;
      const stripTabs = script[j] === '-';
      if (stripTabs) j++;
      while (script[j] === ' ') j++;
      let delimiter = '';
      while (j < n && !' \t\n;&|<>()'.includes(script[j]!)) {
        if (script[j] !== '"' && script[j] !== "'" && script[j] !== '\\') delimiter += script[j];
        j++;
      }
      if (delimiter) heredocs.push({ delimiter, stripTabs });
      endWord();
      b.raw += script.slice(i, j);
      i = j - 1;
      continue;
    }
    if (c === '\n') {
      endCommand();
      row++;
      while (heredocs.length > 0) {
        const doc = heredocs.shift()!;
        while (i + 1 < n) {
          const end = script.indexOf('\n', i + 1);
          const lineText = script.slice(i + 1, end === -1 ? n : end);
          i = end === -1 ? n : end;
          row++;
          if ((doc.stripTabs ? trimLeadingTabs(lineText) : lineText) === doc.delimiter) break;
        }
      }
      b.line = fileLine(row);
      continue;
    }
    if (c === ';' || c === '&' || c === '|' || c === '(' || c === ')') {
      if ((c === '&' || c === '|') && script[i + 1] === c) i++;
      if (c === '&' && script[i + 1] === '>') {
        // &> redirection, not a separator
        b.raw += c;
        continue;
      }
      endCommand();
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
      b.raw += c;
      continue;
    }
    addChar(c);
  }
  endCommand();
  return commands;
}

function trimLeadingTabs(s: string): string {
  let k = 0;
  while (s[k] === '\t') k++;
  return s.slice(k);
}

function isAssignment(word: string): boolean {
  const eq = word.indexOf('=');
  if (eq <= 0) return false;
  for (let k = 0; k < eq; k++) {
    const ch = word.charCodeAt(k);
    const ok = ch === 95 || (ch >= 48 && ch <= 57 && k > 0) || (ch >= 65 && ch <= 90) || (ch >= 97 && ch <= 122);
    if (!ok) return false;
  }
  return true;
}

/** Makefile recipes: each tab-indented line (with its continuations) is one shell invocation. */
export function splitMakefile(text: string): ShellCommand[] {
  const lines = text.split('\n');
  const commands: ShellCommand[] = [];
  let target = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith('\t')) {
      const colon = line.indexOf(':');
      if (colon > 0 && !line.startsWith('#') && !line.includes('=')) target = line.slice(0, colon).trim();
      continue;
    }
    const pieces: string[] = [];
    const map: number[] = [];
    let k = i;
    for (;;) {
      const piece = lines[k]!.replace(/^\t/, '');
      pieces.push(piece);
      map.push(k + 1);
      if (!piece.endsWith('\\') || k + 1 >= lines.length) break;
      k++;
    }
    i = k;
    let recipe = pieces.join('\n');
    let skip = 0;
    while (skip < recipe.length && '@-+ \t'.includes(recipe[skip]!)) skip++;
    recipe = recipe.slice(skip).replaceAll('$$', '$');
    for (const command of splitShell(recipe, map[0], target, map)) {
      commands.push({ ...command, index: commands.length });
    }
  }
  return commands;
}

/** The `run:` steps of a GitHub Actions workflow (or a composite action), each split into commands. */
export function splitWorkflow(text: string): ShellCommand[] {
  const lineCounter = new LineCounter();
  const commands: ShellCommand[] = [];
  let docs;
  try {
    docs = parseAllDocuments(text, { lineCounter });
  } catch {
    return commands;
  }
  const visitSteps = (steps: unknown, where: string) => {
    if (!isSeq(steps)) return;
    steps.items.forEach((step, index) => {
      if (!isMap(step)) return;
      const run = step.get('run', true);
      if (!isScalar(run) || typeof run.value !== 'string' || !run.range) return;
      const name = step.get('name');
      const label = `${where} step ${typeof name === 'string' ? `"${name}"` : index + 1}`;
      const first = firstContentLine(run as YamlNode & { type?: string }, lineCounter, text);
      for (const command of splitShell(run.value, first, label)) commands.push({ ...command, index: commands.length });
    });
  };
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const root = doc.contents;
    if (!isMap(root)) continue;
    const jobs = root.get('jobs');
    if (isMap(jobs)) {
      for (const job of jobs.items) {
        if (isMap(job.value)) visitSteps(job.value.get('steps'), `job ${String((job.key as { value?: unknown })?.value ?? '')}`);
      }
    }
    const runs = root.get('runs');
    if (isMap(runs)) visitSteps(runs.get('steps'), 'action');
  }
  return commands;
}

/** File line of a scalar's first line of content: the line after `|` or `>` for block scalars. */
function firstContentLine(node: YamlNode & { type?: string }, lineCounter: LineCounter, text: string): number {
  const start = node.range![0];
  const at = lineCounter.linePos(start).line;
  if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED' || text[start] === '|' || text[start] === '>') {
    return at + 1;
  }
  return at;
}

/** Which shell front-end a path takes, if any. */
export function shellKind(path: string): 'script' | 'make' | 'workflow' | undefined {
  const base = path.split('/').pop() ?? path;
  if (/\.(sh|bash|ksh|zsh)$/i.test(base)) return 'script';
  if (base === 'Makefile' || base === 'GNUmakefile' || base === 'makefile' || base.endsWith('.mk')) return 'make';
  if (/^\.github\/workflows\/[^/]+\.ya?ml$/i.test(path) || /(^|\/)action\.ya?ml$/i.test(path)) return 'workflow';
  if (/^workflows\/[^/]+\.ya?ml$/i.test(path)) return 'workflow';
  return undefined;
}

export function splitShellFile(path: string, text: string): ShellCommand[] {
  switch (shellKind(path)) {
    case 'script':
      return splitShell(text, 1, path.split('/').pop() ?? path);
    case 'make':
      return splitMakefile(text);
    case 'workflow':
      return splitWorkflow(text);
    default:
      // an extensionless script the parse cache recognised by its #! line
      return text.startsWith('#!') ? splitShell(text, 1, path.split('/').pop() ?? path) : [];
  }
}
