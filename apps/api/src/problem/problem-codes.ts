import type { DomainError } from '@dealstream/decider';

/** Every problem `type` is this base plus the stable `code`; the docs page lists them all. */
export const PROBLEM_TYPE_BASE = 'https://dealstream.dev/problems/';

/**
 * Domain refusals: the aggregate's state forbids the command (409), or the command breaks a rule in
 * any state (422). A missing *addressed* resource is a NotFoundError (404) raised before deciding.
 */
export function domainErrorStatus(error: DomainError): 409 | 422 {
  return error.kind === 'conflict' ? 409 : 422;
}
