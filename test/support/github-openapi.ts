// Requests checked against GitHub's OpenAPI description (@octokit/openapi's generated
// api.github.com.json): the route must exist for the method, path and query parameters must be
// declared and fit their schemas, and a JSON body must fit the operation's request-body schema.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: object;
}

interface Operation {
  operationId: string;
  parameters?: ({ $ref: string } | Parameter)[];
  requestBody?: { content: Record<string, { schema: object }> };
}

interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: { parameters: Record<string, Parameter> };
}

export interface RouteMatch {
  template: string;
  operationId: string;
  params: Record<string, string>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** trailing parameters that may hold slashes (a file path, a branch name) */
const MULTI_SEGMENT = new Set(['{path}', '{ref}', '{branch}']);

function loadSpec(): Spec {
  const require = createRequire(import.meta.url);
  // only the one generated file: never the package index, which pulls in hundreds of MB
  const root = dirname(require.resolve('@octokit/openapi/package.json'));
  return JSON.parse(readFileSync(join(root, 'generated', 'api.github.com.json'), 'utf8')) as Spec;
}

const pointer = (...parts: string[]) => parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

export class OpenApiValidator {
  private readonly spec = loadSpec();
  private readonly ajv = new Ajv({ strict: false, allErrors: false, validateSchema: false, coerceTypes: false });
  private readonly coercing = new Ajv({ strict: false, validateSchema: false, coerceTypes: true });
  private readonly templates: { method: string; template: string; segments: string[]; literals: number }[] = [];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor() {
    const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;
    addFormats(this.ajv);
    addFormats(this.coercing);
    this.ajv.addSchema(this.spec as object, 'openapi');
    this.coercing.addSchema({ components: this.spec.components }, 'openapi');
    for (const [template, item] of Object.entries(this.spec.paths)) {
      const segments = template.split('/').slice(1);
      for (const method of METHODS) {
        if (item[method]) this.templates.push({ method, template, segments, literals: segments.filter((s) => !s.startsWith('{')).length });
      }
    }
    // prefer the template with the most literal segments: /pulls/comments over /pulls/{pull_number}
    this.templates.sort((a, b) => b.literals - a.literals);
  }

  /** The route a request path takes; a parameter spans one segment, except a trailing file path or ref. */
  match(method: string, path: string): RouteMatch | undefined {
    const parts = path.split('/').slice(1).map((p) => decodeURIComponent(p));
    const lower = method.toLowerCase();
    for (const candidate of this.templates) {
      if (candidate.method !== lower) continue;
      const { segments } = candidate;
      const lastIsParam = MULTI_SEGMENT.has(segments[segments.length - 1]!);
      if (parts.length !== segments.length && !(lastIsParam && parts.length > segments.length)) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        const segment = segments[i]!;
        const last = i === segments.length - 1;
        const value = last ? parts.slice(i).join('/') : parts[i]!;
        if (segment.startsWith('{')) params[segment.slice(1, -1)] = value;
        else ok = segment === value;
      }
      if (ok) return { template: candidate.template, operationId: this.spec.paths[candidate.template]![lower]!.operationId, params };
    }
    return undefined;
  }

  private parameters(template: string, method: string): Parameter[] {
    const op = this.spec.paths[template]![method]!;
    return (op.parameters ?? []).map((p) => ('$ref' in p ? this.spec.components.parameters[p.$ref.split('/').pop()!]! : p));
  }

  private validator(key: string, build: () => ValidateFunction): ValidateFunction {
    let v = this.compiled.get(key);
    if (!v) {
      v = build();
      this.compiled.set(key, v);
    }
    return v;
  }

  /** Problems with the request, empty when it fits the description. */
  check(method: string, path: string, query: URLSearchParams, body: unknown): { match?: RouteMatch; problems: string[] } {
    const match = this.match(method, path);
    if (!match) return { problems: [`no route ${method} ${path} in GitHub's OpenAPI description`] };
    const lower = method.toLowerCase();
    const problems: string[] = [];
    const declared = this.parameters(match.template, lower);
    for (const p of declared) {
      const value = p.in === 'path' ? match.params[p.name] : p.in === 'query' ? query.get(p.name) ?? undefined : undefined;
      if (value === undefined) {
        if (p.required && p.in !== 'header') problems.push(`missing ${p.in} parameter ${p.name}`);
        continue;
      }
      if (!p.schema) continue;
      // coercion works on properties only: the string from the URL is checked as the declared type
      const validate = this.validator(`${match.template} ${lower} param ${p.name}`, () =>
        this.coercing.compile({ type: 'object', properties: { value: p.schema } }),
      );
      if (!validate({ value })) problems.push(`${p.in} parameter ${p.name}=${value}: ${this.coercing.errorsText(validate.errors)}`);
    }
    for (const name of query.keys()) {
      if (!declared.some((p) => p.in === 'query' && p.name === name)) problems.push(`undeclared query parameter ${name}`);
    }
    const op = this.spec.paths[match.template]![lower]!;
    const schema = op.requestBody?.content['application/json']?.schema;
    if (body !== undefined) {
      if (!schema) problems.push(`${method} ${match.template} takes no JSON body`);
      else {
        const ref = `openapi#/${pointer('paths', match.template, lower, 'requestBody', 'content', 'application/json', 'schema')}`;
        const validate = this.validator(`${match.template} ${lower} body`, () => this.ajv.compile({ $ref: ref }));
        if (!validate(body)) problems.push(`body of ${method} ${match.template}: ${this.ajv.errorsText(validate.errors)}`);
      }
    } else if (op.requestBody && (op.requestBody as { required?: boolean }).required) {
      problems.push(`${method} ${match.template} needs a body`);
    }
    return { match, problems };
  }
}

let shared: OpenApiValidator | undefined;
/** One validator per test process: the description is 13 MB. */
export function openApiValidator(): OpenApiValidator {
  return (shared ??= new OpenApiValidator());
}
