// unverified-diagnosis: the PR text names the runtime cause of a failure ("root cause: the API server is
// overloaded") and nothing observed supports it: no output, no quoted error, no link to logs, no
// reproduction test, no chaos result. The claim is quoted with what would verify it.

import { findClaims, VERIFY, type Claim, type Mechanism } from '../src/analysis/claims.js';
import { changedTests, prText, splitMarkdown, testRelatesTo, textEvidence, titleOf, type TestCase } from '../src/analysis/evidence.js';
import { PR_TEXT_PATH, type Check, type CheckContext } from '../src/engine/types.js';
import { describeChange, tuningChanges, type TuningChange, type TuningKind } from './symptomatic-tuning.js';

/** How each mechanism reads in "the PR blames ...". */
const BLAMES: Record<Mechanism, string> = {
  binary: 'a missing or wrong binary',
  network: 'the network',
  dns: 'DNS',
  contention: 'lock contention',
  memory: 'memory (a leak or OOM)',
  cpu: 'CPU starvation',
  apiserver: 'the API server (overload or throttling)',
  storage: 'storage latency',
  cache: 'a stale or unsynced informer cache',
  race: 'a race',
  other: 'this cause',
};

const TUNED: Record<TuningKind, string> = {
  memory: 'a memory request or limit',
  cpu: 'a CPU request or limit',
  retries: 'a retry count',
  timeout: 'a timeout',
  probe: 'a probe delay',
};

const MAX_CLAIMS = 20;

/** Lines that change nothing a program does: blank, comments. */
function isInert(line: string): boolean {
  const t = line.trim();
  return t === '' || t.startsWith('//') || t.startsWith('#') || t.startsWith('/*') || t.startsWith('*') || t.startsWith('--');
}

/**
 * When every line the PR adds is a raised value, a blank or a comment, the diff does not touch the
 * mechanism the text blames: say what it changes instead. Undefined when the diff does anything else.
 */
async function onlyTuning(ctx: CheckContext, tuning: TuningChange[]): Promise<string | undefined> {
  if (tuning.length === 0) return undefined;
  const tuned = new Set(tuning.map((t) => `${t.path}:${t.line}`));
  for (const change of ctx.changes.slice(0, 200)) {
    if (change.status === 'removed') continue;
    if (change.status === 'added' || change.wholeFile) return undefined;
    const text = await ctx.read(change.path, 'head');
    if (text === undefined) return undefined;
    const lines = text.split('\n');
    for (const hunk of change.hunks) {
      for (const n of hunk.added) {
        if (!tuned.has(`${change.path}:${n}`) && !isInert(lines[n - 1] ?? '')) return undefined;
      }
    }
  }
  const kinds = [...new Set(tuning.map((t) => TUNED[t.kind]))];
  return `${kinds.join(' and ')} (${tuning.slice(0, 3).map(describeChange).join('; ')})`;
}

function message(claim: Claim, mismatch: string | undefined): string {
  const where = claim.commit ? `Commit ${claim.commit.slice(0, 7)} states` : 'The PR states';
  const trimmed = claim.text.replace(/[.;:!\s]+$/, '');
  const quoted = trimmed.length > 200 ? `${trimmed.slice(0, 200)}...` : trimmed;
  const blame =
    mismatch && claim.mechanism !== 'other'
      ? ` The PR blames ${BLAMES[claim.mechanism]} but changes only ${mismatch}: if the diagnosis is right, this does not fix it; if it is wrong, the real cause is still there.`
      : '';
  return `${where} a cause that nothing observed supports: "${quoted}".${blame} Verify it before building on it: ${VERIFY[claim.mechanism]}. Paste the output in a fenced block, link the CI run or issue with the logs, or add a test that reproduces the failure; if it cannot be verified, describe what was observed instead of a cause.`;
}

/** Where else the same cause is stated: "The same cause is stated 2 more times (line 4, commit abc1234)." */
function restated(rest: Claim[]): string {
  if (rest.length === 0) return '';
  const places = rest.slice(0, 4).map((c) => (c.commit ? `commit ${c.commit.slice(0, 7)}` : `line ${c.line}`));
  const more = rest.length > 4 ? `, and ${rest.length - 4} more` : '';
  return ` The same cause is stated ${rest.length} more time${rest.length === 1 ? '' : 's'} (${places.join(', ')}${more}).`;
}

export const unverifiedDiagnosis: Check = {
  id: 'unverified-diagnosis',
  title: 'Root cause stated without observed evidence',
  docs: {
    summary:
      'Flags a PR whose title, description or commit messages state the runtime cause of a failure ("Root cause: ...", "caused by ...", "flaky because of a race", or a named mechanism stated next to a failure: lock contention, a network partition, a memory leak, DNS, API server overload or throttling, a stale informer cache, a busy machine, a race, a missing binary) when nothing observed supports it. A fix built on a guessed cause hides the failure and leaves the cause in place; coding agents state such causes with confidence and without looking at the runtime.',
    details: [
      'A claim is one of: an explicit diagnosis marker ("root cause", "caused by", "the culprit", "the primary cause", "X is causing") with a failure in the sentence or the title, or the sentence after a "## Root cause" heading; any other causal marker ("because", "due to", "leads to", "causes", "the problem was that", "it turns out") whose cause names a mechanism; or a mechanism stated next to a failure ("network blips make the suite fail", "Fix race in the zone merge").',
      'It stays silent where the text cannot decide. A "because" or a "the problem was" whose cause names no mechanism ("flaky because the fake recorder drops events", "failing due to timeouts loading the editor") may be about the code, the test or the process. Also silent: questions, including those that open as one ("Could this be because ...") without a question mark; negated or ruled-out causes ("not caused by the network", "so this is not packet loss"); the cause still sought ("not sure what the root cause is"); scenarios and possibilities ("if a NetworkPolicy blocks the port ...", "it is possible that due to ...", "DNS errors can take down the client"); a mechanism that is the topic of a task ("a tool to help troubleshooting network connectivity") or a guard ("survive API server throttling"); a component named like a mechanism (a Throttler); the failure restated as its cause ("due to expect timeouts", OOMKilled as reported); causes that are not about the runtime (a typo, review feedback, a renamed API, the author\'s omission, a PR or a revert, "go back to the patch"). Dependency-bump PRs (Dependabot, Renovate titles) quote upstream release notes and are not scanned; HTML comments, checklist items and table rows from PR templates are not prose anyone wrote.',
      'Evidence is anything that shows someone looked at the runtime: observed output in a fenced block or a block indented four spaces (log lines with timestamps or levels, `kubectl describe` events, a goroutine dump, a `WARNING: DATA RACE` report, `$ kubectl ...` followed by its output, controller-runtime\'s "Reconciler error", strace, pprof, tcpdump or metrics) but not code or YAML the author wrote; output pasted as plain text, two lines of it in a row (a race report, Go, Java or Python stack frames, klog or timestamped lines); a screenshot attached to the PR or issue; a Markdown table row with a Prometheus series and a number; an error or a CamelCase reason quoted in backticks with where it was seen ("seen in every operator log at pod start", "keeps logging `HealthCheckFailed`", "with the error: `...`"), though a quoted setting (`timeout: 60s`, `--timeout=10m`) is not an error; a link to a CI run, an issue, an issue comment, a gist or a paste of logs (`#123` alone is not one, nor a link to a pull request); a chaos result (causal-review/chaos, a results.json); a measurement, a tool and a number read from it ("the heap profile shows 700Mi", "fsync averages 90 ms"), a tool named only inside a link\'s path not counting; a test the PR adds whose name or body shares a domain word with the claim or the title, or a changed test the text names (a test whose only change is a longer wait is not a reproduction). Any evidence in the PR text counts for every claim in it: the check asks that someone looked, it does not judge what they saw.',
      'One diagnosis is one finding: claims that blame the same mechanism (in the title, the body and the commits) are reported once, at the first, with where the cause is restated, and one acceptance covers them all. Claims that name no known mechanism are reported one by one.',
      'When the diff only raises retries, timeouts or resources (every other added line is blank or a comment), the message says that it does not touch the blamed mechanism. With evidence in the text the check stays silent even then: the evidence is there for a reviewer to judge, and symptomatic-tuning follows the same rule.',
      'Findings are on `pr-text`. Lines are numbered over one document: line 1 is the title, the body starts on line 2, and a text with no title starts with the body on line 1 (so with `analyze --pr-description FILE` line n is line n of the file, whether or not its first line is a `# title`), and each commit message follows on the next line after the previous one, oldest first; a claim in a commit message names the commit. Each finding is keyed by the normalized claim, so accepting it (a maintainer who verified the diagnosis) survives edits elsewhere in the text.',
    ].join('\n\n'),
    bad: {
      language: 'text',
      code: '# Fix resync failures\n\nRoot cause: the Kubernetes API server is overloaded during resync and drops our\nrequests. More attempts let the resync complete.',
      note: 'No apiserver metrics, no 429s, no throttling log lines: the overload is a guess, and raising the attempts builds on it.',
    },
    good: {
      language: 'text',
      code: '# Fix resync failures\n\nThe resync fails with 429s from the API server (CI run https://github.com/acme/operator/actions/runs/123):\n\n```\nE0312 10:04:11.201 resync.go:88] "list failed" err="the server has received too many requests and has asked us to try again later"\n```\n\nThe client now uses the shared informer instead of listing every resync.',
      note: 'The cause rests on observed output, and the fix removes it.',
    },
  },
  defaultSeverity: 'error',
  languages: ['text'],
  async run(ctx) {
    const text = prText(ctx.pr);
    const markdown = splitMarkdown(text);
    const claims = findClaims(text, markdown);
    if (claims.length === 0) return;
    if (textEvidence(text, markdown).length > 0) return;
    ctx.checkBudget();
    const tests: TestCase[] = await changedTests(ctx.changes, ctx.read);
    const lower = text.lines.join('\n').toLowerCase();
    // a test the text names as reproducing the failure, among those the PR adds or changes
    if (tests.some((t) => t.name.length >= 6 && lower.includes(t.name.toLowerCase()))) return;
    const title = titleOf(text);
    const tuning = await tuningChanges(ctx);
    const mismatch = await onlyTuning(ctx, tuning);
    // One diagnosis stated in the title, the body and a commit is one finding, not four: claims are
    // grouped by the mechanism they blame and keyed by it, so one acceptance covers the diagnosis.
    // Claims that name no known mechanism stay apart, keyed by their own words.
    const groups = new Map<string, Claim[]>();
    // a hostile body can state hundreds of causes; the first ones make the point
    for (const claim of claims.slice(0, MAX_CLAIMS)) {
      ctx.checkBudget();
      if (tests.some((t) => t.isNew && testRelatesTo(t, `${claim.text} ${title}`))) continue;
      const key = claim.mechanism === 'other' ? claim.key : `mechanism ${claim.mechanism}`;
      groups.set(key, [...(groups.get(key) ?? []), claim]);
    }
    for (const [key, [first, ...rest]] of groups) {
      ctx.report({
        path: PR_TEXT_PATH,
        line: first!.line,
        message: message(first!, mismatch) + restated(rest),
        evidence: [first!, ...rest].map((c) => `${c.commit ? `commit ${c.commit}: ` : ''}${c.text}`).join('\n'),
        key,
      });
    }
  },
};
