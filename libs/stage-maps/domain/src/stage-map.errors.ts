import { DomainError, type DomainErrorKind } from '@dealstream/decider';

/**
 * Every code the stage-map decider can throw, with its one fixed kind (409 conflict, 422 invalid), so
 * the HTTP layer maps and documents them without reading the decider. Codes are stable API: add, never rename.
 */
export const stageMapErrorKinds = {
  'stage-map-already-defined': 'conflict',
  'stage-map-deleted': 'conflict',
  'invalid-stage-map-id': 'invalid',
  'invalid-stage-map-name': 'invalid',
  'invalid-stage-map': 'invalid',
} as const satisfies Record<string, DomainErrorKind>;

export type StageMapErrorCode = keyof typeof stageMapErrorKinds;

export const STAGE_MAP_ERROR_CODES = Object.keys(stageMapErrorKinds) as readonly StageMapErrorCode[];

export function stageMapError(
  code: StageMapErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): DomainError<StageMapErrorCode> {
  return new DomainError(code, stageMapErrorKinds[code], message, details);
}
