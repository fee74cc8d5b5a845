import { WrongExpectedRevisionError } from '../port/event-store.errors.js';

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
