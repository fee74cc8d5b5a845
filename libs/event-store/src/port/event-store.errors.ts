import type { ExpectedRevision, StreamRevision } from './event-store.types.js';

export type EventStoreErrorCode =
  'wrong-expected-revision' | 'idempotency-conflict' | 'invalid-append' | 'timeout' | 'unavailable';

/** The one error type of the event store port; adapters translate their drivers' errors into it. */
export class EventStoreError extends Error {
  constructor(
    readonly code: EventStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EventStoreError';
  }
}

/** Optimistic-concurrency failure: the stream is not where the writer expected it to be. */
export class WrongExpectedRevisionError extends EventStoreError {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** The stream's actual last revision, or undefined when it does not exist. */
    readonly actual: StreamRevision | undefined,
  ) {
    super(
      'wrong-expected-revision',
      `stream ${streamId}: expected ${String(expected)}, actual ${actual === undefined ? 'no stream' : String(actual)}`,
    );
    this.name = 'WrongExpectedRevisionError';
  }
}

/** Some of the event ids are stored already, but not as exactly this append at the end of this stream. */
export class IdempotencyConflictError extends EventStoreError {
  constructor(
    readonly streamId: string,
    readonly eventIds: readonly string[],
  ) {
    super(
      'idempotency-conflict',
      `stream ${streamId}: event ids already stored by a different append: ${eventIds.join(', ')}`,
    );
    this.name = 'IdempotencyConflictError';
  }
}

export function isEventStoreError(error: unknown, code?: EventStoreErrorCode): error is EventStoreError {
  return error instanceof EventStoreError && (code === undefined || error.code === code);
}
