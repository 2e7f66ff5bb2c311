// sleep-fix: a sleep or fixed delay that a PR adds or lengthens where it stands in for a real wait
// (an event, a condition with a deadline, a synchronization). The flagship check of causal-review.

import { Node as TsNode, SyntaxKind, type SourceFile } from 'ts-morph';
import {
  formatDuration,
  goConstants,
  goDurationNs,
  goLoopKind,
  goWaitCall,
  NS_PER_MS,
  shellSleepMs,
  tsDurationMs,
  tsPromiseSleep,
  tsSleepHelper,
  tsTimersPromisesNames,
  tsWaitCall,
  TS_SLEEP_PACKAGES,
  type LoopKind,
  type TsSleepHelper,
} from '../src/analysis/waits.js';
import { enclosingDeclaration, enclosingFunction, functionName, goImports, lineOf, endLineOf, receiverType, walk } from '../src/lang/go.js';
import type { Check, CheckContext, GoNode, ParsedFile, Revision, ShellCommand, Suggestion } from '../src/engine/types.js';
import { shellKind } from '../src/lang/shell.js';
import { isMap, isScalar, isSeq } from 'yaml';

/** Where a wait sits decides what it masks and what to do instead. */
type Situation = 'reconcile' | 'test' | 'test-helper' | 'goroutine' | 'kubectl' | 'after-write' | 'deferred' | 'generic';
type Flavour = 'go' | 'ts' | 'shell';

interface WaitSite {
  flavour: Flavour;
  path: string;
  line: number;
  endLine: number;
  /** enclosing function, test or script: with `callee`, what matches a wait across revisions */
  scope: string;
  callee: string;
  /** the wait as written, on one line */
  text: string;
  ms?: number;
  /** why this wait masks no race; such sites are kept only to match waits across revisions */
  benign?: string;
  situation: Situation;
  /** sits in a loop that polls with no deadline or attempt cap */
  poll: boolean;
  /** the reconcile call path, the kubectl command, the API call the wait follows */
  detail?: string;
  suggestion?: Suggestion;
  /** lines of this file's constants the duration is computed from: a PR can lengthen a wait there */
  durationLines?: number[];
  /** identifiers the duration is computed from (Go): a package constant changed in another file can lengthen it */
  durationNames?: string[];
  /**
   * Decides `benign`, `situation`, `poll`, `detail`, `suggestion`. Run only for the head waits on changed
   * lines: the rest of a large file, and every other revision, need only what matches waits across revisions.
   */
  judge?: () => void;
}

const MAX_PACKAGE_FILES = 60;
const MAX_COMMITS = 30;
const MAX_SITES_PER_FILE = 500;
const TEXT_CAP = 120;

export const sleepFix: Check = {
  id: 'sleep-fix',
  title: 'Sleeps and fixed delays used as a fix for ordering',
  docs: {
    summary:
      'Flags a sleep or fixed delay that the pull request adds or lengthens where it stands in for a real wait: ' +
      '`time.Sleep`, `<-time.After`, `await new Promise(r => setTimeout(r, n))` and sleep helpers of the repository, ' +
      "`page.waitForTimeout`, `cy.wait(n)`, and `sleep N` in scripts, Makefiles and workflows. A fixed delay does not fix a race, " +
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
        'of its parameter; a TS function returning a promise resolved by `setTimeout`, in the same file or imported from a relative ' +
        'path (also through a namespace import or one re-export); `promisify(setTimeout)`, `delay`, `timers/promises` and other sleep packages.',
      'Silent, because these waits do not mask a race: a wait the PR removed, shortened or left alone; retries with backoff ' +
        'bounded by an attempt counter or a deadline; `wait.Backoff`, `wait.ExponentialBackoff*`, `retry.RetryOnConflict`, backoff ' +
        'libraries; tickers and periodic loops (left only on `ctx.Done()` or a stop channel); condition polls with a deadline ' +
        '(`Eventually`, `wait.PollUntilContextTimeout`, `kubectl wait`, shell loops under `timeout` or with a counter); rate limiters; ' +
        '`time.After` as the timeout branch of a `select` that waits on real work; `setTimeout` that only aborts or rejects, or whose ' +
        'handle is kept (a debounce); fake timers in tests; `time.Sleep(0)`; the body of a sleep helper (its callers are reported ' +
        'instead); a random jitter; a sleep until a scheduled time (`time.Until`); the drain delay before a graceful `Shutdown`; a ' +
        'goroutine that sleeps and then cancels (a hand-made timeout); an HTTP handler that sleeps (simulated latency); `sleep infinity`; ' +
        'a retry by recursion that counts its attempts or follows an error; a timer that reschedules its own function; a delay the ' +
        'function computes at run time (`tempDelay *= 2`, a `Retry-After` header, seconds read from a request), as opposed to a ' +
        'constant, a field or a parameter. A loop that sleeps until a condition holds with no deadline IS reported: poll to a deadline or watch.',
      'Threshold: waits shorter than `minimumMs` (option, default 10) are yields or spin pauses, not guesses at how long something ' +
        'takes, and stay silent (as staticcheck SA1004 draws a line for `time.Sleep`). Set it to 0 to review every sleep.',
      'Severity: error in production code, scripts and tests where the sleep precedes an assertion (a masked flaky test). Warning ' +
        'for a sleep in test code that precedes no assertion: a test helper whose purpose the check cannot decide (it may pace a load ' +
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
  languages: ['go', 'ts', 'js', 'shell'],
  defaultOptions: { minimumMs: 10 },
  async run(ctx) {
    const packages = new PackageCache(ctx);
    // below this a sleep is a yield or a spin pause, not a guess at how long something takes (cf. staticcheck SA1004)
    const minimum = typeof ctx.options.minimumMs === 'number' ? ctx.options.minimumMs : 10;
    const tooShort = (s: WaitSite) => s.ms !== undefined && s.ms < minimum;
    for (const file of ctx.files) {
      ctx.checkBudget();
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
    const slash = file.path.lastIndexOf('/');
    const dir = slash === -1 ? '' : file.path.slice(0, slash);
    const prefix = dir === '' ? '' : `${dir}/`;
    const others = (await ctx.list(dir, 'head')).filter((p) => p !== file.path && p.endsWith('.go') && !p.slice(prefix.length).includes('/')).slice(0, MAX_PACKAGE_FILES);
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

const quote = (text: string) => `\`${text.length > TEXT_CAP ? `${text.slice(0, TEXT_CAP - 3)}...` : text}\``;
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
      return 'a fixed delay makes a race rarer, not gone. Wait for the event or condition it stands for: a channel or WaitGroup, a watch or informer event, or a poll with a deadline.';
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
    return shellSites(file);
  } catch (error) {
    // a revision that does not parse (a half-written commit) has no waits to compare with; the head must parse
    if (file.rev === 'head') throw error;
    return [];
  }
}

// ---- Go ----

interface GoHelper {
  params: string[];
  duration: GoNode;
}

interface GoPackage {
  constants: Map<string, GoNode>;
  /** same-package functions whose body is a sleep of their parameter: name -> how */
  helpers: Map<string, GoHelper>;
  /** function or method name -> call path from Reconcile */
  reconcilePaths: Map<string, string[]>;
}

/** Package facts per directory and revision: constants, sleep helpers, what Reconcile reaches. */
class PackageCache {
  private readonly packages = new Map<string, Promise<GoPackage>>();
  constructor(private readonly ctx: CheckContext) {}

  get(dir: string, rev: Revision, withReconcile: boolean): Promise<GoPackage> {
    // each commit of a long PR would reparse the whole package: the head's constants and helpers stand in
    // for the intermediate commits (the file itself is still read at the commit)
    const side = typeof rev === 'string' ? rev : 'head';
    const key = `${side}\0${dir}\0${withReconcile}`;
    let p = this.packages.get(key);
    if (!p) this.packages.set(key, (p = this.load(dir, side, withReconcile)));
    return p;
  }

  private async load(dir: string, rev: Revision, withReconcile: boolean): Promise<GoPackage> {
    const pkg: GoPackage = { constants: new Map(), helpers: new Map(), reconcilePaths: new Map() };
    const prefix = dir === '' ? '' : `${dir}/`;
    const paths = (await this.ctx.list(dir, rev))
      .filter((p) => p.endsWith('.go') && !p.slice(prefix.length).includes('/'))
      .slice(0, MAX_PACKAGE_FILES);
    const calls = new Map<string, Set<string>>();
    for (const path of paths) {
      this.ctx.checkBudget();
      const file = await this.ctx.parse(path, rev);
      if (!file) continue;
      const root = file.go().rootNode;
      goConstants(root, pkg.constants);
      const imports = goImports(root);
      for (const decl of root.namedChildren) {
        if (!decl || (decl.type !== 'function_declaration' && decl.type !== 'method_declaration')) continue;
        const name = functionName(decl);
        if (!name) continue;
        const helper = goSleepHelper(decl, imports);
        if (helper) pkg.helpers.set(name, helper);
        if (withReconcile && !path.endsWith('_test.go')) calls.set(name, new Set([...(calls.get(name) ?? []), ...calledNames(decl)]));
      }
    }
    if (withReconcile && calls.has('Reconcile')) {
      // breadth-first from Reconcile over calls by name within the package: the shortest path is the one shown
      const queue: string[][] = [['Reconcile']];
      pkg.reconcilePaths.set('Reconcile', ['Reconcile']);
      while (queue.length > 0 && pkg.reconcilePaths.size < 2000) {
        const path = queue.shift()!;
        for (const next of calls.get(path[path.length - 1]!) ?? []) {
          if (pkg.reconcilePaths.has(next) || !calls.has(next)) continue;
          const longer = [...path, next];
          pkg.reconcilePaths.set(next, longer);
          queue.push(longer);
        }
      }
    }
    return pkg;
  }
}

/** Names a function calls: plain functions and methods called on anything (`r.finalize(...)`). */
function calledNames(decl: GoNode): string[] {
  const names: string[] = [];
  for (const call of decl.descendantsOfType('call_expression')) {
    const fn = call?.childForFieldName('function');
    if (!fn) continue;
    if (fn.type === 'identifier') names.push(fn.text);
    else if (fn.type === 'selector_expression' && fn.childForFieldName('operand')?.type === 'identifier') names.push(fn.childForFieldName('field')?.text ?? '');
    if (names.length > 500) break;
  }
  return names;
}

/** A function whose body is essentially `time.Sleep(param)` or `<-time.After(param)` (maybe in a select on ctx.Done()). */
function goSleepHelper(decl: GoNode, imports: Map<string, string>): GoHelper | undefined {
  const body = decl.childForFieldName('body');
  const statements = body?.namedChildren.find((c) => c?.type === 'statement_list')?.namedChildren.filter((c) => c && c.type !== 'comment') ?? [];
  if (statements.length === 0 || statements.length > 3) return undefined;
  const params = (decl.childForFieldName('parameters')?.namedChildren ?? [])
    .flatMap((p) => (p?.type === 'parameter_declaration' ? p.childrenForFieldName('name') : []))
    .map((n) => n?.text ?? '')
    .filter(Boolean);
  if (params.length === 0) return undefined;
  for (const statement of statements) {
    if (!statement || statement.type === 'for_statement') continue;
    for (const call of statement.descendantsOfType('call_expression')) {
      // a sleep inside a closure the helper builds (an HTTP handler, a goroutine) is not the helper sleeping
      if (!call || enclosingFunction(call)?.id !== decl.id) continue;
      const wait = goWaitCall(call, imports);
      if (!wait || !wait.duration || (wait.kind !== 'sleep' && !(wait.kind === 'delay' && wait.callee.endsWith('.After')))) continue;
      const uses = wait.duration.descendantsOfType('identifier').some((id) => id && params.includes(id.text)) || params.includes(wait.duration.text);
      if (uses) return { params, duration: wait.duration };
    }
  }
  return undefined;
}

// `.Error(` alone would match `err.Error()` and `.Errorf(` `fmt.Errorf(`: the testing.T calls are matched by the test's own variable
const GO_ASSERTIONS = ['Expect(', 'Ω(', 'assert.', 'require.', '.Should(', '.To(', '.NotTo(', '.ToNot(', 'cmp.Diff(', 'DeepEqual('];
const TESTING_ASSERTIONS = ['Error(', 'Errorf(', 'Fatal(', 'Fatalf(', 'Fail(', 'FailNow('];
const GO_WRITES = ['.Create(', '.Update(', '.Patch(', '.Delete(', '.Apply(', '.DeleteAllOf(', '.Status().Update(', '.Status().Patch('];
const GINKGO_NODES = new Set(['It', 'Specify', 'BeforeEach', 'AfterEach', 'JustBeforeEach', 'BeforeAll', 'AfterAll', 'Describe', 'Context', 'When', 'DescribeTable', 'Entry', 'By']);

async function goSites(ctx: CheckContext, file: ParsedFile, deep: boolean, packages: PackageCache): Promise<WaitSite[]> {
  const root = file.go().rootNode;
  const imports = goImports(root);
  const slash = file.path.lastIndexOf('/');
  const pkg = await packages.get(slash === -1 ? '' : file.path.slice(0, slash), file.rev, deep);
  const constants = new Map(pkg.constants);
  const fileConstants = goConstants(root);
  for (const [name, value] of fileConstants) constants.set(name, value);
  const isTestFile = file.path.endsWith('_test.go');
  const sites: WaitSite[] = [];

  const localsOf = new Map<number, GoLocals>();
  walk(root, (node) => {
    if (sites.length >= MAX_SITES_PER_FILE) return false;
    if (node.type !== 'call_expression') return;
    const fn = enclosingFunction(node);
    let locals = fn ? localsOf.get(fn.id) : undefined;
    if (fn && !locals) localsOf.set(fn.id, (locals = goLocals(fn)));
    const scoped = locals && locals.constants.size > 0 ? new Map([...constants, ...locals.constants]) : constants;
    const found = goWaitAt(node, imports, scoped, pkg.helpers);
    if (!found) return;
    if (found.ms === undefined && !found.benign && locals && durationIdentifiers(found, node).some((n) => locals!.computed.has(n))) {
      // `tempDelay *= 2`, `sec, _ := strconv.Atoi(...)`: a delay the function computes is a backoff or a requested time, not a guess
      found.benign = 'a delay computed at run time';
    }
    const decl = enclosingDeclaration(node) ?? (fn?.type === 'function_declaration' || fn?.type === 'method_declaration' ? fn : undefined);
    const site: WaitSite = {
      flavour: 'go',
      path: file.path,
      line: lineOf(found.shown),
      endLine: endLineOf(found.shown),
      scope: goScope(node, decl),
      callee: found.callee,
      text: found.shown.text.replace(/\s+/g, ' ').slice(0, 300),
      ms: found.ms,
      situation: 'generic',
      poll: false,
      ...(found.benign ? { benign: found.benign } : {}),
    };
    const lines = constantLines(found.helper ? node.childForFieldName('arguments') ?? undefined : found.duration, fileConstants);
    if (lines.length > 0) site.durationLines = lines;
    const durationExpr = found.helper ? node.childForFieldName('arguments') : found.duration;
    if (durationExpr) {
      const names = durationExpr.type === 'identifier' ? [durationExpr.text] : durationExpr.descendantsOfType('identifier').map((n) => n?.text ?? '');
      if (names.length > 0) site.durationNames = names.slice(0, 20);
    }
    if (deep) {
      site.judge = () => {
        if (!site.benign) site.benign = goBenign(node, found, decl, fn, imports, pkg);
        if (!site.benign) goSituation(site, found.shown, decl, fn, isTestFile, pkg, file.text);
      };
    }
    sites.push(site);
  });
  return sites;
}

interface GoLocals {
  /** names assigned once, from an expression (evaluated later as a constant if it is one) */
  constants: Map<string, GoNode>;
  /** names declared in the function and assigned from something computed, or more than once */
  computed: Set<string>;
}

/** Local variables and constants of a function (not its parameters), from its own body. */
function goLocals(fn: GoNode): GoLocals {
  const assigned = new Map<string, GoNode[]>();
  const note = (name: string, value: GoNode | undefined | null) => {
    const list = assigned.get(name) ?? [];
    if (value) list.push(value);
    else list.push(fn); // assigned from something this does not track: never a constant
    assigned.set(name, list);
  };
  const body = fn.childForFieldName('body');
  for (const decl of body?.descendantsOfType(['short_var_declaration', 'assignment_statement', 'var_spec', 'const_spec', 'inc_statement', 'dec_statement']) ?? []) {
    if (!decl || assigned.size > 500) break;
    if (decl.type === 'inc_statement' || decl.type === 'dec_statement') {
      note(decl.namedChildren[0]?.text ?? '', undefined);
      continue;
    }
    const left = decl.type === 'var_spec' || decl.type === 'const_spec' ? decl.childrenForFieldName('name').filter((n): n is GoNode => n !== null) : (decl.childForFieldName('left')?.namedChildren ?? []).filter((n): n is GoNode => n !== null);
    const right = (decl.type === 'var_spec' || decl.type === 'const_spec' ? decl.childForFieldName('value') : decl.childForFieldName('right'))?.namedChildren ?? [];
    const compound = decl.type === 'assignment_statement' && decl.childForFieldName('operator')?.text !== '=';
    left.forEach((n, i) => note(n.text, left.length === right.length && !compound ? right[i] : undefined));
  }
  const locals: GoLocals = { constants: new Map(), computed: new Set() };
  for (const [name, values] of assigned) {
    if (values.length === 1 && values[0] !== fn) locals.constants.set(name, values[0]!);
    // a single assignment may still be a computation: it counts as computed when it does not evaluate
    locals.computed.add(name);
  }
  return locals;
}

/** Identifiers a wait's duration is written with (for a helper call, its arguments). */
function durationIdentifiers(found: GoWaitFound, call: GoNode): string[] {
  const expr = found.helper ? call.childForFieldName('arguments') : found.duration;
  if (!expr) return [];
  return expr.type === 'identifier' ? [expr.text] : expr.descendantsOfType('identifier').map((n) => n?.text ?? '').slice(0, 50);
}

/** Lines of this file's constants an expression depends on (a few levels deep). */
function constantLines(expr: GoNode | undefined, fileConstants: Map<string, GoNode>): number[] {
  const lines = new Set<number>();
  const visit = (e: GoNode, depth: number) => {
    if (depth > 3 || lines.size > 10) return;
    const ids = e.type === 'identifier' ? [e] : e.descendantsOfType('identifier').filter((n): n is GoNode => n !== null);
    for (const id of ids) {
      const value = fileConstants.get(id.text);
      if (!value || lines.has(lineOf(value))) continue;
      lines.add(lineOf(value));
      visit(value, depth + 1);
    }
  };
  if (expr) visit(expr, 0);
  return [...lines];
}

interface GoWaitFound {
  callee: string;
  /** the node shown and reported: the call, or the `<-time.After(...)` receive */
  shown: GoNode;
  duration?: GoNode;
  ms?: number;
  benign?: string;
  helper?: boolean;
}

/** Is this call a wait: `time.Sleep`, a blocking `<-time.After`, a call of a package sleep helper? */
function goWaitAt(call: GoNode, imports: Map<string, string>, constants: Map<string, GoNode>, helpers: Map<string, GoHelper>): GoWaitFound | undefined {
  const toMs = (ns: number | undefined) => (ns === undefined ? undefined : ns / NS_PER_MS);
  const wait = goWaitCall(call, imports);
  if (wait?.kind === 'sleep') return { callee: wait.callee, shown: call, duration: wait.duration, ms: toMs(goDurationNs(wait.duration, imports, constants)) };
  if (wait?.kind === 'delay' && (wait.callee.endsWith('.After') || wait.callee.endsWith('.NewTimer'))) {
    const receive = wait.callee.endsWith('.After') ? call.parent : timerReceive(call);
    if (receive?.type !== 'unary_expression' || receive.childForFieldName('operator')?.text !== '<-') return undefined;
    const ms = toMs(goDurationNs(wait.duration, imports, constants));
    const found: GoWaitFound = { callee: wait.callee, shown: receive, duration: wait.duration, ms };
    const holder = receive.parent;
    if (holder?.type === 'expression_statement') return found;
    const kase = holder?.type === 'receive_statement' ? holder.parent : holder;
    const select = kase?.type === 'communication_case' ? kase.parent : undefined;
    if (!kase || select?.type !== 'select_statement') return undefined;
    const others = select.namedChildren.filter((c) => c && c.id !== kase.id && (c.type === 'communication_case' || c.type === 'default_case'));
    const onlyStops = others.every((c) => c?.type === 'communication_case' && isStopSignal(c.childForFieldName('communication')?.text ?? ''));
    // a select that also waits on real work uses time.After as its timeout: that is a deadline, not a sleep
    return onlyStops ? found : { ...found, benign: 'timeout branch of a select on real work' };
  }
  const fn = call.childForFieldName('function');
  const name = fn?.type === 'identifier' ? fn.text : fn?.type === 'selector_expression' ? fn.childForFieldName('field')?.text : undefined;
  const helper = name ? helpers.get(name) : undefined;
  if (!helper || !name) return undefined;
  const args = call.childForFieldName('arguments')?.namedChildren.filter((n): n is GoNode => n !== null) ?? [];
  const bound = new Map(constants);
  helper.params.forEach((p, i) => {
    if (args[i]) bound.set(p, args[i]!);
    else bound.delete(p);
  });
  return { callee: name, shown: call, duration: args[0], ms: toMs(goDurationNs(helper.duration, imports, bound)), helper: true };
}

/**
 * The one receive from a timer made by `time.NewTimer(d)`: `<-time.NewTimer(d).C`, or `t := time.NewTimer(d)` and
 * later `<-t.C` in the same function. A timer that is reset, stopped or received from in several places is a
 * timeout machinery, not a sleep: undefined.
 */
function timerReceive(call: GoNode): GoNode | undefined {
  const parent = call.parent;
  if (parent?.type === 'selector_expression' && parent.childForFieldName('field')?.text === 'C') return parent.parent ?? undefined;
  const declaration = parent?.type === 'expression_list' ? parent.parent : undefined;
  if (declaration?.type !== 'short_var_declaration' && declaration?.type !== 'assignment_statement') return undefined;
  const name = declaration.childForFieldName('left')?.namedChildren[0]?.text;
  const fn = enclosingFunction(call);
  if (!name || !fn) return undefined;
  const uses = fn.descendantsOfType('selector_expression').filter((n) => n?.childForFieldName('operand')?.text === name);
  if (uses.length !== 1 || uses[0]!.childForFieldName('field')?.text !== 'C') return undefined;
  return uses[0]!.parent ?? undefined;
}

function isStopSignal(text: string): boolean {
  const t = text.slice(0, 300);
  return t.includes('.Done()') || /(^|[^\w])(stop|stopCh|quit|shutdown|closing)\w*\s*$/i.test(t.replace(/^<-\s*/, '').replace(/^[\w, ]+:?=\s*<-\s*/, ''));
}

/** Why a Go wait masks nothing, or undefined when it may. */
function goBenign(call: GoNode, found: GoWaitFound, decl: GoNode | undefined, fn: GoNode | undefined, imports: Map<string, string>, pkg: GoPackage): string | undefined {
  if (found.ms === 0) return 'a yield, not a wait';
  const durationText = (found.duration?.text ?? '').toLowerCase();
  if (['backoff', 'jitter', 'reserve', 'limiter', '.delay()', 'ratelimit'].some((w) => durationText.includes(w))) return 'a delay computed by a backoff or rate limiter';
  if (found.ms === undefined && REQUESTED_DELAY.test(durationText.slice(0, 300))) return 'a delay the server or a backoff policy asks for';
  if (durationText.includes('time.until(') || durationText.includes('.sub(')) return 'sleeps until a scheduled time, not for a guessed one';
  if (durationText.includes('rand.')) return 'a random jitter that spreads load, not a fixed delay';
  const next = followingStatements(found.shown).slice(0, 2).map((s) => s.text.slice(0, 500));
  const own = decl ? functionName(decl) : undefined;
  if (own && next[0]?.includes(`${own}(`) && RETRY_COUNTERS.test(next[0])) return 'a retry by recursion with an attempt count';
  // the drain delay before a graceful shutdown lets endpoints stop routing to a terminating pod: there is no event for it
  if (next.some((t) => t.includes('.Shutdown(') || t.includes('.GracefulStop('))) return 'a drain delay before a graceful shutdown';
  // `go func() { <-time.After(d); cancel() }()` is a hand-made timeout, like setTimeout(() => controller.abort())
  const spawned = fn?.type === 'func_literal' && fn.parent?.type === 'call_expression' && fn.parent.parent?.type === 'go_statement';
  if (spawned && next.some((t) => ['cancel(', 'close(', '.Stop(', '.Kill(', '.Abort(', '.Cancel(', 'imeout'].some((w) => t.includes(w)))) return 'a timeout in a goroutine';
  // a handler that sleeps simulates a slow server (in tests) or paces a response: nothing waits on it
  if (fn?.type === 'func_literal' && (fn.childForFieldName('parameters')?.text ?? '').includes('http.ResponseWriter')) return 'simulated latency in an HTTP handler';
  // the body of a sleep helper: its callers are the waits
  if (decl && !found.helper) {
    const name = functionName(decl);
    if (name && pkg.helpers.get(name)?.duration.id === found.duration?.id) return 'the body of a sleep helper';
  }
  // inside a closure handed to a poll, backoff or periodic runner: the library bounds it
  for (let n: GoNode | null = call.parent; n && n.id !== decl?.id; n = n.parent) {
    if (n.type === 'call_expression') {
      const kind = goWaitCall(n, imports)?.kind;
      if (kind === 'poll' || kind === 'backoff' || kind === 'periodic') return `inside ${goWaitCall(n, imports)!.callee}`;
    }
  }
  const loop = loopAround(call, fn);
  if (loop === 'bounded') return 'a retry or poll with an attempt cap or deadline';
  if (loop === 'periodic') return 'a periodic loop';
  return undefined;
}

const deadlineFunctions = new WeakMap<object, Map<number, boolean>>();

/** Does a function derive its ctx with a timeout or deadline? Cached per tree: many waits can share one function. */
function derivesDeadline(fn: GoNode): boolean {
  let perTree = deadlineFunctions.get(fn.tree);
  if (!perTree) deadlineFunctions.set(fn.tree, (perTree = new Map()));
  let derives = perTree.get(fn.id);
  if (derives === undefined) {
    const text = fn.text;
    derives = text.length < 200_000 && (text.includes('context.WithTimeout(') || text.includes('context.WithDeadline('));
    perTree.set(fn.id, derives);
  }
  return derives;
}

/** The kind of the innermost loop around a wait in its own function, if any. */
function loopAround(node: GoNode, fn: GoNode | undefined): LoopKind | undefined {
  const deadlineContext = fn !== undefined && derivesDeadline(fn);
  for (let n: GoNode | null = node.parent; n && n.id !== fn?.id; n = n.parent) {
    if (n.type === 'for_statement') return goLoopKind(n, deadlineContext);
  }
  return undefined;
}

/** A stable name for where a Go wait sits: `Type.method`, plus the innermost Ginkgo node or subtest. */
function goScope(node: GoNode, decl: GoNode | undefined): string {
  let scope = decl ? `${receiverType(decl) ? `${receiverType(decl)}.` : ''}${functionName(decl) ?? ''}` : '(package)';
  for (let n: GoNode | null = node.parent; n && n.id !== decl?.id; n = n.parent) {
    if (n.type !== 'func_literal') continue;
    const call = n.parent?.type === 'argument_list' ? n.parent.parent : undefined;
    const first = call?.childForFieldName('arguments')?.namedChildren[0];
    if (call && first && (first.type === 'interpreted_string_literal' || first.type === 'raw_string_literal')) {
      scope += ` > ${calleeOf(call)} ${first.text.slice(0, 80)}`;
      break;
    }
  }
  return scope;
}

const calleeOf = (call: GoNode) => (call.childForFieldName('function')?.text ?? '').replace(/\s+/g, '');

function goSituation(site: WaitSite, shown: GoNode, decl: GoNode | undefined, fn: GoNode | undefined, isTestFile: boolean, pkg: GoPackage, fileText: string): void {
  site.poll = loopAround(shown, fn) === 'poll';
  const inTest =
    isTestFile ||
    (decl?.childForFieldName('parameters')?.text ?? '').includes('*testing.') ||
    ancestorCalls(shown, decl).some((c) => GINKGO_NODES.has(calleeOf(c)));
  if (inTest) {
    const scopeEnd = (fn ?? decl)?.endIndex ?? shown.endIndex;
    const after = fileText.slice(shown.endIndex, Math.min(scopeEnd, shown.endIndex + 20_000));
    const testing = testingVariables(decl);
    const asserts = GO_ASSERTIONS.some((a) => after.includes(a)) || testing.some((t) => TESTING_ASSERTIONS.some((a) => mentionsCall(after, `${t}.${a}`)));
    site.situation = asserts ? 'test' : 'test-helper';
    return;
  }
  const previous = previousStatements(shown);
  const spawned = fn?.type === 'func_literal' && fn.parent?.type === 'call_expression' && fn.parent.parent?.type === 'go_statement';
  if (spawned && previous.length === 0 && !site.poll) {
    site.situation = 'deferred';
    return;
  }
  if (previous.some((s) => s.type === 'go_statement')) {
    site.situation = 'goroutine';
    return;
  }
  const name = decl ? functionName(decl) : undefined;
  const path = name ? pkg.reconcilePaths.get(name) : undefined;
  if (path) {
    site.situation = 'reconcile';
    site.detail = path.join(' -> ');
    return;
  }
  const write = previous.slice(-2).find((s) => GO_WRITES.some((w) => s.text.includes(w)));
  if (write) {
    site.situation = 'after-write';
    site.detail = write.text.split('\n')[0]!.trim();
  }
}

/** Does `text` call `callee` (`t.Fatal(`), not a longer name ending the same way (`result.Fatal(`)? */
function mentionsCall(text: string, callee: string): boolean {
  for (let at = text.indexOf(callee); at !== -1; at = text.indexOf(callee, at + 1)) {
    const before = at === 0 ? '' : text[at - 1]!;
    if (!/[\w.]/.test(before)) return true;
  }
  return false;
}

/** Names of a function's `*testing.T`/`*testing.B`/`testing.TB` parameters (`t` when it has none: a subtest closure's). */
function testingVariables(decl: GoNode | undefined): string[] {
  const names = ['t'];
  for (const param of decl?.childForFieldName('parameters')?.namedChildren ?? []) {
    if (!param || !(param.childForFieldName('type')?.text ?? '').includes('testing.')) continue;
    for (const name of param.childrenForFieldName('name')) if (name) names.push(name.text);
  }
  return names;
}

function ancestorCalls(node: GoNode, stop: GoNode | undefined): GoNode[] {
  const calls: GoNode[] = [];
  for (let n: GoNode | null = node.parent; n && n.id !== stop?.id; n = n.parent) if (n.type === 'call_expression') calls.push(n);
  return calls;
}

/** The statement of a block that holds `node`. */
function statementOf(node: GoNode): GoNode | null {
  let statement: GoNode | null = node;
  while (statement?.parent && statement.parent.type !== 'statement_list') statement = statement.parent;
  return statement?.parent ? statement : null;
}

/** The statements after the one holding `node`, in its block. */
function followingStatements(node: GoNode): GoNode[] {
  const out: GoNode[] = [];
  for (let s = statementOf(node)?.nextNamedSibling ?? null; s && out.length < 5; s = s.nextNamedSibling) if (s.type !== 'comment') out.push(s);
  return out;
}

/** The statements before the one holding `node`, in its block, nearest last. */
function previousStatements(node: GoNode): GoNode[] {
  const out: GoNode[] = [];
  for (let s = statementOf(node)?.previousNamedSibling ?? null; s && out.length < 50; s = s.previousNamedSibling) if (s.type !== 'comment') out.unshift(s);
  return out;
}

// ---- TypeScript / JavaScript ----

const TS_ASSERTIONS = ['expect(', 'expect.', 'assert', '.should(', '.toBe', '.toHave', '.toEqual', '.toMatch'];
const TS_WRITES = ['patchNamespaced', 'createNamespaced', 'replaceNamespaced', 'deleteNamespaced', 'deleteCollectionNamespaced', '.patch(', '.create(', '.apply(', '.replace(', '.delete('];
const TS_TEST_CALLS = new Set(['it', 'test', 'describe', 'beforeEach', 'afterEach', 'beforeAll', 'afterAll', 'it.only', 'test.only', 'test.step', 'test.describe', 'test.beforeEach']);

function isTsTestFile(path: string): boolean {
  return /\.(test|spec|cy|e2e)\.[cm]?[jt]sx?$/i.test(path) || /(^|\/)(__tests__|e2e|cypress|playwright|tests?)\//i.test(path) || /(^|\/)tests?\.[cm]?[jt]sx?$/i.test(path);
}

async function tsSites(ctx: CheckContext, file: ParsedFile, deep: boolean): Promise<WaitSite[]> {
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
    const fn = node.getFirstAncestor((a) => TsNode.isFunctionDeclaration(a) || TsNode.isArrowFunction(a) || TsNode.isFunctionExpression(a) || TsNode.isMethodDeclaration(a));
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
    const helper = name ? helpers.get(name) : undefined;
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
  // a delay computed at run time is a backoff or a protocol's interval far more often than a guess
  if (tsDurationMs(durationNode) === undefined) return 'a computed delay';
  // scheduling the enclosing function again is a loop written with timers: periodic work or a bounded retry
  const own = fn ? tsOwnName(fn) : undefined;
  if (own && (capped === own || capped.includes(`${own}(`))) return 'a loop by rescheduling itself';
  if (inErrorBranch(call)) return 'a retry after an error';
  if (/(^|\/)bench/i.test(call.getSourceFile().getFilePath())) return 'a benchmark pacing its load';
  return '';
}

/** Does a duration use a variable declared in an enclosing function (not a parameter, not a field)? */
function computedLocally(duration: TsNode): boolean {
  const names = new Set((TsNode.isIdentifier(duration) ? [duration] : duration.getDescendantsOfKind(SyntaxKind.Identifier)).slice(0, 50).map((i) => i.getText()));
  for (let n: TsNode | undefined = duration.getParent(); n; n = n.getParent()) {
    if (TsNode.isFunctionDeclaration(n) || TsNode.isMethodDeclaration(n) || TsNode.isFunctionExpression(n) || TsNode.isArrowFunction(n)) {
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

const RETRY_COUNTERS = /retr|attempt|tries|remaining|left|count/i;

/** Delays a server or a policy asks for (`Retry-After`, a backoff), not guesses: only when not a constant. */
const REQUESTED_DELAY = /retry-?after|retry_after|backoff|jitter/i;

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
  const path = tsReconcilePath(node);
  if (path) {
    site.situation = 'reconcile';
    site.detail = path.join(' -> ');
    return;
  }
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
    if (!from.startsWith('.')) {
      // a path alias or workspace package this cannot resolve: only the unmistakable names count, and only with a number
      if (!SIMULATED_LATENCY_PACKAGES.has(from)) for (const i of imported) if (GUESSED_SLEEP_NAMES.has(i.name)) helpers.set(i.local, GUESSED);
      continue;
    }
    if (imported.length === 0 && !namespace) continue;
    const theirs = await exportedHelpers(ctx, file, from, 1);
    for (const i of imported) {
      const index = theirs.get(i.name);
      if (index !== undefined) helpers.set(i.local, index);
    }
    // `import * as timing from './timing'` then `timing.pause(ms)`
    if (namespace) for (const [name, index] of theirs) helpers.set(`${namespace}.${name}`, index);
  }
  return helpers;
}

/** The sleep helpers a relative module exports, following one level of re-exports (`export * from './time'`). */
async function exportedHelpers(ctx: CheckContext, from: ParsedFile, spec: string, reexportDepth: number): Promise<Map<string, TsSleepHelper>> {
  ctx.checkBudget();
  const target = await resolveRelative(ctx, from, spec);
  if (!target || (target.language !== 'ts' && target.language !== 'js')) return new Map();
  const sf = target.ts();
  const helpers = localHelpers(sf, true);
  if (reexportDepth > 0) {
    for (const exported of sf.getExportDeclarations().slice(0, 50)) {
      const next = exported.getModuleSpecifierValue();
      if (!next?.startsWith('.')) continue;
      const theirs = await exportedHelpers(ctx, target, next, reexportDepth - 1);
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

/** name -> duration parameter index of the sleep helpers a file declares (exported only, when asked; `default` for the default export). */
function localHelpers(sf: SourceFile, exportedOnly = false): Map<string, TsSleepHelper> {
  const helpers = new Map<string, TsSleepHelper>();
  for (const fn of sf.getFunctions()) {
    const helper = tsSleepHelper(fn);
    if (helper === undefined || (exportedOnly && !fn.isExported())) continue;
    helpers.set(fn.isDefaultExport() ? 'default' : (fn.getName() ?? 'default'), helper);
  }
  for (const statement of sf.getVariableStatements()) {
    if (exportedOnly && !statement.isExported()) continue;
    for (const decl of statement.getDeclarations()) {
      const init = decl.getInitializer();
      const helper = init ? (isPromisifiedSetTimeout(init) ? { index: 0, scale: 1 } : tsSleepHelper(init)) : undefined;
      if (helper !== undefined) helpers.set(decl.getName(), helper);
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
  const dir = file.path.includes('/') ? file.path.slice(0, file.path.lastIndexOf('/')) : '';
  const parts = (dir ? dir.split('/') : []).concat(spec.split('/'));
  const out: string[] = [];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  const base = out.join('/');
  const stem = base.replace(/\.(m|c)?js$/, '');
  const candidates = [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${stem}.js`, `${stem}.mjs`, `${base}/index.ts`, `${base}/index.js`];
  for (const candidate of candidates) {
    const parsed = await ctx.parse(candidate, file.rev);
    if (parsed) return parsed;
  }
  return undefined;
}

// ---- shell: scripts, Makefile recipes, workflow steps ----

interface ShellLoop {
  header: ShellCommand;
  body: ShellCommand[];
}

const KUBECTL_WAITERS = ['wait', 'rollout'];

/** `kubectl`, a path to it, or the Makefile/script variable kubebuilder projects call it through. */
const isKubectl = (word: string | undefined) =>
  word !== undefined && (word === 'kubectl' || word.endsWith('/kubectl') || word === '$(KUBECTL)' || word === '${KUBECTL}' || word === '$KUBECTL');

function shellSites(file: ParsedFile): WaitSite[] {
  const commands = file.shell();
  const sites: WaitSite[] = [];
  const stacks = new Map<string, ShellLoop[]>();
  // the loop each sleep sits in is only known once its `done` is seen: judge sleeps when their loop closes
  const pending: { command: ShellCommand; loops: ShellLoop[] }[] = [];
  for (const command of commands) {
    const stack = stacks.get(command.script) ?? [];
    stacks.set(command.script, stack);
    for (const loop of stack) loop.body.push(command);
    const first = command.words[0];
    const opener = command.text.startsWith('while ') || command.text.startsWith('until ') || first === 'for' || command.text.startsWith('for ');
    if (opener) stack.push({ header: command, body: [] });
    if (first === 'done') stack.pop();
    if ((first === 'sleep' || first === '/bin/sleep') && sites.length + pending.length < MAX_SITES_PER_FILE) pending.push({ command, loops: [...stack] });
  }
  let timeouts: [number, number][] | undefined;
  for (const { command, loops } of pending) {
    const ms = shellSleepMs(command.words.slice(1));
    const loop = loops[loops.length - 1];
    const kind = loop ? shellLoopKind(loop) : undefined;
    const site: WaitSite = {
      flavour: 'shell',
      path: file.path,
      line: command.line,
      endLine: command.endLine,
      scope: command.script,
      callee: 'sleep',
      text: command.text.replace(/^(do|then|else)\s+/, '').slice(0, 300),
      ms,
      situation: 'generic',
      poll: kind === 'poll',
    };
    if (command.words[1] === 'infinity') site.benign = 'holds a container or job open; not a wait for something';
    else if (ms === 0) site.benign = 'a yield, not a wait';
    else if (kind === 'bounded') site.benign = 'a poll with a deadline or attempt cap';
    else if (kind === 'periodic') site.benign = 'a periodic loop';
    else if (kind === 'poll' && (timeouts ??= workflowTimeouts(file)).some(([from, to]) => command.line >= from && command.line <= to)) {
      site.benign = "a poll bounded by the workflow's timeout-minutes";
    }
    // a poll loop's advice is about the loop, not about the command after it
    if (!site.benign && !site.poll) shellSituation(site, command, commands, file);
    sites.push(site);
  }
  return sites;
}

/** Line ranges of workflow `run:` steps under a `timeout-minutes` (of the step or of its job): GitHub ends a poll there. */
function workflowTimeouts(file: ParsedFile): [number, number][] {
  if (shellKind(file.path) !== 'workflow') return [];
  const ranges: [number, number][] = [];
  const { docs, lineCounter } = file.yaml();
  for (const doc of docs) {
    const jobs = isMap(doc.contents) ? doc.contents.get('jobs') : undefined;
    if (!isMap(jobs)) continue;
    for (const job of jobs.items) {
      if (!isMap(job.value)) continue;
      const jobTimeout = job.value.has('timeout-minutes');
      const steps = job.value.get('steps');
      if (!isSeq(steps)) continue;
      for (const step of steps.items) {
        if (!isMap(step) || !(jobTimeout || step.has('timeout-minutes'))) continue;
        const run = step.get('run', true);
        if (isScalar(run) && run.range) ranges.push([lineCounter.linePos(run.range[0]).line, lineCounter.linePos(run.range[1]).line]);
      }
    }
  }
  return ranges;
}

function shellLoopKind(loop: ShellLoop): LoopKind {
  const all = [loop.header, ...loop.body].map((c) => c.text.slice(0, 500));
  // a `for` loop runs a finite list; counters, $SECONDS, timeout and deadlines cap a while/until
  if (loop.header.words[0] === 'for' || loop.header.text.startsWith('for ')) return 'bounded';
  const capped = all.some((t) => ['-lt', '-le', '-gt', '-ge', 'SECONDS', 'timeout', 'deadline', 'attempt', 'retries', 'tries', '$((', '((', 'let '].some((w) => t.includes(w)));
  if (capped) return 'bounded';
  const endless = loop.header.words.length === 1 && (loop.header.words[0] === 'true' || loop.header.words[0] === ':');
  if (!endless) return 'poll';
  return loop.body.some((c) => c.words[0] === 'break' || c.words[0] === 'exit' || c.words[0] === 'return') ? 'poll' : 'periodic';
}

function shellSituation(site: WaitSite, command: ShellCommand, commands: ShellCommand[], file: ParsedFile): void {
  const at = commands.indexOf(command);
  const sameJob = (c: ShellCommand) => c.script === command.script || jobOf(c.script) === jobOf(command.script);
  let next: ShellCommand | undefined;
  for (let i = at + 1; i < commands.length && i <= at + 4; i++) {
    const c = commands[i]!;
    if (!sameJob(c)) break;
    if (c.words[0] === 'echo' || c.words[0] === 'printf' || c.words[0] === 'done') continue;
    next = c;
    break;
  }
  const previous = at > 0 && sameJob(commands[at - 1]!) ? commands[at - 1] : undefined;
  if (next && isKubectl(next.words[0]) && !KUBECTL_WAITERS.includes(next.words[1] ?? '')) {
    site.situation = 'kubectl';
    site.detail = `before ${quote(next.text)}`;
    site.suggestion = kubectlSuggestion(command, next, site.ms, file);
  } else if (previous && (isKubectl(previous.words[0]) || previous.words[0] === 'helm' || previous.words[0] === 'kind')) {
    site.situation = 'kubectl';
    site.detail = `after ${quote(previous.text)}`;
  }
}

const jobOf = (script: string) => (script.startsWith('job ') ? script.slice(0, script.indexOf(' step ')) : script);

/**
 * `sleep 30` then `kubectl get pods -l app=x [-n ns]` -> `kubectl wait --for=condition=Ready pod -l app=x [-n ns] --timeout=30s`;
 * `kubectl get deployment x` -> `kubectl rollout status deployment/x --timeout=30s`. Only when both commands stand alone on
 * adjacent lines and the get has no flag beyond a selector and a namespace: otherwise its output may matter.
 */
function kubectlSuggestion(sleep: ShellCommand, get: ShellCommand, ms: number | undefined, file: ParsedFile): Suggestion | undefined {
  if (ms === undefined || ms < 1000 || get.line !== sleep.endLine + 1 || get.endLine !== get.line) return undefined;
  const sleepLine = file.lines[sleep.line - 1] ?? '';
  const getLine = file.lines[get.line - 1] ?? '';
  // each command alone on its line (a trailing comment is allowed: it goes with the sleep it explains)
  const alone = (line: string, text: string) => {
    const trimmed = line.trim();
    if (!trimmed.startsWith(text)) return false;
    const rest = trimmed.slice(text.length).trim();
    return rest === '' || rest.startsWith('#');
  };
  if (!alone(sleepLine, sleep.text) || !alone(getLine, get.text)) return undefined;
  const words = get.words;
  // in a Makefile a `$` is make's: only the kubectl variable itself is carried over as written
  const isMake = file.path.split('/').pop()!.toLowerCase().includes('makefile') || file.path.endsWith('.mk');
  if (isMake && words.slice(1).some((w) => w.includes('$'))) return undefined;
  if (words[1] !== 'get') return undefined;
  let resource: string | undefined;
  let name: string | undefined;
  const flags: string[] = [];
  for (let i = 2; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-l' || w === '--selector' || w === '-n' || w === '--namespace') {
      const value = words[i + 1];
      if (!value) return undefined;
      flags.push(w, value);
      i++;
    } else if (w.startsWith('--selector=') || w.startsWith('--namespace=') || w.startsWith('-l=') || w.startsWith('-n=')) {
      flags.push(w);
    } else if (w.startsWith('-')) {
      return undefined;
    } else if (!resource) {
      resource = w;
    } else if (!name) {
      name = w;
    } else return undefined;
  }
  if (!resource) return undefined;
  if (resource.includes('/')) [resource, name] = [resource.slice(0, resource.indexOf('/')), resource.slice(resource.indexOf('/') + 1)];
  const indent = sleepLine.slice(0, sleepLine.length - sleepLine.trimStart().length);
  const timeout = `--timeout=${formatDuration(Math.ceil(ms / 1000) * 1000)}`;
  const quoted = (w: string) => (/^[\w./:=,@%+-]+$/.test(w) || w.startsWith('$') ? w : `'${w.replaceAll("'", "'\\''")}'`);
  const rest = flags.map(quoted).join(' ');
  let replacement: string | undefined;
  if (['pod', 'pods', 'po'].includes(resource)) {
    const target = name ? `pod/${name}` : 'pod';
    if (!name && !flags.some((f) => f === '-l' || f === '--selector' || f.startsWith('--selector=') || f.startsWith('-l='))) return undefined;
    replacement = `${words[0]} wait --for=condition=Ready ${target}${rest ? ` ${rest}` : ''} ${timeout}`;
  } else if (['deployment', 'deployments', 'deploy', 'statefulset', 'statefulsets', 'sts', 'daemonset', 'daemonsets', 'ds'].includes(resource) && name) {
    const kind = resource.startsWith('deploy') ? 'deployment' : resource.startsWith('s') ? 'statefulset' : 'daemonset';
    replacement = `${words[0]} rollout status ${kind}/${name}${rest ? ` ${rest}` : ''} ${timeout}`;
  }
  if (!replacement) return undefined;
  return { startLine: sleep.line, endLine: get.line, replacement: `${indent}${replacement}` };
}
