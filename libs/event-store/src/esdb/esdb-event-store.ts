import { randomUUID } from 'node:crypto';
import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  START as ESDB_START,
  excludeSystemEvents,
  jsonEvent,
  type AllStreamResolvedEvent,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { validateAppend, validateMaxCount } from '../port/append-validation.js';
import { EventStoreError, IdempotencyConflictError, isEventStoreError } from '../port/event-store.errors.js';
import type {
  EventSubscription,
  EventSubscriptionHandlers,
  SubscribableEventStore,
} from '../port/event-subscription.js';
import type {
  AppendResult,
  EventShape,
  ExpectedRevision,
  NewEvent,
  ReadAllBatch,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamRevision,
} from '../port/event-store.types.js';
import { START, comparePositions, type GlobalPosition } from '../port/global-position.js';
import { boundedCall, collectRead, type CancellableRead } from './bounded-call.js';
import { isStreamNotFound, mapEsdbError, type EsdbErrorContext } from './esdb-errors.js';
import {
  appendIdOf,
  fromEsdbPosition,
  fromEsdbRecordedEvent,
  isSystemEvent,
  matchesFilter,
  toEsdbEventData,
  toEsdbExpectedRevision,
  toEsdbPosition,
  type EsdbRecordedEventLike,
} from './esdb-mapping.js';

export interface EsdbEventStoreOptions {
  /** Bound of every call (append, read, revision, readAll), in ms. Default 5000. */
  readonly timeoutMs?: number;
  /** `$all` events fetched per round trip while `readAll` filters client-side. Default 500. */
  readonly readAllPageSize?: number;
  /**
   * Most `$all` events one `readAll` call scans (system and filtered-out events included) before it
   * answers with what it has. Default 10,000.
   */
  readonly readAllScanLimit?: number;
  /** Largest batch `readAll` returns, whatever the caller asks. Default 10,000. */
  readonly maxReadAllLimit?: number;
  /** Events per page when a stream is scanned for a retried append. Default 500. */
  readonly streamScanPageSize?: number;
  /** Builds a client for the connection string (tests script one); default `EventStoreDBClient.connectionString`. */
  readonly createClient?: (connectionString: string) => EventStoreDBClient;
}

type Client = EventStoreDBClient;

/**
 * The event store port on EventStoreDB (KurrentDB) through @eventstore/db-client.
 *
 * - Every call is bounded by `timeoutMs` (`boundedCall`): the client can hang forever against a
 *   server that accepts connections but never answers. A call that hit the bound also replaces the
 *   client, because a hung first call (server features) would otherwise wedge every later call.
 * - Idempotency by event id: ESDB itself recognises a retry at the same expected revision and answers
 *   success without writing. Each append attempt tags its events with a random `appendId`; reading
 *   the appended events back tells "written now" from "already stored". On a wrong expected version
 *   the stream is searched for the ids, so a retry with any expectation gets the original result.
 * - `readAll` reads `$all` forwards and filters out system events and by type/category client-side
 *   (client 6.2 has no server-side filter for reads).
 *
 * Limits compared with the SQL store are in docs/eventstoredb.md (no cross-stream event-id check).
 */
export class EsdbEventStore implements SubscribableEventStore {
  private client: Client;
  private closed = false;
  /** Calls running per client: a replaced client is disposed once its last call has settled. */
  private readonly inFlight = new Map<Client, number>();
  private readonly retired = new Set<Client>();
  private readonly timeoutMs: number;
  private readonly readAllPageSize: number;
  private readonly readAllScanLimit: number;
  private readonly maxReadAllLimit: number;
  private readonly streamScanPageSize: number;
  private readonly createClient: (connectionString: string) => Client;

  /** Throws on a malformed connection string (`esdb://host:2113?tls=false`); connects lazily. */
  constructor(
    private readonly connectionString: string,
    options: EsdbEventStoreOptions = {},
  ) {
    this.timeoutMs = positive(options.timeoutMs ?? 5_000, 'timeoutMs');
    this.readAllPageSize = Math.max(2, positive(options.readAllPageSize ?? 500, 'readAllPageSize'));
    this.readAllScanLimit = positive(options.readAllScanLimit ?? 10_000, 'readAllScanLimit');
    this.maxReadAllLimit = positive(options.maxReadAllLimit ?? 10_000, 'maxReadAllLimit');
    this.streamScanPageSize = positive(options.streamScanPageSize ?? 500, 'streamScanPageSize');
    this.createClient = options.createClient ?? ((text) => EventStoreDBClient.connectionString(text));
    this.client = this.createClient(connectionString);
  }

  async appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    { expectedRevision }: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    validateAppend(streamId, events);
    const esdbExpected = toEsdbExpectedRevision(expectedRevision);
    return this.bounded({ operation: 'appendToStream', streamId, expectedRevision }, async (client, signal) => {
      if (expectedRevision === 'any' || expectedRevision === 'stream_exists') {
        // ESDB's idempotency check for these is best effort (a cache of recent ids): look first.
        const stored = await this.findStoredAppend(client, streamId, events, undefined, signal);
        if (stored) return stored;
      }
      const appendId = randomUUID();
      try {
        const result = await client.appendToStream(
          streamId,
          events.map((event) => jsonEvent(toEsdbEventData(event, appendId))),
          { expectedRevision: esdbExpected, deadline: this.timeoutMs },
        );
        signal.throwIfAborted();
        return await this.confirmAppend(client, streamId, events, appendId, result.nextExpectedRevision, signal);
      } catch (error) {
        if ((error as { type?: unknown })?.type !== 'wrong-expected-version') throw error;
        // Our own earlier attempt may be what moved the stream: then answer as it did.
        const stored = await this.findStoredAppend(client, streamId, events, undefined, signal);
        if (stored) return stored;
        throw error;
      }
    });
  }

  async readStream<E extends EventShape = EventShape>(
    streamId: string,
    options: ReadStreamOptions = {},
  ): Promise<RecordedEvent<E>[]> {
    const maxCount = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    validateMaxCount(maxCount);
    if (maxCount === 0) return [];
    const backwards = options.direction === 'backwards';
    return this.bounded({ operation: 'readStream', streamId }, async (client, signal) => {
      const read = client.readStream(streamId, {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision: options.fromRevision ?? (backwards ? END : ESDB_START),
        maxCount,
      });
      // The reader names the union its stream holds (see EventStore.readStream); the events are not checked against it.
      return (await readStreamEvents(read, signal)).map(fromEsdbRecordedEvent) as RecordedEvent<E>[];
    });
  }

  async streamRevision(streamId: string): Promise<StreamRevision | undefined> {
    return this.bounded({ operation: 'streamRevision', streamId }, async (client, signal) => {
      const [last] = await readStreamEvents(
        client.readStream(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: 1 }),
        signal,
      );
      return last?.revision;
    });
  }

  /**
   * Reads `$all` after the cursor, skipping system events and events the filter excludes. The
   * cursor is the last returned event's position, or `after` when nothing matched — except when a
   * call scanned `readAllScanLimit` events without a match: then it moves past them, so a selective
   * filter still makes progress (those events can never match later; `$all` never changes behind
   * its end).
   */
  async readAll<E extends EventShape = EventShape>(options: ReadAllOptions): Promise<ReadAllBatch<E>> {
    const after = options.after ?? START;
    const limit = Math.min(Math.max(1, Math.trunc(options.limit)), this.maxReadAllLimit);
    return this.bounded({ operation: 'readAll' }, async (client, signal) => {
      // As readStream: the reader names the union.
      const events: RecordedEvent<E>[] = [];
      let from = after;
      let scanned = 0;
      for (;;) {
        const read = client.readAll({
          direction: FORWARDS,
          fromPosition: comparePositions(from, START) === 0 ? ESDB_START : toEsdbPosition(from),
          maxCount: this.readAllPageSize,
        });
        const page = await collectRead<AllStreamResolvedEvent>(read, signal);
        const pageStart = from;
        for (const { event } of page) {
          if (!event) continue;
          const position = fromEsdbPosition(event.position);
          // Reading from a position includes the event at it; the port's cursor is exclusive.
          if (comparePositions(position, pageStart) <= 0) continue;
          scanned++;
          from = position;
          if (isSystemEvent(event) || !matchesFilter(event, options.filter)) continue;
          events.push(fromEsdbRecordedEvent(event) as RecordedEvent<E>);
          if (events.length === limit) return { events, cursor: position };
        }
        if (page.length < this.readAllPageSize) break; // the end of $all
        if (scanned >= this.readAllScanLimit) break;
      }
      const cursor = events.at(-1)?.position ?? (scanned >= this.readAllScanLimit ? from : after);
      return { events, cursor };
    });
  }

  /**
   * Catch-up subscription to `$all` after `after`, system events excluded. Events at or before the
   * start are dropped here, whatever the server's inclusive/exclusive convention. The Node client
   * does not resubscribe by itself: `onError` ends it, and the projection runner's supervisor
   * subscribes again from its checkpoint.
   */
  subscribeToAll(after: GlobalPosition, handlers: EventSubscriptionHandlers): EventSubscription {
    const subscription = this.client.subscribeToAll({
      fromPosition: comparePositions(after, START) === 0 ? ESDB_START : toEsdbPosition(after),
      filter: excludeSystemEvents(),
    });
    let last = after;
    let ended = false;
    subscription.on('data', (resolved: AllStreamResolvedEvent) => {
      const event = resolved.event;
      if (ended || !event || isSystemEvent(event)) return;
      const position = fromEsdbPosition(event.position);
      if (comparePositions(position, last) <= 0) return;
      last = position;
      try {
        handlers.onEvent(fromEsdbRecordedEvent(event));
      } catch (error) {
        handlers.onError(error);
      }
    });
    subscription.on('error', (error: Error) => {
      if (ended) return;
      ended = true;
      handlers.onError(mapEsdbError(error, { operation: 'subscribeToAll' }));
    });
    subscription.on('end', () => {
      if (ended) return;
      ended = true;
      handlers.onError(new EventStoreError('unavailable', 'the $all subscription ended'));
    });
    return {
      close: async () => {
        ended = true;
        await boundedCall('unsubscribe', 1_000, async () => subscription.unsubscribe()).catch(() => undefined);
      },
    };
  }

  /** Disposes the clients and closes their connections; running and later calls fail with `unavailable`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const clients = new Set([this.client, ...this.retired, ...this.inFlight.keys()]);
    this.retired.clear();
    await Promise.all([...clients].map(disposeClient));
  }

  /** Runs one port call on the current client, bounded, with the client's errors mapped. */
  private async bounded<T>(
    context: EsdbErrorContext,
    operation: (client: Client, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    if (this.closed) throw new EventStoreError('unavailable', `EventStoreDB ${context.operation}: the store is closed`);
    const client = this.client;
    this.inFlight.set(client, (this.inFlight.get(client) ?? 0) + 1);
    try {
      return await boundedCall(`EventStoreDB ${context.operation}`, this.timeoutMs, (signal) =>
        operation(client, signal),
      );
    } catch (error) {
      if (isEventStoreError(error, 'timeout')) this.retire(client);
      const mapped = mapEsdbError(error, context);
      if (this.closed && !(mapped instanceof EventStoreError)) {
        throw new EventStoreError(
          'unavailable',
          `EventStoreDB ${context.operation}: the store was closed during the call`,
          { cause: error },
        );
      }
      throw mapped;
    } finally {
      const left = this.inFlight.get(client)! - 1;
      if (left > 0) this.inFlight.set(client, left);
      else this.inFlight.delete(client);
      if (left === 0 && this.retired.delete(client)) void disposeClient(client);
    }
  }

  /**
   * A call on `client` hit its bound: later calls get a fresh client. The client caches its first
   * server-features request; if that one hangs, every later append on the same client would too.
   * The old client is disposed when its last running call settles (each is bounded), so those calls
   * end with their own outcome rather than a "channel shut down" from us.
   */
  private retire(client: Client): void {
    if (this.closed || this.client !== client) return;
    this.client = this.createClient(this.connectionString);
    this.retired.add(client);
  }

  /**
   * The append just answered success at `nextExpectedRevision`: reads those events back for their
   * exact positions and their `appendId` — ours means written now, another means ESDB recognised
   * an earlier attempt. Falls back to searching the stream if the ids are not where ESDB said.
   */
  private async confirmAppend(
    client: Client,
    streamId: string,
    events: readonly NewEvent[],
    appendId: string,
    nextExpectedRevision: bigint,
    signal: AbortSignal,
  ): Promise<AppendResult> {
    const first = nextExpectedRevision - BigInt(events.length - 1);
    if (first >= 0n) {
      const read = client.readStream(streamId, { direction: FORWARDS, fromRevision: first, maxCount: events.length });
      const stored = await readStreamEvents(read, signal);
      if (sameIds(stored, events)) return appendResult(streamId, stored, appendId);
    }
    const found = await this.findStoredAppend(client, streamId, events, appendId, signal);
    if (found) return found;
    throw new Error(
      `EventStoreDB reported ${streamId}@${nextExpectedRevision} for an append whose events are not in the stream`,
    );
  }

  /**
   * Searches the stream (backwards, page by page) for the append's event ids. All of them, in order
   * and consecutive: the stored append's result. Some of them, or out of order: IdempotencyConflictError.
   * None: undefined.
   */
  private async findStoredAppend(
    client: Client,
    streamId: string,
    events: readonly NewEvent[],
    appendId: string | undefined,
    signal: AbortSignal,
  ): Promise<AppendResult | undefined> {
    const wanted = new Set(events.map((event) => event.eventId.toLowerCase()));
    const found = new Map<string, EsdbRecordedEventLike>();
    let fromRevision: bigint | typeof END = END;
    while (found.size < wanted.size) {
      const read = client.readStream(streamId, {
        direction: BACKWARDS,
        fromRevision,
        maxCount: this.streamScanPageSize,
      });
      const page = await readStreamEvents(read, signal);
      for (const event of page) if (wanted.has(event.id.toLowerCase())) found.set(event.id.toLowerCase(), event);
      const oldest = page.at(-1);
      if (page.length < this.streamScanPageSize || !oldest || oldest.revision === 0n) break;
      fromRevision = oldest.revision - 1n;
    }
    if (found.size === 0) return undefined;
    const stored = events.map((event) => found.get(event.eventId.toLowerCase()));
    const consecutive = stored.every(
      (event, index) => event !== undefined && event.revision === stored[0]!.revision + BigInt(index),
    );
    if (!consecutive) throw new IdempotencyConflictError(streamId, [...found.keys()]);
    return appendResult(streamId, stored as EsdbRecordedEventLike[], appendId);
  }
}

/** Reads a stream's events; a stream that does not exist reads as empty. */
async function readStreamEvents(read: CancellableRead, signal: AbortSignal): Promise<EsdbRecordedEventLike[]> {
  try {
    const resolved = await collectRead<ResolvedEvent>(read, signal);
    return resolved.flatMap(({ event }) => (event ? [event as EsdbRecordedEventLike] : []));
  } catch (error) {
    if (isStreamNotFound(error)) return [];
    throw error;
  }
}

function sameIds(stored: readonly EsdbRecordedEventLike[], events: readonly NewEvent[]): boolean {
  return (
    stored.length === events.length &&
    stored.every((event, index) => event.id.toLowerCase() === events[index].eventId.toLowerCase())
  );
}

/** The port's answer for an append whose events are `stored` (in order); written now iff they carry `appendId`. */
function appendResult(
  streamId: string,
  stored: readonly EsdbRecordedEventLike[],
  appendId: string | undefined,
): AppendResult {
  const last = fromEsdbRecordedEvent(stored.at(-1)!);
  const writtenNow = appendId !== undefined && stored.every((event) => appendIdOf(event.metadata) === appendId);
  return { streamId, nextExpectedRevision: last.revision, position: last.position, alreadyStored: !writtenNow };
}

/**
 * Releases a client: closes its gRPC channel (pending calls then fail, and are absorbed by their
 * bounded callers) and disposes its streams. `dispose()` alone leaves the channel — and a socket to
 * a silent server — open, which keeps the process alive.
 */
async function disposeClient(client: Client): Promise<void> {
  const owner = client as unknown as { getChannel(): Promise<{ close(): void }> };
  await boundedCall('close channel', 1_000, async () => (await owner.getChannel()).close()).catch(() => undefined);
  await boundedCall('dispose', 1_000, () => client.dispose()).catch(() => undefined);
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
