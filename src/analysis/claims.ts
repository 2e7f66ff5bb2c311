// Causal claims in PR text: sentences that name the runtime cause of a failure ("root cause: the API
// server is overloaded"). A small linear scanner over sentences with phrase lists, no backtracking
// regular expressions: the text is a hostile PR body of up to 65,536 characters.

import { findPhrase, firstOf, hasAny, sectionAt, splitSentences, titleOf, type Markdown, type PrText } from './evidence.js';

export type Mechanism = 'binary' | 'network' | 'dns' | 'contention' | 'memory' | 'cpu' | 'apiserver' | 'storage' | 'cache' | 'race' | 'other';

export interface Claim {
  /** 1-based line in the PR text (see prText for the numbering) */
  line: number;
  /** the sentence as written, trimmed and capped */
  text: string;
  /** the sentence normalized: stable across edits elsewhere in the PR text, used as the finding's key */
  key: string;
  mechanism: Mechanism;
  /** the words that named the mechanism, as written in lower case */
  named?: string;
  commit?: string;
}

/**
 * Markers that, alone, state a diagnosis: "Root cause: ...", "caused by ...", "the culprit is ...". An agent's "Root
 * cause:" section is the case the check exists for, so these need only a failure (in the sentence or the title).
 */
const EXPLICIT_MARKERS = [
  'root cause', 'root-cause', 'rootcause', 'caused by', 'culprit', 'is to blame', 'are to blame', 'was to blame', 'stems from',
  'the cause is', 'the cause was', 'is the cause', 'was the cause', 'primary cause', 'main cause', 'likely cause', 'probable cause',
  'is causing', 'was causing', 'are causing', 'were causing',
];

/**
 * Markers that tell a story ("the problem was that ...", "it turns out ..."): about the code or the test as often as
 * about the runtime ("the problem was that we unlocked requests before ..."). A claim only when the cause names a
 * mechanism; a story with none is undecidable from the text, and the check stays silent on it.
 */
const NARRATIVE_MARKERS = [
  'the issue was', 'the issue is', 'the problem was', 'the problem is',
  'the bug was', 'the bug is', 'results from', 'resulted from', 'triggered by', 'the reason is', 'the reason was', 'turned out',
  'turns out', 'this happens because', 'this is because',
];

const STRONG_MARKERS = [...EXPLICIT_MARKERS, ...NARRATIVE_MARKERS];

/**
 * Markers that state a cause only when the cause they point at names a mechanism: "flaky because of a race" is a claim,
 * "flaky because we have a timer in the test" and "failing due to timeouts loading the editor" are not.
 */
const WEAK_MARKERS = [
  'because', 'due to', 'as a result of', 'owing to', 'is why', 'thanks to', 'which causes', 'which caused', 'leads to', 'led to',
  'leading to', 'causes', 'causing', 'comes from', 'come from', 'came from',
  // "since" is causal before a clause ("since the cache is eventually consistent"), temporal before a version or a date
  'since the', 'since a', 'since an', 'since it', 'since its', 'since there', 'since we', 'since our', 'since they',
];

/** Markers after their cause: "the cache is to blame", "a leak is causing the restarts". */
const CAUSE_BEFORE = new Set([
  'is causing', 'was causing', 'are causing', 'were causing', 'is to blame', 'are to blame', 'was to blame', 'is the cause',
  'was the cause', 'is why', 'which causes', 'which caused', 'leads to', 'led to', 'leading to', 'causes', 'causing',
]);

/** Named mechanisms, most specific first: the first that occurs decides the advice. */
const MECHANISMS: readonly [string, Mechanism][] = [
  ['exec format', 'binary'], ['no such file', 'binary'], ['missing binary', 'binary'], ['binary is missing', 'binary'],
  ['binary missing', 'binary'], ['not in the image', 'binary'], ['wrong architecture', 'binary'], ['not executable', 'binary'],
  ['cpu throttl*', 'cpu'], ['cfs quota', 'cpu'], ['cpu starvation', 'cpu'], ['cpu-bound', 'cpu'], ['cpu bound', 'cpu'], ['not enough cpu', 'cpu'],
  ['coredns', 'dns'], ['dns', 'dns'], ['name resolution', 'dns'], ['nxdomain', 'dns'],
  ['network partition*', 'network'], ['partitioned', 'network'], ['partition between', 'network'], ['firewall', 'network'],
  ['security group', 'network'], ['security-group', 'network'], ['networkpolicy', 'network'], ['network policy', 'network'],
  ['packet loss', 'network'], ['network issue*', 'network'], ['network problem*', 'network'], ['network flak*', 'network'],
  ['network blip*', 'network'], ['network glitch*', 'network'], ['network hiccup*', 'network'], ['network error*', 'network'],
  ['network delay*', 'network'], ['network latenc*', 'network'], ['slow network', 'network'], ['network congestion', 'network'],
  ['network failure*', 'network'], ['network reason*', 'network'], ['network instabilit*', 'network'], ['flaky network', 'network'],
  ['network is', 'network'], ['network was', 'network'], ['unreachable', 'network'], ['mtu', 'network'], ['connectivity', 'network'],
  // contention for the machine, not for a lock: the CPU advice fits it
  ['resource contention', 'cpu'],
  ['lock contention', 'contention'], ['mutex contention', 'contention'], ['contention', 'contention'], ['deadlock*', 'contention'],
  ['lock is held', 'contention'], ['starvation', 'contention'],
  // a bare "leak" is too wide: buckets, secrets and finalizers "leak" too, and that is not a memory claim
  ['memory leak*', 'memory'], ['leaks memory', 'memory'], ['leaking memory', 'memory'], ['goroutine leak*', 'memory'],
  ['leaks goroutines', 'memory'], ['leaking goroutines', 'memory'], ['heap grows', 'memory'], ['oomkill*', 'memory'],
  ['oom', 'memory'], ['oom-kill*', 'memory'], ['out of memory', 'memory'], ['memory pressure', 'memory'], ['gc pause*', 'memory'],
  ['not enough memory', 'memory'],
  ['api server', 'apiserver'], ['apiserver', 'apiserver'], ['api-server', 'apiserver'], ['kube-apiserver', 'apiserver'],
  // not "throttl*": a Throttler is a component, and "the Throttler" names no cause
  ['throttled', 'apiserver'], ['throttling', 'apiserver'], ['throttle', 'apiserver'], ['throttles', 'apiserver'],
  ['rate limit*', 'apiserver'], ['rate-limit*', 'apiserver'], ['429', 'apiserver'], ['overload*', 'apiserver'],
  ['etcd', 'storage'], ['disk pressure', 'storage'], ['slow disk', 'storage'], ['iops', 'storage'],
  ['stale cache', 'cache'], ['cache is stale', 'cache'], ['cache was stale', 'cache'], ['stale read*', 'cache'], ['outdated cache', 'cache'],
  ['informer cache', 'cache'], ['cache has not synced', 'cache'], ['cache had not synced', 'cache'], ['cache is not synced', 'cache'],
  ['cache was not synced', 'cache'], ['cache not synced', 'cache'], ['not yet synced', 'cache'], ['eventually consistent', 'cache'],
  ['eventual consisten*', 'cache'],
  // a busy machine, after the specific causes so that "CoreDNS drops lookups under load" blames DNS; the CPU profile and
  // throttling metrics say whether it was busy
  ['resource constraint*', 'cpu'], ['oversubscri*', 'cpu'], ['high load', 'cpu'], ['heavy load', 'cpu'],
  ['under load', 'cpu'], ['busy runner*', 'cpu'], ['slow runner*', 'cpu'], ['overloaded runner*', 'cpu'],
  ['race condition*', 'race'], ['data race*', 'race'], ['race between', 'race'], ['a race', 'race'], ['races with', 'race'], ['racing', 'race'],
  // last, so the advice above wins: "Fix race for multi-node reconcile" names a race too
  ['race', 'race'], ['races', 'race'],
];

/**
 * Words that name the failure as it was seen, not a cause behind it: "killed with an OOMKilled reason" reports
 * what `kubectl describe` says. They pick the advice, but alone they do not make a sentence a claim.
 */
const SYMPTOMS = new Set(['oomkill*', 'oom', 'oom-kill*', 'out of memory']);

/** Words of a runtime failure: the PR says something failed, was flaky, crashed, timed out, leaked or was slow. */
export const FAILURE_WORDS = [
  'fail*', 'flak*', 'crash*', 'timed out', 'times out', 'time out', 'timeout*', 'hang', 'hangs', 'hung', 'stuck', 'leak*', 'slow*',
  'error*', 'panic*', 'restart*', 'oomkilled', 'killed', 'drop*', 'refused', 'unavailable', 'not ready', 'never', 'intermittent*',
  'broken', 'breaks', 'outage', 'degrad*', 'lost', 'lose*', 'losing', 'evicted', 'unresponsive', 'exhaust*', 'starv*', 'throttled',
  'overload*', 'deadlock*', 'race*', 'oom*', 'out of memory',
];

/** Causes that are not about the runtime: the diff itself shows them, or they are about the process. */
const NON_RUNTIME = [
  'typo*', 'review*', 'feedback', 'renam*', 'refactor*', 'lint*', 'style', 'formatting', 'gofmt', 'go vet', 'signature', 'deprecat*',
  'upgrade*', 'bump*', 'dependabot', 'readability', 'consistency', 'convention*', 'requested', 'api changed', 'breaking change',
  'compil*', 'build error*', 'build fail*', 'import*', 'spelling', 'misspel*', 'copy-paste', 'wrong variable', 'off-by-one', 'nil pointer',
  'nil map', 'nil check', 'missing check', 'wrong field', 'wrong key', 'wrong condition', 'inverted condition', 'wrong sign', 'license',
  'vulnerabilit*', 'cve-*', 'go.mod', 'generated', 'codegen', 'docs', 'documentation', 'the spec', 'the design',
  // a change someone made, found in the history: the diff and the PR it names show it ("errors due to the RHPAM-3181 PR")
  'pr', 'pull request', '/pull/', 'missing field', 'revert*', 'rolled back', 'roll back', 'rolls back', 'rollback',
  'go back to', 'goes back to', 'going back to', 'switch back', 'back out',
  // an omission in the code, the author's own: "crashing because we missed assigning configInfo"
  'we missed', 'forgot*', 'forgotten', 'uninitiali*', 'not initiali*', 'never initiali*', 'regression from', 'regression introduced',
];

/** A failure named as something to guard against, not as what happened. */
const PROSPECTIVE = [
  'avoid*', 'prevent*', 'survive*', 'tolerat*', 'handle*', 'in case', 'if', 'whenever', 'against', 'could', 'would', 'resilien*',
  // what may happen, not what did: "it can sometimes happen with slow responding pods or network issues"
  'can happen', 'can sometimes', 'can occur', 'may happen', 'may occur', 'might happen',
  // a possibility, not a finding: "unexpected DNS errors can blow up the control client". Not "might": a narrative of what
  // went wrong uses it for what did happen ("the pods might start before the admission controller, and DNS fails")
  // ("can " with its space, so that "can't" stays a negation)
  'can ', 'may ', 'possibl*',
  // the mechanism as the topic of a tool or a task: "a tool to help troubleshooting network connectivity"
  'troubleshoot*', 'debug*', 'diagnos*', 'detect*',
];

/** Hedges before a weak marker that make the cause a possibility: "it is possible that due to a wrong storage class ...". */
const SCENARIO = ['if', 'whenever', 'in case', 'can ', 'may ', 'might', 'could', 'would', 'possibl*'];

/** A sentence that opens as a question, whatever punctuation the author ended it with: "Could this be because ...". */
const QUESTION_OPENERS = ['could', 'can', 'is', 'are', 'was', 'were', 'does', 'did', 'might', 'would', 'should'];
const QUESTION_SUBJECTS = ['this', 'it', 'that', 'there', 'the', 'we', 'you', 'someone', 'anyone'];

function opensAsQuestion(lower: string): boolean {
  const first = lower.indexOf(' ');
  if (first <= 0) return false;
  const second = lower.indexOf(' ', first + 1);
  const subject = lower.slice(first + 1, second === -1 ? lower.length : second);
  return QUESTION_OPENERS.includes(lower.slice(0, first)) && QUESTION_SUBJECTS.includes(subject);
}

/** The cause as an open question, not an answer: "not actually sure what the root cause is", "to figure out the root cause". */
const INQUIRY = [
  'not sure', 'unsure', 'sure what', 'sure why', 'sure about', 'not certain', 'unclear', 'unknown', "don't know", 'do not know',
  'no idea', 'figure out', 'find out', 'find the', 'to know', 'to understand', 'investigate', 'determine', 'look into', 'identify the',
  'document',
];

/**
 * Words a cause can be made of and still only restate the failure: "failing due to expect timeouts", "killed due to memory
 * use over the 30M limit", "failures due to transient kubectl errors". Together with FAILURE_WORDS.
 */
const RESTATED = new Set([
  'the', 'a', 'an', 'some', 'our', 'its', 'their', 'this', 'that', 'these', 'those', 'of', 'to', 'in', 'on', 'for', 'over', 'with',
  'by', 'be', 'being', 'been', 'is', 'was', 'were', 'are', 'it', 'they', 'get', 'gets', 'getting', 'got', 'hit', 'hitting',
  'expect', 'transient', 'intermittent', 'occasional', 'random', 'sporadic', 'spurious', 'kubectl', 'http', 'call', 'calls',
  'request', 'requests', 'specified', 'configured', 'default', 'too', 'many', 'frequent', 'repeated', 'low', 'small', 'not',
  'enough', 'insufficient', 'high', 'set', 'value', 'values', 'memory', 'cpu', 'use', 'usage', 'limit', 'limits', 'resource',
  'resources', 'quota', 'timing', 'out', 'exceeded', 'exceeding', 'test', 'tests', 'e2e', 'step', 'steps', 'job', 'jobs',
  // the subject of the failure and other markers: "because in some cluster due to some timeout problems the operator gets restarted"
  'cluster', 'clusters', 'operator', 'controller', 'pod', 'pods', 'container', 'problem', 'problems', 'issue', 'issues',
  'sometimes', 'occasionally', 'often', 'due', 'because', 'gets', 'got',
]);

const NEGATIONS = ['not', "n't", 'no', 'never', 'ruled out', 'rule out', 'rather than', 'instead of'];

const TRAILERS = ['co-authored-by:', 'signed-off-by:', 'reviewed-by:', 'change-id:', 'generated with'];

/** A piece of text is cut at this length: a "sentence" without punctuation is still scanned in bounded pieces. */
const SENTENCE_LIMIT = 600;

export function normalizeClaim(text: string): string {
  let out = '';
  let space = false;
  for (const c of text.toLowerCase().slice(0, 400)) {
    const keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (keep) {
      if (space && out) out += ' ';
      out += c;
      space = false;
    } else space = true;
  }
  return out.slice(0, 240);
}

interface Sentence {
  text: string;
  line: number;
}

/** Paragraphs of prose, joined across line breaks, split into sentences that keep their first line. */
function sentences(text: PrText, markdown: Markdown): Sentence[] {
  const out: Sentence[] = [];
  let buffer = '';
  let starts: { offset: number; line: number }[] = [];
  const flush = () => {
    let offset = 0;
    // pieces come in order, so the line they start on only moves forward: one pass over `starts`
    let k = 0;
    for (const piece of splitSentences(buffer)) {
      for (let cut = 0; cut < piece.length; cut += SENTENCE_LIMIT) {
        const part = piece.slice(cut, cut + SENTENCE_LIMIT);
        const lead = part.length - part.trimStart().length;
        const at = offset + cut + lead;
        while (k + 1 < starts.length && starts[k + 1]!.offset <= at) k++;
        if (part.trim()) out.push({ text: part.trim(), line: starts[k]?.line ?? 1 });
      }
      offset += piece.length;
    }
    buffer = '';
    starts = [];
  };
  for (const section of text.sections) {
    flush();
    for (let n = section.firstLine; n < section.firstLine + section.lineCount; n++) {
      const raw = text.lines[n - 1]!;
      const line = raw.trim();
      const lower = line.toLowerCase();
      // template boilerplate states nothing: checklist items ("- [x] I verified the root cause") and table rows
      const boilerplate = /^[-*+]\s+\[[ xX]\]/.test(line) || line.startsWith('|') || TRAILERS.some((t) => lower.startsWith(t));
      const breaks = !markdown.prose[n - 1] || line === '' || line.startsWith('#') || /^([-*+]|\d{1,3}[.)])\s/.test(line) || boilerplate;
      if (breaks) flush();
      if (!markdown.prose[n - 1] || line === '' || boilerplate) continue;
      const body = line.startsWith('#') ? `${line.replace(/^#+\s*/, '')}.` : line.replace(/^([-*+>]|\d{1,3}[.)])\s+/, '');
      starts.push({ offset: buffer.length, line: n });
      buffer += `${body} `;
      if (line.startsWith('#')) flush();
    }
  }
  flush();
  return out;
}

function negatedBefore(lower: string, at: number): boolean {
  const before = lower.slice(Math.max(0, at - 24), at);
  // "n't" ends a word ("doesn't fix the root cause"), so it is found inside one, not as a word of its own
  return hasAny(before, NEGATIONS) || before.includes("n't") || before.includes('n\u2019t');
}

/** "what is causing the flaky test", "why it was caused by": the cause asked about, unless a colon answers it. */
function askedAbout(lower: string, marker: { phrase: string; at: number }): boolean {
  const before = lower.slice(Math.max(0, marker.at - 5), marker.at);
  return (before.endsWith('what ') || before.endsWith('why ')) && !lower.includes(':', marker.at + marker.phrase.length);
}

interface Named {
  mechanism: Mechanism;
  named: string;
  at: number;
  /** the failure as seen (OOMKilled), not a cause behind it */
  symptom: boolean;
}

const FIXES = ['fix', 'fixes', 'fixed', 'fixing', 'resolve', 'resolves', 'resolved'];

/**
 * "Fixes a race condition where tests could ...": a mechanism the PR says it fixes is asserted, whatever hedges the
 * sentence goes on with. Only the words right before the mechanism count, so "fix handling of throttling" is not one.
 */
function fixedBefore(lower: string, at: number): boolean {
  let before = lower.slice(Math.max(0, at - 16), at).trimEnd();
  if (before.endsWith(':')) before = before.slice(0, -1).trimEnd();
  for (const article of [' a', ' an', ' the', ' this', ' that']) {
    if (before.endsWith(article)) before = before.slice(0, -article.length);
  }
  return FIXES.some((f) => before === f || before.endsWith(` ${f}`));
}

/** The first mechanism a text names; a symptom only when no cause is named besides it. */
function mechanismOf(lower: string): Named | undefined {
  let symptom: Named | undefined;
  for (const [phrase, mechanism] of MECHANISMS) {
    const at = findPhrase(lower, phrase);
    if (at === -1) continue;
    let end = at + phrase.length - (phrase.endsWith('*') ? 1 : 0);
    while (end < lower.length && end - at < 40 && /[a-z]/.test(lower[end]!)) end++;
    const found = { mechanism, named: lower.slice(at, end), at, symptom: SYMPTOMS.has(phrase) };
    if (!found.symptom) return found;
    symptom ??= found;
  }
  return symptom;
}

const CLAUSE_LIMIT = 100;
const CLAUSE_STOPS = ',;:.()!?';
const CLAUSE_WORDS = [' and ', ' so ', ' which ', ' but ', ' while ', ' where ', ' when '];

/**
 * The clause a marker's cause sits in: forward from `from` (after "because"), or backward (before "is to blame"),
 * to punctuation or a conjunction once it holds a word. At most CLAUSE_LIMIT characters either way.
 */
function clauseAt(lower: string, from: number, backward: boolean): string {
  const step = backward ? -1 : 1;
  let i = backward ? from - 1 : from;
  let words = false;
  for (let n = 0; n < CLAUSE_LIMIT && i >= 0 && i < lower.length; n++, i += step) {
    const c = lower[i]!;
    if (CLAUSE_STOPS.includes(c) && words) break;
    if (c === ' ' && words && CLAUSE_WORDS.some((w) => (backward ? lower.startsWith(w, i - w.length + 1) : lower.startsWith(w, i)))) break;
    if (/[a-z]/.test(c)) words = true;
  }
  return backward ? lower.slice(i + 1, from) : lower.slice(from, i);
}

/** Of the RESTATED words, those that name the failure itself: running out of a limit, timing out. */
const EXHAUSTION = new Set(['memory', 'cpu', 'limit', 'limits', 'quota', 'timing', 'exceeded', 'exceeding']);

/** A cause that only names the failure again: every word is a failure word or one RESTATED allows, and one names the failure. */
function restatesFailure(clause: string): boolean {
  let failure = false;
  for (const word of clause.split(/[^a-z0-9-]+/)) {
    if (word === '' || /^\d/.test(word)) continue;
    if (EXHAUSTION.has(word) || hasAny(word, FAILURE_WORDS)) failure = true;
    else if (!RESTATED.has(word)) return false;
  }
  return failure;
}

/** Where a marker's cause sits: after "because X" / "caused by X", before "X is to blame" / "X is causing". */
function causeOf(lower: string, marker: { phrase: string; at: number }): string {
  return CAUSE_BEFORE.has(marker.phrase)
    ? lower.slice(Math.max(0, marker.at - 160), marker.at + marker.phrase.length)
    : lower.slice(marker.at, marker.at + 160);
}

/**
 * The weak marker that decides a sentence: the first whose cause names a mechanism, else the first. "This causes a
 * problem when ... the update fails, because the etcd webhook rejects it" is decided by its "because", not its "causes".
 */
function weakMarker(lower: string): { phrase: string; at: number } | undefined {
  const found: { phrase: string; at: number }[] = [];
  for (const phrase of WEAK_MARKERS) {
    const at = findPhrase(lower, phrase);
    if (at !== -1) found.push({ phrase, at });
  }
  found.sort((a, b) => a.at - b.at);
  return found.find((m) => mechanismOf(causeOf(lower, m))?.symptom === false) ?? found[0];
}

/** Dependency bumps quote release notes and changelogs: causes there are the upstream's, not the PR's. */
const BUMP_TITLES = ['bump ', 'chore(deps', 'build(deps', 'fix(deps', 'update dependency', 'update module', 'update go.mod', 'upgrade dependency'];

/**
 * Every sentence that names the runtime cause of a failure. A claim needs a causal marker whose cause names a
 * mechanism; or an explicit marker ("root cause", "caused by") and a failure in the sentence or the title; or a
 * mechanism stated next to a failure. Questions, negations, possibilities and non-runtime causes (a typo, review
 * feedback, a renamed API, a revert) stay silent, and so does a "because" whose cause names no mechanism.
 */
export function findClaims(text: PrText, markdown: Markdown): Claim[] {
  const title = titleOf(text).toLowerCase();
  if (BUMP_TITLES.some((t) => title.startsWith(t) || title.includes(`: ${t}`))) return [];
  const titleFailure = hasAny(title, FAILURE_WORDS);
  const claims: Claim[] = [];
  const seen = new Set<string>();
  let headingMarker = false;
  for (const sentence of sentences(text, markdown)) {
    const lower = sentence.text.toLowerCase();
    // "## Root cause" as a heading makes the next sentence the claim
    const strong = firstOf(lower, STRONG_MARKERS);
    const isHeading = (text.lines[sentence.line - 1] ?? '').trimStart().startsWith('#');
    if (isHeading) {
      headingMarker = !!strong && EXPLICIT_MARKERS.includes(strong.phrase);
      continue;
    }
    const inherited = headingMarker;
    headingMarker = false;
    if (lower.endsWith('?') || opensAsQuestion(lower)) continue;
    const weak = strong ? undefined : weakMarker(lower);
    const marker = strong ?? weak;
    const explicit = !!strong && EXPLICIT_MARKERS.includes(strong.phrase);
    if (marker && negatedBefore(lower, marker.at)) continue;
    // "not actually sure what the root cause of the failures is": the cause is the question, not the answer
    if (strong && (hasAny(lower.slice(Math.max(0, strong.at - 60), strong.at), INQUIRY) || askedAbout(lower, strong))) continue;
    // "it is possible that due to a wrong storage class the volume hangs": a scenario, not what happened
    if (weak && hasAny(lower.slice(0, weak.at), SCENARIO)) continue;
    // the cause sits after "because X" / "caused by X", before "X is to blame" / "X is causing"
    const cause = marker ? causeOf(lower, marker) : lower;
    if (hasAny(cause, NON_RUNTIME)) continue;
    // with a marker, the mechanism must be in the cause: "document DNS because users asked" blames no DNS
    const causeMechanism = mechanismOf(cause);
    const mechanism = causeMechanism ?? mechanismOf(lower);
    // a cause that is the failure again ("failing due to expect timeouts") is what was seen, not a diagnosis of it
    if (marker && (!causeMechanism || causeMechanism.symptom)) {
      const before = CAUSE_BEFORE.has(marker.phrase);
      if (restatesFailure(clauseAt(lower, before ? marker.at : marker.at + marker.phrase.length, before))) continue;
    }
    const failure = hasAny(lower, FAILURE_WORDS);
    // without a marker the sentence itself is the cause (cause === lower), so `at` is in `lower`; "this is not packet
    // loss" rules a mechanism out and blames nothing
    const stated = !marker && mechanism && !mechanism.symptom && !negatedBefore(lower, mechanism.at);
    // only an explicit marker ("Root cause: ...") claims a cause the vocabulary cannot name; a story ("the problem was
    // that ...") or a "because" with no mechanism in it may be about the code, the test or the process, and the text
    // alone does not say which
    const isClaim =
      (marker && causeMechanism && !causeMechanism.symptom) ||
      ((explicit || inherited) && (failure || titleFailure || mechanism)) ||
      (stated && failure && (fixedBefore(lower, mechanism.at) || !hasAny(lower, PROSPECTIVE)));
    if (!isClaim) continue;
    const key = normalizeClaim(sentence.text);
    if (!key || seen.has(key)) continue;
    seen.add(key);
    const section = sectionAt(text, sentence.line);
    claims.push({
      line: sentence.line,
      text: sentence.text.slice(0, 300),
      key,
      mechanism: mechanism?.mechanism ?? 'other',
      ...(mechanism ? { named: mechanism.named } : {}),
      ...(section.kind === 'commit' && section.sha ? { commit: section.sha } : {}),
    });
  }
  return claims;
}

/** What would verify a claim of each mechanism: the observation to go and make. */
export const VERIFY: Record<Mechanism, string> = {
  binary:
    "the container's exit reason (`kubectl describe pod`, Last State) and a listing of the path inside the image (`kubectl exec <pod> -- ls -l <path>`, or `docker run --entrypoint ls <image> -l <path>`)",
  network:
    'the NetworkPolicy or security-group rule that blocks the traffic and a connection attempt from the pod (`kubectl exec <pod> -- nc -vz <host> <port>`)',
  dns: '`nslookup <name>` from the pod and the CoreDNS logs for the failing lookups',
  contention: 'a mutex or block profile (`go tool pprof http://<pod>:6060/debug/pprof/mutex`) or lock statistics that show the wait',
  memory: "a heap profile (`/debug/pprof/heap`) and `OOMKilled` in the pod's last state (`kubectl describe pod`)",
  cpu: 'CPU throttling metrics (`container_cpu_cfs_throttled_periods_total`) or a CPU profile of the slow path',
  apiserver:
    'apiserver metrics (`apiserver_request_total{code="429"}`, request latency), client-side throttling lines ("Waited for ... due to client-side throttling") in the operator log, or the 429 responses',
  storage: 'etcd and disk latency metrics (`etcd_disk_wal_fsync_duration_seconds`) from the time of the failure',
  cache:
    'the logs, events or trace that show the read returning an old object (its resourceVersion in the cache against the API server), or a test that makes the same read before the informer has synced',
  race: '`go test -race` output (WARNING: DATA RACE with both stacks) or a test that reproduces the interleaving',
  other: 'the logs, events or trace that show the failure happening this way, or a test that reproduces it',
};
