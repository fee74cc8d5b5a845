import { EventStoreError } from './event-store.errors.js';
import type { NewEvent } from './event-store.types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Refuses an append every adapter must refuse before touching storage (`invalid-append`): no events,
 * duplicate or non-UUID ids, missing type, actor or business time. Shared so that the SQL and the
 * EventStoreDB adapters reject exactly the same inputs.
 */
export function validateAppend(streamId: string, events: readonly NewEvent[]): void {
  if (!streamId || streamId.length > 512)
    throw new EventStoreError('invalid-append', 'stream id must be 1..512 characters');
  if (events.length === 0) throw new EventStoreError('invalid-append', 'an append needs at least one event');
  const ids = new Set(events.map((event) => event.eventId.toLowerCase()));
  if (ids.size !== events.length)
    throw new EventStoreError('invalid-append', 'event ids within one append must be distinct');
  for (const event of events) {
    if (!UUID.test(event.eventId))
      throw new EventStoreError('invalid-append', `event id is not a UUID: ${event.eventId}`);
    if (!event.type) throw new EventStoreError('invalid-append', 'event type must not be empty');
    if (!event.metadata?.actorId) throw new EventStoreError('invalid-append', 'every event needs metadata.actorId');
    if (!(event.metadata.occurredAt instanceof Date) || Number.isNaN(event.metadata.occurredAt.getTime())) {
      throw new EventStoreError('invalid-append', 'metadata.occurredAt must be a valid Date');
    }
  }
}

/** Refuses a `maxCount` that is not a non-negative safe integer (same code as the SQL adapter has always used). */
export function validateMaxCount(maxCount: number): void {
  if (!Number.isSafeInteger(maxCount) || maxCount < 0)
    throw new EventStoreError('invalid-append', 'maxCount must be a non-negative integer');
}
