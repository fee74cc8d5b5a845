import { databaseFaultOf, describeError } from '@dealstream/database';
import { EventStoreError } from '../port/event-store.errors.js';

/**
 * True for a unique violation (SQLSTATE 23505) on the event store's keys, for both `pg` and PGlite
 * errors (both carry the SQLSTATE in `code` and the constraint's name in `constraint` or the message):
 * a stream created, or event ids stored, by a transaction that committed after the append's snapshot.
 */
export function isUniqueViolation(error: unknown): boolean {
  const { code, constraint, message } = (error ?? {}) as { code?: string; constraint?: string; message?: string };
  if (code !== '23505') return false;
  const name = constraint ?? message ?? '';
  return ['events_event_id_unique', 'streams_pkey', 'events_stream_revision_unique'].some((key) => name.includes(key));
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
