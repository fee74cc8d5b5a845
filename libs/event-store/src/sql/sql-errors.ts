import { databaseFaultOf, describeError } from '@dealstream/database';
import { EventStoreError, WrongExpectedRevisionError } from '../port/event-store.errors.js';

/**
 * Classifies why an append transaction failed, for both `pg` and PGlite errors (both carry the
 * SQLSTATE in `code` and the violated constraint's name in `constraint` or the message).
 */
export function appendFailureReason(error: unknown): 'wrong-revision' | 'duplicate-event-id' | 'other' {
  if (error instanceof WrongExpectedRevisionError) return 'wrong-revision';
  const { code, constraint, message } = (error ?? {}) as { code?: string; constraint?: string; message?: string };
  if (code !== '23505') return 'other';
  const name = constraint ?? message ?? '';
  if (name.includes('events_event_id_unique')) return 'duplicate-event-id';
  // Two no_stream creators racing, or a revision collision: both are concurrency failures.
  if (name.includes('streams_pkey') || name.includes('events_stream_revision_unique')) return 'wrong-revision';
  return 'other';
}

/**
 * Translates a database availability fault into the port's `timeout` / `unavailable`, as the
 * EventStoreDB adapter does for its client's errors; anything else is returned unchanged.
 * `timeout`: a statement, lock or connection-acquire bound passed and the statement was cancelled
 * (its transaction rolled back). `unavailable`: the connection was refused, reset or terminated —
 * for an append cut off at its commit the outcome is unknown, and a retry with the same event ids
 * answers the original result.
 */
export function mapSqlFault(error: unknown, operation: string): unknown {
  if (error instanceof EventStoreError) return error;
  const fault = databaseFaultOf(error);
  if (!fault) return error;
  const reason = describeError(error);
  return fault === 'timeout'
    ? new EventStoreError('timeout', `SQL ${operation}: the database did not answer within its bound (${reason})`, {
        cause: error,
      })
    : new EventStoreError('unavailable', `SQL ${operation}: database unavailable (${reason})`, { cause: error });
}
