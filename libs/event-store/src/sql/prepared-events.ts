import { copyText, isoInstant } from '@dealstream/database';
import { canonicalEventParts, writerContent } from '../hash-chain/event-hash.js';
import { validateAppend } from '../port/append-validation.js';
import { EventStoreError } from '../port/event-store.errors.js';
import type { NewEvent, PackedEvents, PreparedEvents } from '../port/event-store.types.js';

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

/** The events of an append as given: NewEvents, or prepared ones (as strings or packed). */
export function isPrepared(
  events: readonly NewEvent[] | PreparedEvents | PackedEvents,
): events is PreparedEvents | PackedEvents {
  return !Array.isArray(events);
}

/** Prepared events packed into bytes (`PackWriter`), not as strings. */
export function isPacked(events: PreparedEvents | PackedEvents): events is PackedEvents {
  return events.prepared === PACKED;
}

const PACKED = 'sql-event-bytes-v1';

/**
 * Bytes of a PackWriter buffer: a few hundred events. A buffer is kept alive by every pack in it until
 * the last of their appends is written, so it is small next to a batch (~8 MB of packed events).
 */
const PACK_BUFFER = 256 * 1024;

/**
 * Packs prepared events into bytes (`PackedEvents`) for another thread (docs/event-store.md, "Bulk
 * appends"): each event's row, head, middle and tail written as UTF-8 into buffers of PACK_BUFFER bytes,
 * whose ArrayBuffers (`take`) the sender transfers with its message. The receiving thread then gets
 * one view and an array of offsets per append instead of five strings per event to deserialise and
 * collect, and the bulk path hashes and COPYs the bytes as they are (`writeBulkLines`).
 */
export class PackWriter {
  private buffer: Buffer | undefined;
  private used = 0;
  private readonly filled: ArrayBuffer[] = [];

  pack(events: PreparedEvents): PackedEvents {
    const { length, rows, heads, middles, tails } = events;
    let units = 0;
    for (let k = 0; k < length; k++) units += rows[k].length + heads[k].length + middles[k].length + tails[k].length;
    const most = units * 3; // UTF-8 bytes of a UTF-16 code unit, at most
    if (this.buffer === undefined || this.used + most > this.buffer.length) this.startBuffer(most);
    const buffer = this.buffer!;
    const start = this.used;
    let at = start;
    const ends = new Array<number>(length * 4);
    for (let k = 0; k < length; k++) {
      const row = rows[k];
      const head = heads[k];
      const middle = middles[k];
      const tail = tails[k];
      // One write of the four: as many bytes as code units means every one was ASCII (one byte
      // each), so the pieces end where their lengths say. Otherwise they are written again one by one.
      // (Four writes cost ~2 µs an event more on the import worker: each flattens its piece anew.)
      const whole = row + head + middle + tail;
      if (buffer.write(whole, at, 'utf8') === whole.length) {
        ends[4 * k] = (at += row.length) - start;
        ends[4 * k + 1] = (at += head.length) - start;
        ends[4 * k + 2] = (at += middle.length) - start;
        ends[4 * k + 3] = (at += tail.length) - start;
        continue;
      }
      at += buffer.write(row, at, 'utf8');
      ends[4 * k] = at - start;
      at += buffer.write(head, at, 'utf8');
      ends[4 * k + 1] = at - start;
      at += buffer.write(middle, at, 'utf8');
      ends[4 * k + 2] = at - start;
      at += buffer.write(tail, at, 'utf8');
      ends[4 * k + 3] = at - start;
    }
    this.used = at;
    return {
      prepared: PACKED,
      streamId: events.streamId,
      length,
      bytes: new Uint8Array(buffer.buffer, buffer.byteOffset + start, at - start),
      ends,
    };
  }

  /**
   * The ArrayBuffers packed into since the last call, to transfer with the message that carries their
   * packs; the next pack starts a new buffer.
   */
  take(): ArrayBuffer[] {
    if (this.buffer !== undefined && this.used > 0) this.filled.push(this.buffer.buffer as ArrayBuffer);
    this.buffer = undefined;
    this.used = 0;
    return this.filled.splice(0);
  }

  private startBuffer(most: number): void {
    if (this.buffer !== undefined && this.used > 0) this.filled.push(this.buffer.buffer as ArrayBuffer);
    // Not from Node's pool: a buffer of its own, whose ArrayBuffer can be transferred.
    this.buffer = Buffer.allocUnsafeSlow(Math.max(PACK_BUFFER, most));
    this.used = 0;
  }
}

/** Packed events as a Buffer (a transferred view arrives as a plain Uint8Array). */
export function packedBytes(events: PackedEvents): Buffer {
  const { bytes } = events;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Packed events as strings again (the rare paths: an append alone, a plan read back, a test). */
export function unpackPrepared(events: PackedEvents): PreparedEvents {
  const bytes = packedBytes(events);
  const { ends } = events;
  const eventIds: string[] = [];
  const heads: string[] = [];
  const middles: string[] = [];
  const tails: string[] = [];
  const rows: string[] = [];
  for (let k = 0; k < events.length; k++) {
    const start = k === 0 ? 0 : ends[4 * k - 1];
    // The row's first value is the event id (a UUID: nothing to unescape), then a tab.
    eventIds.push(bytes.toString('utf8', start, bytes.indexOf(9, start)));
    rows.push(bytes.toString('utf8', start, ends[4 * k]));
    heads.push(bytes.toString('utf8', ends[4 * k], ends[4 * k + 1]));
    middles.push(bytes.toString('utf8', ends[4 * k + 1], ends[4 * k + 2]));
    tails.push(bytes.toString('utf8', ends[4 * k + 2], ends[4 * k + 3]));
  }
  return {
    prepared: PREPARED,
    streamId: events.streamId,
    length: events.length,
    eventIds,
    heads,
    middles,
    tails,
    rows,
  };
}

/** The heads and middles of packed events only (what an import reads a plan back from). */
export function packedHeadsAndMiddles(events: PackedEvents): { heads: string[]; middles: string[] } {
  const bytes = packedBytes(events);
  const { ends } = events;
  const heads: string[] = [];
  const middles: string[] = [];
  for (let k = 0; k < events.length; k++) {
    heads.push(bytes.toString('utf8', ends[4 * k], ends[4 * k + 1]));
    middles.push(bytes.toString('utf8', ends[4 * k + 1], ends[4 * k + 2]));
  }
  return { heads, middles };
}

/** The event ids of packed events (lower-case, as stored). */
export function packedEventIds(events: PackedEvents): string[] {
  const bytes = packedBytes(events);
  const ids: string[] = [];
  for (let k = 0; k < events.length; k++) {
    const start = k === 0 ? 0 : events.ends[4 * k - 1];
    ids.push(bytes.toString('utf8', start, bytes.indexOf(9, start)));
  }
  return ids;
}

/** Packed events as the store takes them: made by `PackWriter` (this version) for this stream, offsets in order; else refused `invalid-append`. */
export function checkPacked(streamId: string, events: PackedEvents): PackedEvents {
  const { length, ends, bytes } = events;
  let ordered = events.prepared === PACKED && events.streamId === streamId && length > 0 && ends.length === length * 4;
  for (let i = 0, last = 0; ordered && i < ends.length; i++) {
    ordered = Number.isInteger(ends[i]) && ends[i] >= last && ends[i] <= bytes.byteLength;
    last = ends[i];
  }
  if (!ordered) throw new EventStoreError('invalid-append', `prepared events do not match the append to ${streamId}`);
  return events;
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
export function preparedFrom<P extends PreparedEvents | PackedEvents>(events: P, start: number): P;
export function preparedFrom(events: PreparedEvents | PackedEvents, start: number): PreparedEvents | PackedEvents {
  if (start === 0) return events;
  if (isPacked(events)) {
    const base = start >= events.length ? events.bytes.byteLength : events.ends[4 * start - 1];
    return {
      prepared: events.prepared,
      streamId: events.streamId,
      length: Math.max(0, events.length - start),
      bytes: events.bytes.subarray(base),
      ends: events.ends.slice(4 * start).map((end) => end - base),
    };
  }
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
