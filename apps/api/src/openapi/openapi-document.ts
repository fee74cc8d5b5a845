import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { applyRoleMatrix } from './openapi-access.js';

/** OpenAPI 3.1's License Object (@nestjs/swagger's type predates its `identifier`). */
type LicenseObject = NonNullable<OpenAPIObject['info']['license']>;

/**
 * The version of the HTTP contract (`info.version`), apart from the package's: it moves when the
 * document does, and every move has its entry in docs/api-changes.md (a test holds the committed
 * snapshot docs/openapi.json, this version and the changelog's latest entry together).
 */
const API_VERSION = '1.10.0';

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
 * Every error the API answers is RFC 9457 problem+json (ProblemDetailsFilter). The decorators name
 * the body `ProblemDto`, which Swagger files under application/json; here each such response is
 * declared under the media type the API really sends. Any operation can also meet the HTTP limits
 * (request-limits.ts: 408, 431, answered before a route is known) and a fault of the server itself
 * (500): every operation documents them.
 */
function declareProblemJson(document: OpenAPIObject): OpenAPIObject {
  const problem = { schema: { $ref: '#/components/schemas/ProblemDto' } };
  for (const item of Object.values(document.paths)) {
    for (const [method, operation] of Object.entries(item as Record<string, { responses?: Record<string, unknown> }>)) {
      if (!HTTP_METHODS.has(method) || !operation.responses) continue;
      for (const response of Object.values(operation.responses) as { content?: Record<string, unknown> }[]) {
        const json = response.content?.['application/json'] as { schema?: { $ref?: string } } | undefined;
        if (json?.schema?.$ref === problem.schema.$ref) response.content = { 'application/problem+json': json };
      }
      for (const [status, description] of Object.entries(TRANSPORT_LIMITS))
        operation.responses[status] ??= { description, content: { 'application/problem+json': problem } };
      operation.responses['500'] ??= {
        description:
          "An unexpected fault of the server (`internal-error`; logged with the correlation id). A write's outcome is then unknown: retry it with the same Idempotency-Key.",
        content: { 'application/problem+json': problem },
      };
    }
  }
  return document;
}

const TRANSPORT_LIMITS: Record<string, string> = {
  '408':
    'The request (headers, then the body its Content-Length announced) did not arrive within HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS (`request-timeout`); the connection is closed',
  '431': 'The request headers are larger than the server accepts (`headers-too-large`); the connection is closed',
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
