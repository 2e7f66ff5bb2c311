// The `chaos` section of `.github/causal-review.yml`: its JSON schema (errors name the bad key),
// its defaults, and the resolved settings the planner and the runner work from.

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Config, QuotaConfig } from '../config/schema.js';

/** Invariants that can be switched off per custom resource kind; all are on by default. */
export const INVARIANT_IDS = [
  'observed-generation',
  'ready',
  'children',
  'no-orphans',
  'drift-repaired',
  'quiescence',
  'no-restarts',
  'one-lease-holder',
  'quota-condition',
  'no-lost-update',
  'watches-reestablished',
] as const;
export type InvariantId = (typeof INVARIANT_IDS)[number];

export interface ChildSpec {
  apiVersion: string;
  kind: string;
  /** how many objects of this kind one resource owns */
  count: number;
}

export interface ResourceSpec {
  apiVersion: string;
  kind: string;
  namespace: string;
  /** path (from the repository root) of a manifest holding one object of this kind */
  manifest: string;
  children: ChildSpec[];
  invariants: Record<InvariantId, boolean>;
  /** the condition that says the resource is reconciled */
  readyCondition: string;
  /** what a condition's reason or message must match when a quota blocks the resource */
  quotaPattern: string;
  /** a spec field the concurrent writers flip (dotted path) and the values they write */
  flip?: { path: string; values: Array<string | number> };
}

export interface OperatorSpec {
  namespace: string;
  deployment: string;
  /** label selector of the operator's pods, `key=value,...` */
  selector: string;
  leaseName?: string;
}

export interface ChaosTimeouts {
  /** the longest a resource may take to converge after a fault */
  convergeMs: number;
  /** how long the invariants and every child's resourceVersion must hold still to count as converged */
  stabilityMs: number;
  /** how long a Chaos Mesh fault lasts */
  faultMs: number;
  /** the most one experiment may take from its first fault, all its waits together (default: 3 x convergeMs) */
  experimentMs: number;
}

export interface ChaosSettings {
  nodes: number;
  operator: OperatorSpec;
  resources: ResourceSpec[];
  vcluster: {
    name: string;
    /** the host namespace vcluster runs in */
    hostNamespace: string;
    /** selector of the vcluster control plane pods on the host */
    controlPlaneSelector: string;
    quota?: QuotaConfig;
    limitRange?: NonNullable<NonNullable<Config['chaos']>['vcluster']>['limitRange'];
    /** a ResourceQuota put in each virtual namespace of the resources */
    namespaceQuota?: QuotaConfig;
  };
  chaosMesh: boolean;
  experiments: { include: string[]; exclude: string[] };
  timeouts: ChaosTimeouts;
  concurrency: { writers: number; writes: number };
  /** how many times a fault that must land in the middle of a reconcile is tried */
  midReconcileAttempts: number;
}

export class ChaosConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChaosConfigError';
  }
}

const name = { type: 'string', minLength: 1, maxLength: 253 } as const;
const quantity = { type: ['string', 'number'] } as const;
const quota = { type: 'object', additionalProperties: quantity, maxProperties: 100 } as const;
const cpuMemory = { type: 'object', additionalProperties: false, properties: { cpu: quantity, memory: quantity } } as const;
const ms = (max: number) => ({ type: 'integer', minimum: 1, maximum: max }) as const;

/** JSON schema of the `chaos` section. */
export const CHAOS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    manifests: { type: 'array', items: { type: 'string', maxLength: 500 }, maxItems: 500 },
    nodes: { type: 'integer', minimum: 1, maximum: 20 },
    operator: {
      type: 'object',
      additionalProperties: false,
      required: ['namespace', 'deployment'],
      properties: { namespace: name, deployment: name, selector: { type: 'string', maxLength: 500 }, leaseName: name },
    },
    resources: {
      type: 'array',
      maxItems: 20,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['apiVersion', 'kind', 'namespace', 'manifest'],
        properties: {
          apiVersion: name,
          kind: name,
          namespace: name,
          manifest: { type: 'string', minLength: 1, maxLength: 500 },
          children: {
            type: 'array',
            maxItems: 20,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['apiVersion', 'kind'],
              properties: { apiVersion: name, kind: name, count: { type: 'integer', minimum: 0, maximum: 100 } },
            },
          },
          invariants: {
            type: 'object',
            additionalProperties: false,
            properties: Object.fromEntries(INVARIANT_IDS.map((id) => [id, { type: 'boolean' }])),
          },
          readyCondition: name,
          quotaPattern: { type: 'string', maxLength: 100 },
          flip: {
            type: 'object',
            additionalProperties: false,
            required: ['path', 'values'],
            properties: {
              path: { type: 'string', pattern: '^spec(\\.[A-Za-z0-9_-]+)+$', maxLength: 200 },
              values: { type: 'array', minItems: 2, maxItems: 10, items: { type: ['string', 'number'] } },
            },
          },
        },
      },
    },
    vcluster: {
      type: 'object',
      additionalProperties: false,
      properties: {
        name,
        hostNamespace: name,
        controlPlaneSelector: { type: 'string', maxLength: 500 },
        quota,
        namespaceQuota: quota,
        limitRange: {
          type: 'object',
          additionalProperties: false,
          properties: { max: cpuMemory, min: cpuMemory, default: cpuMemory, defaultRequest: cpuMemory },
        },
      },
    },
    chaosMesh: { type: 'boolean' },
    experiments: {
      type: 'object',
      additionalProperties: false,
      properties: {
        include: { type: 'array', items: name, maxItems: 50 },
        exclude: { type: 'array', items: name, maxItems: 50 },
      },
    },
    timeouts: {
      type: 'object',
      additionalProperties: false,
      properties: { convergeMs: ms(3_600_000), stabilityMs: ms(600_000), faultMs: ms(3_600_000), experimentMs: ms(7_200_000) },
    },
    concurrency: {
      type: 'object',
      additionalProperties: false,
      properties: { writers: { type: 'integer', minimum: 2, maximum: 50 }, writes: { type: 'integer', minimum: 1, maximum: 200 } },
    },
    midReconcileAttempts: { type: 'integer', minimum: 1, maximum: 20 },
  },
} as const;

/** Compiled when a chaos section is first read, not at start-up (every command imports this module). */
let validator: ValidateFunction | undefined;
const validatorOf = () => (validator ??= new Ajv({ allErrors: true, strict: false }).compile(CHAOS_SCHEMA));

function describe(error: ErrorObject): string {
  const where = `chaos${error.instancePath.replaceAll('/', '.')}`;
  if (error.keyword === 'additionalProperties') {
    return `${where}: unknown key "${(error.params as { additionalProperty: string }).additionalProperty}"`;
  }
  if (error.keyword === 'required') {
    return `${where}: missing key "${(error.params as { missingProperty: string }).missingProperty}"`;
  }
  return `${where}: ${error.message}`;
}

export const DEFAULT_TIMEOUTS = { convergeMs: 120_000, stabilityMs: 10_000, faultMs: 30_000 };

/** Validate the `chaos` section and fill in the defaults; the error names the bad key. */
export function resolveChaosSettings(config: Pick<Config, 'chaos'> | undefined): ChaosSettings {
  const section = (config?.chaos ?? {}) as Record<string, unknown>;
  const validate = validatorOf();
  if (!validate(section)) throw new ChaosConfigError((validate.errors ?? []).map(describe).join('; '));
  const given = section as {
    nodes?: number;
    operator?: Partial<OperatorSpec>;
    resources?: Array<Partial<ResourceSpec> & { invariants?: Partial<Record<InvariantId, boolean>> }>;
    vcluster?: Partial<ChaosSettings['vcluster']>;
    chaosMesh?: boolean;
    experiments?: Partial<ChaosSettings['experiments']>;
    timeouts?: Partial<ChaosTimeouts>;
    concurrency?: Partial<ChaosSettings['concurrency']>;
    midReconcileAttempts?: number;
  };
  const deployment = given.operator?.deployment ?? 'controller-manager';
  const vclusterName = given.vcluster?.name ?? 'chaos';
  return {
    nodes: given.nodes ?? 3,
    operator: {
      namespace: given.operator?.namespace ?? 'system',
      deployment,
      selector: given.operator?.selector ?? `app=${deployment}`,
      leaseName: given.operator?.leaseName,
    },
    resources: (given.resources ?? []).map((r) => ({
      apiVersion: r.apiVersion!,
      kind: r.kind!,
      namespace: r.namespace!,
      manifest: r.manifest!,
      children: (r.children ?? []).map((c) => ({ apiVersion: c.apiVersion, kind: c.kind, count: c.count ?? 1 })),
      invariants: Object.fromEntries(INVARIANT_IDS.map((id) => [id, r.invariants?.[id] ?? true])) as Record<InvariantId, boolean>,
      readyCondition: r.readyCondition ?? 'Ready',
      quotaPattern: r.quotaPattern ?? 'quota',
      flip: r.flip,
    })),
    vcluster: {
      name: vclusterName,
      hostNamespace: given.vcluster?.hostNamespace ?? `vcluster-${vclusterName}`,
      controlPlaneSelector: given.vcluster?.controlPlaneSelector ?? `app=vcluster,release=${vclusterName}`,
      quota: given.vcluster?.quota,
      limitRange: given.vcluster?.limitRange,
      namespaceQuota: given.vcluster?.namespaceQuota,
    },
    chaosMesh: given.chaosMesh ?? false,
    experiments: { include: given.experiments?.include ?? [], exclude: given.experiments?.exclude ?? [] },
    timeouts: {
      ...DEFAULT_TIMEOUTS,
      ...given.timeouts,
      experimentMs: given.timeouts?.experimentMs ?? 3 * (given.timeouts?.convergeMs ?? DEFAULT_TIMEOUTS.convergeMs),
    },
    concurrency: { writers: given.concurrency?.writers ?? 4, writes: given.concurrency?.writes ?? 8 },
    midReconcileAttempts: given.midReconcileAttempts ?? 3,
  };
}
