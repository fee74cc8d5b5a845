import type { DomainErrorKind } from '@dealstream/decider';

/**
 * Which problem `code` values a route can answer, by HTTP status. The OpenAPI document lists them as
 * an enum on each response (api-docs.decorators.ts), and the e2e suites validate every answer against
 * it, so a code a route answers but does not declare fails the build.
 */
export type ProblemCodes = Readonly<Partial<Record<number, readonly string[]>>>;

/**
 * Answered before any route is known, so by every operation: the HTTP layer and the request limits
 * (request-limits.ts), and the JSON body parser, which reads a body sent with any method
 * (bootstrap.ts); the document builder adds these to each operation.
 */
export const ANY_REQUEST: ProblemCodes = {
  400: ['malformed-http', 'invalid-query', 'invalid-characters', 'malformed-json', 'json-too-deep'],
  408: ['request-timeout'],
  413: ['payload-too-large'],
  415: ['unsupported-media-type'],
  431: ['headers-too-large'],
  500: ['internal-error'],
};

/** Every route behind the bearer token (auth.guard.ts, command-context.factory.ts). */
export const AUTHENTICATED: ProblemCodes = { 401: ['unauthorized'], 403: ['forbidden'] };

/** A UUID in the path (UuidParamPipe): added by the document builder to every operation with a path parameter. */
export const UUID_PATH: ProblemCodes = { 400: ['invalid-id'] };

/** A body or query parameters checked by the ValidationPipe against the route's DTO. */
export const VALIDATED: ProblemCodes = { 400: ['validation-failed'] };

/** The database's own faults on any query (ProblemDetailsFilter). */
export const DATABASE_FAULTS: ProblemCodes = { 503: ['database-timeout', 'database-unavailable'] };

/** Every write: its headers (If-Match is parsed on every write), concurrency, contention, the event store. */
export const WRITE: ProblemCodes = {
  400: ['invalid-idempotency-key', 'invalid-if-match'],
  409: ['concurrency-conflict', 'idempotency-key-in-flight', 'idempotency-key-conflict'],
  422: ['idempotency-key-reused'],
  503: ['write-contention', 'event-store-unavailable', 'database-timeout', 'database-unavailable'],
};

/** A write that takes If-Match. */
export const CONDITIONAL_WRITE: ProblemCodes = { 412: ['precondition-failed'] };

/** A read of the read models: minPosition / X-Min-Position (read-position.ts) and the database. */
export const READ_MODEL_READ: ProblemCodes = {
  400: ['invalid-position'],
  503: ['read-model-behind', 'database-timeout', 'database-unavailable'],
};

/** A domain's error codes by the status their kind answers (409 conflict, 422 invalid). */
export function domainProblems(kinds: Readonly<Record<string, DomainErrorKind>>): ProblemCodes {
  const entries = Object.entries(kinds);
  return {
    409: entries.filter(([, kind]) => kind === 'conflict').map(([code]) => code),
    422: entries.filter(([, kind]) => kind === 'invalid').map(([code]) => code),
  };
}

/** The union of several code sets, status by status, each list sorted and without repeats. */
export function mergeProblems(...sets: ProblemCodes[]): ProblemCodes {
  const merged: Record<number, Set<string>> = {};
  for (const set of sets) {
    for (const [status, codes] of Object.entries(set)) {
      for (const code of codes ?? []) (merged[Number(status)] ??= new Set()).add(code);
    }
  }
  return Object.fromEntries(Object.entries(merged).map(([status, codes]) => [status, [...codes].sort()]));
}
