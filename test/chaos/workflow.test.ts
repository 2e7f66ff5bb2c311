// workflows/chaos.yml against GitHub's own workflow schema (@actions/workflow-parser), plus the
// rules the schema cannot state: pinned actions, no sleeps, cleanup that always runs.

import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';

// the parser imports its schema JSON without an import attribute, which Node 20 refuses
register(
  `data:text/javascript,${encodeURIComponent(
    "export async function load(url, context, next) { if (url.endsWith('.json') && url.includes('@actions/workflow-parser')) return next(url, { ...context, importAttributes: { ...context.importAttributes, type: 'json' } }); return next(url, context); }",
  )}`,
);

type Parser = typeof import('@actions/workflow-parser');
let parser: Parser;
beforeAll(async () => {
  parser = await import('@actions/workflow-parser');
});

const WORKFLOW = readFileSync(new URL('../../workflows/chaos.yml', import.meta.url), 'utf8');
const DOCS = readFileSync(new URL('../../docs/chaos.md', import.meta.url), 'utf8');

function schemaErrors(content: string): string[] {
  const result = parser.parseWorkflow({ name: 'chaos.yml', content }, new parser.NoOperationTraceWriter());
  return result.context.errors.getErrors().map((e) => e.message);
}

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}
const doc = parse(WORKFLOW) as {
  on: Record<string, { inputs: Record<string, { default?: unknown }> }>;
  permissions: Record<string, string>;
  jobs: Record<string, { 'timeout-minutes'?: unknown; permissions?: Record<string, string>; steps: Step[] }>;
};
const steps = Object.values(doc.jobs).flatMap((j) => j.steps);

describe('workflows/chaos.yml', () => {
  test('is valid against the GitHub Actions workflow schema', () => {
    expect(schemaErrors(WORKFLOW)).toEqual([]);
  });

  test('the schema check is live: a misspelled key is reported', () => {
    const broken = WORKFLOW.replace('timeout-minutes: ${{ inputs.timeout-minutes }}', 'timeout-minute: 5');
    expect(schemaErrors(broken).join('\n')).toMatch(/timeout-minute/);
  });

  test('is a reusable workflow with a read-only token and a timeout', () => {
    expect(Object.keys(doc.on)).toEqual(['workflow_call']);
    expect(doc.permissions).toEqual({ contents: 'read' });
    for (const job of Object.values(doc.jobs)) {
      expect(job.permissions).toEqual({ contents: 'read' });
      expect(job['timeout-minutes']).toBeDefined();
    }
    expect(WORKFLOW).not.toMatch(/secrets\./);
  });

  test('every action is pinned by commit SHA or carries a pin comment naming its tag', () => {
    const uses = WORKFLOW.split('\n').filter((l) => /^\s*(-\s+)?uses:/.test(l));
    expect(uses.length).toBeGreaterThanOrEqual(5);
    for (const line of uses) {
      const ref = /uses:\s*([^@\s]+)@(\S+)/.exec(line);
      expect(ref, line).not.toBeNull();
      const pinned = /^[0-9a-f]{40}$/.test(ref![2]);
      const marked = line.includes(`# pin: replace with the commit SHA of ${ref![2]}`);
      expect(pinned || marked, line).toBe(true);
    }
  });

  test('never waits with sleep; waits are conditions with timeouts', () => {
    for (const step of steps.filter((s) => s.run)) expect(step.run, step.name).not.toMatch(/\bsleep\b/);
    expect(WORKFLOW).toMatch(/kubectl[^\n]+wait --for=/);
    expect(WORKFLOW).toMatch(/rollout status[^\n]+--timeout=/);
  });

  test('creates kind with a digest-pinned node image and a 180s wait, then the vcluster from the planned vcluster.yaml', () => {
    const kind = steps.find((s) => s.uses?.startsWith('helm/kind-action@'))!;
    expect(kind.with?.wait).toBe('180s');
    expect(kind.with?.config).toBe('kind.yaml');
    expect(String(doc.on.workflow_call.inputs['node-image'].default)).toMatch(/^kindest\/node:v[0-9.]+@sha256:[0-9a-f]{64}$/);
    const plan = steps.findIndex((s) => s.run?.includes('causal-review chaos plan'));
    const create = steps.findIndex((s) => s.run?.includes('vcluster create'));
    expect(steps[plan].run).toMatch(/--vcluster-yaml vcluster\.yaml/);
    expect(plan).toBeGreaterThanOrEqual(0);
    expect(create).toBeGreaterThan(plan);
    expect(steps[create].run).toMatch(/vcluster create \S+ .*--connect=false -f vcluster\.yaml/);
    expect(steps[create].run).toMatch(/vcluster connect .*--print/);
    expect(steps.some((s) => s.uses?.startsWith('loft-sh/setup-vcluster@'))).toBe(true);
    expect(steps.some((s) => /kind load docker-image/.test(s.run ?? ''))).toBe(true);
  });

  test('runs the experiments, uploads results.json, and always dumps logs and deletes the vcluster last', () => {
    const run = steps.find((s) => s.run?.includes('causal-review chaos run'))!;
    expect(run.run).toMatch(/--kubeconfig .*--host-kubeconfig .*--out results\.json/);
    const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    expect(upload.with?.path).toBe('results.json');
    expect(upload.if).toBe('always()');
    const dump = steps.find((s) => /get events/.test(s.run ?? '') && /logs/.test(s.run ?? ''))!;
    expect(dump.if).toBe('always()');
    const last = steps.at(-1)!;
    expect(last.run).toMatch(/vcluster delete/);
    expect(last.if).toBe('always()');
  });

  test('installs Chaos Mesh with containerd settings only when the plan asks for it', () => {
    const mesh = steps.find((s) => s.run?.includes('chaos-mesh/chaos-mesh'))!;
    expect(mesh.if).toBe("env.CHAOS_MESH == 'true'");
    expect(mesh.run).toMatch(/chaosDaemon\.runtime=containerd/);
    expect(mesh.run).toMatch(/chaosDaemon\.socketPath=\/run\/containerd\/containerd\.sock/);
  });

  test('the caller snippet in docs/chaos.md is a valid pull_request workflow', () => {
    const snippet = /<!-- caller -->\s*```yaml\n([\s\S]*?)```/.exec(DOCS)?.[1];
    expect(snippet).toBeDefined();
    expect(schemaErrors(snippet!)).toEqual([]);
    const caller = parse(snippet!) as { on: Record<string, unknown>; permissions: unknown; jobs: Record<string, { uses: string }> };
    expect(Object.keys(caller.on)).toEqual(['pull_request']);
    expect(caller.permissions).toEqual({ contents: 'read' });
    expect(Object.values(caller.jobs)[0].uses).toMatch(/causal-review-chaos-run\.yml$/);
  });
});
