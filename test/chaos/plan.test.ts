// `causal-review chaos plan` and the CLI entry point: the experiments and vcluster.yaml come from
// the config alone; bad config and bad usage exit 2 with a one-line reason naming the problem;
// `chaos run` exits 0 on a correct operator and 1 on a buggy one.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { chaosCommand, parseChaosArgs } from '../../src/chaos/cli.js';
import { chaosPlan } from '../../src/chaos/plan.js';
import { resolveChaosSettings } from '../../src/chaos/config.js';
import { startChaosCluster } from '../support/chaos-cluster.js';

const widget = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  namespace: 'demo',
  manifest: 'config/samples/widget.yaml',
  children: [{ apiVersion: 'v1', kind: 'ConfigMap' }],
};

function io() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: { stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) } },
  };
}

describe('chaosPlan', () => {
  test('lists every experiment per resource, with why some are skipped', () => {
    const plan = chaosPlan({ chaos: { operator: { namespace: 'op', deployment: 'manager' }, resources: [widget] } });
    const byId = new Map(plan.experiments.map((e) => [e.id, e]));
    expect(byId.get('baseline')?.skip).toBeUndefined();
    expect(byId.get('kill-operator-mid-reconcile')?.skip).toBeUndefined();
    expect(byId.get('delete-leader-lease')?.skip).toMatch(/leaseName is not set/);
    expect(byId.get('concurrent-updates')?.skip).toMatch(/flip is not set/);
    expect(byId.get('network-partition')?.skip).toMatch(/chaosMesh is not enabled/);
    expect(plan.operator).toEqual({ namespace: 'op', deployment: 'manager', selector: 'app=manager' });
  });

  test('include and exclude select experiments; baseline always runs', () => {
    const plan = chaosPlan({ chaos: { resources: [widget], experiments: { include: ['quota-squeeze', 'drift-delete-child'], exclude: ['drift-delete-child'] } } });
    expect(plan.experiments.map((e) => e.id)).toEqual(['baseline', 'quota-squeeze']);
  });

  test('vcluster.yaml carries the quota, the limit range and a ResourceQuota in each resource namespace', () => {
    const plan = chaosPlan({
      chaos: {
        resources: [widget, { ...widget, namespace: 'other' }],
        vcluster: {
          quota: { 'requests.cpu': 4, 'count/pods': '30' },
          limitRange: { max: { memory: '1Gi' }, default: { cpu: '200m' } },
          namespaceQuota: { 'count/configmaps': 5 },
        },
      },
    });
    const doc = parse(plan.vclusterYaml);
    expect(doc.policies.resourceQuota).toEqual({ enabled: true, quota: { 'requests.cpu': '4', 'count/pods': '30' } });
    expect(doc.policies.limitRange).toEqual({ enabled: true, max: { memory: '1Gi' }, default: { cpu: '200m' } });
    const inner = parseAllDocuments(doc.experimental.deploy.vcluster.manifests).map((d) => d.toJS());
    expect(inner.filter((m) => m.kind === 'Namespace').map((m) => m.metadata.name)).toEqual(['demo', 'other']);
    const quotas = inner.filter((m) => m.kind === 'ResourceQuota');
    expect(quotas.map((q) => q.metadata.namespace)).toEqual(['demo', 'other']);
    expect(quotas[0].spec.hard).toEqual({ 'count/configmaps': '5' });
  });

  test('the kind config has one control plane and chaos.nodes - 1 workers', () => {
    const roles = (nodes?: number) => parse(chaosPlan({ chaos: { nodes } }).kindConfig).nodes.map((n: { role: string }) => n.role);
    expect(roles()).toEqual(['control-plane', 'worker', 'worker']);
    expect(roles(1)).toEqual(['control-plane']);
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a misspelled key', { operator: { namespace: 'x', deployment: 'y', namespce: 'z' } }, /chaos\.operator: unknown key "namespce"/],
    ['a resource without a kind', { resources: [{ apiVersion: 'v1', namespace: 'x', manifest: 'm' }] }, /chaos\.resources\.0: missing key "kind"/],
    ['an unknown invariant', { resources: [{ ...widget, invariants: { readiness: true } }] }, /chaos\.resources\.0\.invariants: unknown key "readiness"/],
    ['a zero stability window', { timeouts: { stabilityMs: 0 } }, /chaos\.timeouts\.stabilityMs: must be >= 1/],
    ['a flip outside spec', { resources: [{ ...widget, flip: { path: 'metadata.name', values: ['a', 'b'] } }] }, /chaos\.resources\.0\.flip\.path/],
  ];
  test.each(bad)('rejects %s, naming the key', (_what, chaos, message) => {
    expect(() => resolveChaosSettings({ chaos })).toThrow(message);
  });
});

describe('parseChaosArgs', () => {
  test('reads plan and run flags, with = or a separate value', () => {
    expect(parseChaosArgs(['plan', '--vcluster-yaml=v.yaml', '--format', 'json'])).toMatchObject({ command: 'plan', vclusterYaml: 'v.yaml', format: 'json' });
    expect(parseChaosArgs(['run', '--kubeconfig', 'k', '--host-kubeconfig', 'h', '--out', 'r.json'])).toMatchObject({ command: 'run', kubeconfig: 'k', hostKubeconfig: 'h', out: 'r.json' });
  });
  const usage: Array<[string[], RegExp]> = [
    [[], /expected "plan" or "run", got nothing/],
    [['apply'], /expected "plan" or "run", got "apply"/],
    [['plan', '--bogus'], /unknown argument "--bogus"/],
    [['plan', '--out', 'x'], /--out is not an option of plan/],
    [['run'], /--kubeconfig is required/],
    [['run', '--kubeconfig'], /--kubeconfig needs a value/],
    [['plan', '--format', 'xml'], /--format must be text or json/],
  ];
  test.each(usage)('%j is a usage error', (argv, message) => {
    expect(() => parseChaosArgs(argv)).toThrow(message);
  });
});

describe('chaosCommand', () => {
  let repo: string;
  beforeAll(async () => {
    repo = await mkdtemp(join(tmpdir(), 'causal-review-plan-'));
    await mkdir(join(repo, '.github'));
  });
  afterAll(() => rm(repo, { recursive: true, force: true }));

  test('plan prints the experiments and writes vcluster.yaml, exit 0', async () => {
    await writeFile(join(repo, '.github', 'causal-review.yml'), `chaos:\n  resources:\n    - apiVersion: example.com/v1\n      kind: Widget\n      namespace: demo\n      manifest: w.yaml\n  vcluster:\n    quota: {count/pods: 10}\n`);
    const { out, io: streams } = io();
    const code = await chaosCommand(['plan', '--repo', repo, '--vcluster-yaml', join(repo, 'vcluster.yaml')], streams);
    expect(code).toBe(0);
    expect(out.stdout).toMatch(/^run +baseline +Widget demo \(w\.yaml\)$/m);
    expect(out.stdout).toMatch(/^skip +delete-leader-lease .*leaseName is not set$/m);
    expect(parse(await readFile(join(repo, 'vcluster.yaml'), 'utf8')).policies.resourceQuota.quota).toEqual({ 'count/pods': '10' });
  });

  test('a bad config exits 2 with one line naming the key', async () => {
    await writeFile(join(repo, 'bad.yml'), 'chaos:\n  timeouts: {convergeSecs: 5}\n');
    const { out, io: streams } = io();
    expect(await chaosCommand(['plan', '--config', join(repo, 'bad.yml')], streams)).toBe(2);
    // the same check as analyze's: the file named, then the key
    expect(out.stderr).toBe(`causal-review: ${join(repo, 'bad.yml')}: chaos.timeouts: unknown key "convergeSecs"\n`);
  });

  test('bad usage exits 2 with one line', async () => {
    const { out, io: streams } = io();
    expect(await chaosCommand(['run', '--repo', repo], streams)).toBe(2);
    expect(out.stderr).toBe('causal-review: chaos run: --kubeconfig is required\n');
  });

  test('a --repo that is not there, and a file it cannot write, are bad input that names them', async () => {
    const missing = io();
    expect(await chaosCommand(['plan', '--repo', join(repo, 'nope')], missing.io)).toBe(2);
    expect(missing.out.stderr).toBe(`causal-review: chaos plan: --repo ${join(repo, 'nope')}: no such directory\n`);
    const unwritable = io();
    expect(await chaosCommand(['plan', '--repo', repo, '--vcluster-yaml', join(repo, 'no', 'dir.yaml')], unwritable.io)).toBe(2);
    expect(unwritable.out.stderr).toBe(`causal-review: chaos plan: --vcluster-yaml ${join(repo, 'no', 'dir.yaml')}: its directory does not exist\n`);
  });

  test('run exits 0 on the correct operator and 1 when an invariant fails', async () => {
    for (const [bug, expected] of [[undefined, 0], ['no-drift-repair', 1]] as const) {
      const cluster = await startChaosCluster({ bug, chaos: { experiments: { include: ['drift-delete-child'] }, timeouts: { convergeMs: 3000, stabilityMs: 200, experimentMs: 3000 } } });
      try {
        await writeFile(join(cluster.dir, 'config.yml'), JSON.stringify({ chaos: cluster.chaos }));
        const { out, io: streams } = io();
        const code = await chaosCommand(
          ['run', '--repo', cluster.dir, '--config', join(cluster.dir, 'config.yml'), '--kubeconfig', cluster.kubeconfig, '--out', join(cluster.dir, 'r.json')],
          streams,
        );
        expect(code, out.stdout + out.stderr).toBe(expected);
        const written = JSON.parse(await readFile(join(cluster.dir, 'r.json'), 'utf8'));
        expect(written.experiments.map((e: { id: string }) => e.id)).toContain('drift-delete-child');
        if (expected === 1) expect(out.stdout).toMatch(/drift-delete-child: .*drift-repaired/);
      } finally {
        await cluster.close();
      }
    }
  });
});
