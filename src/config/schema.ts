// The `.github/causal-review.yml` schema, its defaults, and the validation that names a bad key.

import { parse as parseYaml, YAMLParseError } from 'yaml';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Severity } from '../engine/types.js';
import { resolveChaosSettings } from '../chaos/config.js';

export type Enforce = 'ai-authored' | 'all' | 'none';

export interface CheckConfig {
  enabled?: boolean;
  severity?: Severity;
  options?: Record<string, unknown>;
}

export interface QuotaConfig {
  [resource: string]: string | number;
}

export interface ChaosConfig {
  /** globs (from the repository root) of the manifests the chaos tests deploy */
  manifests?: string[];
  nodes?: number;
  vcluster?: {
    quota?: QuotaConfig;
    limitRange?: {
      max?: { cpu?: string; memory?: string };
      min?: { cpu?: string; memory?: string };
      default?: { cpu?: string; memory?: string };
      defaultRequest?: { cpu?: string; memory?: string };
    };
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface Config {
  enforce: Enforce;
  checks: Record<string, CheckConfig>;
  ai: {
    labels: string[];
    branchPrefixes: string[];
    /** extra bot logins or emails that count as agents */
    bots: string[];
  };
  paths: { ignore: string[] };
  /** what an internal error concludes on an AI-authored PR: fail closed (default) or neutral */
  onInternalError: 'failure' | 'neutral';
  limits: {
    /** files larger than this are not parsed (a note says so) */
    maxFileBytes: number;
    /** time budget of one check over one snapshot */
    checkTimeoutMs: number;
  };
  chaos?: ChaosConfig;
}

export const DEFAULT_CONFIG: Config = {
  enforce: 'ai-authored',
  checks: {},
  ai: {
    labels: ['ai-generated', 'ai-authored', 'copilot', 'claude', 'codex'],
    branchPrefixes: ['copilot/', 'claude/', 'codex/', 'cursor/', 'devin/', 'aider/'],
    bots: [],
  },
  paths: { ignore: ['vendor/**', 'node_modules/**', '**/zz_generated*.go', 'third_party/**'] },
  onInternalError: 'failure',
  limits: { maxFileBytes: 1_000_000, checkTimeoutMs: 20_000 },
};

const stringList = { type: 'array', items: { type: 'string', maxLength: 500 }, maxItems: 500 } as const;
const quantity = { type: ['string', 'number'] } as const;
const cpuMemory = {
  type: 'object',
  additionalProperties: false,
  properties: { cpu: quantity, memory: quantity },
} as const;

/** JSON schema of the file; also the source of the config reference in the README. */
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enforce: { enum: ['ai-authored', 'all', 'none'] },
    checks: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          enabled: { type: 'boolean' },
          severity: { enum: ['error', 'warning', 'notice'] },
          options: { type: 'object' },
        },
      },
    },
    ai: {
      type: 'object',
      additionalProperties: false,
      properties: { labels: stringList, branchPrefixes: stringList, bots: stringList },
    },
    paths: { type: 'object', additionalProperties: false, properties: { ignore: stringList } },
    onInternalError: { enum: ['failure', 'neutral'] },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxFileBytes: { type: 'integer', minimum: 1000, maximum: 50_000_000 },
        checkTimeoutMs: { type: 'integer', minimum: 100, maximum: 600_000 },
      },
    },
    chaos: {
      type: 'object',
      properties: {
        manifests: stringList,
        nodes: { type: 'integer', minimum: 1, maximum: 20 },
        vcluster: {
          type: 'object',
          properties: {
            quota: { type: 'object', additionalProperties: quantity },
            limitRange: {
              type: 'object',
              additionalProperties: false,
              properties: { max: cpuMemory, min: cpuMemory, default: cpuMemory, defaultRequest: cpuMemory },
            },
          },
        },
      },
    },
  },
} as const;

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    detail: string,
  ) {
    super(`${source}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Compiled on the first configuration file read: compiling takes 45 ms of a run that has none. */
let validator: ValidateFunction | undefined;
const validatorOf = () => (validator ??= new Ajv({ allErrors: true, strict: false }).compile(CONFIG_SCHEMA));

function describe(error: ErrorObject): string {
  const where = error.instancePath ? error.instancePath.slice(1).replaceAll('/', '.') : '(top level)';
  if (error.keyword === 'additionalProperties') {
    return `${where}: unknown key "${(error.params as { additionalProperty: string }).additionalProperty}"`;
  }
  if (error.keyword === 'enum') {
    return `${where}: must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  }
  return `${where}: ${error.message}`;
}

/** What the configuration may say about a check: its id and its options, with their default values. */
export interface KnownCheck {
  id: string;
  defaultOptions?: Record<string, unknown>;
}

/**
 * Errors in the `checks` section against the checks there are: an id that names none, an option the
 * check does not have, a value of another type than its default's.
 */
function checkSettingsErrors(checks: Record<string, CheckConfig>, known: readonly KnownCheck[]): string[] {
  const errors: string[] = [];
  const byId = new Map(known.map((c) => [c.id, c]));
  for (const [id, settings] of Object.entries(checks)) {
    const check = byId.get(id);
    if (!check) {
      errors.push(`checks: unknown check "${id}" (the checks are ${known.map((c) => c.id).join(', ')})`);
      continue;
    }
    const defaults = check.defaultOptions ?? {};
    for (const [key, value] of Object.entries(settings.options ?? {})) {
      if (!(key in defaults)) {
        const names = Object.keys(defaults);
        errors.push(`checks.${id}.options: unknown key "${key}" (${names.length ? `its options are ${names.join(', ')}` : 'it has no options'})`);
      } else if (typeOf(value) !== typeOf(defaults[key])) {
        errors.push(`checks.${id}.options.${key}: must be a ${typeOf(defaults[key])}, like its default ${JSON.stringify(defaults[key])}`);
      }
    }
  }
  return errors;
}

function typeOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value;
}

/**
 * Validate a parsed object and merge it over the defaults. `known`: the checks the `checks` section may
 * name (an unknown id or option is an error); the `chaos` section is checked against its own schema.
 */
export function configFromObject(value: unknown, source: string, known?: readonly KnownCheck[]): Config {
  if (value === null || value === undefined) return structuredClone(DEFAULT_CONFIG);
  const validate = validatorOf();
  if (!validate(value)) {
    throw new ConfigError(source, (validate.errors ?? []).map(describe).join('; '));
  }
  const given = value as Partial<Config>;
  const errors = known ? checkSettingsErrors(given.checks ?? {}, known) : [];
  if (given.chaos !== undefined) {
    try {
      resolveChaosSettings(given);
    } catch (error) {
      errors.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (errors.length > 0) throw new ConfigError(source, errors.join('; '));
  const base = structuredClone(DEFAULT_CONFIG);
  return {
    ...base,
    ...given,
    ai: { ...base.ai, ...given.ai },
    paths: { ...base.paths, ...given.paths },
    limits: { ...base.limits, ...given.limits },
    checks: { ...given.checks },
  };
}

/** Parse the YAML text of a config file; the error names the file, the line and the key. */
export function parseConfig(text: string, source: string, known?: readonly KnownCheck[]): Config {
  if (text.length > 256_000) throw new ConfigError(source, 'larger than 256 kB');
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    const detail = error instanceof YAMLParseError ? error.message.split('\n')[0] : String(error);
    throw new ConfigError(source, `not valid YAML: ${detail}`);
  }
  return configFromObject(value, source, known);
}
