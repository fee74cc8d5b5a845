import { sql, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import { hashEvent } from '../hash-chain/event-hash.js';
import { IdempotencyConflictError, WrongExpectedRevisionError } from '../port/event-store.errors.js';
import type { EventStore } from '../port/event-store.port.js';
import type {
  AppendResult,
  EventProvenance,
  EventShape,
  ExpectedRevision,
  NewEvent,
  ReadAllBatch,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamRevision,
} from '../port/event-store.types.js';
import { START, type GlobalPosition } from '../port/global-position.js';
import { validateAppend, validateMaxCount } from '../port/append-validation.js';
import { appendFailureReason, mapSqlFault } from './sql-errors.js';
import type { EventStoreTables, NewStoredEventRow } from './event-store.tables.js';

/** NOTIFY channel the SQL store signals on every committed append. */
export const EVENTS_NOTIFY_CHANNEL = 'dealstream_events';

export interface SqlEventStoreOptions {
  /**
   * Fault injection for tests: runs inside the append transaction after the events are inserted and
   * before commit. The concurrency suite delays commits here to reproduce out-of-order commits.
   */
  readonly beforeCommit?: (streamId: string) => Promise<void>;
  /**
   * Fault injection for tests: runs after the stream row is locked (the transaction already has its
   * id) and before the events get their positions, so transaction-id order and position order differ.
   */
  readonly afterStreamLock?: (streamId: string) => Promise<void>;
  /** Largest batch `readAll` returns, whatever the caller asks. */
  readonly maxReadAllLimit?: number;
}

interface StreamHead {
  previousRevision: bigint;
  previousHash: string | null;
  recordedAt: Date;
}

type EventStoreDb = Kysely<EventStoreTables>;

// Output columns are cast to text (64-bit values stay exact as strings on both drivers). Queries
// must therefore ORDER BY the table-qualified columns (`e.global_position`): a bare name would
// resolve to the text alias and sort '10000' before '9995' — the contract suite caught exactly that.
function selectEvents(db: EventStoreDb) {
  return db
    .selectFrom('event_store.events as e')
    .select((eb) => [
      eb.cast<string>('e.event_id', 'text').as('event_id'),
      'e.stream_id',
      eb.cast<string>('e.stream_revision', 'text').as('stream_revision'),
      'e.type',
      'e.data',
      'e.actor_id',
      'e.command_id',
      'e.correlation_id',
      'e.causation_id',
      'e.occurred_at',
      'e.recorded_at',
      'e.provenance',
      eb.cast<string>('e.transaction_id', 'text').as('transaction_id'),
      eb.cast<string>('e.global_position', 'text').as('global_position'),
      'e.previous_hash',
      'e.hash',
    ]);
}

/** An event as `selectEvents` reads it: the table's row with its 64-bit columns as exact text. */
type EventRow = Awaited<ReturnType<ReturnType<typeof selectEvents>['executeTakeFirstOrThrow']>>;

/**
 * The event store on PostgreSQL — a server through `pg`, or embedded PGlite — with the same SQL.
 *
 * Appends lock the stream's row in `event_store.streams` (optimistic concurrency and the hash-chain
 * head), insert the events and commit. `readAll` orders by (transaction id, position) and only returns
 * rows of transactions older than the oldest one still running, so a late commit can never land
 * behind a reader's cursor. The full argument is in docs/event-store.md.
 */
export class SqlEventStore implements EventStore {
  private readonly maxReadAllLimit: number;

  constructor(
    private readonly db: Kysely<EventStoreTables>,
    private readonly options: SqlEventStoreOptions = {},
  ) {
    this.maxReadAllLimit = options.maxReadAllLimit ?? 10_000;
  }

  async appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    { expectedRevision }: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    validateAppend(streamId, events);
    try {
      return await this.append(streamId, events, expectedRevision);
    } catch (error) {
      throw mapSqlFault(error, `appendToStream on ${streamId}`);
    }
  }

  private async append(
    streamId: string,
    events: readonly NewEvent[],
    expectedRevision: ExpectedRevision,
  ): Promise<AppendResult> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        const head = await lockStreamHead(trx, streamId, expectedRevision, events.length);
        if (!head) throw new WrongExpectedRevisionError(streamId, expectedRevision, undefined);
        await this.options.afterStreamLock?.(streamId);
        const position = await insertEvents(trx, streamId, events, head);
        await this.options.beforeCommit?.(streamId);
        return {
          streamId,
          nextExpectedRevision: head.previousRevision + BigInt(events.length),
          position,
          alreadyStored: false,
        };
      });
    } catch (error) {
      const reason = appendFailureReason(error);
      if (reason === 'other') throw error;
      // A conflict may be our own earlier attempt (a retry): then answer as that attempt did.
      const original = await this.findStoredAppend(streamId, events);
      if (original) return original;
      if (reason === 'duplicate-event-id') {
        throw new IdempotencyConflictError(
          streamId,
          events.map((event) => event.eventId),
        );
      }
      throw new WrongExpectedRevisionError(streamId, expectedRevision, await this.streamRevision(streamId));
    }
  }

  async readStream<E extends EventShape = EventShape>(
    streamId: string,
    options: ReadStreamOptions = {},
  ): Promise<RecordedEvent<E>[]> {
    try {
      // The reader names the union its stream holds (see EventStore.readStream); the rows are not checked against it.
      return (await this.readStreamRows(streamId, options)) as RecordedEvent<E>[];
    } catch (error) {
      throw mapSqlFault(error, `readStream on ${streamId}`);
    }
  }

  private async readStreamRows(streamId: string, options: ReadStreamOptions): Promise<RecordedEvent[]> {
    const backwards = options.direction === 'backwards';
    const limit = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    validateMaxCount(limit);
    if (limit === 0) return [];
    const from = options.fromRevision;
    const rows = await selectEvents(this.db)
      .where('e.stream_id', '=', streamId)
      .$if(from !== undefined, (query) => query.where('e.stream_revision', backwards ? '<=' : '>=', from!.toString()))
      .orderBy('e.stream_revision', backwards ? 'desc' : 'asc')
      .limit(Math.min(limit, 2 ** 31 - 1))
      .execute();
    return rows.map(toRecordedEvent);
  }

  async streamRevision(streamId: string): Promise<StreamRevision | undefined> {
    try {
      return await this.headRevision(streamId);
    } catch (error) {
      throw mapSqlFault(error, `streamRevision on ${streamId}`);
    }
  }

  private async headRevision(streamId: string): Promise<StreamRevision | undefined> {
    const row = await this.db
      .selectFrom('event_store.streams')
      .select((eb) => eb.cast<string>('revision', 'text').as('revision'))
      .where('stream_id', '=', streamId)
      .executeTakeFirst();
    return row ? BigInt(row.revision) : undefined;
  }

  async readAll<E extends EventShape = EventShape>(options: ReadAllOptions): Promise<ReadAllBatch<E>> {
    try {
      // As readStream: the reader names the union.
      return (await this.readAllRows(options)) as ReadAllBatch<E>;
    } catch (error) {
      throw mapSqlFault(error, 'readAll');
    }
  }

  private async readAllRows(options: ReadAllOptions): Promise<ReadAllBatch> {
    const after = options.after ?? START;
    const limit = Math.min(Math.max(1, Math.trunc(options.limit)), this.maxReadAllLimit);
    const types = options.filter?.eventTypes;
    const categories = options.filter?.streamCategories;
    // Rows of transactions that began before the oldest still-running one are final: nothing can
    // commit below that horizon any more, so the cursor can safely pass them.
    const rows = await selectEvents(this.db)
      .where((eb) =>
        eb.and([
          eb(
            eb.refTuple('e.transaction_id', 'e.global_position'),
            '>',
            eb.tuple(
              eb.cast<string>(eb.val(after.major.toString()), sql.raw('xid8')),
              eb.cast<string>(eb.val(after.minor.toString()), 'bigint'),
            ),
          ),
          eb('e.transaction_id', '<', eb.fn<string>('pg_snapshot_xmin', [eb.fn('pg_current_snapshot')])),
        ]),
      )
      .$if(Boolean(types?.length), (query) =>
        query.where('e.type', '=', (eb) =>
          eb.fn.any(eb.cast<readonly string[]>(eb.val([...types!]), sql.raw('text[]'))),
        ),
      )
      .$if(Boolean(categories?.length), (query) =>
        query.where('e.stream_category', '=', (eb) =>
          eb.fn.any(eb.cast<readonly string[]>(eb.val([...categories!]), sql.raw('text[]'))),
        ),
      )
      .orderBy('e.transaction_id')
      .orderBy('e.global_position')
      .limit(limit)
      .execute();
    const events = rows.map(toRecordedEvent);
    return { events, cursor: events.at(-1)?.position ?? after };
  }

  async close(): Promise<void> {
    // The store does not own the database; whoever opened it closes it.
  }

  /** The result of an earlier append of exactly these events at the end of this stream, if any. */
  private async findStoredAppend(streamId: string, events: readonly NewEvent[]): Promise<AppendResult | undefined> {
    const ids = events.map((event) => event.eventId);
    const rows = await this.db
      .selectFrom('event_store.events')
      .select((eb) => [
        eb.cast<string>('event_id', 'text').as('event_id'),
        'stream_id',
        eb.cast<string>('stream_revision', 'text').as('stream_revision'),
        eb.cast<string>('transaction_id', 'text').as('transaction_id'),
        eb.cast<string>('global_position', 'text').as('global_position'),
      ])
      .where('event_id', '=', (eb) => eb.fn.any(eb.cast<readonly string[]>(eb.val(ids), sql.raw('uuid[]'))))
      .execute();
    if (rows.length === 0) return undefined;
    const byId = new Map(rows.map((row) => [row.event_id, row]));
    const stored = ids.map((id) => byId.get(id.toLowerCase()));
    const complete = stored.every(
      (row, index) =>
        row !== undefined &&
        row.stream_id === streamId &&
        BigInt(row.stream_revision) === BigInt(stored[0]!.stream_revision) + BigInt(index),
    );
    if (!complete)
      throw new IdempotencyConflictError(
        streamId,
        rows.map((row) => row.event_id),
      );
    const last = stored.at(-1)!;
    return {
      streamId,
      nextExpectedRevision: BigInt(last.stream_revision),
      position: { major: BigInt(last.transaction_id), minor: BigInt(last.global_position) },
      alreadyStored: true,
    };
  }
}

/**
 * Moves the stream's head forward by `count` if the expected revision holds, returning the previous
 * head (revision and hash) under the row lock; undefined when the expectation fails. The row lock
 * serialises concurrent appends to one stream; RETURNING reads the locked row's latest version.
 */
async function lockStreamHead(
  trx: Transaction<EventStoreTables>,
  streamId: string,
  expected: ExpectedRevision,
  count: number,
): Promise<StreamHead | undefined> {
  const n = BigInt(count);
  const headColumns = (eb: ExpressionBuilder<EventStoreTables, 'event_store.streams'>) => [
    eb.cast<string>('event_store.streams.revision', 'text').as('revision'),
    'event_store.streams.last_hash' as const,
    eb.fn<Date | string>('date_trunc', [sql.lit('milliseconds'), eb.fn('clock_timestamp')]).as('now'),
  ];
  const created = { stream_id: streamId, revision: (n - 1n).toString() };
  let row;
  if (expected === 'no_stream') {
    row = await trx
      .insertInto('event_store.streams')
      .values(created)
      .onConflict((oc) => oc.doNothing())
      .returning(headColumns)
      .executeTakeFirst();
  } else if (expected === 'any') {
    row = await trx
      .insertInto('event_store.streams')
      .values(created)
      .onConflict((oc) =>
        oc.column('stream_id').doUpdateSet((eb) => ({
          revision: eb('event_store.streams.revision', '+', n.toString()).$castTo<string>(),
          updated_at: eb.fn('now'),
        })),
      )
      .returning(headColumns)
      .executeTakeFirst();
  } else {
    row = await trx
      .updateTable('event_store.streams')
      .set((eb) => ({ revision: eb('revision', '+', n.toString()).$castTo<string>(), updated_at: eb.fn('now') }))
      .where('stream_id', '=', streamId)
      .$if(expected !== 'stream_exists', (query) => query.where('revision', '=', expected.toString()))
      .returning(headColumns)
      .executeTakeFirst();
  }
  if (!row) return undefined;
  return { previousRevision: BigInt(row.revision) - n, previousHash: row.last_hash, recordedAt: new Date(row.now) };
}

/** Inserts the events after the head, chains their hashes and moves the stream's hash head. */
async function insertEvents(
  trx: Transaction<EventStoreTables>,
  streamId: string,
  events: readonly NewEvent[],
  head: StreamHead,
): Promise<GlobalPosition> {
  let previousHash = head.previousHash;
  const rows = events.map((event, index): NewStoredEventRow => {
    const revision = head.previousRevision + 1n + BigInt(index);
    const { actorId, commandId, correlationId, causationId, occurredAt, provenance } = event.metadata;
    const hash = hashEvent(
      {
        streamId,
        revision,
        eventId: event.eventId.toLowerCase(),
        type: event.type,
        data: event.data,
        actorId,
        commandId,
        correlationId,
        causationId,
        occurredAt,
        recordedAt: head.recordedAt,
        provenance,
      },
      previousHash,
    );
    const row: NewStoredEventRow = {
      event_id: event.eventId,
      stream_id: streamId,
      stream_revision: revision.toString(),
      type: event.type,
      data: JSON.stringify(event.data),
      actor_id: actorId,
      command_id: commandId ?? null,
      correlation_id: correlationId ?? null,
      causation_id: causationId ?? null,
      occurred_at: occurredAt.toISOString(),
      recorded_at: head.recordedAt.toISOString(),
      ...(provenance ? { provenance: JSON.stringify(provenance) } : {}),
      previous_hash: previousHash,
      hash,
    };
    previousHash = hash;
    return row;
  });
  // One round trip: insert the events, move the stream's hash head, and NOTIFY on commit.
  const last = await trx
    .with('inserted', (db) =>
      db.insertInto('event_store.events').values(rows).returning(['transaction_id', 'global_position']),
    )
    .with('head', (db) =>
      db.updateTable('event_store.streams').set({ last_hash: previousHash }).where('stream_id', '=', streamId),
    )
    .selectFrom('inserted')
    .select((eb) => [
      eb.cast<string>('inserted.transaction_id', 'text').as('transaction_id'),
      eb.cast<string>(eb.fn.max('inserted.global_position'), 'text').as('global_position'),
      // Wakes LISTENers (projection runners) when this transaction commits; a hint, not a delivery.
      // Raw: the builder has no FROM-less scalar subquery, which calls pg_notify once, not per row.
      sql<boolean>`(select pg_notify(${EVENTS_NOTIFY_CHANNEL}, '')) is null`.as('notified'),
    ])
    .groupBy('inserted.transaction_id')
    .executeTakeFirstOrThrow();
  return { major: BigInt(last.transaction_id), minor: BigInt(last.global_position) };
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    eventId: row.event_id,
    streamId: row.stream_id,
    revision: BigInt(row.stream_revision),
    type: row.type,
    data: (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as object,
    metadata: {
      actorId: row.actor_id,
      ...(row.command_id !== null ? { commandId: row.command_id } : {}),
      ...(row.correlation_id !== null ? { correlationId: row.correlation_id } : {}),
      ...(row.causation_id !== null ? { causationId: row.causation_id } : {}),
      occurredAt: new Date(row.occurred_at),
      ...(row.provenance !== null ? { provenance: readProvenance(row.provenance) } : {}),
    },
    recordedAt: new Date(row.recorded_at),
    position: { major: BigInt(row.transaction_id), minor: BigInt(row.global_position) },
    hash: row.hash,
    previousHash: row.previous_hash,
  };
}

/** jsonb comes back parsed from both drivers (as text on some paths). */
function readProvenance(value: unknown): EventProvenance {
  return (typeof value === 'string' ? JSON.parse(value) : value) as EventProvenance;
}
