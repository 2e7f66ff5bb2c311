// What counts as observed evidence in a PR: pasted output, quoted errors with where they were seen,
// links to CI runs, issues and logs, chaos results, measurements, reproduction tests in the diff.
// Shared by unverified-diagnosis and symptomatic-tuning. All of it is hostile input: every scan is
// one pass with indexOf or character tests, and the text is capped before it is scanned.

import type { ChangedFile, Commit, Revision } from '../engine/types.js';

/** The most PR text we scan: GitHub caps a body at 65,536 characters; commits get their own, smaller cap. */
export const BODY_LIMIT = 65_536;
const TITLE_LIMIT = 1_000;
const COMMIT_LIMIT = 16_384;
const MAX_COMMITS = 50;
/** Longer lines are cut before marker searches: no observed log line we care about is longer. */
const LINE_LIMIT = 2_000;

export interface PrTextSection {
  kind: 'title' | 'body' | 'commit';
  sha?: string;
  /** 1-based line of the section's first line in the scanned text */
  firstLine: number;
  lineCount: number;
}

/**
 * The PR's text as one numbered document: line 1 is the title, the body starts on line 2,
 * and each commit message (oldest first) starts on the line after the previous section.
 * Findings on `pr-text` use these line numbers.
 */
export interface PrText {
  lines: string[];
  sections: PrTextSection[];
}

export function prText(pr: { title: string; body: string; commits: readonly Commit[] }): PrText {
  const lines: string[] = [];
  const sections: PrTextSection[] = [];
  const add = (kind: PrTextSection['kind'], text: string, sha?: string) => {
    const own = withoutHtmlComments(text.replace(/\r\n?/g, '\n')).split('\n');
    sections.push({ kind, ...(sha ? { sha } : {}), firstLine: lines.length + 1, lineCount: own.length });
    for (const line of own) lines.push(line);
  };
  add('title', pr.title.slice(0, TITLE_LIMIT).replace(/\n/g, ' '));
  add('body', pr.body.slice(0, BODY_LIMIT));
  for (const commit of pr.commits.slice(-MAX_COMMITS)) add('commit', commit.message.slice(0, COMMIT_LIMIT), commit.sha);
  return { lines, sections };
}

/**
 * PR templates leave `<!-- describe the root cause -->` in bodies: nobody wrote it, and GitHub does not show it.
 * Comments become spaces, newlines kept, so line numbers stay; an unclosed comment runs to the end.
 */
export function withoutHtmlComments(text: string): string {
  let at = text.indexOf('<!--');
  if (at === -1) return text;
  let out = '';
  let from = 0;
  while (at !== -1) {
    out += text.slice(from, at);
    const end = text.indexOf('-->', at + 4);
    const stop = end === -1 ? text.length : end + 3;
    for (let i = at; i < stop; i++) out += text[i] === '\n' ? '\n' : ' ';
    from = stop;
    at = text.indexOf('<!--', from);
  }
  return out + text.slice(from);
}

export function sectionAt(text: PrText, line: number): PrTextSection {
  let found = text.sections[0]!;
  for (const s of text.sections) if (s.firstLine <= line) found = s;
  return found;
}

// ---------------------------------------------------------------------------------------------
// Markdown structure: fenced blocks (observed output or authored code) and prose.

export interface Fence {
  /** 1-based lines of the opening fence and of the last line inside (the closing fence excluded) */
  openLine: number;
  endLine: number;
  info: string;
  content: string[];
}

export interface Markdown {
  fences: Fence[];
  /** per 0-based line: true when it is prose (outside any fence) */
  prose: boolean[];
}

/** A fence opener or closer: up to three spaces, then at least three backticks or tildes. */
function fenceRun(line: string): { char: string; length: number; rest: string } | undefined {
  let i = 0;
  while (i < 3 && line[i] === ' ') i++;
  const char = line[i];
  if (char !== '`' && char !== '~') return undefined;
  let j = i;
  while (j < line.length && line[j] === char) j++;
  if (j - i < 3) return undefined;
  return { char, length: j - i, rest: line.slice(j, j + 200).trim() };
}

/** One pass over the lines; an unclosed fence runs to the end of its section, as Markdown renders it. */
export function splitMarkdown(text: PrText): Markdown {
  const prose = new Array<boolean>(text.lines.length).fill(true);
  const fences: Fence[] = [];
  for (const section of text.sections) {
    let open: { fence: Fence; char: string; length: number } | undefined;
    const last = section.firstLine + section.lineCount - 1;
    for (let n = section.firstLine; n <= last; n++) {
      const line = text.lines[n - 1]!;
      const run = fenceRun(line);
      if (open) {
        prose[n - 1] = false;
        if (run && run.char === open.char && run.length >= open.length && run.rest === '') {
          open = undefined;
          continue;
        }
        open.fence.content.push(line.slice(0, LINE_LIMIT));
        open.fence.endLine = n;
        continue;
      }
      if (run && !(run.char === '`' && run.rest.includes('`'))) {
        prose[n - 1] = false;
        const fence: Fence = { openLine: n, endLine: n, info: run.rest.split(/\s/)[0]!.toLowerCase(), content: [] };
        fences.push(fence);
        open = { fence, char: run.char, length: run.length };
      }
    }
  }
  return { fences, prose };
}

// ---------------------------------------------------------------------------------------------
// Small, linear text tests.

function isWordChar(c: string | undefined): boolean {
  if (c === undefined) return false;
  const ch = c.charCodeAt(0);
  return (ch >= 48 && ch <= 57) || (ch >= 65 && ch <= 90) || (ch >= 97 && ch <= 122) || ch === 95;
}

/**
 * Where `phrase` occurs in `text` as whole words (no letter or digit on either side), or -1.
 * A phrase ending in `*` matches as a word prefix ("throttl*" matches "throttled").
 */
export function findPhrase(text: string, phrase: string, from = 0): number {
  const prefix = phrase.endsWith('*');
  const needle = prefix ? phrase.slice(0, -1) : phrase;
  for (let at = text.indexOf(needle, from); at !== -1; at = text.indexOf(needle, at + 1)) {
    const before = text[at - 1];
    const after = text[at + needle.length];
    if ((!isWordChar(before) || !isWordChar(needle[0])) && (prefix || !isWordChar(after) || !isWordChar(needle[needle.length - 1]))) return at;
  }
  return -1;
}

export function hasAny(text: string, phrases: readonly string[]): boolean {
  return phrases.some((p) => findPhrase(text, p) !== -1);
}

/** The first phrase of a list that occurs, with where. */
export function firstOf(text: string, phrases: readonly string[]): { phrase: string; at: number } | undefined {
  let best: { phrase: string; at: number } | undefined;
  for (const phrase of phrases) {
    const at = findPhrase(text, phrase);
    if (at !== -1 && (!best || at < best.at)) best = { phrase, at };
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Observed output in a fenced block, told apart from code or YAML the author wrote.

/** Only the runtime prints these: an author does not write them in code or a manifest. */
const OUTPUT_ONLY = [
  'warning: data race',
  'oomkilled',
  'crashloopbackoff',
  'imagepullbackoff',
  'errimagepull',
  'exit code:',
  'exitcode: 137',
  'last state:',
  'laststate:',
  'restartcount:',
  'events:',
  'type     reason',
  'type    reason',
  'fatal error:',
  '--- fail:',
  '--- pass:',
  'panic: runtime error',
  'too many requests',
  'throttling request took',
  'showing nodes accounting for',
  'flat  flat%',
  'packets captured',
  'execve(',
  '= -1 enoent',
  'no such file or directory',
  'exec format error',
  'connection refused',
  'connection reset by peer',
  'i/o timeout',
  'context deadline exceeded',
  'deadline exceeded',
  'no route to host',
  'temporary failure in name resolution',
  'server misbehaving',
  'dial tcp',
  'dial udp',
  'permission denied',
  'segmentation fault',
  'killed',
  'ready   status   restarts',
  'ready   status',
  'status   restarts',
  'level=error',
  'level=warn',
  'level=info',
  '"level":"error"',
  '"level":"info"',
  '"level":"warn"',
  '# help ',
  '# type ',
];

/** Lines an author writes: if these dominate, the block is code or configuration, whatever strings it holds. */
const CODE_SIGNS = [':=', 'func ', 'return ', 'package ', 'import ', 'const ', 'let ', 'var ', '=>', '("', "('", 'apiversion:', 'kind:', 'spec:', 'metadata:'];

function looksLikeLogLine(line: string): boolean {
  const t = line.trimStart();
  // klog: E0102 15:04:05.000000
  if (/^[IWEF]\d{4} \d{2}:\d{2}:\d{2}/.test(t)) return true;
  // ISO or syslog-like timestamps at the start, optionally bracketed
  if (/^\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(t)) return true;
  if (/^\[?\d{2}:\d{2}:\d{2}/.test(t)) return true;
  // goroutine dumps and stack frames
  if (/^goroutine \d{1,9} \[/.test(t)) return true;
  return false;
}

/** Prometheus exposition: `name_with_underscores{labels} value`. */
function looksLikeMetric(line: string): boolean {
  return /^[a-z][a-z0-9]{0,50}_[a-z0-9_]{1,100}(\{[^}]{0,500}\})? -?\d/.test(line.trimStart());
}

function isPrompt(line: string): boolean {
  const t = line.trimStart();
  return t.startsWith('$ ') || t.startsWith('# kubectl') || t.startsWith('> kubectl') || t.startsWith('% ');
}

const OUTPUT_INFO = new Set(['', 'text', 'txt', 'console', 'log', 'logs', 'output', 'plain', 'plaintext', 'shell-session', 'sh-session', 'terminal', 'shell', 'sh', 'bash']);

/** Is a fenced block output someone observed (logs, events, a trace, a race report) rather than code they wrote? */
export function isObservedOutput(fence: Fence): boolean {
  let output = 0;
  let code = 0;
  let promptThenOutput = false;
  const lines = fence.content.slice(0, 2_000);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.toLowerCase();
    if (line.trim() === '') continue;
    if (isPrompt(raw)) {
      const next = lines[i + 1];
      if (next !== undefined && next.trim() !== '' && !isPrompt(next)) promptThenOutput = true;
      continue;
    }
    // a timestamped log line is output even when it holds code-like text; any other marker loses to
    // code signs, since code quotes error strings (`errors.New("connection refused")`)
    if (looksLikeLogLine(raw)) output++;
    else if (CODE_SIGNS.some((m) => line.includes(m)) || /[{};]\s*$/.test(line)) code++;
    else if (looksLikeMetric(raw) || OUTPUT_ONLY.some((m) => line.includes(m))) output++;
  }
  if (promptThenOutput) return true;
  if (output === 0) return false;
  // a block labelled as code needs its output lines to outnumber its code lines
  return OUTPUT_INFO.has(fence.info) ? output >= code / 2 : output > code;
}

// ---------------------------------------------------------------------------------------------
// Evidence in prose: quoted errors with where they were seen, links, chaos results, measurements.

export type EvidenceKind = 'observed-output' | 'quoted-error' | 'link' | 'chaos' | 'measurement' | 'reproduction-test';

export interface Evidence {
  kind: EvidenceKind;
  /** line in the PR text, or in the file for a reproduction test */
  line: number;
  path?: string;
  what: string;
}

/** Words of an error message: a backtick quote holding one of these is a quoted error. */
const ERROR_WORDS = [
  'error*', 'fail*', 'refused', 'timeout', 'timed out', 'deadline exceeded', 'denied', 'not found', 'no such file',
  'exec format', 'oomkilled', 'panic*', 'killed', 'unreachable', 'reset by peer', 'too many requests', '429', 'throttl*',
  'crashloopbackoff', 'backoff', 'forbidden', 'conflict', 'unavailable', 'exit code', 'exit status', 'evicted', 'i/o timeout',
  'data race', 'nxdomain', 'no route', 'cannot', "can't", 'unable to', 'invalid', 'unknown',
];

/** Where a quoted message was seen: the author looked at the runtime. */
const SEEN_WORDS = [
  'seen in', 'seen on', 'seen at', 'we see', 'i see', 'we saw', 'i saw', 'observed', 'shows', 'showed', 'shown in', 'printed', 'prints',
  'logged', 'in the log*', 'in every', 'operator log*', 'pod log*', 'controller log*', 'the logs', 'kubectl', 'in ci', 'ci run', 'ci log*',
  'in the events', 'event*', 'reported by', 'returned by', 'returns', 'returned', 'in production', 'in prod', 'in staging', 'reproduc*',
  'stack trace', 'traceback', 'output of', 'from the output', 'appears in', 'appeared in', 'at pod start', 'on startup', 'at startup', 'journal',
];

const MEASURE_TOOLS = [
  'pprof', 'profile', 'profiling', 'heap', 'flame graph', 'flamegraph', 'kubectl top', 'metrics', 'prometheus', 'grafana', 'dashboard',
  'rss', 'working set', 'container_memory*', 'container_cpu*', 'p50', 'p90', 'p95', 'p99', 'latency', 'oomkilled', 'measured', 'benchmark*',
  'trace', 'strace', 'tcpdump', 'perf ', 'cpu usage', 'memory usage', 'peak', 'apiserver_*', 'rest_client_*', 'workqueue_*',
];

const LINK_HOSTS = ['gist.github.com', 'pastebin.', 'paste.', 'hastebin', 'termbin', 'dpaste', 'ghostbin', 'prow.', 'buildkite.com', 'circleci.com', 'gitlab.com', 'grafana', 'sentry.io', 'logs.', '/logs/', '/log/'];

/** Verbs of an observation: "the heap profile shows 700Mi", not "the heap needs 1Gi". */
const OBSERVED_VERBS = ['show*', 'measured', 'peak*', 'reached', 'reaches', 'uses', 'used', 'grew', 'grows', 'spent', 'spends', 'observed', 'recorded', 'hit', 'hits', 'retain*', 'allocat*', 'in use', 'was at', 'sits at', 'went from', 'jumped'];

/** The place an inline quote is seen, named within 200 characters of it (on its line or the ones around). */
function seenNear(line: string, start: number, end: number, prev: string, next: string): boolean {
  const window = `${prev.slice(-200)} ${line.slice(Math.max(0, start - 200), Math.min(line.length, end + 200))} ${next.slice(0, 200)}`.toLowerCase();
  return hasAny(window, SEEN_WORDS);
}

/**
 * Backtick spans on one line: a run of n backticks closes at the next run of exactly n within a
 * short window. Runs that find no closer are skipped whole, so 60,000 backticks are one step.
 */
export function inlineCodeSpans(line: string): { start: number; end: number; code: string }[] {
  const spans: { start: number; end: number; code: string }[] = [];
  let i = line.indexOf('`');
  while (i !== -1 && i < line.length) {
    let j = i;
    while (j < line.length && line[j] === '`') j++;
    const width = j - i;
    let close = -1;
    const limit = Math.min(line.length, j + 500);
    for (let k = line.indexOf('`', j); k !== -1 && k < limit; ) {
      let m = k;
      while (m < line.length && line[m] === '`') m++;
      if (m - k === width) {
        close = k;
        break;
      }
      k = line.indexOf('`', m);
    }
    if (close === -1) {
      i = line.indexOf('`', j);
      continue;
    }
    spans.push({ start: i, end: close + width, code: line.slice(j, close) });
    i = line.indexOf('`', close + width);
  }
  return spans;
}

/** A number with a unit of size, time or share: "900Mi", "3.2s", "85%", "450 ms", "2 GiB". */
function hasMeasuredNumber(sentence: string): boolean {
  for (let i = 0; i < sentence.length; i++) {
    const c = sentence.charCodeAt(i);
    if (c < 48 || c > 57 || isWordChar(sentence[i - 1])) continue;
    let j = i;
    while (j < sentence.length && j - i < 20 && ((sentence.charCodeAt(j) >= 48 && sentence.charCodeAt(j) <= 57) || sentence[j] === '.' || sentence[j] === ',')) j++;
    if (sentence[j] === ' ') j++;
    const unit = sentence.slice(j, j + 4).toLowerCase();
    if (unit.startsWith('%') || /^(ms|s\b|s$|sec|m\b|min|h\b|ki|mi|gi|kb|mb|gb|mib|gib|req|rps|qps|cpu|core|µs|us\b|ns\b)/.test(unit)) return true;
    i = j;
  }
  return false;
}

const URL_END = ' \t)>]"\'`,';

/** Links in a line that point at observed runs or logs, not at docs. */
function evidenceLinks(line: string): string[] {
  const found: string[] = [];
  for (let at = line.indexOf('http'); at !== -1 && found.length < 50; at = line.indexOf('http', at + 4)) {
    if (!line.startsWith('http://', at) && !line.startsWith('https://', at)) continue;
    let end = at;
    while (end < line.length && end - at < 500 && !URL_END.includes(line[end]!)) end++;
    const url = line.slice(at, end).toLowerCase();
    if (isEvidenceUrl(url)) found.push(line.slice(at, end));
  }
  return found;
}

export function isEvidenceUrl(url: string): boolean {
  const u = url.toLowerCase();
  if (u.endsWith('results.json') || u.includes('causal-review/chaos')) return true;
  if (u.includes('github.com/')) {
    if (u.includes('/actions/runs/') || u.includes('/issues/') || u.includes('#issuecomment') || u.includes('/checks') || u.includes('/job/')) return true;
    if (u.includes('gist.github.com')) return true;
    return false;
  }
  return LINK_HOSTS.some((h) => u.includes(h));
}

/** Every piece of observed evidence in the PR text. */
/** Enough of each kind to report; past this a hostile body cannot make the scan do more work per kind. */
const MAX_PER_KIND = 20;

export function textEvidence(text: PrText, markdown = splitMarkdown(text)): Evidence[] {
  const found: Evidence[] = [];
  const count = new Map<EvidenceKind, number>();
  const full = (kind: EvidenceKind) => (count.get(kind) ?? 0) >= MAX_PER_KIND;
  const add = (e: Evidence) => {
    if (full(e.kind)) return;
    count.set(e.kind, (count.get(e.kind) ?? 0) + 1);
    found.push(e);
  };
  for (const fence of markdown.fences) {
    if (isObservedOutput(fence)) add({ kind: 'observed-output', line: fence.openLine, what: `a block of observed output (line ${fence.openLine})` });
  }
  text.lines.forEach((raw, index) => {
    if (!markdown.prose[index]) return;
    const line = raw.length > BODY_LIMIT ? raw.slice(0, BODY_LIMIT) : raw;
    const n = index + 1;
    const lower = line.toLowerCase();
    if (lower.includes('causal-review/chaos') || lower.includes('chaos result')) add({ kind: 'chaos', line: n, what: 'a chaos result' });
    if (!full('link')) for (const url of evidenceLinks(line)) add({ kind: 'link', line: n, what: url.slice(0, 200) });
    for (const span of full('quoted-error') ? [] : inlineCodeSpans(line)) {
      const code = span.code.toLowerCase();
      const around = (k: number) => (markdown.prose[k] ? (text.lines[k] ?? '') : '');
      if (code.length >= 8 && hasAny(code, ERROR_WORDS) && seenNear(line, span.start, span.end, around(index - 1), around(index + 1))) {
        add({ kind: 'quoted-error', line: n, what: `\`${span.code.slice(0, 120)}\`` });
      }
    }
    // a measurement: a tool and a number in one sentence ("the heap profile shows 700Mi in the informer cache")
    if (line.length <= LINE_LIMIT * 4 && !full('measurement')) {
      for (const sentence of splitSentences(lower)) {
        if (hasAny(sentence, MEASURE_TOOLS) && hasAny(sentence, OBSERVED_VERBS) && hasMeasuredNumber(sentence)) {
          add({ kind: 'measurement', line: n, what: sentence.trim().slice(0, 160) });
          break;
        }
      }
    }
  });
  return found;
}

/** Sentences of one line: split at . ! ? ; followed by a space or the end. */
export function splitSentences(line: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if ((c === '.' || c === '!' || c === '?' || c === ';') && (i + 1 === line.length || line[i + 1] === ' ')) {
      out.push(line.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < line.length) out.push(line.slice(start));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reproduction tests in the diff.

export interface TestCase {
  path: string;
  line: number;
  name: string;
  /** the test's own lines (up to the next test), capped: a reproduction often says what it reproduces there */
  body: string;
  /** the test did not exist at the base */
  isNew: boolean;
}

export function isTestPath(path: string): boolean {
  return /_test\.go$/.test(path) || /\.(test|spec)\.[cm]?[jt]sx?$/.test(path) || /(^|\/)(e2e|test|tests)\//.test(path);
}

/** Test names a file declares: Go `func TestX(`, ginkgo/vitest/jest `It("...")`, `it('...')`, `test('...')`. */
export function testNames(text: string): { name: string; line: number }[] {
  const names: { name: string; line: number }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && names.length < 2_000; i++) {
    const t = lines[i]!.trimStart().slice(0, 500);
    if (t.startsWith('func Test')) {
      let end = 5;
      while (end < t.length && isWordChar(t[end])) end++;
      names.push({ name: t.slice(5, end), line: i + 1 });
      continue;
    }
    for (const opener of ['it(', 'test(', 'It(', 'Specify(', 'it.only(', 'test.only(']) {
      if (!t.startsWith(opener)) continue;
      const quote = t[opener.length];
      if (quote !== '"' && quote !== "'" && quote !== '`') break;
      const close = t.indexOf(quote, opener.length + 1);
      if (close > 0) names.push({ name: t.slice(opener.length + 1, close), line: i + 1 });
      break;
    }
  }
  return names;
}

/** Test cases the PR adds or changes, from the diff; new tests are marked. */
export async function changedTests(changes: readonly ChangedFile[], read: (path: string, rev: Revision) => Promise<string | undefined>): Promise<TestCase[]> {
  const tests: TestCase[] = [];
  for (const change of changes.slice(0, 300)) {
    if (change.status === 'removed' || !isTestPath(change.path)) continue;
    const head = await read(change.path, 'head');
    if (head === undefined || head.length > 1_000_000) continue;
    const base = change.status === 'added' ? '' : ((await read(change.previousPath ?? change.path, 'base')) ?? '');
    const before = new Set(testNames(base).map((t) => t.name));
    const added = new Set(change.hunks.flatMap((h) => h.added));
    const names = testNames(head);
    const lines = head.split('\n');
    names.forEach((t, i) => {
      const next = names[i + 1]?.line ?? Number.MAX_SAFE_INTEGER;
      const isNew = !before.has(t.name);
      let touched = isNew || change.status === 'added' || !!change.wholeFile;
      for (const line of added) if (line >= t.line && line < next) touched = true;
      const body = lines.slice(t.line, Math.min(next - 1, t.line + 200)).join('\n').slice(0, 4_000);
      if (touched) tests.push({ path: change.path, line: t.line, name: t.name, body, isNew });
    });
  }
  return tests;
}

const STOPWORDS = new Set(['test', 'tests', 'should', 'when', 'with', 'that', 'this', 'from', 'into', 'does', 'work', 'works', 'after', 'before', 'status', 'sets', 'the', 'and', 'for', 'fix', 'fixes', 'issue', 'problem', 'cause', 'root', 'because', 'during', 'while', 'there', 'their', 'they', 'them', 'have', 'been', 'more', 'less', 'give', 'make', 'makes',
  // words every test body has
  'func', 'testing', 'fatal', 'fatalf', 'errorf', 'error', 'errors', 'expect', 'tobe', 'return', 'context', 'await', 'async', 'const',
  'true', 'false', 'null', 'string', 'equal', 'should', 'describe', 'assert', 'require', 'helper', 'cleanup', 'background']);

/** Domain words of a text: camelCase and snake_case split, lowercased, short and common words dropped. */
export function domainWords(text: string): Set<string> {
  const words = new Set<string>();
  const spaced = text.slice(0, 4_000).replace(/([a-z0-9])([A-Z])/g, '$1 $2');
  let word = '';
  for (const c of `${spaced} `) {
    if (/[A-Za-z]/.test(c)) word += c.toLowerCase();
    else {
      if (word.length >= 4 && !STOPWORDS.has(word)) words.add(word);
      word = '';
    }
  }
  return words;
}

/** A new test relates to a claim when its name or body shares a domain word with it ("resync", "partition", "race"). */
export function testRelatesTo(test: TestCase, claim: string): boolean {
  const words = domainWords(claim);
  for (const w of domainWords(`${test.name} ${test.body}`)) if (words.has(w)) return true;
  return false;
}
