// Workloads in Kubernetes manifests and what their pods ask of a namespace: pods at once x per-pod
// requests and limits, counted as the ResourceQuota admission counts them (init containers, sidecars,
// pod overhead), after the defaulting the API server and the LimitRanger apply.

import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node as YamlNode } from 'yaml';
import { parseQuantity } from '../lang/quantity.js';

/** Stands in the rendered text where a template expression could not be evaluated (see helm.ts). */
export const UNRESOLVED = '__causal_review_unresolved__';

/** A line of a file something came from: a manifest line, a chart template line, a values.yaml line. */
export interface Origin {
  path: string;
  line: number;
}

export type Resource = 'cpu' | 'memory';
export type Field = 'requests' | 'limits';
export const RESOURCES: readonly Resource[] = ['cpu', 'memory'];
const NANO = 1_000_000_000n;

/** A quantity as written, with where it was written; `unknown` when it could not be read. */
export type Amount = { nanos: bigint; where: Origin[] } | { unknown: true; where: Origin[] };

export interface Container {
  name: string;
  /** init containers with `restartPolicy: Always` are sidecars: they run beside the app containers */
  role: 'app' | 'init' | 'sidecar';
  requests: Partial<Record<Resource, Amount>>;
  limits: Partial<Record<Resource, Amount>>;
  /** its resources could not be read (a template expression): nothing is concluded about it */
  opaque: boolean;
  where: Origin[];
  resourcesWhere: Origin[];
  /** the origins of every line of the container, for a change that is not a resources line */
  lines: Origin[];
}

export interface Workload {
  kind: string;
  name: string;
  /** for messages: "Deployment operator", or "the Deployment in deploy/helm/templates/deployment.yaml" when the name is templated */
  label: string;
  /** kind/namespace/name, or the file and document when the name is templated: matches base to head */
  id: string;
  path: string;
  /** pods running at once; undefined when it could not be read */
  pods?: number;
  /** how the pod count comes about, for messages: "3 replicas", "2 nodes" */
  podsText: string;
  podsWhere: Origin[];
  /** app containers, then init containers in their order */
  containers: Container[];
  /** the pod's containers could not be read */
  opaque: boolean;
  overhead: Partial<Record<Resource, bigint>>;
  overheadWhere: Origin[];
  lines: Origin[];
}

/** One parsed YAML document and how its lines map back to the files they came from. */
export interface ManifestDocument {
  doc: Document;
  lineCounter: LineCounter;
  path: string;
  index: number;
  originsAt(line: number): Origin[];
}

/** LimitRange `Container` limits, with the defaults the API server fills in (SetDefaults_LimitRangeItem). */
export interface LimitRange {
  max: Partial<Record<Resource, bigint>>;
  min: Partial<Record<Resource, bigint>>;
  default: Partial<Record<Resource, bigint>>;
  defaultRequest: Partial<Record<Resource, bigint>>;
}

type CpuMemory = { cpu?: string | number; memory?: string | number };

export function limitRangeFrom(config: { max?: CpuMemory; min?: CpuMemory; default?: CpuMemory; defaultRequest?: CpuMemory } | undefined): LimitRange | undefined {
  if (!config) return undefined;
  const read = (given: CpuMemory | undefined) => {
    const out: Partial<Record<Resource, bigint>> = {};
    for (const r of RESOURCES) {
      const q = given?.[r] === undefined ? undefined : parseQuantity(given[r]!);
      if (q) out[r] = q.nanos;
    }
    return out;
  };
  const range: LimitRange = { max: read(config.max), min: read(config.min), default: read(config.default), defaultRequest: read(config.defaultRequest) };
  // The API server's defaulting: a default limit falls back to max, a default request to the default limit, then to min.
  for (const r of RESOURCES) {
    range.default[r] ??= range.max[r];
    range.defaultRequest[r] ??= range.default[r] ?? range.min[r];
    if (range.default[r] === undefined) delete range.default[r];
    if (range.defaultRequest[r] === undefined) delete range.defaultRequest[r];
  }
  return range;
}

/** A container's request or limit after defaulting, and what supplied it. */
export type KnownEffective = { nanos: bigint; where: Origin[]; from: 'manifest' | 'limit' | 'limitRange' };
export type Effective = KnownEffective | { unknown: true; where: Origin[] };

export function isKnown(value: Effective | undefined): value is KnownEffective {
  return value !== undefined && !('unknown' in value);
}

/**
 * What the quota admission sees for one container: a request left out defaults to the limit (API
 * defaulting), then the LimitRanger fills a missing limit from `default` and a missing request from
 * `defaultRequest`. Undefined: still missing, and a quota on it rejects the pod.
 */
export function effective(container: Container, field: Field, resource: Resource, limitRange?: LimitRange): Effective | undefined {
  if (container.opaque) return { unknown: true, where: container.where };
  const fromManifest = (amount: Amount | undefined, from: 'manifest' | 'limit'): Effective | undefined =>
    amount === undefined ? undefined : 'unknown' in amount ? amount : { nanos: amount.nanos, where: amount.where, from };
  const limit = fromManifest(container.limits[resource], 'manifest');
  if (field === 'limits') {
    if (limit) return limit;
    const fallback = limitRange?.default[resource];
    return fallback === undefined ? undefined : { nanos: fallback, where: [], from: 'limitRange' };
  }
  const request = fromManifest(container.requests[resource], 'manifest') ?? fromManifest(container.limits[resource], 'limit');
  if (request) return request;
  const fallback = limitRange?.defaultRequest[resource];
  return fallback === undefined ? undefined : { nanos: fallback, where: [], from: 'limitRange' };
}

/** A per-pod figure; `partial` when some container's value was unknown, so the figure is a lower bound. */
export interface PodFigure {
  nanos: bigint;
  partial: boolean;
}

/**
 * The pod's request (or limit) of one resource as the quota counts it (resourcehelper.PodRequests):
 * the app containers and sidecars add up; an ordinary init container runs alone beside the sidecars
 * started before it, so the pod needs the larger of the two; pod overhead comes on top.
 */
export function podFigure(workload: Workload, field: Field, resource: Resource, limitRange?: LimitRange): PodFigure {
  if (workload.opaque) return { nanos: 0n, partial: true };
  let partial = false;
  const value = (c: Container): bigint => {
    const v = effective(c, field, resource, limitRange);
    if (v === undefined) return 0n;
    if (!isKnown(v)) {
      partial = true;
      return 0n;
    }
    return v.nanos;
  };
  let sum = 0n;
  for (const c of workload.containers) if (c.role === 'app') sum += value(c);
  let sidecars = 0n;
  let initPeak = 0n;
  for (const c of workload.containers) {
    if (c.role === 'app') continue;
    const own = value(c);
    let during: bigint;
    if (c.role === 'sidecar') {
      sum += own;
      sidecars += own;
      during = sidecars;
    } else {
      during = own + sidecars;
    }
    if (during > initPeak) initPeak = during;
  }
  const pod = sum > initPeak ? sum : initPeak;
  return { nanos: pod + (workload.overhead[resource] ?? 0n), partial };
}

/** How many nodes a DaemonSet's pods land on; see the check's docs for the node model. */
export function daemonSetNodes(nodes: number, toleratesControlPlane: boolean): number {
  // kind removes the control-plane taint when the control plane is the only node.
  if (nodes <= 1) return 1;
  return toleratesControlPlane ? nodes : nodes - 1;
}

// ---- reading manifests ----

const WORKLOAD_GROUPS = new Set(['v1', 'apps/v1', 'apps/v1beta1', 'apps/v1beta2', 'extensions/v1beta1', 'batch/v1', 'batch/v1beta1']);
const MAX_LINES = 5_000;

interface Reader {
  m: ManifestDocument;
  lineOf(node: YamlNode | undefined | null): number | undefined;
}

function resolve(r: Reader, node: unknown): YamlNode | undefined {
  if (isAlias(node)) return (node.resolve(r.m.doc) as YamlNode | undefined) ?? undefined;
  return (node as YamlNode | null | undefined) ?? undefined;
}

/** A map entry: its value node and the line of its key. */
function entry(r: Reader, map: YamlNode | undefined, key: string): { value?: YamlNode; keyLine?: number } | undefined {
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    const k = resolve(r, pair.key);
    if (isScalar(k) && String(k.value) === key) return { value: resolve(r, pair.value), keyLine: r.lineOf(k) };
  }
  return undefined;
}

function get(r: Reader, node: YamlNode | undefined, ...path: string[]): YamlNode | undefined {
  let at = node;
  for (const key of path) at = entry(r, at, key)?.value;
  return at;
}

function text(node: YamlNode | undefined): string | undefined {
  return isScalar(node) && node.value !== null && node.value !== undefined ? String(node.value) : undefined;
}

function isUnresolved(node: YamlNode | undefined): boolean {
  return isScalar(node) && typeof node.value === 'string' && node.value.includes(UNRESOLVED);
}

/** A map with an entry a template expression produced may hold any key: what it lacks is not known to be missing. */
function hasUnresolvedEntry(node: YamlNode | undefined): boolean {
  return isMap(node) && node.items.some((pair) => isScalar(pair.key) && String(pair.key.value).includes(UNRESOLVED));
}

function originsOf(r: Reader, line: number | undefined): Origin[] {
  return line === undefined ? [] : r.m.originsAt(line);
}

function originsOfRange(r: Reader, node: YamlNode | undefined): Origin[] {
  if (!node?.range) return [];
  const first = r.m.lineCounter.linePos(node.range[0]).line;
  const last = Math.min(r.m.lineCounter.linePos(Math.max(node.range[0], node.range[2] - 1)).line, first + MAX_LINES);
  const seen = new Set<string>();
  const out: Origin[] = [];
  for (let line = first; line <= last; line++) {
    for (const o of r.m.originsAt(line)) {
      const key = `${o.path}:${o.line}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(o);
      }
    }
  }
  return out;
}

/** A count field (replicas, parallelism): default when absent, undefined when unreadable. */
function count(r: Reader, map: YamlNode | undefined, key: string, fallback: number): { value?: number; where: Origin[] } {
  const e = entry(r, map, key);
  if (!e && hasUnresolvedEntry(map)) return { where: [] };
  if (!e || e.value === undefined || (isScalar(e.value) && e.value.value === null)) return { value: fallback, where: [] };
  const where = originsOf(r, r.lineOf(e.value) ?? e.keyLine);
  const v = isScalar(e.value) ? e.value.value : undefined;
  // Kubernetes rejects a quoted count, so only a YAML integer is one.
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1_000_000 ? { value: v, where } : { where };
}

function amounts(r: Reader, map: YamlNode | undefined): { values: Partial<Record<Resource, Amount>>; opaque: boolean } {
  const values: Partial<Record<Resource, Amount>> = {};
  if (map === undefined || (isScalar(map) && (map.value === null || map.value === undefined))) return { values, opaque: false };
  if (!isMap(map) || hasUnresolvedEntry(map)) return { values, opaque: true };
  for (const resource of RESOURCES) {
    const e = entry(r, map, resource);
    if (!e?.value) continue;
    const where = originsOf(r, r.lineOf(e.value) ?? e.keyLine);
    const written = text(e.value);
    const q = written === undefined || written.includes(UNRESOLVED) ? undefined : parseQuantity(written);
    values[resource] = q && q.nanos >= 0n ? { nanos: q.nanos, where } : { unknown: true, where };
  }
  return { values, opaque: false };
}

function container(r: Reader, node: YamlNode | undefined, role: 'app' | 'init', index: number): Container | undefined {
  if (!isMap(node)) return undefined;
  const name = text(get(r, node, 'name')) ?? `#${index}`;
  const resources = entry(r, node, 'resources');
  const requests = amounts(r, get(r, resources?.value, 'requests'));
  const limits = amounts(r, get(r, resources?.value, 'limits'));
  const resourcesNode = resources?.value;
  const opaque =
    requests.opaque ||
    limits.opaque ||
    isUnresolved(resourcesNode) ||
    hasUnresolvedEntry(resourcesNode) ||
    // The unknown entry may be the container's resources.
    (resourcesNode === undefined && hasUnresolvedEntry(node)) ||
    (resourcesNode !== undefined && !isMap(resourcesNode) && !(isScalar(resourcesNode) && resourcesNode.value === null));
  const restart = text(get(r, node, 'restartPolicy'));
  return {
    name,
    role: role === 'init' && restart === 'Always' ? 'sidecar' : role,
    requests: requests.values,
    limits: limits.values,
    opaque,
    where: originsOf(r, r.lineOf(node)),
    resourcesWhere: originsOf(r, resources?.keyLine),
    lines: originsOfRange(r, node),
  };
}

/** Every kind node is a Linux node of the host's architecture; any other label narrows the nodes. */
const LABELS_EVERY_NODE_HAS = new Set(['kubernetes.io/os', 'beta.kubernetes.io/os', 'kubernetes.io/arch', 'beta.kubernetes.io/arch']);

function selectsNodes(r: Reader, podSpec: YamlNode | undefined): boolean {
  const selector = get(r, podSpec, 'nodeSelector');
  if (isMap(selector) && selector.items.some((pair) => !(isScalar(pair.key) && LABELS_EVERY_NODE_HAS.has(String(pair.key.value))))) return true;
  if (selector !== undefined && !isMap(selector) && !(isScalar(selector) && selector.value === null)) return true;
  return get(r, podSpec, 'affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution') !== undefined;
}

/** The toleration that lets a DaemonSet onto the control plane, or undefined when it stays on the workers. */
function controlPlaneToleration(r: Reader, podSpec: YamlNode | undefined): YamlNode | undefined {
  const tolerations = get(r, podSpec, 'tolerations');
  if (!isSeq(tolerations)) return undefined;
  return tolerations.items.map((item) => resolve(r, item)).find((t) => {
    const key = text(get(r, t, 'key'));
    const operator = text(get(r, t, 'operator')) ?? 'Equal';
    const effect = text(get(r, t, 'effect'));
    const keyMatches = key === undefined || key === '' ? operator === 'Exists' : key === 'node-role.kubernetes.io/control-plane' || key === 'node-role.kubernetes.io/master';
    return keyMatches && (effect === undefined || effect === '' || effect === 'NoSchedule');
  });
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The workloads one document declares (a `List` declares its items'); ConfigMaps, Services, CRDs declare none. */
export function workloadsIn(m: ManifestDocument, nodes: number): Workload[] {
  if (m.doc.errors.length > 0) return [];
  const r: Reader = {
    m,
    lineOf: (node) => (node?.range ? m.lineCounter.linePos(node.range[0]).line : undefined),
  };
  const root = resolve(r, m.doc.contents);
  const out: Workload[] = [];
  const visit = (object: YamlNode | undefined, depth: number) => {
    if (text(get(r, object, 'kind')) === 'List' && depth === 0) {
      const items = get(r, object, 'items');
      if (isSeq(items)) items.items.slice(0, 500).forEach((item) => visit(resolve(r, item), 1));
      return;
    }
    const w = workloadOf(r, object, nodes, out.length);
    if (w) out.push(w);
  };
  visit(root, 0);
  return out;
}

function workloadOf(r: Reader, object: YamlNode | undefined, nodes: number, position: number): Workload | undefined {
  const kind = text(get(r, object, 'kind'));
  const apiVersion = text(get(r, object, 'apiVersion'));
  if (!kind || !apiVersion || !WORKLOAD_GROUPS.has(apiVersion)) return undefined;
  const spec = get(r, object, 'spec');
  let podSpec: YamlNode | undefined;
  let pods: { value?: number; where: Origin[] };
  let podsText: (n: number) => string;
  switch (kind) {
    case 'Pod':
      podSpec = spec;
      pods = { value: 1, where: [] };
      podsText = () => '1 pod';
      break;
    case 'Deployment':
    case 'StatefulSet':
    case 'ReplicaSet':
    case 'ReplicationController':
      podSpec = get(r, spec, 'template', 'spec');
      pods = count(r, spec, 'replicas', 1);
      podsText = (n) => plural(n, 'replica');
      break;
    case 'DaemonSet': {
      podSpec = get(r, spec, 'template', 'spec');
      const toleration = controlPlaneToleration(r, podSpec);
      const where = originsOf(r, r.lineOf(toleration));
      // A node selector or required node affinity picks nodes by labels the kind nodes may not carry: unknown.
      pods = selectsNodes(r, podSpec) ? { where } : { value: daemonSetNodes(nodes, toleration !== undefined), where };
      podsText = (n) => plural(n, 'node');
      break;
    }
    case 'Job':
    case 'CronJob': {
      // A CronJob counts once: its schedule starts one Job at a time unless runs overlap.
      const jobSpec = kind === 'Job' ? spec : get(r, spec, 'jobTemplate', 'spec');
      podSpec = get(r, jobSpec, 'template', 'spec');
      const parallelism = count(r, jobSpec, 'parallelism', 1);
      const completions = count(r, jobSpec, 'completions', Number.MAX_SAFE_INTEGER);
      // Finished pods leave the quota, so what counts is how many run at once: parallelism, capped by completions.
      const value =
        parallelism.value === undefined || completions.value === undefined ? undefined : Math.min(parallelism.value, completions.value);
      const suspended = text(get(r, jobSpec, 'suspend')) === 'true' || (kind === 'CronJob' && text(get(r, spec, 'suspend')) === 'true');
      pods = { value: suspended ? 0 : value, where: parallelism.where.length ? parallelism.where : completions.where };
      podsText = (n) => plural(n, 'parallel pod');
      break;
    }
    default:
      return undefined;
  }
  if (!isMap(podSpec)) return undefined;
  const metadata = get(r, object, 'metadata');
  // Helm hooks run at install time or only under `helm test`, and finish: they hold no quota while the chaos tests run.
  if (entry(r, get(r, metadata, 'annotations'), 'helm.sh/hook')) return undefined;
  const name = text(get(r, metadata, 'name')) ?? '';
  const namespace = text(get(r, metadata, 'namespace')) ?? '';
  const templated = name === '' || name.includes(UNRESOLVED) || namespace.includes(UNRESOLVED);
  const id = templated ? `${r.m.path}#${r.m.index}.${position}/${kind}` : `${kind}/${namespace}/${name}`;
  const containers: Container[] = [];
  let opaque = false;
  for (const [key, role] of [['containers', 'app'], ['initContainers', 'init']] as const) {
    const list = get(r, podSpec, key);
    if (list === undefined || (isScalar(list) && list.value === null)) continue;
    if (!isSeq(list)) {
      opaque = true;
      continue;
    }
    list.items.slice(0, 100).forEach((item, i) => {
      const c = container(r, resolve(r, item), role, i);
      if (c) containers.push(c);
      else opaque = true;
    });
  }
  const overhead: Partial<Record<Resource, bigint>> = {};
  const overheadWhere: Origin[] = [];
  const written = amounts(r, get(r, podSpec, 'overhead'));
  for (const resource of RESOURCES) {
    const a = written.values[resource];
    if (a && !('unknown' in a)) overhead[resource] = a.nanos;
    if (a) overheadWhere.push(...a.where);
  }
  return {
    kind,
    name,
    label: templated ? `the ${kind} in ${r.m.path}` : `${kind} ${name}`,
    id,
    path: r.m.path,
    ...(pods.value === undefined ? {} : { pods: pods.value }),
    podsText: pods.value === undefined ? 'an unknown number of pods' : podsText(pods.value),
    podsWhere: pods.where,
    containers,
    opaque,
    overhead,
    overheadWhere,
    lines: originsOfRange(r, object),
  };
}

// ---- the quota ----

export interface QuotaLimit {
  /** the key as the check reports it: requests.cpu, limits.memory, pods */
  key: string;
  field: Field | 'pods';
  resource?: Resource;
  /** nano-units; pods count in units of 10^9 too, so all figures compare alike */
  hard: bigint;
}

/** The ResourceQuota `spec.hard` keys the check models; bare `cpu`/`memory` are requests, as Kubernetes reads them. */
export function quotaLimits(quota: Record<string, string | number> | undefined): QuotaLimit[] {
  const byKey = new Map<string, QuotaLimit>();
  for (const [written, value] of Object.entries(quota ?? {})) {
    const q = parseQuantity(value);
    if (!q) continue;
    let limit: Omit<QuotaLimit, 'hard'> | undefined;
    if (written === 'pods' || written === 'count/pods') limit = { key: 'pods', field: 'pods' };
    else if (written === 'cpu' || written === 'memory') limit = { key: `requests.${written}`, field: 'requests', resource: written };
    else {
      const [field, resource] = written.split('.');
      if ((field === 'requests' || field === 'limits') && (resource === 'cpu' || resource === 'memory')) limit = { key: written, field, resource };
    }
    if (!limit) continue;
    const before = byKey.get(limit.key);
    // Both `cpu` and `requests.cpu` hold: the lower one binds.
    if (!before || q.nanos < before.hard) byKey.set(limit.key, { ...limit, hard: q.nanos });
  }
  return [...byKey.values()];
}

/** What one workload takes of a quota limit: pods x per-pod figure. */
export function workloadUsage(workload: Workload, limit: QuotaLimit, limitRange?: LimitRange): { total: bigint; perPod: bigint; partial: boolean } {
  const pods = workload.pods;
  if (limit.field === 'pods') return { total: BigInt(pods ?? 0) * NANO, perPod: NANO, partial: pods === undefined };
  const figure = podFigure(workload, limit.field, limit.resource!, limitRange);
  return { total: BigInt(pods ?? 0) * figure.nanos, perPod: figure.nanos, partial: figure.partial || pods === undefined };
}
