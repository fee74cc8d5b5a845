import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { ApiProblemResponses } from '../controller-kit/api-docs.decorators.js';
import {
  AUTHENTICATED,
  DATABASE_FAULTS,
  VALIDATED,
  mergeProblems,
  type ProblemCodes,
} from '../problem/problem-catalogue.js';

/** Audit routes read the event store itself (EventStoreDB profile: it may not answer in time). */
const EVENT_STORE_READ: ProblemCodes = { 503: ['event-store-unavailable'] };

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'A query parameter is malformed, out of range, unknown or repeated (`validation-failed`, `invalid-query`), or the id is not a UUID (`invalid-id`)',
  401: 'Missing, malformed, forged or expired bearer token (`unauthorized`)',
  403: 'The token lacks a role this route needs (`forbidden`); the roles are in `x-roles` and the README role matrix',
  404: 'Unknown deal or pipeline (`deal-not-found`, `pipeline-not-found`, `stream-not-found`), a version it never reached (`version-not-found`) or an instant before its first event (`no-state-at-instant`)',
  409: "The store's hash chains are broken, so it is not anchored (`hash-chain-broken`); GET /audit/verify says where",
  503: 'The event store or the database did not answer in time (`event-store-unavailable` on the EventStoreDB profile, `database-timeout`, `database-unavailable`; with Retry-After)',
};

/** OpenAPI for an audit read route: never writes, answers `type` or a problem+json error. */
export function ApiAuditRead(options: {
  summary: string;
  description?: string;
  type: new () => unknown;
  /** The codes only this route answers, by status, besides every audit read's (auth, query, database). */
  problems: ProblemCodes;
}) {
  return applyDecorators(
    ApiBearerAuth(),
    ApiOperation({ summary: options.summary, ...(options.description ? { description: options.description } : {}) }),
    ApiResponse({ status: 200, type: options.type }),
    ApiProblemResponses(
      mergeProblems(AUTHENTICATED, VALIDATED, DATABASE_FAULTS, EVENT_STORE_READ, options.problems),
      ERROR_DESCRIPTIONS,
    ),
  );
}
