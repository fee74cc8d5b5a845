import { DomainError, type DomainErrorKind } from '@dealstream/decider';

/**
 * Every code the deal deciders can throw, with its one fixed kind, so the HTTP layer can map and
 * document them without reading the deciders. Codes shared with the pipeline module
 * (`stage-not-found`, `pipeline-archived`, …) keep the same kind there. Add, never rename.
 */
export const dealErrorKinds = {
  'deal-not-found': 'conflict',
  'deal-already-exists': 'conflict',
  'deal-closed': 'conflict',
  'deal-not-closed': 'conflict',
  'won-deal-cannot-reopen': 'conflict',
  'already-in-stage': 'conflict',
  'stage-not-removed': 'conflict',
  'pipeline-not-found': 'conflict',
  'pipeline-archived': 'conflict',
  'parent-deal-not-found': 'conflict',
  'parent-deal-not-won': 'conflict',
  'invalid-deal-id': 'invalid',
  'invalid-title': 'invalid',
  'invalid-account': 'invalid',
  'invalid-contact': 'invalid',
  'invalid-owner-id': 'invalid',
  'invalid-source': 'invalid',
  'invalid-amount': 'invalid',
  'invalid-currency': 'invalid',
  'currency-mismatch': 'invalid',
  'invalid-expected-close-date': 'invalid',
  'invalid-stage-id': 'invalid',
  'stage-not-found': 'invalid',
  'stage-removed': 'invalid',
  'pipeline-mismatch': 'invalid',
  'invalid-bant': 'invalid',
  'bant-criteria-not-met': 'invalid',
  'invalid-disqualification-reason': 'invalid',
  'invalid-reason': 'invalid',
  'invalid-competitor': 'invalid',
  'invalid-note': 'invalid',
  'invalid-activity-id': 'invalid',
  'invalid-activity-kind': 'invalid',
  'invalid-activity-outcome': 'invalid',
  'invalid-move-reason': 'invalid',
  'invalid-follow-on-kind': 'invalid',
} as const satisfies Record<string, DomainErrorKind>;

export type DealErrorCode = keyof typeof dealErrorKinds;

export const DEAL_ERROR_CODES = Object.keys(dealErrorKinds) as readonly DealErrorCode[];

export function dealError(
  code: DealErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): DomainError<DealErrorCode> {
  return new DomainError(code, dealErrorKinds[code], message, details);
}
