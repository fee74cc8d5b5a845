import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { problemSchema } from '../controller-kit/api-docs.decorators.js';
import { ANY_REQUEST, UUID_PATH, mergeProblems } from '../problem/problem-catalogue.js';
import { applyRoleMatrix } from './openapi-access.js';

/** OpenAPI 3.1's License Object (@nestjs/swagger's type predates its `identifier`). */
type LicenseObject = NonNullable<OpenAPIObject['info']['license']>;

/**
 * The version of the HTTP contract (`info.version`), apart from the package's: it moves when the
 * document does, and every move has its entry in docs/api-changes.md (a test holds the committed
 * snapshot docs/openapi.json, this version and the changelog's latest entry together).
 */
const API_VERSION = '1.19.0';

/** The OpenAPI 3.1 document of the app's routes, as `/openapi.json` serves it. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('dealstream')
    .setDescription(
      'Event-sourced sales pipelines. Every write appends immutable events and answers with the stream revision (also the ETag) and the global position of its last event. ' +
        'Send `If-Match` to make a write conditional and `Idempotency-Key` to make it safe to retry. Errors are RFC 9457 problem+json with a stable `code`. ' +
        'Contract changes are listed in docs/api-changes.md.',
    )
    .setVersion(API_VERSION)
    .setOpenAPIVersion('3.1.0')
    // Relative: the document is served by the API it describes, wherever that is deployed.
    .addServer('/', 'The server that serves this document')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'HS256 (AUTH_JWT_SECRET) or RS256/ES256 (AUTH_JWT_PUBLIC_KEY); claims sub, exp and roles; lifetime at most AUTH_MAX_TOKEN_LIFETIME. Each operation names the roles it admits (x-roles) and the permission (x-permission) of the role matrix.',
      },
      'bearer',
    )
    .build();
  const document = declareUuidPaths(declareProblemJson(applyRoleMatrix(SwaggerModule.createDocument(app, config))));
  // A proprietary API: an SPDX LicenseRef instead of a licence URL (DocumentBuilder knows only url).
  document.info.license = { name: 'Proprietary', identifier: 'LicenseRef-dealstream-proprietary' } as LicenseObject;
  delete document.info.contact; // DocumentBuilder writes an empty one
  return document;
}

/**
 * Every error the API answers is RFC 9457 problem+json (ProblemDetailsFilter), and each problem
 * response lists the `code` values it can carry (api-docs.decorators.ts). The decorators' bodies sit
 * under application/json, where Swagger files them; here each is declared under the media type the
 * API really sends. Any operation can also meet the limits checked before a route is known
 * (ANY_REQUEST: 400, 408, 413, 415, 431, answered by request-limits.ts and the body parser), an id in
 * the path that is not a UUID, and a fault of the server itself (500): every operation lists them.
 */
function declareProblemJson(document: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item as Record<string, { responses?: Record<string, unknown> }>)) {
      if (!HTTP_METHODS.has(method) || !operation.responses) continue;
      const responses = operation.responses as Record<string, ResponseObject>;
      const everywhere = mergeProblems(ANY_REQUEST, path.includes('{') ? UUID_PATH : {});
      for (const [status, codes] of Object.entries(everywhere)) {
        const response = (responses[status] ??= { description: EVERY_OPERATION[status] ?? 'Problem' });
        const own = problemCodesOf(response);
        if (own === undefined && response.content) continue; // answered with another body (/health's 503)
        const all = [...new Set([...(own ?? []), ...(codes ?? [])])].sort();
        response.content = { 'application/json': { schema: problemSchema(all) } };
      }
      for (const response of Object.values(responses)) {
        const json = response.content?.['application/json'];
        if (json && isProblemSchema(json.schema)) response.content = { 'application/problem+json': json };
      }
    }
  }
  return document;
}

interface ResponseObject {
  description: string;
  content?: Record<string, { schema?: unknown }>;
}

const PROBLEM_REF = '#/components/schemas/ProblemDto';

function isProblemSchema(schema: unknown): boolean {
  const value = schema as { $ref?: string; allOf?: { $ref?: string }[] } | undefined;
  return value?.$ref === PROBLEM_REF || value?.allOf?.[0]?.$ref === PROBLEM_REF;
}

/** The `code` enum of a problem response (undefined when it is not one; [] when it lists none). */
function problemCodesOf(response: ResponseObject): string[] | undefined {
  const schema = response.content?.['application/json']?.schema;
  if (!isProblemSchema(schema)) return undefined;
  const listed = schema as { allOf?: { properties?: { code?: { enum?: string[] } } }[] };
  return [...(listed.allOf?.[1]?.properties?.code?.enum ?? [])];
}

/** How the answers every operation can give are described where a route's decorators say nothing. */
const EVERY_OPERATION: Record<string, string> = {
  '400':
    'The request could not be read: not valid HTTP (`malformed-http`), a query string that is not percent-encoded UTF-8 (`invalid-query`), a control character or lone surrogate in the query or body (`invalid-characters`), a body that is not JSON (`malformed-json`) or nests deeper than 32 levels (`json-too-deep`)',
  '408':
    'The request (headers, then the body its Content-Length announced) did not arrive within HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS (`request-timeout`); the connection is closed',
  '413': 'The body is larger than the limit (`payload-too-large`)',
  '415': 'A body that is not JSON (`unsupported-media-type`)',
  '431': 'The request headers are larger than the server accepts (`headers-too-large`); the connection is closed',
  '500':
    "An unexpected fault of the server (`internal-error`; logged with the correlation id). A write's outcome is then unknown: retry it with the same Idempotency-Key.",
};

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/**
 * Every path parameter of this API is a UUID, checked by UuidParamPipe (400 `invalid-id`); Swagger
 * sees only `string`. Declared here once rather than on each of the routes.
 */
function declareUuidPaths(document: OpenAPIObject): OpenAPIObject {
  for (const item of Object.values(document.paths)) {
    for (const [method, operation] of Object.entries(item as Record<string, { parameters?: unknown[] }>)) {
      if (!HTTP_METHODS.has(method)) continue;
      for (const parameter of (operation.parameters ?? []) as { in?: string; schema?: Record<string, unknown> }[]) {
        if (parameter.in === 'path') parameter.schema = { ...parameter.schema, type: 'string', format: 'uuid' };
      }
    }
  }
  return document;
}
