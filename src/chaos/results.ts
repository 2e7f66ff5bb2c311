// results.json: the versioned record of a chaos run (faults, invariant outcomes, timings, and the
// events and log lines a failure rests on), its validation, and its rendering as a check run.
// The artifact comes from a PR's own workflow run, so everything in it is untrusted text.

import { escapeMarkdown } from '../report/checkrun.js';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

export const RESULTS_SCHEMA_VERSION = 1;

export type ExperimentOutcome = 'passed' | 'failed' | 'error' | 'skipped';
export type InvariantOutcome = 'passed' | 'failed' | 'skipped';

export interface FaultRecord {
  /** what was done: `delete-pod`, `evict-pod`, `scale`, `delete-lease`, `restart-control-plane`, ... */
  type: string;
  /** the object it was done to, `Kind namespace/name` */
  target: string;
  at: string;
  detail?: string;
}

export interface EventRecord {
  type: string;
  reason: string;
  message: string;
  /** the object the event is about, `Kind namespace/name` */
  object: string;
  at?: string;
}

export interface ObjectRecord {
  ref: string;
  resourceVersion?: string;
  /** the part of the object the invariant looked at (status conditions, owner references, ...) */
  state: string;
}

export interface Evidence {
  events: EventRecord[];
  /** operator log lines, newest last, each prefixed with its pod */
  logs: string[];
  objects: ObjectRecord[];
}

export interface InvariantResult {
  id: string;
  outcome: InvariantOutcome;
  message: string;
  evidence?: Evidence;
}

export interface ExperimentResult {
  id: string;
  title: string;
  resource?: { apiVersion: string; kind: string; namespace: string; name: string };
  outcome: ExperimentOutcome;
  /** why an experiment errored or was skipped */
  reason?: string;
  startedAt: string;
  durationMs: number;
  /** time from the last fault until the invariants held still for the stability window */
  convergedMs?: number;
  faults: FaultRecord[];
  invariants: InvariantResult[];
}

export interface ChaosResults {
  schemaVersion: 1;
  tool: { name: string; version: string };
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  conclusion: 'success' | 'failure';
  experiments: ExperimentResult[];
}

const text = (max: number) => ({ type: 'string', maxLength: max }) as const;
const evidenceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['events', 'logs', 'objects'],
  properties: {
    events: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['type', 'reason', 'message', 'object'],
        properties: { type: text(100), reason: text(200), message: text(2000), object: text(600), at: text(64) },
      },
    },
    logs: { type: 'array', maxItems: 200, items: text(2000) },
    objects: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['ref', 'state'],
        properties: { ref: text(600), resourceVersion: text(64), state: text(4000) },
      },
    },
  },
} as const;

/** JSON schema of results.json, version 1. */
export const RESULTS_SCHEMA = {
  $id: 'https://causal-review.dev/schemas/chaos-results-v1.json',
  type: 'object',
  additionalProperties: false,
  required: ['schemaVersion', 'tool', 'startedAt', 'finishedAt', 'durationMs', 'conclusion', 'experiments'],
  properties: {
    schemaVersion: { const: RESULTS_SCHEMA_VERSION },
    tool: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'version'],
      properties: { name: text(100), version: text(100) },
    },
    startedAt: text(64),
    finishedAt: text(64),
    durationMs: { type: 'number', minimum: 0 },
    conclusion: { enum: ['success', 'failure'] },
    experiments: {
      type: 'array',
      maxItems: 200,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'title', 'outcome', 'startedAt', 'durationMs', 'faults', 'invariants'],
        properties: {
          id: text(100),
          title: text(300),
          resource: {
            type: 'object',
            additionalProperties: false,
            required: ['apiVersion', 'kind', 'namespace', 'name'],
            properties: { apiVersion: text(300), kind: text(300), namespace: text(300), name: text(300) },
          },
          outcome: { enum: ['passed', 'failed', 'error', 'skipped'] },
          reason: text(4000),
          startedAt: text(64),
          durationMs: { type: 'number', minimum: 0 },
          convergedMs: { type: 'number', minimum: 0 },
          faults: {
            type: 'array',
            maxItems: 500,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['type', 'target', 'at'],
              properties: { type: text(100), target: text(600), at: text(64), detail: text(2000) },
            },
          },
          invariants: {
            type: 'array',
            maxItems: 100,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['id', 'outcome', 'message'],
              properties: {
                id: text(100),
                outcome: { enum: ['passed', 'failed', 'skipped'] },
                message: text(4000),
                evidence: evidenceSchema,
              },
            },
          },
        },
      },
    },
  },
} as const;

/** Compiled when a results file is first read, not at start-up. */
let validator: ValidateFunction | undefined;
const validatorOf = () => (validator ??= new Ajv({ allErrors: false, strict: false }).compile(RESULTS_SCHEMA));

function where(error: ErrorObject): string {
  // /experiments/0/invariants/2/outcome -> experiments[0].invariants[2].outcome
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('');
  if (error.keyword === 'required') return `results${path}.${(error.params as { missingProperty: string }).missingProperty}: required`;
  if (error.keyword === 'additionalProperties') {
    return `results${path}.${(error.params as { additionalProperty: string }).additionalProperty}: unknown field`;
  }
  return `results${path}: ${error.message}`;
}

/** Check an untrusted results.json value; the error names the bad field. */
export function validateResults(json: unknown): ChaosResults {
  const validateSchema = validatorOf();
  if (!validateSchema(json)) {
    const first = validateSchema.errors?.[0];
    throw new Error(first ? where(first) : 'results: invalid');
  }
  return json as unknown as ChaosResults;
}

// ---- rendering -----------------------------------------------------------------------------------

export const MAX_SUMMARY_CHARS = 65_535;

const ICON: Record<string, string> = { passed: '✅', failed: '❌', error: '⚠️', skipped: '⏭️' };

/** Counts recomputed from the experiments: the artifact's own `conclusion` is not taken on trust. */
export function tally(results: ChaosResults): { passed: number; failed: number; errored: number; skipped: number } {
  const count = (o: ExperimentOutcome) => results.experiments.filter((e) => e.outcome === o).length;
  return { passed: count('passed'), failed: count('failed'), errored: count('error'), skipped: count('skipped') };
}

function experimentSection(e: ExperimentResult): string {
  const lines: string[] = [];
  const resource = e.resource ? ` on ${escapeMarkdown(`${e.resource.kind} ${e.resource.namespace}/${e.resource.name}`, 200)}` : '';
  lines.push(`### ${ICON[e.outcome] ?? ''} ${escapeMarkdown(e.id, 100)}${resource}`, '');
  if (e.reason) lines.push(`${escapeMarkdown(e.reason, 500)}`, '');
  if (e.faults.length) {
    lines.push(`Faults: ${e.faults.slice(0, 10).map((f) => `${escapeMarkdown(f.type, 60)} ${escapeMarkdown(f.target, 120)}`).join('; ')}${e.faults.length > 10 ? ` and ${e.faults.length - 10} more` : ''}`, '');
  }
  if (e.invariants.length) {
    lines.push('| invariant | outcome | detail |', '| --- | --- | --- |');
    for (const inv of e.invariants) {
      lines.push(`| ${escapeMarkdown(inv.id, 80)} | ${ICON[inv.outcome] ?? ''} ${escapeMarkdown(inv.outcome, 20)} | ${escapeMarkdown(inv.message, 400)} |`);
    }
    lines.push('');
  }
  for (const inv of e.invariants.filter((i) => i.outcome === 'failed' && i.evidence)) {
    const ev = inv.evidence!;
    const items = [
      ...ev.events.slice(0, 5).map((x) => `- event ${escapeMarkdown(x.type, 20)} ${escapeMarkdown(x.reason, 80)} on ${escapeMarkdown(x.object, 120)}: ${escapeMarkdown(x.message, 300)}`),
      ...ev.objects.slice(0, 3).map((o) => `- ${escapeMarkdown(o.ref, 120)}: ${escapeMarkdown(o.state, 300)}`),
      ...ev.logs.slice(-5).map((l) => `- log: ${escapeMarkdown(l, 300)}`),
    ];
    if (items.length) lines.push(`Evidence for ${escapeMarkdown(inv.id, 80)}:`, '', ...items, '');
  }
  const time = `${Math.round(e.durationMs)} ms${e.convergedMs !== undefined ? `, converged ${Math.round(e.convergedMs)} ms after the fault` : ''}`;
  lines.push(`Took ${time}.`, '');
  return lines.join('\n');
}

/** The check run output for a chaos run: failures first, bounded to what GitHub accepts. */
export function renderChaosSummary(results: ChaosResults): { title: string; summary: string; conclusion: 'success' | 'failure' } {
  const t = tally(results);
  const total = results.experiments.length;
  const bad = t.failed + t.errored;
  const conclusion = bad === 0 && total > 0 ? 'success' : 'failure';
  const title =
    total === 0
      ? 'Chaos: no experiment ran'
      : bad === 0
        ? `Chaos: ${t.passed} of ${total} experiments passed`
        : `Chaos: ${bad} of ${total} experiments failed`;
  const head = [
    `**${t.passed}** passed, **${t.failed}** failed, **${t.errored}** errored, **${t.skipped}** skipped (results schema v${RESULTS_SCHEMA_VERSION}).`,
    '',
    '| experiment | outcome | failed invariants |',
    '| --- | --- | --- |',
    ...results.experiments.slice(0, 100).map(
      (e) =>
        `| ${escapeMarkdown(e.id, 80)} | ${ICON[e.outcome] ?? ''} ${escapeMarkdown(e.outcome, 20)} | ${escapeMarkdown(
          e.invariants.filter((i) => i.outcome === 'failed').map((i) => i.id).join(', ') || '-',
          300,
        )} |`,
    ),
    '',
  ].join('\n');
  const order = (e: ExperimentResult) => (e.outcome === 'failed' ? 0 : e.outcome === 'error' ? 1 : e.outcome === 'passed' ? 2 : 3);
  const sections = [...results.experiments].sort((a, b) => order(a) - order(b));
  let summary = head;
  let shown = 0;
  const reserve = 200;
  for (const e of sections) {
    const section = experimentSection(e);
    if (summary.length + section.length + reserve > MAX_SUMMARY_CHARS) break;
    summary += `\n${section}`;
    shown += 1;
  }
  if (shown < sections.length) {
    summary += `\n_${sections.length - shown} more experiments are not shown here; the results.json artifact has them all._\n`;
  }
  if (summary.length > MAX_SUMMARY_CHARS) summary = `${summary.slice(0, MAX_SUMMARY_CHARS - 2)}…`;
  return { title, summary, conclusion };
}
