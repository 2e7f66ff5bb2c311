// sleep-fix: a sleep or fixed delay that a PR adds or lengthens where it stands in for a real wait
// (an event, a condition with a deadline, a synchronization). The flagship check of causal-review.

import { dirOf, goFilesIn, packageSays } from '../src/analysis/controller.js';
import { formatDuration, goConstants } from '../src/analysis/waits.js';
import { PackageCache, goSites } from '../src/analysis/waits-go.js';
import { manifestSites, shellSites } from '../src/analysis/waits-shell.js';
import { shellKind } from '../src/lang/shell.js';
import { MAX_PACKAGE_FILES, quote, type WaitSite } from '../src/analysis/waits-sites.js';
import { tsSites } from '../src/analysis/waits-ts.js';
import { lineOf } from '../src/lang/go.js';
import type { Check, CheckContext, ParsedFile, Revision } from '../src/engine/types.js';

const MAX_COMMITS = 30;

/** What every Go wait site calls somewhere in its package: time.Sleep, time.After, time.NewTimer, a Sleep method. */
export const GO_WAIT_WORDS = /\b(?:Sleep|After|AfterFunc|NewTimer)\s*\(/;

export const sleepFix: Check = {
  id: 'sleep-fix',
  title: 'Sleeps and fixed delays used as a fix for ordering',
  docs: {
    summary:
      'Flags a sleep or fixed delay that the pull request adds or lengthens where it stands in for a real wait: ' +
      '`time.Sleep`, `<-time.After`, `await new Promise(r => setTimeout(r, n))` and sleep helpers of the repository, ' +
      "`page.waitForTimeout`, `cy.wait(n)`, and `sleep N` in scripts, Makefiles, workflows and containers' commands. A fixed delay does not fix a race, " +
      'it makes it rarer on the machine where it was tried; the delay that worked yesterday fails on a slower CI runner or a busier cluster, ' +
      'and the next "fix" lengthens it. The finding says what to wait on instead, and shows when the PR escalated the same wait over its commits.',
    details: [
      'Only lines the PR adds or changes count. A wait the PR lengthens is matched with the same wait at the base by its enclosing ' +
        'function (or script) and callee, not by line number, and its durations are compared: Go constant expressions ' +
        '(`2*time.Minute + 30*time.Second`, `time.Duration(n) * time.Millisecond` with package constants), TS numbers and file ' +
        "constants, shell `sleep 5`, `sleep 0.5`, `sleep 1m`. The PR's commits are read one by one so that \"5s -> 30s -> 2m\" shows. " +
        'A wait lengthened through a constant (`const settleDelay = 5 * time.Second` -> `10 * time.Minute`, in the same file or in ' +
        'another file of the Go package) is reported on the constant.',
      'Sleep helpers are resolved whatever their name: a Go function of the same package whose body is a `time.Sleep`/`<-time.After` ' +
        'of its parameter (also with `time` dot-imported: `Sleep(10 * Second)`); a TS function returning a promise resolved by `setTimeout`, ' +
        "in the same file (a class's own method or arrow property too: `this.pause(ms)`, `Timing.sleep(ms)`) or imported from a relative " +
        'path or a tsconfig.json path alias (`@/test/timing`; also through a namespace import, one re-export, `export default (ms) => ...`, ' +
        "or CommonJS: `module.exports = { sleep }` and `const { sleep } = require('./util')`); " +
        '`promisify(setTimeout)`, `delay`, `timers/promises` and other sleep packages. ' +
        'A `Sleep(d)` method of another package with a constant duration is a sleep too (the step of an e2e fixture chain, ' +
        '`.PromoteRollout().Sleep(2*time.Second).Then()`), unless its receiver is a clock (`fakeClock.Sleep`, `r.clock.Sleep`).',
      'Silent, because these waits do not mask a race: a wait the PR removed, shortened or left alone; retries with backoff ' +
        'bounded by an attempt counter or a deadline (also `for attempt := range maxAttempts`); `wait.Backoff`, `wait.ExponentialBackoff*`, `retry.RetryOnConflict`, backoff ' +
        'libraries; tickers and periodic loops (left only on `ctx.Done()` or a stop channel); condition polls with a deadline ' +
        '(`Eventually`, `wait.PollUntilContextTimeout`, `kubectl wait`, shell loops under `timeout` or with a counter); rate limiters; ' +
        '`time.After` as the timeout branch of a `select` that waits on real work; `setTimeout` that only aborts or rejects, or whose ' +
        'handle is kept or whose pending run a flag marks (a debounce); fake timers in tests; `time.Sleep(0)`; the body of a sleep helper (its callers are reported ' +
        'instead); a random jitter; a sleep until a scheduled time (`time.Until`); the drain delay before a graceful `Shutdown`; a ' +
        'goroutine that sleeps and then cancels (a hand-made timeout); an HTTP handler that sleeps (simulated latency); `sleep infinity`, and an app container ' +
        "whose script ends in a sleep (it holds the container open; an init container's sleep delays the app and is reported); " +
        'an init container that polls its dependency; a `preStop` sleep (a drain delay); ' +
        'a retry by recursion that counts its attempts or follows an error; a timer that reschedules its own function; a delay the ' +
        'function computes at run time (`tempDelay *= 2`, a `Retry-After` header, seconds read from a request), as opposed to a ' +
        'constant, a field or a parameter. A loop that sleeps until a condition holds with no deadline IS reported: poll to a deadline or watch. ' +
        'So is a fixed pause between the items of a loop (`for _, m := range members { r.Delete(ctx, pod(m)); time.Sleep(30 * time.Second) }`): ' +
        'a rolling restart that guesses how long a pod takes and a loop paced to spare the API server look the same. Pace with a ' +
        '`rate.Limiter` (silent), or suppress the finding with the reason.',
      'Threshold: waits shorter than `minimumMs` (option, default 10) are yields or spin pauses, not guesses at how long something ' +
        'takes, and stay silent (as staticcheck SA1004 draws a line for `time.Sleep`). Set it to 0 to review every sleep.',
      'Severity: error in production code, scripts and tests where the sleep precedes an assertion (a masked flaky test; testify ' +
        'suite methods such as `s.Equal`, `s.Require().NoError` count as assertions) or follows a `go` statement (`go mgr.Start(ctx)` ' +
        'then a sleep in `BeforeSuite`: the goroutine is waited for by guess). Warning ' +
        'for any other sleep in test code: a test helper whose purpose the check cannot decide (it may pace a load ' +
        'generator or simulate latency). Where the wait is a `sleep` right before `kubectl get pods -l ...` or `kubectl get deployment ...`, ' +
        'the finding carries a suggested `kubectl wait` / `kubectl rollout status` with the sleep as its timeout. A file the TypeScript ' +
        'front-end cannot walk (nested thousands deep) fails the check rather than passing unread.',
    ].join('\n\n'),
    bad: {
      language: 'go',
      code: [
        'func (r *DatabaseReconciler) finalize(ctx context.Context, db *dbv1.Database) error {',
        '\tif err := r.deletePVCs(ctx, db); err != nil {',
        '\t\treturn err',
        '\t}',
        '\t// PVC deletion is asynchronous; wait so the finalizer is not removed too early',
        '\ttime.Sleep(15 * time.Second)',
        '\tcontrollerutil.RemoveFinalizer(db, finalizer)',
        '\treturn r.Update(ctx, db)',
        '}',
      ].join('\n'),
      note: 'Blocks a reconcile worker for 15s and still removes the finalizer early when deletion takes 16s.',
    },
    good: {
      language: 'go',
      code: [
        'func (r *DatabaseReconciler) finalize(ctx context.Context, db *dbv1.Database) (ctrl.Result, error) {',
        '\tif err := r.deletePVCs(ctx, db); err != nil {',
        '\t\treturn ctrl.Result{}, err',
        '\t}',
        '\tremaining, err := r.countPVCs(ctx, db)',
        '\tif err != nil || remaining > 0 {',
        '\t\t// the PVCs are owned by the Database: their deletion triggers the next reconcile',
        '\t\treturn ctrl.Result{RequeueAfter: 5 * time.Second}, err',
        '\t}',
        '\tcontrollerutil.RemoveFinalizer(db, finalizer)',
        '\treturn ctrl.Result{}, r.Update(ctx, db)',
        '}',
      ].join('\n'),
      note: 'Waits on the state itself: the finalizer stays until the PVCs are gone.',
    },
  },
  defaultSeverity: 'error',
  languages: ['go', 'ts', 'js', 'shell', 'yaml'],
  // each changed file is judged with its own package (read whole or sliced), never with the other changed files
  shardable: true,
  goPackageGate: GO_WAIT_WORDS,
  defaultOptions: { minimumMs: 10 },
  async run(ctx) {
    const packages = new PackageCache(ctx);
    // below this a sleep is a yield or a spin pause, not a guess at how long something takes (cf. staticcheck SA1004)
    const minimum = typeof ctx.options.minimumMs === 'number' ? ctx.options.minimumMs : 10;
    const tooShort = (s: WaitSite) => s.ms !== undefined && s.ms < minimum;
    for (const file of ctx.files) {
      ctx.checkBudget();
      // a Go wait is a time.Sleep, time.After or timer, a Sleep method, or a package helper built on one
      // of those: a package whose files never name them has none to find
      if (file.language === 'go' && !(await packageSays(ctx, dirOf(file.path), GO_WAIT_WORDS))) continue;
      const head = await collectSites(ctx, file, true, packages);
      const onWait = (s: WaitSite) => changedWithin(file, s.line, s.endLine);
      const viaConstant = (s: WaitSite) => s.durationLines?.find((line) => file.isChanged(line));
      const touched = head.filter((s) => !s.benign && !tooShort(s) && (onWait(s) || viaConstant(s) !== undefined));
      for (const site of touched) {
        ctx.checkBudget();
        site.judge?.();
      }
      const candidates = touched.filter((s) => !s.benign);
      if (candidates.length === 0) continue;
      const basePath = file.change?.previousPath ?? file.path;
      const base = file.change?.status === 'added' ? [] : await sitesAt(ctx, basePath, 'base', packages);
      const atBase = matchSites(base, head);
      const history = await historyOf(ctx, file.path, head, candidates, atBase, packages);
      for (const site of candidates) {
        const before = atBase.get(site);
        const change = changeOf(site, before, history.get(site));
        // a wait whose own line is untouched was lengthened through a constant: report on the constant's line
        const constantLine = onWait(site) ? undefined : viaConstant(site);
        if (!change || (constantLine !== undefined && change.kind === 'new')) continue;
        reportWait(ctx, site, change, before, constantLine === undefined ? undefined : { path: file.path, line: constantLine });
      }
    }
    await lengthenedThroughPackageConstants(ctx, packages, tooShort);
  },
};

/** What the PR did to a wait: added it, lengthened it, escalated it; undefined when it left it as long or made it shorter. */
function changeOf(site: WaitSite, before: WaitSite | undefined, steps: { values: number[]; commits: number } | undefined): Change | undefined {
  if (steps && steps.values.length >= 3) return { kind: 'escalated', values: steps.values, commits: steps.commits };
  if (!before) return { kind: 'new' };
  if (before.ms !== undefined && site.ms !== undefined && site.ms > before.ms) return { kind: 'lengthened', from: before.ms };
  // the same wait as at the base, no longer (or of a length this cannot compare): not the PR's doing
  return undefined;
}

/** Report a wait, on its own line or on the line of the constant that lengthened it. */
function reportWait(ctx: CheckContext, site: WaitSite, change: Change, before: WaitSite | undefined, constant?: { path: string; line: number }): void {
  const where = constant ? (constant.path === site.path ? `line ${site.line}` : `${site.path}:${site.line}`) : undefined;
  ctx.report({
    path: constant?.path ?? site.path,
    line: constant?.line ?? site.line,
    ...(!constant && site.endLine !== site.line ? { endLine: site.endLine } : {}),
    message: messageFor(site, change, where),
    evidence: evidenceFor(site, change, before),
    key: `${site.scope}: ${site.callee}`,
    ...(site.situation === 'test-helper' ? { severity: 'warning' as const } : {}),
    ...(site.suggestion && !constant ? { suggestion: site.suggestion } : {}),
  });
}

/**
 * A PR can lengthen a wait without touching it: `const settleDelay = 5 * time.Second` -> `10 * time.Minute` in
 * consts.go, with `time.Sleep(settleDelay)` unchanged in another file of the package. Report those on the constant.
 */
async function lengthenedThroughPackageConstants(ctx: CheckContext, packages: PackageCache, tooShort: (s: WaitSite) => boolean): Promise<void> {
  for (const file of ctx.files) {
    if (file.language !== 'go' || file.change?.status === 'added') continue;
    ctx.checkBudget();
    const changed = new Map<string, number>();
    for (const [name, value] of goConstants(file.go().rootNode)) {
      if (file.isChanged(lineOf(value))) changed.set(name, lineOf(value));
    }
    if (changed.size === 0) continue;
    const others = (await goFilesIn(ctx, dirOf(file.path))).filter((p) => p !== file.path).slice(0, MAX_PACKAGE_FILES);
    for (const path of others) {
      ctx.checkBudget();
      const text = await ctx.read(path, 'head');
      if (!text || ![...changed.keys()].some((name) => text.includes(name))) continue;
      const other = await ctx.parse(path, 'head');
      if (!other) continue;
      const head = await collectSites(ctx, other, true, packages);
      const candidates = head.filter((s) => !tooShort(s) && s.durationNames?.some((n) => changed.has(n)) && !changedWithin(other, s.line, s.endLine));
      if (candidates.length === 0) continue;
      const atBase = matchSites(await sitesAt(ctx, path, 'base', packages), head);
      for (const site of candidates) {
        site.judge?.();
        if (site.benign) continue;
        const before = atBase.get(site);
        const change = before ? changeOf(site, before, undefined) : undefined;
        if (!change) continue;
        const name = site.durationNames!.find((n) => changed.has(n))!;
        reportWait(ctx, site, change, before, { path: file.path, line: changed.get(name)! });
      }
    }
  }
}

// ---- across revisions ----

type Change = { kind: 'new' } | { kind: 'lengthened'; from: number } | { kind: 'escalated'; values: number[]; commits: number };

function changedWithin(file: ParsedFile, from: number, to: number): boolean {
  for (let line = from; line <= Math.min(to, from + 50); line++) if (file.isChanged(line)) return true;
  return false;
}

async function sitesAt(ctx: CheckContext, path: string, rev: Revision, packages: PackageCache): Promise<WaitSite[]> {
  const file = await ctx.parse(path, rev);
  return file ? collectSites(ctx, file, false, packages) : [];
}

const normalized = (s: WaitSite) => s.text.replace(/\s+/g, '');

/**
 * Pair each newer wait with the same wait in an older revision: same scope and callee, then the
 * same text in order, then what is left in order (a lengthened wait changed its text).
 */
export function matchSites(older: WaitSite[], newer: WaitSite[]): Map<WaitSite, WaitSite> {
  const pairs = new Map<WaitSite, WaitSite>();
  const groups = new Map<string, { older: WaitSite[]; newer: WaitSite[] }>();
  const group = (s: WaitSite) => {
    const key = `${s.scope}\0${s.callee}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { older: [], newer: [] }));
    return g;
  };
  for (const s of older) group(s).older.push(s);
  for (const s of newer) group(s).newer.push(s);
  for (const g of groups.values()) {
    const used = new Set<WaitSite>();
    let from = 0;
    for (const s of g.newer) {
      const at = g.older.findIndex((o, i) => i >= from && !used.has(o) && normalized(o) === normalized(s));
      if (at !== -1) {
        pairs.set(s, g.older[at]!);
        used.add(g.older[at]!);
        from = at + 1;
      }
    }
    const restOlder = g.older.filter((o) => !used.has(o));
    const restNewer = g.newer.filter((s) => !pairs.has(s));
    restNewer.forEach((s, i) => {
      if (restOlder[i]) pairs.set(s, restOlder[i]!);
    });
  }
  return pairs;
}

/**
 * The durations a head wait had at the base and after each commit of the PR, when they only rose:
 * "5s -> 30s -> 2m -> 10m over 3 commits". A revision where the wait is missing or unreadable breaks nothing, it is skipped.
 */
async function historyOf(
  ctx: CheckContext,
  path: string,
  head: WaitSite[],
  candidates: WaitSite[],
  atBase: Map<WaitSite, WaitSite>,
  packages: PackageCache,
): Promise<Map<WaitSite, { values: number[]; commits: number }>> {
  const out = new Map<WaitSite, { values: number[]; commits: number }>();
  const commits = ctx.pr.commits.slice(-MAX_COMMITS);
  if (commits.length < 2) return out;
  const perCommit: Map<WaitSite, WaitSite>[] = [];
  for (const commit of commits.slice(0, -1)) {
    ctx.checkBudget();
    perCommit.push(matchSites(await sitesAt(ctx, path, { commit: commit.sha }, packages), head));
  }
  for (const site of candidates) {
    if (site.ms === undefined) continue;
    const sequence: (number | undefined)[] = [atBase.get(site)?.ms, ...perCommit.map((m) => m.get(site)?.ms), site.ms];
    const values: number[] = [];
    let commitsChanging = 0;
    let previous: number | undefined;
    for (const value of sequence) {
      if (value === undefined || value === previous) continue;
      values.push(value);
      previous = value;
    }
    for (let i = 1; i < sequence.length; i++) {
      if (sequence[i] !== undefined && sequence[i] !== sequence[i - 1]) commitsChanging++;
    }
    const rising = values.every((v, i) => i === 0 || v > values[i - 1]!);
    if (values.length >= 3 && rising) out.set(site, { values, commits: commitsChanging });
  }
  return out;
}

// ---- messages ----

const lengthOf = (ms: number | undefined) => (ms === undefined ? 'a fixed' : `a fixed ${formatDuration(ms)}`);

function messageFor(site: WaitSite, change: Change, constantAt?: string): string {
  const subject = constantAt ? `This constant makes the fixed wait ${quote(site.text)} (${constantAt}) longer: it` : quote(site.text);
  // the generic advice already says that a delay makes a race rarer: say it once
  const rarer = site.situation === 'generic' && !site.poll ? '' : '; a longer sleep makes the race rarer, not gone';
  let opening: string;
  switch (change.kind) {
    case 'new':
      opening = `${quote(site.text)} adds ${lengthOf(site.ms)} wait`;
      break;
    case 'lengthened':
      opening = `${subject} lengthens a fixed wait from ${formatDuration(change.from)} to ${formatDuration(site.ms!)}${rarer}`;
      break;
    case 'escalated': {
      const what = constantAt ? `This constant escalated the fixed wait ${quote(site.text)} (${constantAt})` : `${quote(site.text)}: this fixed wait escalated`;
      opening = `${what} ${change.values.map(formatDuration).join(' -> ')} over ${change.commits} commits, each one guessing again${rarer}`;
      break;
    }
  }
  return `${opening}: ${adviceFor(site)}`;
}

function adviceFor(site: WaitSite): string {
  const pollNote = site.poll ? 'it polls in a loop with no deadline or attempt cap, and ' : '';
  switch (site.situation) {
    case 'reconcile':
      return site.flavour === 'go'
        ? `in the reconcile path (${site.detail ?? 'Reconcile'}) ${pollNote}it blocks a worker and masks the ordering problem. ` +
            'Return and requeue instead (`return ctrl.Result{RequeueAfter: ...}, nil`), or watch the object (Owns/Watches) so that its change triggers the next reconcile.'
        : `in the reconcile path (${site.detail ?? 'reconcile'}) ${pollNote}it holds up the reconcile and masks the ordering problem. ` +
            'Return and requeue the key with a delay, or watch the object whose change it waits for so that the change triggers the next reconcile.';
    case 'test':
      return site.flavour === 'go'
        ? `before an assertion ${pollNote}it masks a flaky test instead of fixing it. Wait for the condition with a deadline: \`Eventually(...).Should(...)\`, \`require.Eventually\` or \`wait.PollUntilContextTimeout\`.`
        : `before an assertion ${pollNote}it masks a flaky test instead of fixing it. Wait for the condition with a deadline: \`await vi.waitFor(...)\`, \`await expect.poll(...)\`, Playwright's web-first \`expect(locator)\` assertions or Cypress \`cy.wait('@alias')\`.`;
    case 'test-helper':
      return site.flavour === 'go'
        ? `in test code ${pollNote}whose purpose this check cannot tell (warning only). If it waits for something, wait for that condition with a deadline (\`Eventually\`, \`require.Eventually\`) instead of a fixed time.`
        : `in test code ${pollNote}whose purpose this check cannot tell (warning only). If it waits for something, wait for that condition with a deadline (\`vi.waitFor\`, \`expect.poll\`) instead of a fixed time.`;
    case 'goroutine':
      return `right after starting a goroutine ${pollNote}it guesses how long the goroutine takes. Signal completion with a channel or a sync.WaitGroup (or errgroup) and wait on that.`;
    case 'kubectl':
      return (
        `${site.detail ? `${site.detail} ` : ''}${pollNote}it guesses how long the cluster takes. Wait for the state itself with a deadline: ` +
        '`kubectl wait --for=condition=... --timeout=...` or `kubectl rollout status ... --timeout=...`.'
      );
    case 'after-write':
      return `after ${quote(site.detail ?? 'the API call')} ${pollNote}it guesses how long the cluster takes to act on the change. Watch the object, or poll its status or condition to a deadline, instead of a fixed delay.`;
    case 'container':
      return (
        "in a container's command it guesses when a dependency is ready, and the pod starts late or too early. Wait on the dependency " +
        'itself: an init container that polls it (`until nc -z db 5432; do sleep 2; done`), or let the app retry its connection and gate traffic with a readiness or startup probe.'
      );
    case 'deferred':
      return site.flavour === 'go'
        ? 'it defers work by a fixed delay, which races with whatever the work is meant to follow. Run it on the event it waits for (a channel, a watch event), or requeue with `queue.AddAfter`/`ctrl.Result{RequeueAfter: ...}` and re-check the state then.'
        : 'it defers work by a fixed delay, which races with whatever the work is meant to follow. Run it on the event it waits for (a callback, a promise, a watch event) instead.';
    case 'generic':
      if (site.poll) {
        const how =
          site.flavour === 'shell'
            ? '`kubectl wait --for=... --timeout=...`, or bound the loop with `timeout 300 ...` or an attempt counter'
            : site.flavour === 'go'
              ? '`wait.PollUntilContextTimeout`, or a watch on the object'
              : '`vi.waitFor`/a loop with a `Date.now()` deadline, or an event';
        return `it polls in a loop with no deadline or attempt cap, so it can spin forever and hides what it waits for. Poll to a deadline or watch for the change (${how}).`;
      }
      return `a fixed delay makes a race rarer, not gone. Wait for the event or condition it stands for: ${
        site.flavour === 'go'
          ? 'a channel or WaitGroup, a watch or informer event, or a poll with a deadline'
          : site.flavour === 'ts'
            ? 'a promise or callback, a watch or informer event, or a poll with a deadline'
            : '`kubectl wait --for=... --timeout=...`, a readiness check, or a poll under `timeout`'
      }.`;
  }
}

function evidenceFor(site: WaitSite, change: Change, before: WaitSite | undefined): string {
  const now = `${site.text.slice(0, 200)} (${site.ms === undefined ? 'duration not constant' : formatDuration(site.ms)})`;
  if (change.kind === 'escalated') return `${now}; durations over the PR: ${change.values.map(formatDuration).join(', ')}`;
  if (before && before.ms !== undefined) return `${now}; at the base: ${before.text.slice(0, 200)} (${formatDuration(before.ms)})`;
  return now;
}

// ---- collection: every wait of a file, with where it sits ----

async function collectSites(ctx: CheckContext, file: ParsedFile, deep: boolean, packages: PackageCache): Promise<WaitSite[]> {
  try {
    if (file.language === 'go') return await goSites(ctx, file, deep, packages);
    if (file.language === 'ts' || file.language === 'js') return await tsSites(ctx, file, deep);
    if (file.language === 'yaml' && shellKind(file.path) !== 'workflow') return manifestSites(file);
    return shellSites(file);
  } catch (error) {
    // a revision that does not parse (a half-written commit) has no waits to compare with; the head must parse
    if (file.rev === 'head') throw error;
    return [];
  }
}
