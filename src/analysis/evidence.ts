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
 * and each commit message (oldest first) starts on the line after the previous section. A text
 * with no title (an `--pr-description` file without a `# title` line) starts with the body on
 * line 1, so a line number is the file's either way. Findings on `pr-text` use these numbers.
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
  if (pr.title.trim() !== '') add('title', pr.title.slice(0, TITLE_LIMIT).replace(/\n/g, ' '));
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

/** The title's text, '' when the PR text has none. */
export function titleOf(text: PrText): string {
  return text.sections[0]?.kind === 'title' ? text.lines[0]! : '';
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
  'exception:',
  'traceback (most recent call last)',
  'error from server',
  // controller-runtime's own words for a failed reconcile or a cache that never synced
  'reconciler error',
  'failed waiting for',
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
  if (looksLikeTraceLine(t)) return true;
  // klog: E0102 15:04:05.000000
  if (/^[IWEF]\d{4} \d{2}:\d{2}:\d{2}/.test(t)) return true;
  // ISO or syslog-like timestamps at the start, optionally bracketed
  if (/^\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(t)) return true;
  if (/^\[?\d{2}:\d{2}:\d{2}/.test(t)) return true;
  // goroutine dumps and stack frames
  if (/^goroutine \d{1,9} \[/.test(t)) return true;
  return false;
}

/**
 * A line only a runtime prints: a Go stack frame (`controller.go:80 +0x813`), a Java or Python frame, a Go test
 * or race-detector header. Checked with string tests, no regular expressions.
 */
function looksLikeTraceLine(t: string): boolean {
  if (t.startsWith('WARNING: DATA RACE') || t.startsWith('=== RUN ') || t.startsWith('--- FAIL: ') || t.startsWith('--- PASS: ')) return true;
  if (t.startsWith('panic: ') || t.startsWith('Traceback (most recent call last)')) return true;
  if (t.startsWith('at ') && t.includes('(') && (t.includes('.java:') || t.includes('.kt:') || t.includes('.scala:'))) return true;
  if (t.startsWith('File "') && t.includes('", line ')) return true;
  // a Go frame's file line: "/src/.../controller_test.go:719 +0x1a6"
  const plus = t.lastIndexOf(' +0x');
  return plus > 4 && t.slice(0, plus).includes('.go:') && /^\d/.test(t.slice(t.lastIndexOf(':', plus) + 1, plus));
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

export type EvidenceKind = 'observed-output' | 'quoted-error' | 'link' | 'chaos' | 'measurement' | 'screenshot' | 'reproduction-test';

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
  'data race', 'nxdomain', 'no route', 'cannot', "can't", 'unable to', 'invalid', 'unknown', 'exceeded', 'rate limit*', 'too many',
];

/** Where a quoted message was seen: the author looked at the runtime. */
const SEEN_WORDS = [
  'seen in', 'seen on', 'seen at', 'we see', 'i see', 'we saw', 'i saw', 'observed', 'shows', 'showed', 'shown in', 'printed', 'prints',
  'logged', 'in the log*', 'in every', 'operator log*', 'pod log*', 'controller log*', 'the logs', 'kubectl', 'in ci', 'ci run', 'ci log*',
  'in the events', 'event*', 'reported by', 'returned by', 'returns', 'returned', 'in production', 'in prod', 'in staging', 'reproduc*',
  'stack trace', 'traceback', 'output of', 'from the output', 'appears in', 'appeared in', 'at pod start', 'on startup', 'at startup', 'journal',
  'logging', 'with the error', 'the error:',
];

const MEASURE_TOOLS = [
  'pprof', 'profile', 'profiling', 'heap', 'flame graph', 'flamegraph', 'kubectl top', 'metrics', 'prometheus', 'grafana', 'dashboard',
  'rss', 'working set', 'container_memory*', 'container_cpu*', 'p50', 'p90', 'p95', 'p99', 'latency', 'oomkilled', 'measured', 'benchmark*',
  'trace', 'strace', 'tcpdump', 'perf ', 'cpu usage', 'memory usage', 'peak', 'apiserver_*', 'rest_client_*', 'workqueue_*', 'fsync',
  'io_time', 'iowait',
];

const LINK_HOSTS = ['gist.github.com', 'pastebin.', 'paste.', 'hastebin', 'termbin', 'dpaste', 'ghostbin', 'prow.', 'buildkite.com', 'circleci.com', 'gitlab.com', 'grafana', 'sentry.io', 'logs.', '/logs/', '/log/'];

/** Verbs of an observation: "the heap profile shows 700Mi", not "the heap needs 1Gi". */
const OBSERVED_VERBS = ['show*', 'measured', 'peak*', 'reached', 'reaches', 'uses', 'used', 'grew', 'grows', 'spent', 'spends', 'observed', 'recorded', 'hit', 'hits', 'retain*', 'allocat*', 'in use', 'was at', 'sits at', 'went from', 'jumped', 'averag*', 'median'];

/** Where GitHub stores what someone attached to a PR or issue: a screenshot of a dashboard, a log, a graph. */
const ATTACHMENT_HOSTS = ['user-images.githubusercontent.com', 'private-user-images.githubusercontent.com', 'github.com/user-attachments/'];

/** An image attached to the PR text (`![graph](https://user-images.githubusercontent.com/...)`, `<img src=...>`). */
function attachedImage(lower: string): boolean {
  if (!lower.includes('![') && !lower.includes('<img')) return false;
  if (ATTACHMENT_HOSTS.some((h) => lower.includes(h))) return true;
  // repository assets: https://github.com/<owner>/<repo>/assets/<id>/<uuid>
  const at = lower.indexOf('github.com/');
  return at !== -1 && lower.indexOf('/assets/', at) !== -1;
}

/** Series names Prometheus exports: `etcd_server_slow_apply_total`, `workqueue_depth_seconds`. */
const METRIC_SUFFIXES = ['_total', '_seconds', '_bytes', '_count', '_sum', '_bucket', '_ratio'];

/** A cell that holds only a number, bare or marked up: `499`, `**7,784**`, `84.6%`, `12 ms`. */
function isNumberCell(cell: string): boolean {
  let t = cell.trim();
  while (t.length > 0 && '*_`~'.includes(t[0]!)) t = t.slice(1);
  while (t.length > 0 && '*_`~'.includes(t[t.length - 1]!)) t = t.slice(0, -1);
  if (t.length === 0 || t.length > 30 || !(t.charCodeAt(0) >= 48 && t.charCodeAt(0) <= 57)) return false;
  let i = 0;
  while (i < t.length && ((t.charCodeAt(i) >= 48 && t.charCodeAt(i) <= 57) || t[i] === '.' || t[i] === ',')) i++;
  const unit = t.slice(i).trim().toLowerCase();
  return ['', '%', 'ms', 's', 'm', 'mi', 'gi', 'mb', 'gb', 'mib', 'gib', 'x'].includes(unit);
}

/** A table row with a Prometheus series and a number: `| etcd_server_heartbeat_send_failures_total | 0 | 499 |`. */
function isMetricRow(line: string): boolean {
  const t = line.trim();
  if (!t.startsWith('|') || t.length > LINE_LIMIT) return false;
  const cells = t.split('|');
  const named = cells.some((cell) => {
    const name = cell.trim().replaceAll('`', '').split('{')[0]!;
    return name.includes('_') && METRIC_SUFFIXES.some((s) => name.endsWith(s)) && !name.includes(' ');
  });
  return named && cells.some(isNumberCell);
}

/** Words a reason ends with when it reports a failure: `HealthCheckFailed`, `DeadlineExceeded`, `CrashLoopBackOff`. */
const REASON_ENDINGS = ['failed', 'failure', 'exceeded', 'error', 'errors', 'killed', 'backoff', 'refused', 'denied', 'unavailable', 'evicted', 'panic'];

/** Words of a setting's name: the knob a PR turns, not a message the runtime printed. */
const SETTING_WORDS = ['timeout', 'deadline', 'retry', 'retries', 'attempts', 'limit', 'limits', 'seconds', 'interval', 'duration', 'backofflimit'];

/**
 * A quoted setting, not a quoted error: `timeout: 60s`, `--timeout=5m`, `maxRetries=10`, `progressDeadlineSeconds`.
 * `exit code: 137` (a space in the key) and `DeadlineExceeded` (a reason) stay errors.
 */
function isSetting(code: string): boolean {
  const t = code.trim();
  if (t.startsWith('-')) return true;
  let cut = -1;
  for (let i = 0; i < t.length && i <= 60; i++) {
    if (t[i] === ':' || t[i] === '=') {
      cut = i;
      break;
    }
  }
  if (cut > 0) {
    const key = t.slice(0, cut);
    const value = t.slice(cut + 1).trim().toLowerCase();
    const plainKey = [...key].every((c) => isWordChar(c) || c === '.' || c === '-');
    const plainValue = value.length > 0 && value.length <= 20 && ((value.charCodeAt(0) >= 48 && value.charCodeAt(0) <= 57) || value === 'true' || value === 'false');
    return plainKey && plainValue;
  }
  if (t.includes(' ') || t.length > 80) return false;
  const words = t.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  const last = words[words.length - 1] ?? '';
  return !REASON_ENDINGS.includes(last) && words.some((w) => SETTING_WORDS.includes(w));
}

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

/** The line with every URL cut out, in one pass. */
function withoutUrls(line: string): string {
  let out = '';
  let from = 0;
  for (let at = line.indexOf('http', from); at !== -1; at = line.indexOf('http', from)) {
    if (!line.startsWith('http://', at) && !line.startsWith('https://', at)) {
      out += line.slice(from, at + 4);
      from = at + 4;
      continue;
    }
    out += line.slice(from, at);
    let end = at;
    while (end < line.length && !URL_END.includes(line[end]!)) end++;
    from = end;
  }
  return out + line.slice(from);
}

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

/**
 * Markdown's other code block: lines indented four spaces (or a tab) after a blank line. Issue authors paste log
 * lines this way as often as in a fence; whether a block is output or code is then decided as for a fence.
 */
function indentedBlocks(text: PrText, markdown: Markdown): Fence[] {
  const blocks: Fence[] = [];
  let open: Fence | undefined;
  let blankBefore = true;
  for (let i = 0; i < text.lines.length && blocks.length < MAX_PER_KIND; i++) {
    const line = text.lines[i]!;
    const indented = markdown.prose[i] && (line.startsWith('    ') || line.startsWith('\t')) && line.trim() !== '';
    if (indented && (open || blankBefore)) {
      if (!open) {
        open = { openLine: i + 1, endLine: i + 1, info: '', content: [] };
        blocks.push(open);
      }
      if (open.content.length < 200) open.content.push(line.slice(0, LINE_LIMIT));
      open.endLine = i + 1;
    } else if (line.trim() !== '') open = undefined;
    blankBefore = line.trim() === '';
  }
  return blocks;
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
  for (const block of indentedBlocks(text, markdown)) {
    if (isObservedOutput(block)) add({ kind: 'observed-output', line: block.openLine, what: `an indented block of observed output (line ${block.openLine})` });
  }
  // output pasted without a fence (or indented four spaces): one such line may be quoted prose, two are a paste
  let pasted = 0;
  let pastedAt = 0;
  text.lines.forEach((raw, index) => {
    if (!markdown.prose[index]) return;
    const line = raw.length > BODY_LIMIT ? raw.slice(0, BODY_LIMIT) : raw;
    const n = index + 1;
    const lower = line.toLowerCase();
    if (pasted < 2 && line.length <= LINE_LIMIT) {
      let t = line.trimStart();
      while (t.startsWith('>') || t.startsWith('`')) t = t.slice(1).trimStart();
      if (looksLikeLogLine(t)) {
        pastedAt ||= n;
        if (++pasted === 2) add({ kind: 'observed-output', line: pastedAt, what: `observed output pasted as text (line ${pastedAt})` });
      }
    }
    if (attachedImage(lower)) add({ kind: 'screenshot', line: n, what: 'an attached screenshot' });
    if (isMetricRow(line)) add({ kind: 'measurement', line: n, what: line.trim().slice(0, 160) });
    if (lower.includes('causal-review/chaos') || lower.includes('chaos result')) add({ kind: 'chaos', line: n, what: 'a chaos result' });
    if (!full('link')) for (const url of evidenceLinks(line)) add({ kind: 'link', line: n, what: url.slice(0, 200) });
    for (const span of full('quoted-error') ? [] : inlineCodeSpans(line)) {
      // reasons are CamelCase: `HealthCheckFailed`, `CrashLoopBackOff` read as words
      const code = span.code.slice(0, 500).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
      const around = (k: number) => (markdown.prose[k] ? (text.lines[k] ?? '') : '');
      if (code.length >= 8 && hasAny(code, ERROR_WORDS) && !isSetting(span.code) && seenNear(line, span.start, span.end, around(index - 1), around(index + 1))) {
        add({ kind: 'quoted-error', line: n, what: `\`${span.code.slice(0, 120)}\`` });
      }
    }
    // a measurement: a tool and a number in one sentence ("the heap profile shows 700Mi in the informer cache")
    if (line.length <= LINE_LIMIT * 4 && !full('measurement')) {
      // a tool named in a link's path ("/actions/metrics/performance") is not a tool the author read a number from
      for (const sentence of splitSentences(withoutUrls(lower))) {
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
