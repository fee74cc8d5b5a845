import { copyText, isoInstant } from '@dealstream/database';
import { canonicalEventParts, type WriterEventContent } from '../hash-chain/event-hash.js';
import { validateAppend } from '../port/append-validation.js';
import { EventStoreError } from '../port/event-store.errors.js';
import type { NewEvent, PreparedEvents } from '../port/event-store.types.js';

/**
 * The columns of a prepared row (`PreparedEvents.rows`), in COPY order: everything the writer decides.
 * The bulk path adds the four only the store knows at append time (`BULK_EVENT_COLUMNS`).
 */
const PREPARED_COLUMNS = [
  'event_id',
  'stream_id',
  'type',
  'data',
  'actor_id',
  'command_id',
  'correlation_id',
  'causation_id',
  'occurred_at',
  'provenance',
] as const;

/** The events table's columns as the bulk path COPYs them: a prepared row, then revision, record time and hashes. */
export const BULK_EVENT_COLUMNS = [
  ...PREPARED_COLUMNS,
  'stream_revision',
  'recorded_at',
  'previous_hash',
  'hash',
] as const;

/** `"provenance":` — the start of a canonical provenance piece; what follows is the column's JSON. */
const PROVENANCE_KEY_LENGTH = '"provenance":'.length;

const PREPARED = 'sql-event-rows-v1';

/**
 * An append's events in the form the SQL store writes them (docs/event-store.md, "Bulk appends"):
 * validated as `appendToStream` validates them, their canonical pieces for the hash chain, and each
 * event's COPY row up to the columns only the store knows. Pure and plain data (strings only): a bulk
 * writer can prepare its events on another thread and pass them to `appendMany` as they came, so the
 * thread that writes builds no per-event objects (the historic import's worker does).
 * Throws what `appendToStream` would refuse the events with (`invalid-append`).
 */
export function prepareEvents(streamId: string, events: readonly NewEvent[]): PreparedEvents {
  validateAppend(streamId, events);
  const eventIds: string[] = [];
  const heads: string[] = [];
  const middles: string[] = [];
  const tails: string[] = [];
  const rows: string[] = [];
  const stream = copyText(streamId);
  for (const event of events) {
    const content = writerContent(streamId, event);
    const parts = canonicalEventParts(content);
    const { metadata } = event;
    eventIds.push(content.eventId);
    heads.push(parts.head);
    middles.push(parts.middle);
    tails.push(parts.tail);
    rows.push(
      `${copyText(content.eventId)}\t${stream}\t${copyText(event.type)}\t${copyText(parts.data)}\t` +
        `${copyText(metadata.actorId)}\t${copyText(metadata.commandId ?? null)}\t` +
        `${copyText(metadata.correlationId ?? null)}\t${copyText(metadata.causationId ?? null)}\t` +
        `${isoInstant(metadata.occurredAt)}\t` +
        `${parts.middle === '' ? '\\N' : copyText(parts.middle.slice(PROVENANCE_KEY_LENGTH))}\t`,
    );
  }
  return { prepared: PREPARED, streamId, length: events.length, eventIds, heads, middles, tails, rows };
}

/** The events of an append as given: NewEvents, or prepared ones. */
export function isPrepared(events: readonly NewEvent[] | PreparedEvents): events is PreparedEvents {
  return !Array.isArray(events);
}

/**
 * Prepared events as the store takes them: made by `prepareEvents` (this version) for this stream,
 * every list as long as the append; else refused `invalid-append`, as `appendToStream` refuses a
 * malformed append.
 */
export function checkPrepared(streamId: string, events: PreparedEvents): PreparedEvents {
  const { length } = events;
  if (
    events.prepared !== PREPARED ||
    events.streamId !== streamId ||
    length === 0 ||
    events.eventIds.length !== length ||
    events.heads.length !== length ||
    events.middles.length !== length ||
    events.tails.length !== length ||
    events.rows.length !== length
  )
    throw new EventStoreError('invalid-append', `prepared events do not match the append to ${streamId}`);
  return events;
}

/** The prepared events from `start` on (an append of what a stream lacks: each event's row is independent of its revision). */
export function preparedFrom(events: PreparedEvents, start: number): PreparedEvents {
  if (start === 0) return events;
  return {
    prepared: events.prepared,
    streamId: events.streamId,
    length: Math.max(0, events.length - start),
    eventIds: events.eventIds.slice(start),
    heads: events.heads.slice(start),
    middles: events.middles.slice(start),
    tails: events.tails.slice(start),
    rows: events.rows.slice(start),
  };
}

export function writerContent(streamId: string, event: NewEvent): WriterEventContent {
  const { actorId, commandId, correlationId, causationId, occurredAt, provenance } = event.metadata;
  return {
    streamId,
    eventId: event.eventId.toLowerCase(),
    type: event.type,
    data: event.data,
    actorId,
    commandId,
    correlationId,
    causationId,
    occurredAt,
    ...(provenance ? { provenance } : {}),
  };
}
