import { applyDecorators, type Type } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiHeader,
  ApiOperation,
  ApiResponse,
  getSchemaPath,
  type ApiPropertyOptions,
} from '@nestjs/swagger';
import {
  AUTHENTICATED,
  CONDITIONAL_WRITE,
  READ_MODEL_READ,
  VALIDATED,
  WRITE,
  mergeProblems,
  type ProblemCodes,
} from '../problem/problem-catalogue.js';
import { ProblemDto, WriteResponseDto } from './write-response.dto.js';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed JSON, JSON nested deeper than 32 levels (`json-too-deep`), NUL / a control character / a lone surrogate anywhere in the body or query (`invalid-characters`), a field of the wrong type or shape, an unknown field, a bad UUID or header (`validation-failed`, `malformed-json`, `invalid-id`, `invalid-if-match`, `invalid-idempotency-key`, …)',
  415: 'A body that is not JSON (`unsupported-media-type`)',
  401: 'Missing, malformed, forged or expired bearer token (`unauthorized`)',
  403: 'The token lacks a role this route needs (`forbidden`)',
  404: 'The addressed deal or pipeline does not exist (`deal-not-found`, `pipeline-not-found`)',
  409: 'The current state forbids it (`deal-closed`, `already-in-stage`, `pipeline-archived`, …), or the first request with this Idempotency-Key is still in flight past the wait bound (`idempotency-key-in-flight`, with Retry-After; nothing written by this one)',
  412: 'If-Match named a revision that is no longer current (`precondition-failed`); nothing was written',
  413: 'The body is larger than the limit (`payload-too-large`)',
  422: 'The request breaks a business rule whatever the state (`currency-mismatch`, `bant-criteria-not-met`, `stage-not-found`, …) or a value is out of its domain range (`invalid-amount` above 10^12 minor units, `invalid-currency` not ISO 4217, `invalid-expected-close-date` outside 1900–9999, a text field with a control character), or its Idempotency-Key was first used for a different request — another method, target or body (`idempotency-key-reused`; nothing written)',
  503: 'Not decided in time, nothing written, retry after `Retry-After` (with the same Idempotency-Key): other writes to the same stream kept winning for WRITE_CONTENTION_DEADLINE_MS (`write-contention`), or the event store did not answer (`event-store-unavailable`)',
};

/**
 * OpenAPI for a write route: summary, the WriteResponse, the Idempotency-Key and If-Match headers
 * and every problem+json error the route can answer.
 */
export function ApiWrite(options: {
  summary: string;
  description?: string;
  status?: 200 | 201;
  /**
   * The codes only this route answers, by status: its domain's (`domainProblems`), its 404s, its own
   * 400s. Those of every write (auth, body, Idempotency-Key, If-Match, contention) are added here.
   */
  problems: ProblemCodes;
  conditional?: boolean;
  /** The success answer's schema (default WriteResponseDto; a route that answers more extends it). */
  type?: Type;
}) {
  const headers = [
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      schema: { type: 'string', minLength: 1 },
      description:
        'draft-ietf-httpapi-idempotency-key-header. Makes the write safe to retry: the key is scoped to the caller (token `sub`) and bound to this request (method, route, target and the SHA-256 of its RFC 8785 canonical body). ' +
        'The same request again answers the first answer (status, body, ETag, Location) with `Idempotent-Replayed: true` and appends nothing, also after a restart; ' +
        'a different request with the key → 422 `idempotency-key-reused`; the identical request while the first is still running waits for it, then 409 `idempotency-key-in-flight`. ' +
        'A first request refused with a 4xx (nothing written) does not use the key up. Keys are kept at least IDEMPOTENCY_KEY_RETENTION_HOURS (24 h). ' +
        'Syntax: a quoted string ("…", printable ASCII, \\" and \\\\ escaped) or a bare token (visible ASCII, no quote), 1–255 characters (400 `invalid-idempotency-key` otherwise).',
    }),
    ApiHeader({
      name: 'X-Correlation-Id',
      required: false,
      description:
        'Propagated to the logs and to every event’s metadata (and so to its webhooks). When absent: the trace-id of a valid W3C `traceparent` header (webhook POSTs then carry a `traceparent` of that trace), else generated.',
    }),
  ];
  if (options.conditional !== false) {
    headers.push(
      ApiHeader({
        name: 'If-Match',
        required: false,
        description:
          'Strong ETag of the revision the client last saw, e.g. "3" (0 to 2^63 − 1, else 400 invalid-if-match): the write happens only if it is still current (else 412).',
      }),
    );
  }
  return applyDecorators(
    ApiBearerAuth(),
    ApiOperation({ summary: options.summary, ...(options.description ? { description: options.description } : {}) }),
    ApiResponse({
      status: options.status ?? 200,
      type: options.type ?? WriteResponseDto,
      description:
        'Written (or a replayed Idempotency-Key: then header Idempotent-Replayed: true). ETag header = new revision.',
    }),
    ...headers,
    ApiProblemResponses(
      answeredAsNotFound(
        mergeProblems(
          AUTHENTICATED,
          VALIDATED,
          WRITE,
          options.conditional === false ? {} : CONDITIONAL_WRITE,
          options.problems,
        ),
      ),
      ERROR_DESCRIPTIONS,
    ),
  );
}

/**
 * A write's handler looks the addressed stream up before deciding and answers 404 when it does not
 * exist, so a domain code such as `deal-not-found` (kind conflict, for a decider called directly)
 * reaches a client of this route only as a 404: it is listed there alone.
 */
function answeredAsNotFound(problems: ProblemCodes): ProblemCodes {
  const notFound = new Set(problems[404] ?? []);
  return Object.fromEntries(
    Object.entries(problems).map(([status, codes]) => [
      status,
      status === '404' ? codes : (codes ?? []).filter((code) => !notFound.has(code)),
    ]),
  );
}

/** OpenAPI for a read route: its problem+json errors and the read-your-writes header. */
export function ApiRead(options: {
  summary: string;
  description?: string;
  /** The codes only this route answers, by status (its 404s, its own 400s and 422s), besides every read's. */
  problems?: ProblemCodes;
  /** A read of the read models (minPosition, read-model-behind); false for one that reads the event store. */
  readModels?: boolean;
  /** The 200 answer's schema. */
  type: Type;
  /** Also answers CSV and NDJSON (Accept or format=; docs/metrics.md, "Export"). */
  exports?: boolean;
}) {
  const descriptions: Record<number, string> = {
    400: 'A malformed or out-of-range parameter, period, cursor or minPosition (`validation-failed`, `invalid-period`, `invalid-cursor`, `invalid-position`, `invalid-characters`); instants need a zone and lie in 1900–9999. Reports also: a segment that cannot be one (`validation-failed` for kind, owners, currency, source, format, interval, compare; `invalid-amount-band` when minAmount > maxAmount; `owner-filter-needs-pseudonym` when a caller without identities:clear names an owner by a clear id), a series of more than 600 points (`too-many-points`), asOf on a pipeline series (`as-of-not-supported`)',
    401: ERROR_DESCRIPTIONS[401],
    403: ERROR_DESCRIPTIONS[403],
    404: 'Unknown deal or pipeline (or a pipeline that did not exist at asOf)',
    413: ERROR_DESCRIPTIONS[413],
    415: ERROR_DESCRIPTIONS[415],
    422: 'stageMap names a map that does not exist or was deleted (`unknown-stage-map`) or a map of another pipeline (`stage-map-of-another-pipeline`); a one-off map that does not fit the pipeline (`invalid-stage-map`, `invalid-stage-map-name`)',
    503: 'The read models did not reach minPosition within READ_WAIT_MS (`read-model-behind`, with Retry-After)',
  };
  return applyDecorators(
    ApiBearerAuth(),
    ApiOperation({ summary: options.summary, ...(options.description ? { description: options.description } : {}) }),
    ...(options.readModels === false
      ? []
      : [
          ApiHeader({
            name: 'X-Min-Position',
            required: false,
            description:
              'Same as the minPosition query parameter: wait until the read models reflect this write position.',
          }),
        ]),
    ...(options.exports
      ? [
          ApiExtraModels(options.type),
          ApiResponse({
            status: 200,
            description:
              'OK. Header X-Read-Position: the position the data reflects. `Accept: text/csv` or `format=csv`: RFC 4180 CSV with a header row; `Accept: application/x-ndjson` or `format=ndjson`: the same rows as JSON lines (columns: docs/metrics.md, "Export")',
            content: {
              'application/json': { schema: { $ref: getSchemaPath(options.type) } },
              'text/csv': { schema: { type: 'string' } },
              'application/x-ndjson': { schema: { type: 'string' } },
            },
          }),
        ]
      : [
          ApiResponse({
            status: 200,
            type: options.type,
            description: 'OK. Header X-Read-Position: the position the data reflects.',
          }),
        ]),
    ApiProblemResponses(
      mergeProblems(
        AUTHENTICATED,
        VALIDATED,
        options.readModels === false ? {} : READ_MODEL_READ,
        options.problems ?? {},
      ),
      descriptions,
    ),
  );
}

/**
 * The problem+json responses of a route: one per status, each a ProblemDto whose `code` is one of
 * the listed values (an enum a generated client can switch on; the e2e validator holds the API to
 * it). Codes every route can answer (ANY_REQUEST) are added to each operation by the document builder.
 */
export function ApiProblemResponses(problems: ProblemCodes, descriptions: Readonly<Record<number, string>> = {}) {
  return applyDecorators(
    ApiExtraModels(ProblemDto),
    ...Object.entries(problems)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([status, codes]) =>
        ApiResponse({
          status: Number(status),
          description: descriptions[Number(status)] ?? ERROR_DESCRIPTIONS[Number(status)] ?? 'Problem',
          schema: problemSchema(codes ?? []),
        }),
      ),
  );
}

/** A ProblemDto whose `code` is one of `codes`. */
export function problemSchema(codes: readonly string[]) {
  return {
    allOf: [
      { $ref: getSchemaPath(ProblemDto) },
      {
        type: 'object' as const,
        required: ['code'],
        properties: { code: { type: 'string' as const, enum: [...codes] } },
      },
    ],
  };
}

/**
 * The schema of a field that holds any JSON value (a diff's before/after). Written out so a generated
 * client types it as a JSON value, not as the empty object Swagger infers from `unknown`.
 */
export const ANY_JSON_VALUE: Pick<ApiPropertyOptions & object, 'oneOf'> = {
  oneOf: [
    { type: 'string' },
    { type: 'number' },
    { type: 'boolean' },
    { type: 'object', additionalProperties: true },
    { type: 'array', items: {} },
    { type: 'null' },
  ],
};
