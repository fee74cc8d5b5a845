import type {
  AppendOutcome,
  AppendResult,
  EventShape,
  ExpectedRevision,
  NewEvent,
  ReadAllBatch,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamAppend,
  StreamRevision,
} from './event-store.types.js';
import type { GlobalPosition } from './global-position.js';

/**
 * The event store port. Every adapter (SQL on PostgreSQL/PGlite, EventStoreDB) passes the same
 * contract suite (`contract/event-store.contract.ts`), so application code never knows which one
 * it talks to.
 */
export interface EventStore {
  /**
   * Appends events atomically at the end of a stream, if `expectedRevision` holds.
   * Throws WrongExpectedRevisionError when it does not — unless every event id is already stored
   * at the end of that stream, in which case the original result is returned (`alreadyStored`).
   */
  appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult>;

  /**
   * Optional: many appends in one transaction — a bulk writer's batch (the historic import). Each
   * append is checked and answered on its own exactly as `appendToStream` would answer it (expected
   * revision, a retry answered with the original result, an idempotency conflict), in the order
   * given (a second append to the same stream sees the first); the appends that hold commit
   * together, each whole. Without it, callers append one by one (concurrently).
   */
  appendMany?(appends: readonly StreamAppend[]): Promise<AppendOutcome[]>;

  /**
   * Reads a stream in revision order; a stream that does not exist reads as empty. `E` is the
   * caller's event union (e.g. `readStream<DealEvent>(dealStreamName(id))`): the events come back
   * typed by it, unchecked — the caller knows what its streams hold.
   */
  readStream<E extends EventShape = EventShape>(
    streamId: string,
    options?: ReadStreamOptions,
  ): Promise<RecordedEvent<E>[]>;

  /**
   * Optional: several whole streams in one read (bulk writers such as the historic import compare
   * many streams before one batched append). Every id asked for is a key of the answer; a stream
   * that does not exist maps to `[]`. Without it, callers read the streams one by one.
   */
  readStreams?(streamIds: readonly string[]): Promise<Map<string, RecordedEvent[]>>;

  /** The revision of the stream's last event, or undefined when the stream does not exist. */
  streamRevision(streamId: string): Promise<StreamRevision | undefined>;

  /**
   * Reads the global order after a cursor. Never skips an event that later becomes readable before
   * the returned cursor: events are returned once, in one order, whatever commits concurrently.
   */
  readAll<E extends EventShape = EventShape>(options: ReadAllOptions): Promise<ReadAllBatch<E>>;

  /**
   * Optional: the same read as `readAll`, with the events already serialised as the feed's JSON
   * (`ReadAllJsonPage`) by the store from the rows' text — for a route that passes a page through
   * without looking at it. Undefined when a row cannot be rendered that way (then call `readAll`).
   */
  readAllJson?(options: ReadAllOptions): Promise<ReadAllJsonPage | undefined>;

  /**
   * Optional: the position of the last event `readAll` can return now (START for an empty store).
   * A reader that must reach everything written before it started (the rebuild) measures it first
   * and does not stop before it.
   */
  headPosition?(): Promise<GlobalPosition>;

  /**
   * Optional: the events committed after `after`, counted up to `limit`, with the first one's
   * recording time and the last one's position — including events `readAll` does not return yet
   * (the SQL store holds back rows behind its visibility horizon while an older transaction is open).
   * Lag figures use it when present, so a held horizon shows as lag, not as "up to date".
   */
  committedAfter?(after: GlobalPosition, limit: number): Promise<CommittedAfter>;

  close(): Promise<void>;
}

/**
 * What `EventStore.readAllJson` answers: the events `readAll` would return, each as the JSON object
 * of the audit routes' event view (`eventId`, `streamId`, `revision`, `position` encoded,
 * `type`, `data`, `actorId`, `commandId`, `correlationId`, `causationId`, `occurredAt`,
 * `recordedAt`, `hash`, `previousHash`, `provenance`, in that order), joined by commas (no brackets).
 */
export interface ReadAllJsonPage {
  readonly eventsJson: string;
  readonly count: number;
  /** As `ReadAllBatch.cursor`. */
  readonly cursor: GlobalPosition;
}

/** What `EventStore.committedAfter` answers. */
export interface CommittedAfter {
  /** Events committed after the position, at most the limit asked. */
  readonly count: number;
  /** When the first of them was recorded (undefined when none). */
  readonly firstRecordedAt?: Date;
  /** The last of them (within the limit), or the position asked when none. */
  readonly last: GlobalPosition;
}
