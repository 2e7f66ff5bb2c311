// `causal-review chaos run`: connects to the (virtual) cluster, applies the configured custom
// resources, runs each selected experiment against each, and writes results.json.

import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { Config } from '../config/schema.js';
import { ChaosConfigError, resolveChaosSettings, type ChaosSettings, type ResourceSpec } from './config.js';
import { selectExperiments } from './experiments.js';
import { RESULTS_SCHEMA_VERSION, type ChaosResults, type ExperimentResult } from './results.js';
import { Trial, type TrialEnv } from './trial.js';
import { ClusterView, type KObject } from './view.js';

export interface ChaosRunOptions {
  config: Pick<Config, 'chaos'>;
  /** path of the kubeconfig of the cluster the operator runs in (the vcluster) */
  kubeconfig?: string;
  kubeConfig?: KubeConfig;
  /** path of the kubeconfig of the host cluster (kind), for control plane restarts and Chaos Mesh */
  hostKubeconfig?: string;
  hostKubeConfig?: KubeConfig;
  /** where to write results.json */
  out?: string;
  /** the repository root the manifest paths are relative to */
  repoRoot?: string;
  log?: (line: string) => void;
  now?: () => number;
  /** how soon a broken watch is retried while the API is unreachable */
  watchRetryMs?: number;
}

const TOOL_VERSION = '0.1.0';

async function loadKubeConfig(path: string | undefined, given: KubeConfig | undefined, what: string): Promise<KubeConfig | undefined> {
  if (given) return given;
  if (!path) return undefined;
  const kc = new KubeConfig();
  try {
    kc.loadFromString(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ChaosConfigError(`${what} ${path}: ${(error as Error).message.split('\n')[0]}`);
  }
  return kc;
}

/** The object of the resource's kind in its manifest file (the first one, when there are several). */
export async function loadManifest(spec: ResourceSpec, repoRoot: string): Promise<KObject> {
  const path = resolve(repoRoot, spec.manifest);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new ChaosConfigError(`chaos.resources: manifest ${spec.manifest} cannot be read`);
  }
  if (text.length > 1_000_000) throw new ChaosConfigError(`chaos.resources: manifest ${spec.manifest} is larger than 1 MB`);
  const docs = parseAllDocuments(text);
  const objects = (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJS({ maxAliasCount: 100 }) as KObject | null);
  const found = objects.find((o) => o?.kind === spec.kind && o.apiVersion === spec.apiVersion);
  if (!found?.metadata?.name) {
    throw new ChaosConfigError(`chaos.resources: ${spec.manifest} holds no ${spec.kind} (${spec.apiVersion}) with a metadata.name`);
  }
  found.metadata.namespace = spec.namespace;
  return found;
}

async function ensureNamespaces(view: ClusterView, settings: ChaosSettings): Promise<void> {
  const ignoreExists = (error: { code?: number }) => {
    if (error.code !== 409) throw error;
  };
  for (const namespace of new Set(settings.resources.map((r) => r.namespace))) {
    await view.api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }).catch(ignoreExists);
    if (settings.vcluster.namespaceQuota) {
      const hard = Object.fromEntries(Object.entries(settings.vcluster.namespaceQuota).map(([k, v]) => [k, String(v)]));
      await view.api
        .create({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'causal-review-namespace-quota', namespace }, spec: { hard } } as KubernetesObject)
        .catch(ignoreExists);
    }
  }
}

async function track(view: ClusterView, settings: ChaosSettings): Promise<void> {
  const { operator } = settings;
  await view.track('v1', 'Pod', operator.namespace, operator.selector);
  if (operator.leaseName) await view.track('coordination.k8s.io/v1', 'Lease', operator.namespace);
  for (const r of settings.resources) {
    await view.track(r.apiVersion, r.kind, r.namespace);
    await view.track('v1', 'Pod', r.namespace);
    for (const c of r.children) await view.track(c.apiVersion, c.kind, r.namespace);
  }
}

/** Run the configured experiments and return (and write, with `out`) the results. */
export async function chaosRun(opts: ChaosRunOptions): Promise<ChaosResults> {
  const settings = resolveChaosSettings(opts.config);
  if (!settings.resources.length) throw new ChaosConfigError('chaos.resources: at least one custom resource is needed to run experiments');
  const now = opts.now ?? Date.now;
  const log = opts.log ?? (() => undefined);
  const repoRoot = opts.repoRoot ?? process.cwd();
  const manifests = await Promise.all(settings.resources.map((r) => loadManifest(r, repoRoot)));
  const kc = await loadKubeConfig(opts.kubeconfig, opts.kubeConfig, '--kubeconfig');
  if (!kc) throw new ChaosConfigError('--kubeconfig is required');
  const hostKc = await loadKubeConfig(opts.hostKubeconfig, opts.hostKubeConfig, '--host-kubeconfig');

  const started = now();
  const view = new ClusterView(kc, opts.watchRetryMs);
  const hostView = hostKc ? new ClusterView(hostKc, opts.watchRetryMs) : undefined;
  const experiments: ExperimentResult[] = [];
  try {
    await ensureNamespaces(view, settings);
    await track(view, settings);
    if (hostView) await hostView.track('v1', 'Pod', settings.vcluster.hostNamespace, settings.vcluster.controlPlaneSelector);
    const env: TrialEnv = { view, host: hostKc && hostView ? { kc: hostKc, view: hostView } : undefined, settings, log, now };
    const selected = selectExperiments(settings, { host: Boolean(hostView) });
    for (const [index, spec] of settings.resources.entries()) {
      for (const { experiment, skip } of selected) {
        const startedMs = now();
        const base = { id: experiment.id, title: experiment.title, startedAt: new Date(startedMs).toISOString() };
        const trial = new Trial(env, spec, manifests[index]);
        if (skip) {
          experiments.push({ ...base, resource: { apiVersion: spec.apiVersion, kind: spec.kind, namespace: spec.namespace, name: trial.name }, outcome: 'skipped', reason: skip, durationMs: 0, faults: [], invariants: [] });
          continue;
        }
        log(`experiment ${experiment.id} on ${spec.kind} ${spec.namespace}/${trial.name}`);
        let error: unknown;
        try {
          await experiment.run(trial);
        } catch (e) {
          error = e;
          log(`experiment ${experiment.id}: ${(e as Error).message}`);
        }
        const result = await trial.result(base, startedMs, error);
        log(`experiment ${experiment.id}: ${result.outcome}${result.invariants.filter((i) => i.outcome === 'failed').map((i) => ` ${i.id}`).join('')}`);
        experiments.push(result);
      }
    }
  } finally {
    view.close();
    hostView?.close();
  }
  const finished = now();
  const failed = experiments.some((e) => e.outcome === 'failed' || e.outcome === 'error');
  const results: ChaosResults = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: { name: 'causal-review', version: TOOL_VERSION },
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - started,
    conclusion: failed ? 'failure' : 'success',
    experiments,
  };
  if (opts.out) await writeFile(opts.out, `${JSON.stringify(results, null, 2)}\n`);
  return results;
}
