import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { CONSOLE_PATHS } from '../../apps/api/src/console/serve-console.js';

/**
 * Checks HTTP exchanges against the committed contract, docs/openapi.json — the document a client
 * generator reads. The e2e suites run every supertest response through it (test/support/
 * openapi-validation.setup.ts), so a change to what the API answers, or to the document, without the
 * other fails the build.
 *
 * What it checks:
 * - the route and method are documented (an undocumented path may only answer 404/405 problem+json);
 * - the status is one the operation documents (or its `default`);
 * - the content type is one the response documents, and the body validates against its schema;
 *   objects are closed: a property the schema does not name fails (the document must say exactly
 *   what is answered), unless the schema itself allows more (`additionalProperties`);
 * - a request the API accepted (2xx) sent a body, query and path parameters its schemas allow.
 */
export interface Exchange {
  readonly method: string;
  /** Path and query, e.g. `/deals/…/history?limit=2` (an absolute URL is accepted too). */
  readonly url: string;
  readonly requestBody?: unknown;
  readonly status: number;
  readonly contentType?: string;
  /** The parsed body (JSON), or undefined when the response has none. */
  readonly body: unknown;
}

type Json = Record<string, unknown>;

interface Operation {
  readonly path: string;
  readonly pattern: RegExp;
  readonly params: string[];
  readonly method: string;
  readonly spec: Json;
}

// ajv-formats is CommonJS: under ESM its function may sit on `default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => Ajv2020;

export class OpenApiValidator {
  private readonly document: Json;
  private readonly operations: Operation[];
  private readonly ajv: Ajv2020;
  /** Parameters arrive as text: this instance coerces them before validating. */
  private readonly paramAjv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(documentPath: string) {
    this.document = JSON.parse(readFileSync(documentPath, 'utf8')) as Json;
    this.operations = listOperations(this.document);
    this.ajv = addFormats(new Ajv2020({ strict: false, allErrors: true, validateSchema: false }));
    this.paramAjv = addFormats(
      new Ajv2020({ strict: false, allErrors: true, validateSchema: false, coerceTypes: 'array' }),
    );
    const closed = closeObjects(structuredClone(this.document.components)) as Json;
    this.ajv.addSchema({ $id: 'openapi', components: closed });
    this.paramAjv.addSchema({ $id: 'openapi', components: closed });
  }

  /** The problems found in one exchange; empty when it matches the document. */
  check(exchange: Exchange): string[] {
    const url = new URL(exchange.url, 'http://localhost');
    const method = exchange.method.toLowerCase() === 'head' ? 'get' : exchange.method.toLowerCase();
    const where = `${exchange.method.toUpperCase()} ${url.pathname} → ${exchange.status}`;
    // The document and Swagger UI are served beside the API, not described by it.
    if (/^\/(openapi\.(json|yaml)|docs)(\/|$)/.test(url.pathname)) return [];
    // So are the web console's files (`/`, `/assets/*`): a file found answers 200/304; a miss falls through to the API's 404.
    if (method === 'get' && CONSOLE_PATHS.test(url.pathname) && (exchange.status === 200 || exchange.status === 304))
      return [];
    const candidates = this.operations.filter((op) => op.pattern.test(url.pathname));
    // A literal segment beats a parameter (/health/live before /health/{x}).
    candidates.sort((a, b) => a.params.length - b.params.length);
    const operation = candidates.find((op) => op.method === method);
    if (!operation) {
      if (candidates.length === 0 && exchange.status === 404) return this.undocumented(exchange, where);
      if (candidates.length > 0 && exchange.status === 405) return this.undocumented(exchange, where);
      if (candidates.length === 0 && exchange.status === 414) return this.undocumented(exchange, where);
      return [`${where}: no operation documents ${method.toUpperCase()} ${url.pathname}`];
    }
    const problems: string[] = [];
    const responses = (operation.spec.responses ?? {}) as Record<string, Json>;
    const key = String(exchange.status);
    const response = responses[key] ?? responses[`${key[0]}XX`] ?? responses.default;
    if (!response) {
      problems.push(`${where}: status ${key} is not documented for ${method.toUpperCase()} ${operation.path}`);
    } else {
      problems.push(...this.checkBody(exchange, response, `${operation.path}/${method}/responses/${key}`, where));
    }
    if (exchange.status >= 200 && exchange.status < 300) problems.push(...this.checkRequest(exchange, operation, url));
    return problems;
  }

  private undocumented(exchange: Exchange, where: string): string[] {
    const type = mediaType(exchange.contentType);
    if (exchange.body === undefined) return [];
    if (type !== 'application/problem+json') return [`${where}: an undocumented route answered ${type}`];
    return this.validate(this.ajv, { $ref: 'openapi#/components/schemas/ProblemDto' }, 'ProblemDto', exchange.body).map(
      (error) => `${where}: ${error}`,
    );
  }

  private checkBody(exchange: Exchange, response: Json, key: string, where: string): string[] {
    const content = response.content as Record<string, Json> | undefined;
    const type = mediaType(exchange.contentType);
    if (exchange.body === undefined || exchange.body === '' || type === undefined) {
      return content && Object.keys(content).length > 0 && exchange.method.toLowerCase() !== 'head'
        ? [`${where}: the response has no body, the document says ${Object.keys(content).join(', ')}`]
        : [];
    }
    if (!content) return [`${where}: the response has a ${type} body the document does not declare`];
    const media = content[type];
    if (!media) return [`${where}: content type ${type} is not documented (${Object.keys(content).join(', ')})`];
    if (!media.schema) return [];
    return this.validate(this.ajv, media.schema as Json, key, exchange.body).map((error) => `${where}: ${error}`);
  }

  private checkRequest(exchange: Exchange, operation: Operation, url: URL): string[] {
    const where = `${exchange.method.toUpperCase()} ${url.pathname} (accepted)`;
    const problems: string[] = [];
    const requestBody = operation.spec.requestBody as Json | undefined;
    const bodySchema = (requestBody?.content as Record<string, Json> | undefined)?.['application/json']?.schema;
    if (bodySchema && exchange.requestBody !== undefined) {
      problems.push(
        ...this.validate(this.ajv, bodySchema as Json, `${operation.path}/request`, exchange.requestBody).map(
          (error) => `${where}: request body ${error}`,
        ),
      );
    }
    const parameters = (operation.spec.parameters ?? []) as Json[];
    const pathValues = operation.pattern.exec(url.pathname)!.slice(1);
    for (const parameter of parameters) {
      const name = parameter.name as string;
      const value =
        parameter.in === 'path'
          ? decodeURIComponent(pathValues[operation.params.indexOf(name)] ?? '')
          : parameter.in === 'query'
            ? (url.searchParams.get(name) ?? undefined)
            : undefined;
      if (parameter.in !== 'path' && parameter.in !== 'query') continue;
      if (value === undefined) {
        if (parameter.required) problems.push(`${where}: required ${parameter.in} parameter ${name} missing`);
        continue;
      }
      const schema = (parameter.schema ?? {}) as Json;
      const place = parameter.in === 'path' ? 'path' : 'query';
      problems.push(
        ...this.validate(this.paramAjv, schema, `${operation.path}/${place}/${name}`, value).map(
          (error) => `${where}: ${place} parameter ${name} ${error}`,
        ),
      );
    }
    // An operation that takes query parameters refuses unknown ones (400); one that takes none ignores them.
    const known = new Set(parameters.filter((p) => p.in === 'query').map((p) => p.name as string));
    for (const name of known.size > 0 ? url.searchParams.keys() : []) {
      if (!known.has(name)) problems.push(`${where}: query parameter ${name} is not documented`);
    }
    return problems;
  }

  private validate(ajv: Ajv2020, schema: Json, key: string, value: unknown): string[] {
    const cacheKey = `${ajv === this.ajv ? 'body' : 'param'}:${key}:${JSON.stringify(schema)}`;
    let validate = this.compiled.get(cacheKey);
    if (!validate) {
      validate = ajv.compile(rebase(closeObjects(structuredClone(schema))) as Json);
      this.compiled.set(cacheKey, validate);
    }
    const copy = structuredClone(value);
    if (validate(copy)) return [];
    return (validate.errors ?? []).map(
      (error) => `${error.instancePath || '(body)'} ${error.message ?? 'is invalid'} ${JSON.stringify(error.params)}`,
    );
  }
}

function listOperations(document: Json): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths as Record<string, Json>)) {
    const params: string[] = [];
    const pattern = new RegExp(
      `^${path
        .split(/(\{[^}]+\})/)
        .map((part) => {
          const match = /^\{([^}]+)\}$/.exec(part);
          if (!match) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
          params.push(match[1]);
          return '([^/]+)';
        })
        .join('')}/?$`,
    );
    for (const [method, spec] of Object.entries(item)) {
      if (['get', 'post', 'put', 'patch', 'delete'].includes(method))
        operations.push({ path, pattern, params, method, spec: spec as Json });
    }
  }
  return operations;
}

/** `#/components/…` references point into the schema registered as `openapi`. */
function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (schema && typeof schema === 'object') {
    return Object.fromEntries(
      Object.entries(schema).map(([key, value]) => [
        key,
        key === '$ref' && typeof value === 'string' && value.startsWith('#/') ? `openapi${value}` : rebase(value),
      ]),
    );
  }
  return schema;
}

/**
 * Every object schema that lists its properties (or combines schemas with allOf) and says nothing
 * about others gets `unevaluatedProperties: false` (which, unlike additionalProperties, sees through
 * allOf/$ref): an answer may not carry a field the document does not name. The members of an allOf
 * are left open — closed, each would refuse the fields the others name — and their parent is closed.
 */
function closeObjects(schema: unknown, allOfMember = false): unknown {
  if (Array.isArray(schema)) return schema.map((item) => closeObjects(item));
  if (!schema || typeof schema !== 'object') return schema;
  const result: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    result[key] =
      key === 'example' || key === 'examples'
        ? value
        : key === 'allOf' && Array.isArray(value)
          ? value.map((member) => closeObjects(member, true))
          : closeObjects(value);
  }
  if (
    !allOfMember &&
    (result.properties || result.allOf) &&
    typeof (result.properties ?? result.allOf) === 'object' &&
    result.additionalProperties === undefined &&
    result.unevaluatedProperties === undefined
  ) {
    result.unevaluatedProperties = false;
  }
  return result;
}

function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0].trim().toLowerCase() || undefined;
}
