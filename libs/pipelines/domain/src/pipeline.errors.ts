import { DomainError, type DomainErrorKind } from '@dealstream/decider';

/**
 * Every code the pipeline decider (and `requireKnownPipeline`) can throw, with its one fixed kind, so the HTTP layer can map and
 * document them without reading the decider. Codes are stable API: add, never rename.
 */
export const pipelineErrorKinds = {
  'pipeline-not-found': 'conflict',
  'pipeline-already-defined': 'conflict',
  'pipeline-archived': 'conflict',
  'stage-already-exists': 'conflict',
  'stage-name-taken': 'conflict',
  'stage-limit-reached': 'conflict',
  'last-stage-cannot-be-removed': 'conflict',
  'invalid-pipeline-id': 'invalid',
  'invalid-pipeline-name': 'invalid',
  'invalid-currency': 'invalid',
  'no-stages': 'invalid',
  'too-many-stages': 'invalid',
  'duplicate-stage-id': 'invalid',
  'duplicate-stage-name': 'invalid',
  'invalid-stage-id': 'invalid',
  'invalid-stage-name': 'invalid',
  'invalid-probability': 'invalid',
  'invalid-stage-goal': 'invalid',
  'invalid-stage-index': 'invalid',
  'invalid-stage-order': 'invalid',
  'stage-not-found': 'invalid',
  'stage-removed': 'invalid',
  'move-target-same-stage': 'invalid',
  'unknown-pipeline': 'invalid',
} as const satisfies Record<string, DomainErrorKind>;

export type PipelineErrorCode = keyof typeof pipelineErrorKinds;

export const PIPELINE_ERROR_CODES = Object.keys(pipelineErrorKinds) as readonly PipelineErrorCode[];

export function pipelineError(
  code: PipelineErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): DomainError<PipelineErrorCode> {
  return new DomainError(code, pipelineErrorKinds[code], message, details);
}
