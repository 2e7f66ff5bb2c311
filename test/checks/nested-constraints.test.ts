// nested-constraints: every fixture case runs through the real engine (inline `# want` expectations),
// plus the per-pod arithmetic, the LimitRange defaulting and the template rendering as units.

import { describe, expect, it } from 'vitest';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { nestedConstraints } from '../../checks/nested-constraints.js';
import { review } from '../../src/engine/engine.js';
import { memorySnapshot } from '../../src/engine/memory.js';
import {
  UNRESOLVED,
  daemonSetNodes,
  effective,
  limitRangeFrom,
  podFigure,
  quotaLimits,
  workloadUsage,
  workloadsIn,
  type Workload,
} from '../../src/analysis/workloads.js';
import { describeProblems, loadCases, runCase } from '../support/fixtures.js';

describe('nested-constraints fixtures', () => {
  for (const c of loadCases('nested-constraints')) {
    it(c.name, async () => {
      const result = await runCase(c, [nestedConstraints]);
      expect(describeProblems(result)).toBe('');
    });
  }
});

// ---- units: the per-pod arithmetic, LimitRange defaulting, pods at once ----

function workloadsOf(yaml: string, nodes = 3): Workload[] {
  const lineCounter = new LineCounter();
  return [...(parseAllDocuments(yaml, { lineCounter }) as Document[])].flatMap((doc, index) =>
    workloadsIn({ doc, lineCounter, path: 'w.yaml', index, originsAt: (line) => [{ path: 'w.yaml', line }] }, nodes),
  );
}

const Mi = (n: number) => BigInt(n) * 1024n * 1024n * 1_000_000_000n;
const milli = (n: number) => BigInt(n) * 1_000_000n;

/** A Deployment's YAML from container lines written compactly: [role, name, requests, limits, restartPolicy?]. */
function deploymentWith(containers: [string, string, Record<string, string>, Record<string, string>, string?][], extraSpec = ''): string {
  const block = (role: string) =>
    containers
      .filter((c) => c[0] === role)
      .map(([, name, req, lim, restart]) => {
        const map = (m: Record<string, string>) => Object.entries(m).map(([k, v]) => `              ${k}: ${v}`).join('\n');
        return [
          `        - name: ${name}`,
          ...(restart ? [`          restartPolicy: ${restart}`] : []),
          '          resources:',
          ...(Object.keys(req).length ? ['            requests:', map(req)] : []),
          ...(Object.keys(lim).length ? ['            limits:', map(lim)] : []),
        ].join('\n');
      })
      .join('\n');
  const init = block('init');
  return [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata: {name: op}',
    'spec:',
    '  replicas: 2',
    '  template:',
    '    spec:',
    extraSpec,
    '      containers:',
    block('app'),
    ...(init ? ['      initContainers:', init] : []),
  ]
    .filter(Boolean)
    .join('\n');
}

describe('podFigure', () => {
  it('adds app containers', () => {
    const [w] = workloadsOf(deploymentWith([['app', 'a', { memory: '256Mi' }, {}], ['app', 'b', { memory: '128Mi' }, {}]]));
    expect(podFigure(w!, 'requests', 'memory')).toEqual({ nanos: Mi(384), partial: false });
  });

  it('takes the larger of the app containers and the largest ordinary init container', () => {
    const small = workloadsOf(deploymentWith([['app', 'a', { memory: '256Mi' }, {}], ['init', 'i', { memory: '200Mi' }, {}]]))[0]!;
    const big = workloadsOf(deploymentWith([['app', 'a', { memory: '256Mi' }, {}], ['init', 'i', { memory: '1Gi' }, {}]]))[0]!;
    expect(podFigure(small, 'requests', 'memory').nanos).toBe(Mi(256));
    expect(podFigure(big, 'requests', 'memory').nanos).toBe(Mi(1024));
  });

  it('adds sidecars to the app containers, and to the init containers started after them', () => {
    const [w] = workloadsOf(
      deploymentWith([
        ['app', 'a', { memory: '256Mi' }, {}],
        ['init', 'proxy', { memory: '100Mi' }, {}, 'Always'],
        ['init', 'migrate', { memory: '300Mi' }, {}],
      ]),
    );
    // app + sidecar = 356Mi; the migration runs beside the sidecar: 400Mi; the pod needs the larger.
    expect(podFigure(w!, 'requests', 'memory').nanos).toBe(Mi(400));
    expect(w!.containers.map((c) => c.role)).toEqual(['app', 'sidecar', 'init']);
  });

  it('does not add a sidecar to an init container that ran before it', () => {
    const [w] = workloadsOf(
      deploymentWith([
        ['app', 'a', { memory: '256Mi' }, {}],
        ['init', 'migrate', { memory: '300Mi' }, {}],
        ['init', 'proxy', { memory: '100Mi' }, {}, 'Always'],
      ]),
    );
    expect(podFigure(w!, 'requests', 'memory').nanos).toBe(Mi(356));
  });

  it('adds pod overhead', () => {
    const [w] = workloadsOf(deploymentWith([['app', 'a', { cpu: '250m' }, {}]], '      overhead: {cpu: 50m}'));
    expect(podFigure(w!, 'requests', 'cpu').nanos).toBe(milli(300));
  });

  it('counts a request as its limit when only the limit is set', () => {
    const [w] = workloadsOf(deploymentWith([['app', 'a', {}, { cpu: '1' }]]));
    expect(podFigure(w!, 'requests', 'cpu').nanos).toBe(milli(1000));
    expect(effective(w!.containers[0]!, 'requests', 'cpu')).toMatchObject({ from: 'limit' });
  });

  it('is a lower bound when a value is a template expression nobody evaluated', () => {
    const [w] = workloadsOf(deploymentWith([['app', 'a', { memory: UNRESOLVED }, {}], ['app', 'b', { memory: '64Mi' }, {}]]));
    expect(podFigure(w!, 'requests', 'memory')).toEqual({ nanos: Mi(64), partial: true });
  });
});

describe('LimitRange defaults', () => {
  const bare = workloadsOf(deploymentWith([['app', 'a', {}, {}]]))[0]!.containers[0]!;

  it('leaves a container without requests without them when there is no LimitRange', () => {
    expect(effective(bare, 'requests', 'memory')).toBeUndefined();
    expect(effective(bare, 'limits', 'memory')).toBeUndefined();
  });

  it('fills the request from defaultRequest and the limit from default', () => {
    const lr = limitRangeFrom({ default: { memory: '512Mi' }, defaultRequest: { memory: '128Mi' } });
    expect(effective(bare, 'requests', 'memory', lr)).toMatchObject({ nanos: Mi(128), from: 'limitRange' });
    expect(effective(bare, 'limits', 'memory', lr)).toMatchObject({ nanos: Mi(512), from: 'limitRange' });
  });

  it('defaults default to max, and defaultRequest to default, then to min, as the API server does', () => {
    expect(limitRangeFrom({ max: { cpu: '2' } })).toMatchObject({ default: { cpu: milli(2000) }, defaultRequest: { cpu: milli(2000) } });
    expect(limitRangeFrom({ min: { memory: '64Mi' } })).toMatchObject({ default: {}, defaultRequest: { memory: Mi(64) } });
    expect(limitRangeFrom({ default: { cpu: '500m' }, min: { cpu: '100m' } })!.defaultRequest.cpu).toBe(milli(500));
  });

  it('keeps what the container sets', () => {
    const [w] = workloadsOf(deploymentWith([['app', 'a', { memory: '300Mi' }, {}]]));
    const lr = limitRangeFrom({ defaultRequest: { memory: '128Mi' } });
    expect(effective(w!.containers[0]!, 'requests', 'memory', lr)).toMatchObject({ nanos: Mi(300), from: 'manifest' });
  });
});

describe('pods at once', () => {
  const kindOf = (yaml: string, nodes = 3) => workloadsOf(yaml, nodes).map((w) => [w.kind, w.pods, w.podsText]);
  const podSpec = '    spec:\n      containers: [{name: c}]';

  it('puts a DaemonSet on the workers of the default cluster, and on the control plane only when it tolerates its taint', () => {
    const ds = `apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nspec:\n  template:\n${podSpec}`;
    expect(kindOf(ds)).toEqual([['DaemonSet', 2, '2 nodes']]);
    expect(kindOf(ds.replace('      containers', '      tolerations: [{operator: Exists}]\n      containers'))).toEqual([['DaemonSet', 3, '3 nodes']]);
    expect(kindOf(ds, 1)).toEqual([['DaemonSet', 1, '1 node']]);
    expect(daemonSetNodes(5, false)).toBe(4);
    // A toleration for another taint does not let it onto the control plane.
    expect(kindOf(ds.replace('      containers', '      tolerations: [{key: gpu, operator: Exists}]\n      containers'))[0]![1]).toBe(2);
    // Nodes picked by labels: how many the kind cluster has is not known; os and arch every node has.
    expect(kindOf(ds.replace('      containers', '      nodeSelector: {gpu: "true"}\n      containers'))[0]![1]).toBeUndefined();
    expect(kindOf(ds.replace('      containers', '      nodeSelector: {kubernetes.io/os: linux}\n      containers'))[0]![1]).toBe(2);
    const affinity = '      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: []}\n      containers';
    expect(kindOf(ds.replace('      containers', affinity))[0]![1]).toBeUndefined();
  });

  it('runs parallelism pods of a Job at once, capped by completions; a suspended Job none', () => {
    const job = (spec: string) => `apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n${spec}  template:\n${podSpec}`;
    expect(kindOf(job(''))[0]![1]).toBe(1);
    expect(kindOf(job('  parallelism: 4\n'))[0]![1]).toBe(4);
    expect(kindOf(job('  parallelism: 4\n  completions: 2\n'))[0]![1]).toBe(2);
    expect(kindOf(job('  parallelism: 4\n  suspend: true\n'))[0]![1]).toBe(0);
    const cron = (suspend: string) =>
      `apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n${suspend}  schedule: "* * * * *"\n  jobTemplate:\n    spec:\n      parallelism: 2\n      template:\n        spec:\n          containers: [{name: c}]`;
    expect(kindOf(cron(''))).toEqual([['CronJob', 2, '2 parallel pods']]);
    expect(kindOf(cron('  suspend: true\n'))[0]![1]).toBe(0);
  });

  it('reads replicas as an integer only, default 1', () => {
    const dep = (replicas: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n${replicas}  template:\n${podSpec}`;
    expect(kindOf(dep(''))[0]![1]).toBe(1);
    expect(kindOf(dep('  replicas: 0\n'))[0]![1]).toBe(0);
    expect(kindOf(dep('  replicas: "3"\n'))[0]![1]).toBeUndefined();
    expect(kindOf(dep(`  replicas: ${UNRESOLVED}\n`))[0]![1]).toBeUndefined();
  });

  it('ignores kinds that create no pods and workload kinds of other API groups', () => {
    expect(kindOf('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}')).toEqual([]);
    expect(kindOf(`apiVersion: argoproj.io/v1alpha1\nkind: Deployment\nmetadata: {name: r}\nspec:\n  template:\n${podSpec}`)).toEqual([]);
  });
});

describe('quotaLimits', () => {
  it('reads bare cpu and memory as requests, keeps the tighter of two spellings, and skips keys it does not model', () => {
    const limits = quotaLimits({ cpu: '4', 'requests.cpu': '2', memory: '1Gi', 'limits.memory': '2Gi', 'count/pods': 5, 'requests.storage': '10Gi', services: 3 });
    expect(limits.map((l) => [l.key, l.hard])).toEqual([
      ['requests.cpu', milli(2000)],
      ['requests.memory', Mi(1024)],
      ['limits.memory', Mi(2048)],
      ['pods', 5_000_000_000n],
    ]);
  });

  it('multiplies pods by the per-pod figure', () => {
    const [w] = workloadsOf(deploymentWith([['app', 'a', { memory: '100Mi' }, {}]]));
    const [limit] = quotaLimits({ 'requests.memory': '1Gi' });
    expect(workloadUsage(w!, limit!)).toEqual({ total: Mi(200), perPod: Mi(100), partial: false });
  });
});

describe('hostile input', () => {
  it('never fails on mangled manifests, templates, values or kustomizations: it stays silent or reports', async () => {
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const bits = ['{{', '}}', '{{-', '-}}', '{{ end }}', '{{ if .Values.a }}', '{{ range .Values.resources }}', '*a', '&a ', '\n', ': ', '- ', '"', '[', '{', '\t', '{{ toYaml .Values | nindent 4 }}'];
    const failures: string[] = [];
    for (const c of loadCases('nested-constraints')) {
      const head = { ...c.pr.head };
      for (const path of Object.keys(head)) {
        let text = head[path]!;
        for (let k = 0; k < 3; k++) {
          const at = next(text.length + 1);
          text = next(3) === 0 ? text.slice(0, at) + text.slice(at + next(20)) : text.slice(0, at) + bits[next(bits.length)] + text.slice(at);
        }
        head[path] = text;
      }
      const verdict = await review(memorySnapshot({ ...c.pr, head }), { config: c.config, checks: [nestedConstraints] });
      failures.push(...verdict.findings.filter((f) => f.checkId === 'internal-error').map((f) => `${c.name}: ${f.message}`));
    }
    expect(failures).toEqual([]);
  });
});

describe('configuration changed by the PR', () => {
  it('is checked against the base branch, and a note says so', async () => {
    const [c] = loadCases('nested-constraints').filter((k) => k.name === 'config-raised-in-same-pr');
    const { verdict } = await runCase(c!, [nestedConstraints]);
    expect(verdict.findings.map((f) => f.message)).toEqual([expect.stringContaining('exceeds the vcluster quota 2Gi')]);
    expect(verdict.notes).toContain(
      "nested-constraints: this PR changes the chaos section of .github/causal-review.yml; the check reads the base branch's, since a PR cannot move its own gate.",
    );
  });
});
