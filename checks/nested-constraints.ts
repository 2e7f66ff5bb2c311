// nested-constraints: what the chaos tests deploy, summed as the vcluster's ResourceQuota and LimitRange
// admission count it, against the quota in the configuration; flagged on the PR line that pushed it over.

import picomatch from 'picomatch';
import { LineCounter, parseAllDocuments, parseDocument, type Document } from 'yaml';
import { parseRenderedManifests, renderChartFile, type ChartCache } from '../src/analysis/helm.js';
import {
  RESOURCES,
  effective,
  isKnown,
  limitRangeFrom,
  quotaLimits,
  workloadUsage,
  workloadsIn,
  type Container,
  type Field,
  type LimitRange,
  type Origin,
  type QuotaLimit,
  type Resource,
  type Workload,
} from '../src/analysis/workloads.js';
import { parseConfig, type ChaosConfig } from '../src/config/schema.js';
import { changedLines } from '../src/engine/parse.js';
import type { Check, CheckContext, Side } from '../src/engine/types.js';
import { formatQuantity } from '../src/lang/quantity.js';

const CONFIG_PATHS = ['.github/causal-review.yml', '.github/causal-review.yaml'];
/** The chaos workflow's kind cluster: one control plane and two workers. */
const DEFAULT_NODES = 3;
const MAX_LISTED = 20_000;
const MAX_MANIFESTS = 300;
const MAX_WORKLOADS = 2_000;

/** Everything the chaos tests deploy at one revision, and the files it was read from. */
interface Deployed {
  workloads: Workload[];
  sources: Set<string>;
}

/**
 * Reads files at a revision; a file the PR did not change reads the same at base as at head, so the
 * base pass reuses what the head pass read (each read may be an API request).
 */
function fileReader(ctx: CheckContext): (path: string, rev: Side) => Promise<string | undefined> {
  const changed = new Set(ctx.changes.flatMap((c) => [c.path, c.previousPath ?? c.path]));
  const atHead = new Map<string, Promise<string | undefined>>();
  return (path, rev) => {
    if (rev === 'base' && changed.has(path)) return ctx.read(path, 'base');
    let text = atHead.get(path);
    if (!text) {
      text = ctx.read(path, 'head');
      atHead.set(path, text);
    }
    return text;
  };
}

async function deployedAt(
  ctx: CheckContext,
  chaos: ChaosConfig,
  rev: Side,
  read: (path: string, rev: Side) => Promise<string | undefined>,
  say: (note: string) => void,
): Promise<Deployed> {
  const globs = (chaos.manifests ?? []).slice(0, 50);
  const matches = picomatch(globs, { dot: true });
  const listed = new Set<string>();
  for (const glob of globs) {
    const scan = picomatch.scan(glob);
    // A glob without wildcards names a file or a directory (a chart, say): take both readings.
    const dir = scan.isGlob ? scan.base : glob.replace(/\/+$/, '');
    if (!scan.isGlob) listed.add(dir);
    for (const path of await ctx.list(dir, rev)) {
      if (listed.size >= MAX_LISTED) break;
      listed.add(path);
    }
  }
  const { manifests, charts: chartRoots } = selectManifests(listed, matches);
  for (const root of chartRoots) {
    for (const path of await ctx.list(join(root, 'templates'), rev)) if (/\.ya?ml$/.test(path)) manifests.add(path);
  }
  for (const patch of await kustomizePatches(listed, (p) => read(p, rev))) manifests.delete(patch);
  const charts: ChartCache = new Map();
  const sources = new Set<string>();
  const workloads: Workload[] = [];
  for (const path of [...manifests].sort().slice(0, MAX_MANIFESTS)) {
    ctx.checkBudget();
    const text = await read(path, rev);
    if (text === undefined || text.length > ctx.config.limits.maxFileBytes) continue;
    sources.add(path);
    const nodes = ctx.config.chaos?.nodes ?? DEFAULT_NODES;
    if (!text.includes('{{')) {
      const lineCounter = new LineCounter();
      [...(parseAllDocuments(text, { lineCounter, logLevel: 'silent', uniqueKeys: false }) as Document[])].forEach((doc, index) => {
        workloads.push(...workloadsIn({ doc, lineCounter, path, index, originsAt: (line) => [{ path, line }] }, nodes));
      });
      continue;
    }
    const rendered = await renderChartFile((p) => read(p, rev), path, text, charts);
    if (rendered.valuesPath) sources.add(rendered.valuesPath);
    if ('undecidable' in rendered) {
      say(`${path}: ${rendered.undecidable}; its workloads are left out of the quota totals.`);
      continue;
    }
    for (const document of parseRenderedManifests(rendered, path)) workloads.push(...workloadsIn(document, nodes));
    if (workloads.length > MAX_WORKLOADS) break;
  }
  // One workload declared twice (an overlay beside its base, two charts) would count twice, or be one of two: left out.
  const declared = new Map<string, number>();
  for (const w of workloads) declared.set(w.id, (declared.get(w.id) ?? 0) + 1);
  for (const [id, times] of declared) if (times > 1) say(`${id} is declared ${times} times in the matched manifests (overlays?); it is left out of the quota totals.`);
  return { workloads: workloads.filter((w) => declared.get(w.id) === 1).slice(0, MAX_WORKLOADS), sources };
}

/** Files kustomizations name as patches: partial objects that change a workload, not workloads of their own. */
async function kustomizePatches(listed: Set<string>, read: (path: string) => Promise<string | undefined>): Promise<Set<string>> {
  const patches = new Set<string>();
  const kustomizations = [...listed].filter((p) => /(^|\/)(kustomization\.ya?ml|Kustomization)$/.test(p)).slice(0, 100);
  for (const path of kustomizations) {
    const text = await read(path);
    if (text === undefined || text.length > 200_000) continue;
    const doc = parseDocument(text, { logLevel: 'silent', uniqueKeys: false });
    if (doc.errors.length > 0) continue;
    let k: Record<string, unknown> | null;
    try {
      k = doc.toJS({ maxAliasCount: 50 }) as Record<string, unknown> | null;
    } catch {
      continue; // an alias without its anchor: not a kustomization kustomize would read either
    }
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    const named = [
      ...asList(k?.patchesStrategicMerge),
      ...[...asList(k?.patches), ...asList(k?.patchesJson6902)].map((p) => (p && typeof p === 'object' ? (p as { path?: unknown }).path : undefined)),
    ];
    for (const rel of named) if (typeof rel === 'string') patches.add(normalize(join(dir, rel)));
  }
  return patches;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value.slice(0, 500) : [];
}

/** `a/b/../c/./d.yaml` -> `a/c/d.yaml`; paths that climb out of the repository stay as they are. */
function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return path;
      parts.pop();
    } else parts.push(part);
  }
  return parts.join('/');
}

/**
 * Which listed files are manifests, and which charts are matched as a whole (the glob names the chart
 * directory or its values.yaml). A chart's own files outside templates/ (values.yaml, Chart.yaml,
 * values-ci.yaml) are not manifests.
 */
function selectManifests(listed: Set<string>, matches: (path: string) => boolean): { manifests: Set<string>; charts: Set<string> } {
  const dirOf = (path: string) => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');
  const roots = new Set([...listed].filter((p) => p === 'Chart.yaml' || p.endsWith('/Chart.yaml')).map(dirOf));
  const charts = new Set<string>();
  const manifests = new Set<string>();
  for (const path of listed) {
    const dir = dirOf(path);
    const containing = [...roots].filter((r) => r === '' || path.startsWith(`${r}/`)).sort((a, b) => b.length - a.length);
    const root = containing[0];
    // A subchart renders with values its parent overrides and may be switched off there: not evaluated.
    if (containing.length > 1) continue;
    if (root !== undefined && path.startsWith(join(root, 'templates/'))) {
      if (matches(path) && /\.ya?ml$/.test(path)) manifests.add(path);
    } else if (root === dir && (path.endsWith('/Chart.yaml') || path === 'Chart.yaml') && (matches(dir) || matches(`${dir}/`))) {
      charts.add(dir);
    } else if (root === dir && (path.endsWith('/values.yaml') || path === 'values.yaml') && matches(path)) {
      charts.add(dir);
    } else if (root === undefined && matches(path) && /\.ya?ml$/.test(path)) {
      manifests.add(path);
    }
  }
  return { manifests, charts };
}

function join(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** The PR's changed head lines per path, and the first origin of a list the PR changed. */
function changeLocator(ctx: CheckContext): (origins: Origin[]) => Origin | undefined {
  const byPath = new Map<string, Set<number> | 'all'>();
  for (const change of ctx.changes) if (change.status !== 'removed') byPath.set(change.path, changedLines(change));
  return (origins) =>
    origins.find((o) => {
      const lines = byPath.get(o.path);
      return lines === 'all' || !!lines?.has(o.line);
    });
}

function sameContainer(a: Container, b: Container): boolean {
  return a.name === b.name && (a.role === 'app') === (b.role === 'app');
}

function fmt(nanos: bigint, resource: Resource | undefined): string {
  return formatQuantity(nanos, resource ?? 'count');
}

/** What went over the quota: "requests.memory 3Gi (3 replicas x 1Gi) exceeds the vcluster quota 2Gi", and the remedy. */
interface Excess {
  fact: string;
  remedy: string;
}

/** Everything found on one line, said in one finding. */
interface Problem {
  at: Origin;
  excesses: Excess[];
  sentences: string[];
  keys: string[];
}

const RAISE_QUOTA = 'or raise chaos.vcluster.quota in .github/causal-review.yml if the real cluster allows it.';

function messageOf(problem: Problem): string {
  const { excesses } = problem;
  const remedy = excesses.length === 1 ? excesses[0]!.remedy : 'lower the replicas or the resources';
  const quota = excesses.length === 0 ? [] : [`${excesses.map((e) => e.fact).join('; ')}; ${remedy}, ${RAISE_QUOTA}`];
  return [...quota, ...problem.sentences].join(' ');
}

export const nestedConstraints: Check = {
  id: 'nested-constraints',
  title: 'Workloads that do not fit the vcluster quota the chaos tests run in',
  docs: {
    summary:
      'The chaos tests run the operator in a vcluster inside a small kind cluster, under a ResourceQuota and a LimitRange. ' +
      'A PR that raises replicas or resources past that quota, or adds a container without the requests the quota demands, ' +
      'makes the admission refuse pods: the chaos run then fails for a reason that has nothing to do with the change under test, ' +
      'and an agent "fixes" it by lengthening waits. This check sums what the manifests in `chaos.manifests` deploy and compares it with `chaos.vcluster.quota`.',
    details: [
      'The arithmetic, as the quota admission counts it: per pod, the request (or limit) of a resource is the larger of the app containers and sidecars added up, ' +
        'and the peak while an ordinary init container runs (that init container plus the sidecars started before it); a sidecar is an init container with `restartPolicy: Always`. ' +
        'Pod `overhead` comes on top. A container without a request takes its limit as request (API defaulting); then the LimitRange fills a missing limit from `default` ' +
        '(which defaults to `max`) and a missing request from `defaultRequest` (which defaults to `default`, then `min`).',
      'Pods at once: Deployments, StatefulSets, ReplicaSets `replicas` (default 1); Jobs `parallelism` capped by `completions` (finished pods leave the quota); ' +
        'a CronJob its job template once; a Pod once; a DaemonSet once per node it lands on. `chaos.nodes` is the number of nodes of the kind cluster, control plane included ' +
        '(default 3: one control plane and two workers). The control plane carries the NoSchedule taint, so a DaemonSet lands on the workers only, unless it tolerates ' +
        '`node-role.kubernetes.io/control-plane` (or every taint); a one-node cluster has no taint, so there it lands once. ' +
        'A DaemonSet that picks nodes by label (a `nodeSelector` beyond OS and architecture, a required node affinity) lands on an unknown number of nodes and counts as none.',
      'Quota keys read: `requests.cpu`, `requests.memory`, `limits.cpu`, `limits.memory`, `pods` (and `count/pods`); bare `cpu` and `memory` are requests. ' +
        'Every namespace inside the vcluster counts against the one quota (vcluster syncs all its pods into one host namespace). ' +
        'Not counted: what the vcluster runs itself (its syncer, CoreDNS: leave it out of the quota you configure), the extra pods of a rolling update (`maxSurge`), ' +
        'and Helm hooks (`helm.sh/hook`: they run at install time or under `helm test`, and finish).',
      'Helm charts: when a glob matches a chart directory, its values.yaml or its templates, the templates are rendered against the chart\'s values.yaml at head: ' +
        '`.Values` paths, `default`, `toYaml`, `nindent`/`indent`, `quote`, `with`, `if`/`else` on values, `range` over values. `include`, `.Release`, `tpl` and the like stay unknown: ' +
        'an unknown replica count or resource counts as nothing (the totals become lower bounds), and an `if` that cannot be decided leaves the whole file out, with a note. ' +
        'No other values files or `--set` are known, and subcharts (whose values the parent overrides) are left out unless a glob names the subchart itself.',
      'Kustomize: files a kustomization names as patches are partial objects, not workloads, and are skipped; a workload declared in more than one matched file ' +
        '(a base and an overlay) is left out with a note, since which one the chaos tests deploy is not known.',
      'Where it reports: on the changed line that raised the total (the replicas or resources line, in the manifest or in values.yaml), only when that workload asks for more than it did at base. ' +
        'It stays silent when there is no quota or LimitRange configured, for manifests the globs do not match, kinds that create no pods, YAML that does not parse, ' +
        'values it cannot evaluate, and problems the base branch had already. The configuration comes from the base branch: a PR that raises the quota in the same change is still checked against the old one.',
    ].join('\n\n'),
    bad: {
      language: 'yaml',
      code: [
        '# .github/causal-review.yml (base branch)',
        'chaos:',
        '  manifests: ["deploy/helm"]',
        '  vcluster:',
        '    quota: { requests.memory: 2Gi, pods: 10 }',
        '',
        '# deploy/helm/values.yaml',
        'replicaCount: 3        # was 1',
        'resources:',
        '  requests:',
        '    memory: 1Gi',
      ].join('\n'),
      note: 'requests.memory 3Gi (3 replicas x 1Gi) exceeds the vcluster quota 2Gi.',
    },
    good: {
      language: 'yaml',
      code: [
        '# deploy/helm/values.yaml',
        'replicaCount: 3',
        'resources:',
        '  requests:',
        '    memory: 512Mi      # 3 x 512Mi = 1.5Gi fits the 2Gi quota',
      ].join('\n'),
      note: 'Replicas x request fits the quota. Where the real cluster has the room, raise chaos.vcluster.quota on the default branch first instead.',
    },
  },
  defaultSeverity: 'error',
  languages: ['yaml'],
  async run(ctx) {
    const configChanged = await changedChaosConfig(ctx);
    if (configChanged) ctx.note?.(`this PR changes the chaos section of ${configChanged}; the check reads the base branch's, since a PR cannot move its own gate.`);
    const chaos = ctx.config.chaos;
    const limits = quotaLimits(chaos?.vcluster?.quota);
    const limitRange = limitRangeFrom(chaos?.vcluster?.limitRange);
    // Without globs nothing is known to be deployed; without a quota or LimitRange nothing limits it.
    if (!chaos?.manifests?.length || (limits.length === 0 && !limitRange)) return;
    // Cheap first: a PR that touches nothing under the globs cannot have caused a finding.
    const globs = picomatch(chaos.manifests.slice(0, 50), { dot: true });
    const bases = chaos.manifests.slice(0, 50).map((g) => picomatch.scan(g).base);
    const underGlobs = (path: string) => {
      const dir = path.slice(0, Math.max(path.lastIndexOf('/'), 0));
      // A chart's values.yaml feeds templates the globs may name one by one.
      if (path.endsWith('values.yaml') && bases.some((b) => b.startsWith(dir) || dir.startsWith(b))) return true;
      for (let at = path.length; at > 0; at = path.lastIndexOf('/', at - 1)) {
        const prefix = path.slice(0, at);
        if (globs(prefix) || globs(`${prefix}/`)) return true;
      }
      return false;
    };
    if (!ctx.changes.some((c) => c.status !== 'removed' && underGlobs(c.path))) return;
    const notes: string[] = [];
    const read = fileReader(ctx);
    const head = await deployedAt(ctx, chaos, 'head', read, (n) => notes.push(n));
    const changedPaths = new Set(ctx.changes.map((c) => c.path));
    // Findings sit on changed manifest or values lines only: without one, the PR is not the cause.
    if (![...head.sources].some((p) => changedPaths.has(p))) return;
    for (const note of notes) ctx.note?.(note);
    const base = await deployedAt(ctx, chaos, 'base', read, () => undefined);
    const locate = changeLocator(ctx);
    const problems = new Map<string, Problem>();
    const add: Add = (origins, said, key) => {
      const at = locate(origins);
      if (!at) return;
      const id = `${at.path}:${at.line}`;
      const problem = problems.get(id) ?? { at, excesses: [], sentences: [], keys: [] };
      if (typeof said !== 'string') {
        if (!problem.excesses.some((e) => e.fact === said.fact)) problem.excesses.push(said);
      } else if (!problem.sentences.includes(said)) problem.sentences.push(said);
      problem.keys.push(key);
      problems.set(id, problem);
    };
    const baseById = new Map(base.workloads.map((w) => [w.id, w]));
    for (const limit of limits) overQuota(head.workloads, baseById, limit, limitRange, add);
    for (const w of head.workloads) {
      ctx.checkBudget();
      if (w.opaque || !w.pods) continue;
      const before = baseById.get(w.id);
      for (const c of w.containers) {
        if (c.opaque) continue;
        const old = before && !before.opaque && before.pods ? before.containers.find((b) => sameContainer(b, c) && !b.opaque) : undefined;
        missingRequests(w, c, old, limits, limitRange, add);
        if (limitRange) outsideLimitRange(w, c, old, limitRange, add);
      }
    }
    const configNote = configChanged
      ? ` This PR also changes the chaos section of ${configChanged}, but the configuration is read from the base branch (a PR cannot move its own gate): the new values apply once they are merged.`
      : '';
    for (const problem of problems.values()) {
      ctx.report({
        path: problem.at.path,
        line: problem.at.line,
        message: messageOf(problem) + configNote,
        key: problem.keys.join(' '),
      });
    }
  },
};

type Add = (origins: Origin[], said: string | Excess, key: string) => void;

function overQuota(workloads: Workload[], baseById: Map<string, Workload>, limit: QuotaLimit, limitRange: LimitRange | undefined, add: Add): void {
  const usages = workloads.map((w) => ({ w, ...workloadUsage(w, limit, limitRange) }));
  const total = usages.reduce((sum, u) => sum + u.total, 0n);
  if (total <= limit.hard) return;
  const partial = usages.some((u) => u.partial);
  const resource = limit.resource;
  for (const u of usages) {
    if (u.total === 0n) continue;
    const before = baseById.get(u.w.id);
    // Only a workload that asks for more than at base pushed the total over; one that shrank did not.
    if (before && u.total <= workloadUsage(before, limit, limitRange).total) continue;
    const own = limit.field === 'pods' ? u.w.podsText : `${u.w.podsText} x ${fmt(u.perPod, resource)}`;
    const others = usages.filter((o) => o !== u && o.total > 0n);
    const rest = others.reduce((sum, o) => sum + o.total, 0n);
    const unknown = usages.filter((o) => o !== u && o.partial);
    const breakdown =
      (others.length === 0 ? own : `${u.w.label}: ${own}, plus ${fmt(rest, resource)} from ${others.length} other workload${others.length === 1 ? '' : 's'}`) +
      (unknown.length === 0 ? '' : `, plus what ${unknown.length === 1 ? unknown[0]!.w.label : `${unknown.length} other workloads`} ask${unknown.length === 1 ? 's' : ''} for, not evaluated`);
    const count = u.w.kind === 'Job' || u.w.kind === 'CronJob' ? 'parallelism' : u.w.kind === 'DaemonSet' || u.w.kind === 'Pod' ? undefined : 'replicas';
    const advice =
      limit.field === 'pods'
        ? `lower the ${count ?? 'number of pods'}`
        : `lower the ${limit.field === 'requests' ? 'request' : 'limit'}${count ? ` or the ${count}` : ''}`;
    const fact = `${limit.key} ${partial ? 'at least ' : ''}${fmt(total, resource)} (${breakdown}) exceeds the vcluster quota ${fmt(limit.hard, resource)}`;
    add(growthSites(u.w, before, limit, limitRange), { fact, remedy: advice }, `${limit.key} ${u.w.id}`);
  }
}

/** Where a workload grew, most specific first: its replica count, then the resources that rose, then any line of it. */
function growthSites(w: Workload, before: Workload | undefined, limit: QuotaLimit, limitRange: LimitRange | undefined): Origin[] {
  const sites: Origin[] = [];
  if (!before || (w.pods ?? 0) > (before.pods ?? 0)) sites.push(...w.podsWhere);
  if (limit.field !== 'pods') {
    for (const c of w.containers) {
      const now = effective(c, limit.field, limit.resource!, limitRange);
      const old = before?.containers.find((b) => sameContainer(b, c));
      const then = old && effective(old, limit.field, limit.resource!, limitRange);
      const rose = !old || old.role !== c.role || (isKnown(now) && (!isKnown(then) || now.nanos > then.nanos));
      if (rose) sites.push(...(now?.where ?? []), ...c.resourcesWhere, ...c.where);
    }
    if ((w.overhead[limit.resource!] ?? 0n) > (before?.overhead[limit.resource!] ?? 0n)) sites.push(...w.overheadWhere);
  }
  return [...sites, ...w.lines];
}

function missingRequests(w: Workload, c: Container, old: Container | undefined, limits: QuotaLimit[], limitRange: LimitRange | undefined, add: Add): void {
  const missing = limits.filter(
    (l) =>
      l.field !== 'pods' &&
      effective(c, l.field, l.resource!, limitRange) === undefined &&
      // Missing at base too: not this PR's doing.
      (!old || effective(old, l.field, l.resource!, limitRange) !== undefined),
  );
  if (missing.length === 0) return;
  const names = missing.map((l) => l.key).join(', ');
  const defaults = [...new Set(missing.map((l) => (l.field === 'requests' ? 'defaultRequest' : 'default')))].join(' and ');
  add(
    // A new container is flagged where it starts; one that lost its requests, on its resources.
    old ? [...c.resourcesWhere, ...c.where, ...c.lines] : [...c.where, ...c.lines],
    `Container "${c.name}" of ${w.label} sets no ${names}, but the vcluster quota limits ${names}: ` +
      `the ResourceQuota admission rejects its pods ("must specify ${names}"). Set ${missing.map((l) => `resources.${l.key}`).join(' and ')} on the container, ` +
      `or give chaos.vcluster.limitRange a ${defaults} if the vcluster's LimitRange has one.`,
    `missing ${names} ${w.id} ${c.name}`,
  );
}

function outsideLimitRange(w: Workload, c: Container, old: Container | undefined, limitRange: LimitRange, add: Add): void {
  for (const resource of RESOURCES) {
    for (const field of ['requests', 'limits'] as Field[]) {
      const value = effective(c, field, resource, limitRange);
      // A request copied from the limit is reported with the limit; LimitRange defaults are the configuration's own.
      if (!isKnown(value) || value.from !== 'manifest') continue;
      const before = old && effective(old, field, resource, limitRange);
      const max = limitRange.max[resource];
      const min = limitRange.min[resource];
      const over = (v: typeof before) => max !== undefined && isKnown(v) && v.nanos > max;
      const under = (v: typeof before) => min !== undefined && isKnown(v) && v.nanos < min;
      const what = `Container "${c.name}" of ${w.label} has ${field}.${resource} ${fmt(value.nanos, resource)}`;
      if (over(value) && !over(before)) {
        add(
          [...value.where, ...c.resourcesWhere],
          `${what}, over the vcluster LimitRange max ${fmt(max!, resource)}: the LimitRanger admission rejects its pods. ` +
            `Lower it to ${fmt(max!, resource)} or less, or raise chaos.vcluster.limitRange.max.${resource} in .github/causal-review.yml if the real cluster allows it.`,
          `max ${field}.${resource} ${w.id} ${c.name}`,
        );
      } else if (under(value) && !under(before)) {
        add(
          [...value.where, ...c.resourcesWhere],
          `${what}, under the vcluster LimitRange min ${fmt(min!, resource)}: the LimitRanger admission rejects its pods. ` +
            `Raise it to ${fmt(min!, resource)} or more, or lower chaos.vcluster.limitRange.min.${resource} in .github/causal-review.yml.`,
          `min ${field}.${resource} ${w.id} ${c.name}`,
        );
      }
    }
    // A request above the LimitRange's default limit, on a container that sets no limit: the pod is invalid.
    const request = effective(c, 'requests', resource, limitRange);
    const limit = effective(c, 'limits', resource, limitRange);
    if (isKnown(request) && request.from === 'manifest' && isKnown(limit) && limit.from === 'limitRange' && request.nanos > limit.nanos) {
      const before = old && effective(old, 'requests', resource, limitRange);
      const beforeLimit = old && effective(old, 'limits', resource, limitRange);
      if (isKnown(before) && isKnown(beforeLimit) && before.nanos > beforeLimit.nanos) continue;
      add(
        [...request.where, ...c.resourcesWhere],
        `Container "${c.name}" of ${w.label} requests ${fmt(request.nanos, resource)} of ${resource} and sets no limit, so the vcluster LimitRange gives it ` +
          `the default limit ${fmt(limit.nanos, resource)}, below the request: the API server rejects its pods. Set limits.${resource} of at least the request.`,
        `request over default limit ${resource} ${w.id} ${c.name}`,
      );
    }
  }
}

/** The configuration file, when the PR changes its chaos section: the check still reads the base branch's. */
async function changedChaosConfig(ctx: CheckContext): Promise<string | undefined> {
  const change = ctx.changes.find((c) => CONFIG_PATHS.includes(c.path) && c.status !== 'removed');
  if (!change) return undefined;
  const text = await ctx.read(change.path, 'head');
  if (text === undefined) return undefined;
  let headChaos: ChaosConfig | undefined;
  try {
    headChaos = parseConfig(text, change.path).chaos;
  } catch {
    return undefined;
  }
  return JSON.stringify(headChaos ?? {}) === JSON.stringify(ctx.config.chaos ?? {}) ? undefined : change.path;
}
