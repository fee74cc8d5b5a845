import type { GlobalPosition } from './global-position.js';

/** Revisions count from 0: a stream's first event has revision 0n. */
export type StreamRevision = bigint;

/**
 * What the writer believes about the stream before appending.
 * - `'no_stream'`: it must not exist yet (creation).
 * - a revision: its last event must have exactly this revision (optimistic concurrency).
 * - `'stream_exists'`: it must exist, any revision.
 * - `'any'`: no check.
 */
export type ExpectedRevision = 'no_stream' | 'stream_exists' | 'any' | StreamRevision;

/** Who caused an event and why: recorded with every event, never taken from request bodies. */
export interface EventMetadata {
  /** The authenticated principal (JWT `sub`) on whose behalf the event was written. */
  readonly actorId: string;
  /** The command (or idempotency key) that produced the event. */
  readonly commandId?: string;
  /** Shared by everything one request or workflow caused. */
  readonly correlationId?: string;
  /** The message (command or event id) that directly caused this event. */
  readonly causationId?: string;
  /** Business time: when it happened. May be backdated for imports and corrections. */
  readonly occurredAt: Date;
  /**
   * Where an imported event came from (absent on live writes). Beside `actorId` (the importing
   * principal), never instead of it. Covered by the hash chain when present.
   */
  readonly provenance?: EventProvenance;
}

/** The source record behind an imported event (see docs/import.md). */
export interface EventProvenance {
  /** The import run that wrote the event. */
  readonly importId: string;
  /** The system the history came from, e.g. `salesforce`, `hubspot`, `canonical`. */
  readonly sourceSystem: string;
  /** The source's own id of the record (a history row, a changelog entry). */
  readonly sourceRecordId: string;
  /** Who made the change in the source system, as the source names them. */
  readonly sourceActor: string;
}

/** An event to append. `eventId` is the idempotency handle: appending it twice stores it once. */
export interface NewEvent<Type extends string = string, Data extends object = object> {
  readonly eventId: string;
  readonly type: Type;
  readonly data: Data;
  readonly metadata: EventMetadata;
}

/**
 * What the store knows of an event's meaning: its `type` and JSON `data`. Every domain event union
 * (the decider library's `Event`) fits it, so a caller can name its own union when it reads.
 */
export interface EventShape {
  readonly type: string;
  readonly data: object;
}

/** What the store adds to every event it holds. */
export interface RecordedEventMetadata {
  readonly eventId: string;
  readonly streamId: string;
  readonly revision: StreamRevision;
  readonly metadata: EventMetadata;
  /** System time: when the store recorded it (the "as the system knew it" axis). */
  readonly recordedAt: Date;
  readonly position: GlobalPosition;
  /** Tamper evidence (SQL store): hash of this event's canonical form, chained to its predecessor's. */
  readonly hash?: string;
  readonly previousHash?: string | null;
}

/**
 * An event as the store holds it, typed by the reader's event union `E`. For a union the
 * intersection distributes, so checking `type` narrows `data`. The store does not validate `E`:
 * naming it is the reader's claim about what the streams it reads contain (as in emmett's
 * `readStream<EventType>`).
 */
export type RecordedEvent<E extends EventShape = EventShape> = E & RecordedEventMetadata;

export interface AppendResult {
  readonly streamId: string;
  /** Revision of the stream's last event after the append: the next append's expected revision. */
  readonly nextExpectedRevision: StreamRevision;
  /** Global position of the last appended event (read-your-writes watermark). */
  readonly position: GlobalPosition;
  /** True when every event was already stored (a retried append): nothing new was written. */
  readonly alreadyStored: boolean;
}

/**
 * One append of a bulk writer's batch (`EventStore.appendMany`): what `appendToStream` takes — its
 * events, or (the SQL store only) the same events made ready for it by `prepareEvents`.
 */
export interface StreamAppend {
  readonly streamId: string;
  readonly events: readonly NewEvent[] | PreparedEvents | PackedEvents;
  readonly expectedRevision: ExpectedRevision;
}

/**
 * An append's events as the SQL store writes them, made by its `prepareEvents` (sql/prepared-events.ts):
 * plain strings, so a bulk writer can prepare them on another thread. `length` is the number of events.
 */
export interface PreparedEvents {
  readonly prepared: string;
  readonly streamId: string;
  readonly length: number;
  /** Lower-case, as stored and hashed. */
  readonly eventIds: readonly string[];
  /** Each event's canonical pieces (`CanonicalEventParts`' head, middle and tail). */
  readonly heads: readonly string[];
  readonly middles: readonly string[];
  readonly tails: readonly string[];
  /** Each event's COPY row up to the columns the store adds at append time (revision, record time, hashes). */
  readonly rows: readonly string[];
}

/**
 * Prepared events packed into bytes (`PackWriter` in sql/prepared-events.ts): the same strings as
 * `PreparedEvents` (each event's COPY row, then its head, middle and tail), UTF-8, one after the other in
 * `bytes` — a view on an ArrayBuffer a worker thread can transfer instead of having its strings cloned.
 */
export interface PackedEvents {
  readonly prepared: string;
  readonly streamId: string;
  readonly length: number;
  readonly bytes: Uint8Array;
  /** Four per event, offsets into `bytes`: where its row, head, middle and tail end (the next event starts there). */
  readonly ends: readonly number[];
}

/** How one append of `appendMany` ended: its result, or the error `appendToStream` would have thrown. */
export type AppendOutcome =
  { readonly ok: true; readonly value: AppendResult } | { readonly ok: false; readonly error: unknown };

export interface ReadStreamOptions {
  readonly direction?: 'forwards' | 'backwards';
  /** Inclusive. Forwards defaults to the first event, backwards to the last. */
  readonly fromRevision?: StreamRevision;
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive cursor; omit (or START) to read from the beginning. */
  readonly after?: GlobalPosition;
  readonly limit: number;
  readonly filter?: {
    readonly eventTypes?: readonly string[];
    /** Stream category = the part of the stream id before the first '-' (e.g. `deal`). */
    readonly streamCategories?: readonly string[];
  };
}

export interface ReadAllBatch<E extends EventShape = EventShape> {
  readonly events: RecordedEvent<E>[];
  /** Where the next read continues (exclusive). Equals `after` when nothing new was readable. */
  readonly cursor: GlobalPosition;
}

/** The domain event inside a recorded one — its `type` and `data` only — typed by the reader's union. */
export function domainEventOf<E extends EventShape>(recorded: RecordedEvent<E>): E {
  // RecordedEvent<E> distributes over E, so type and data belong together; TypeScript loses that once both are read out.
  return { type: recorded.type, data: recorded.data } as E;
}
