/**
 * Why a command was refused. `conflict` means the aggregate's current state forbids it (retrying
 * later, after something else happens, could succeed: HTTP 409); `invalid` means the request breaks a
 * rule no matter the state (HTTP 422).
 */
export type DomainErrorKind = 'conflict' | 'invalid';

/**
 * The single exception type of the domain layer. `code` is stable and kebab-case; it becomes the
 * problem+json `code` and the tail of its `type` URI, so never rename one.
 */
export class DomainError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    readonly kind: DomainErrorKind,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
