import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
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
import { append as appendOnItsOwnCall } from '@eventstore/db-client/dist/streams/appendToStream/append.js';
import { hashEvent, writerContent } from '../hash-chain/event-hash.js';
import { validateAppend, validateMaxCount } from '../port/append-validation.js';
import { EventStoreError, IdempotencyConflictError, WrongExpectedRevisionError } from '../port/event-store.errors.js';
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
import { isStreamDeleted, isStreamNotFound, mapEsdbError, type EsdbErrorContext } from './esdb-errors.js';
import {
  appendIdOf,
  chainOf,
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
  /** Bound of every call (append, read, revision, one `$all` page), in ms. Default 5000. */
  readonly timeoutMs?: number;
  /** `$all` events fetched per round trip while `readAll` filters client-side. Default 500. */
  readonly readAllPageSize?: number;
  /** Largest batch `readAll` returns, whatever the caller asks. Default 10,000. */
  readonly maxReadAllLimit?: number;
  /**
   * How many of a stream's latest events every append reads first (one backwards read): the head it
   * chains to, and the events whose ids it checks for a retry or an overlap. Default 100.
   */
  readonly idempotencyWindow?: number;
  /** The adapter's clock for `recordedAt` (covered by the hash); tests fix it. */
  readonly now?: () => Date;
  /** Builds a client for the connection string (tests script one); default `EventStoreDBClient.connectionString`. */
  readonly createClient?: (connectionString: string) => EventStoreDBClient;
}

type Client = EventStoreDBClient;

/** What an append reads before writing: the stream's head and its latest events (newest first). */
interface StreamWindow {
  readonly head: EsdbRecordedEventLike | undefined;
  readonly recent: readonly EsdbRecordedEventLike[];
}

/**
 * The event store port on EventStoreDB (KurrentDB) through @eventstore/db-client.
 *
 * - One client for the store's life; the client reconnects by itself (a new channel after an
 *   unavailable or cancelled answer). Clients are never replaced or disposed under running calls:
 *   the client's batch-append path keeps its pending appends in one table shared by every client in
 *   the process, and disposing any client rejects them all (then a late reply throws inside a
 *   stream listener and ends the process). So appends do not use it: each append is its own gRPC
 *   `Append` call (the client's own code for servers without batch append), with what is left of
 *   the bound as its deadline — it really ends at the bound, and nothing it does can touch another
 *   call; a throw where grpc-js creates the call (a channel the client shut down) is caught.
 * - Every call is bounded by `timeoutMs` (`boundedCall`): the client can hang forever against a
 *   server that accepts connections but never answers.
 * - An append first reads the stream's latest events (`idempotencyWindow`): a retry of stored events
 *   answers the original result, a partial overlap is `idempotency-conflict`, the head gives the
 *   previous hash and the exact revision the append is sent with — `any` and `stream_exists` too, so
 *   the chain is never forked (a concurrent writer makes the server refuse it; the adapter then reads
 *   again and retries within the bound). Each attempt tags its events with a random `appendId`;
 *   reading them back tells "written now" from "the server recognised an earlier attempt".
 * - Tamper evidence: every event's metadata carries `recordedAt`, `previousHash` and `hash`,
 *   computed by the SQL store's hashing code (`hash-chain/event-hash.ts`).
 * - `readAll` reads `$all` forwards page by page (each page bounded) and filters out system events
 *   and by type/category client-side (client 6.2 has no server-side filter for reads); it answers
 *   an empty batch only at the end of `$all`.
 *
 * Limits compared with the SQL store are in docs/eventstoredb.md.
 */
export class EsdbEventStore implements SubscribableEventStore {
  private readonly client: Client;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly readAllPageSize: number;
  private readonly maxReadAllLimit: number;
  private readonly idempotencyWindow: number;
  private readonly now: () => Date;

  /** Throws on a malformed connection string (`esdb://host:2113?tls=false`); connects lazily. */
  constructor(connectionString: string, options: EsdbEventStoreOptions = {}) {
    this.timeoutMs = positive(options.timeoutMs ?? 5_000, 'timeoutMs');
    this.readAllPageSize = Math.max(2, positive(options.readAllPageSize ?? 500, 'readAllPageSize'));
    this.maxReadAllLimit = positive(options.maxReadAllLimit ?? 10_000, 'maxReadAllLimit');
    this.idempotencyWindow = positive(options.idempotencyWindow ?? 100, 'idempotencyWindow');
    this.now = options.now ?? (() => new Date());
    const createClient = options.createClient ?? ((text) => EventStoreDBClient.connectionString(text));
    this.client = createClient(connectionString);
  }

  async appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    { expectedRevision }: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    validateAppend(streamId, events);
    toEsdbExpectedRevision(expectedRevision); // refuses what is not an expected revision
    return this.bounded({ operation: 'appendToStream', streamId, expectedRevision }, async (client, signal) => {
      // The Append call gets what is left of the bound as its gRPC deadline: it ends with the port call.
      const boundEndsAt = Date.now() + this.timeoutMs;
      for (;;) {
        const window = await this.readWindow(client, streamId, signal);
        const stored = findStoredAppend(streamId, window.recent, events, undefined);
        if (stored) return stored;
        const actual = window.head?.revision;
        const holds =
          expectedRevision === 'any' ||
          (expectedRevision === 'no_stream' && actual === undefined) ||
          (expectedRevision === 'stream_exists' && actual !== undefined) ||
          (typeof expectedRevision === 'bigint' && actual === expectedRevision);
        if (!holds) throw new WrongExpectedRevisionError(streamId, expectedRevision, actual);

        const appendId = randomUUID();
        const chained = this.chain(streamId, events, window.head, appendId);
        // Never start a call after the bound or on a closed store: the client's append throws
        // synchronously on a shut-down channel inside an async executor, which nothing could catch.
        signal.throwIfAborted();
        if (this.closed) throw new EventStoreError('unavailable', `EventStoreDB appendToStream: the store is closed`);
        try {
          const result = await this.send(client, streamId, chained, actual ?? 'no_stream', boundEndsAt - Date.now());
          signal.throwIfAborted();
          return await this.confirmAppend(client, streamId, events, appendId, result.nextExpectedRevision, signal);
        } catch (error) {
          if ((error as { type?: unknown })?.type !== 'wrong-expected-version') throw error;
          // Another writer moved the head since we read it, or our own earlier attempt did: read again.
          // An exact expectation is then decided by the new head; `any` and `stream_exists` retry.
          signal.throwIfAborted();
          if (expectedRevision === 'any' || (expectedRevision === 'stream_exists' && actual !== undefined)) continue;
          const again = await this.readWindow(client, streamId, signal);
          const original = findStoredAppend(streamId, again.recent, events, undefined);
          if (original) return original;
          throw new WrongExpectedRevisionError(streamId, expectedRevision, again.head?.revision);
        }
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
      return (await readStreamEvents(read, signal, { deletedAsEmpty: true })).map(
        fromEsdbRecordedEvent,
      ) as RecordedEvent<E>[];
    });
  }

  async streamRevision(streamId: string): Promise<StreamRevision | undefined> {
    return this.bounded({ operation: 'streamRevision', streamId }, async (client, signal) => {
      const [last] = await readStreamEvents(
        client.readStream(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: 1 }),
        signal,
        { deletedAsEmpty: true },
      );
      return last?.revision;
    });
  }

  /**
   * Reads `$all` after the cursor, skipping system events and events the filter excludes, page by
   * page until it has `limit` events or reaches the end of `$all` — so an empty batch means nothing
   * readable up to the head, and its cursor is `after` (the port's contract). Each page is its own
   * bounded call: a long filtered-out stretch (idle servers write a `$`-prefixed stats event every
   * ~30 s) takes more round trips, never a wrong answer.
   */
  async readAll<E extends EventShape = EventShape>(options: ReadAllOptions): Promise<ReadAllBatch<E>> {
    const after = options.after ?? START;
    const limit = Math.min(Math.max(1, Math.trunc(options.limit)), this.maxReadAllLimit);
    // As readStream: the reader names the union.
    const events: RecordedEvent<E>[] = [];
    let from = after;
    for (;;) {
      const page = await this.bounded({ operation: 'readAll' }, (client, signal) =>
        collectRead<AllStreamResolvedEvent>(
          client.readAll({
            direction: FORWARDS,
            fromPosition: comparePositions(from, START) === 0 ? ESDB_START : toEsdbPosition(from),
            maxCount: this.readAllPageSize,
          }),
          signal,
        ),
      );
      const pageStart = from;
      for (const { event } of page) {
        if (!event) continue;
        const position = fromEsdbPosition(event.position);
        // Reading from a position includes the event at it; the port's cursor is exclusive.
        if (comparePositions(position, pageStart) <= 0) continue;
        from = position;
        if (isSystemEvent(event) || !matchesFilter(event, options.filter)) continue;
        events.push(fromEsdbRecordedEvent(event) as RecordedEvent<E>);
        if (events.length === limit) return { events, cursor: position };
      }
      if (page.length < this.readAllPageSize) break; // the end of $all
    }
    return { events, cursor: events.at(-1)?.position ?? after };
  }
  /** The last non-system event's position in `$all` (read backwards, page by page; each page bounded). */
  async headPosition(): Promise<GlobalPosition> {
    let from: GlobalPosition | undefined;
    for (;;) {
      const page = await this.bounded({ operation: 'readAll' }, (client, signal) =>
        collectRead<AllStreamResolvedEvent>(
          client.readAll({
            direction: BACKWARDS,
            fromPosition: from === undefined ? END : toEsdbPosition(from),
            maxCount: this.readAllPageSize,
          }),
          signal,
        ),
      );
      for (const { event } of page) {
        if (!event) continue;
        const position = fromEsdbPosition(event.position);
        if (from !== undefined && comparePositions(position, from) >= 0) continue;
        if (!isSystemEvent(event)) return position;
        from = position;
      }
      if (page.length < this.readAllPageSize) return START;
    }
  }

  /**
   * Catch-up subscription to `$all` after `after`, system events excluded; `pause()` stops the flow
   * (backpressure down to the server). Events at or before the
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
      // The subscription is a Readable piped from the gRPC stream: paused, its buffer fills, the pipe
      // stops reading, and HTTP/2 flow control holds the server back.
      pause: () => void subscription.pause(),
      resume: () => void subscription.resume(),
    };
  }

  /** Disposes the clients and closes their connections; running and later calls fail with `unavailable`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await disposeClient(this.client);
  }

  /** Runs one port call on the client, bounded, with the client's errors mapped. */
  private async bounded<T>(
    context: EsdbErrorContext,
    operation: (client: Client, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    if (this.closed) throw new EventStoreError('unavailable', `EventStoreDB ${context.operation}: the store is closed`);
    try {
      return await boundedCall(`EventStoreDB ${context.operation}`, this.timeoutMs, (signal) =>
        operation(this.client, signal),
      );
    } catch (error) {
      const mapped = mapEsdbError(error, context);
      if (this.closed && !(mapped instanceof EventStoreError)) {
        throw new EventStoreError(
          'unavailable',
          `EventStoreDB ${context.operation}: the store was closed during the call`,
          { cause: error },
        );
      }
      throw mapped;
    }
  }

  /** The stream's latest `idempotencyWindow` events, newest first, and its head. */
  private async readWindow(client: Client, streamId: string, signal: AbortSignal): Promise<StreamWindow> {
    const recent = await readStreamEvents(
      client.readStream(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: this.idempotencyWindow }),
      signal,
    );
    return { head: recent[0], recent };
  }

  /** The events as written: our metadata, `recordedAt` now, and the hash chain from `head` on. */
  private chain(
    streamId: string,
    events: readonly NewEvent[],
    head: EsdbRecordedEventLike | undefined,
    appendId: string,
  ): ReturnType<typeof jsonEvent>[] {
    const recordedAt = new Date(this.now().getTime());
    let revision = head === undefined ? 0n : head.revision + 1n;
    let previousHash = head === undefined ? null : (chainOf(head.metadata)?.hash ?? null);
    return events.map((event) => {
      const hash = hashEvent({ ...writerContent(streamId, event), revision, recordedAt }, previousHash);
      const data = toEsdbEventData(event, appendId, { recordedAt, previousHash, hash });
      previousHash = hash;
      revision++;
      return jsonEvent(data);
    });
  }

  /**
   * Sends one append on its own gRPC `Append` call, its deadline the rest of the port call's bound.
   * (A scripted test client, which is no EventStoreDBClient, is asked through its own `appendToStream`.)
   */
  private async send(
    client: Client,
    streamId: string,
    events: ReturnType<typeof jsonEvent>[],
    expectedRevision: bigint | 'no_stream',
    remainingMs: number,
  ): Promise<{ nextExpectedRevision: bigint }> {
    const options = { expectedRevision, deadline: Math.max(1, remainingMs), batchAppendSize: 3 * 1024 * 1024 };
    if (!(client instanceof EventStoreDBClient))
      return (client as { appendToStream: Client['appendToStream'] }).appendToStream(streamId, events, options);
    // At most twice: a second attempt only when the first call was never made (its channel was shut
    // down under it); the client has then usually replaced the channel.
    for (let attempt = 1; ; attempt++) {
      const host = guardedAppendHost(client);
      try {
        return await appendOnItsOwnCall.call(host as unknown as Client, streamId, events, options);
      } catch (error) {
        if (!host.notSent) throw error;
        if (attempt === 2)
          throw new EventStoreError(
            'unavailable',
            `EventStoreDB appendToStream on ${streamId}: the client's channel was shut down before the append was sent`,
            { cause: error },
          );
      }
    }
  }

  /**
   * The append just answered success at `nextExpectedRevision`: reads those events back for their
   * exact positions and their `appendId` — ours means written now, another means ESDB recognised
   * an earlier attempt. Falls back to the stream's latest events if the ids are not where ESDB said.
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
    const window = await this.readWindow(client, streamId, signal);
    const found = findStoredAppend(streamId, window.recent, events, appendId);
    if (found) return found;
    throw new Error(
      `EventStoreDB reported ${streamId}@${nextExpectedRevision} for an append whose events are not in the stream`,
    );
  }
}

/**
 * Looks for the append's event ids among a stream's latest events. All of them, in order and
 * consecutive: the stored append's result. Some of them, or out of order: IdempotencyConflictError.
 * None: undefined.
 */
function findStoredAppend(
  streamId: string,
  recent: readonly EsdbRecordedEventLike[],
  events: readonly NewEvent[],
  appendId: string | undefined,
): AppendResult | undefined {
  const wanted = new Set(events.map((event) => event.eventId.toLowerCase()));
  const found = new Map<string, EsdbRecordedEventLike>();
  for (const event of recent) if (wanted.has(event.id.toLowerCase())) found.set(event.id.toLowerCase(), event);
  if (found.size === 0) return undefined;
  const stored = events.map((event) => found.get(event.eventId.toLowerCase()));
  const consecutive = stored.every(
    (event, index) => event !== undefined && event.revision === stored[0]!.revision + BigInt(index),
  );
  if (!consecutive) throw new IdempotencyConflictError(streamId, [...found.keys()]);
  return appendResult(streamId, stored as EsdbRecordedEventLike[], appendId);
}

/**
 * Reads a stream's events; a stream that does not exist reads as empty, and so does a hard-deleted
 * (tombstoned) one with `deletedAsEmpty` (the port's reads: an audit anchor then reports it
 * missing). An append's own reads keep the server's stream-deleted error: nothing can be appended.
 */
async function readStreamEvents(
  read: CancellableRead,
  signal: AbortSignal,
  { deletedAsEmpty = false }: { deletedAsEmpty?: boolean } = {},
): Promise<EsdbRecordedEventLike[]> {
  try {
    const resolved = await collectRead<ResolvedEvent>(read, signal);
    return resolved.flatMap(({ event }) => (event ? [event as EsdbRecordedEventLike] : []));
  } catch (error) {
    if (isStreamNotFound(error) || (deletedAsEmpty && isStreamDeleted(error))) return [];
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

/** What the client's `append` (dist/streams/appendToStream/append.js) uses of its `this`. */
interface AppendHost {
  execute(service: unknown, name: string, action: (grpc: GrpcAppendClient) => Promise<unknown>): Promise<unknown>;
  callArguments(...args: unknown[]): unknown[];
  readonly throwOnAppendFailure: boolean;
}

interface GrpcAppendClient {
  append(...args: unknown[]): unknown;
}

/**
 * The client, as the `this` of its own `append`, with one thing changed: the gRPC call is created
 * where a synchronous throw is caught. The client closes its channel by itself after an unavailable
 * or cancelled answer on any call (`handleError`); an append that took the channel's gRPC client a
 * few microtasks before then creates its call on a shut-down channel, and grpc-js throws — inside
 * `append`'s async Promise executor, where it becomes an unhandled rejection (which ends the
 * process) and an append that never settles. Here the throw instead answers the call's callback
 * with the error (so `append` rejects), hands `append` a sink that discards what it writes, and
 * sets `notSent`: nothing reached the server.
 */
function guardedAppendHost(client: Client): AppendHost & { notSent: boolean } {
  const inner = client as unknown as AppendHost;
  const host = {
    notSent: false,
    throwOnAppendFailure: inner.throwOnAppendFailure,
    callArguments: (...args: unknown[]) => inner.callArguments(...args),
    execute: (service: unknown, name: string, action: (grpc: GrpcAppendClient) => Promise<unknown>) =>
      inner.execute(service, name, (grpc) =>
        action({
          append: (...args: unknown[]) => {
            try {
              return grpc.append(...args);
            } catch (error) {
              host.notSent = true;
              const callback = args.at(-1) as (error: unknown) => void;
              setImmediate(() => callback(error));
              return new Writable({ objectMode: true, write: (_chunk, _encoding, done) => done() });
            }
          },
        }),
      ),
  };
  return host;
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
