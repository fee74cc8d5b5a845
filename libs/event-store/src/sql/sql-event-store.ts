import {
  sql,
  CompiledQuery,
  type ExpressionBuilder,
  type InferResult,
  type Kysely,
  type SelectQueryBuilder,
} from 'kysely';
import { compiledOnce, preparedOnServer } from '@dealstream/database';
import { canonicalEventParts, writerContent, type CanonicalEventParts } from '../hash-chain/event-hash.js';
import { IdempotencyConflictError, WrongExpectedRevisionError, isEventStoreError } from '../port/event-store.errors.js';
import type { CommittedAfter, EventStore, ReadAllJsonPage } from '../port/event-store.port.js';
import type {
  AppendOutcome,
  AppendResult,
  EventProvenance,
  EventShape,
  ExpectedRevision,
  NewEvent,
  ReadAllBatch,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamAppend,
  StreamRevision,
} from '../port/event-store.types.js';
import { START, type GlobalPosition } from '../port/global-position.js';
import { validateAppend, validateMaxCount } from '../port/append-validation.js';
import { isUniqueViolation, mapSqlFault } from './sql-errors.js';
import type { EventStoreTables } from './event-store.tables.js';
import { DEFAULT_GROUP_COMMIT, GroupCommit, type GroupCommitOptions, type Settlement } from './group-commit.js';
import { bulkAppend, type BulkAppendRequest } from './bulk-append.js';
import { eventTextRow, eventsJson, type EventTextRow } from './event-json.js';
import { checkPacked, checkPrepared, isPacked, isPrepared, prepareEvents, unpackPrepared } from './prepared-events.js';

/** NOTIFY channel the SQL store signals on every committed append. */
export const EVENTS_NOTIFY_CHANNEL = 'dealstream_events';

export interface SqlEventStoreOptions {
  /**
   * Fault injection for tests: runs inside the append transaction after the events are inserted and
   * before commit (once per stream the group appended to). The concurrency suite delays commits
   * here to reproduce out-of-order commits. Either hook makes every call run in an explicit transaction.
   */
  readonly beforeCommit?: (streamId: string) => Promise<void>;
  /**
   * Fault injection for tests: runs after the group's stream rows are locked (the transaction already
   * has its id) and before the events get their positions, so transaction-id order and position order differ.
   */
  readonly afterStreamLock?: (streamId: string) => Promise<void>;
  /** Largest batch `readAll` returns, whatever the caller asks. */
  readonly maxReadAllLimit?: number;
  /** How concurrent appends share a statement (EVENT_STORE_GROUP_COMMIT_*); DEFAULT_GROUP_COMMIT unless set. */
  readonly groupCommit?: Partial<GroupCommitOptions>;
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

/** `e` lies after `after` in the global order: (transaction id, position) compared as a pair. */
function isAfter(eb: ExpressionBuilder<EventsAsE, 'e'>, after: GlobalPosition) {
  return eb(
    eb.refTuple('e.transaction_id', 'e.global_position'),
    '>',
    eb.tuple(
      eb.cast<string>(eb.val(after.major.toString()), sql.raw('xid8')),
      eb.cast<string>(eb.val(after.minor.toString()), 'bigint'),
    ),
  );
}

/**
 * The events as `readAllJson` reads them: one text per event, its columns' texts joined as
 * `EVENT_TEXT_FIELDS` says (event-json.ts), instants as UTC `timestamp` text — PostgreSQL only writes
 * each column's text, and the driver decodes one field per event instead of sixteen.
 */
function selectEventTexts(db: EventStoreDb) {
  // concat_ws calls each column's output function, as a cast to text does; `'=' || null` is null, so a
  // nullable column is '=' + its text or '' for null. The order is EVENT_TEXT_FIELDS'.
  return db.selectFrom('event_store.events as e').select(
    sql<string>`concat_ws(chr(31), e.event_id, e.stream_id, e.stream_revision, e.type, e.data, e.actor_id,
      coalesce('=' || e.command_id, ''), coalesce('=' || e.correlation_id, ''), coalesce('=' || e.causation_id, ''),
      e.occurred_at at time zone 'UTC', e.recorded_at at time zone 'UTC', e.hash,
      coalesce('=' || e.previous_hash, ''), coalesce('=' || e.provenance::text, ''),
      e.transaction_id, e.global_position)`.as('event'),
  );
}

/** The events table under the alias `e` every query here gives it. */
type EventsAsE = EventStoreTables & { e: EventStoreTables['event_store.events'] };

/** An event as `selectEvents` reads it: the table's row with its 64-bit columns as exact text. */
type EventRow = Awaited<ReturnType<ReturnType<typeof selectEvents>['executeTakeFirstOrThrow']>>;

/**
 * The event store on PostgreSQL — a server through `pg`, or embedded PGlite — with the same SQL.
 *
 * Appends are grouped (`GroupCommit`): concurrent appends go to the database as one call of
 * `event_store.append_batch`, which checks each expected revision, answers retries, chains the hashes,
 * inserts the events, moves the heads and notifies in one statement, answering each append on its
 * own. `readAll` orders by (transaction id, position) and only returns rows of transactions older than
 * the oldest one still running, so a late commit can never land behind a reader's cursor. The full
 * argument is in docs/event-store.md.
 */
export class SqlEventStore implements EventStore {
  private readonly maxReadAllLimit: number;
  private readonly groups: GroupCommit<AppendRequest, AppendResult>;

  constructor(
    private readonly db: Kysely<EventStoreTables>,
    private readonly options: SqlEventStoreOptions = {},
  ) {
    this.maxReadAllLimit = options.maxReadAllLimit ?? 10_000;
    // With fault-injection hooks (tests) and no explicit grouping, every append is its own group and
    // none waits for another: the concurrency tests need many transactions in flight at once, each
    // delayed on its own, to reorder commits as concurrent processes would (writers sharing a group
    // move in lockstep, which hides the races those tests are there to provoke).
    const faulty = Boolean(options.afterStreamLock ?? options.beforeCommit) && !options.groupCommit;
    this.groups = new GroupCommit((group) => this.commitGroup(group), {
      ...DEFAULT_GROUP_COMMIT,
      ...(faulty ? { maxAppends: 1, maxInFlight: Number.MAX_SAFE_INTEGER } : {}),
      ...options.groupCommit,
    });
  }

  async appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    { expectedRevision }: { expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    validateAppend(streamId, events);
    const request: AppendRequest = {
      streamId,
      expectedRevision,
      eventIds: events.map((event) => event.eventId.toLowerCase()),
      parts: events.map((event) => canonicalEventParts(writerContent(streamId, event))),
    };
    return this.groups.submit(request, request.eventIds);
  }

  /**
   * A bulk writer's batch in one transaction, set-wise (`bulkAppend`, docs/event-store.md "Bulk
   * appends"): heads locked once, hashes chained here, every event in one COPY, one NOTIFY. Each append
   * answered as `appendToStream` answers it. When the transaction fails as a whole (a race with
   * another writer, a value the database refuses, a timeout) every append goes again on its own
   * through the grouped path, so a failure stays with the append that caused it; an unreachable
   * database fails them all (`unavailable`, outcome unknown: retry with the same ids).
   */
  async appendMany(appends: readonly StreamAppend[]): Promise<AppendOutcome[]> {
    const outcomes: (AppendOutcome | undefined)[] = new Array<AppendOutcome | undefined>(appends.length);
    const requests: BulkAppendRequest[] = [];
    const indexes: number[] = [];
    for (const [index, { streamId, events, expectedRevision }] of appends.entries()) {
      try {
        // Prepared by the writer (maybe on another thread, maybe packed), or here: validated, pieces and rows made once.
        if (isPrepared(events) && isPacked(events)) {
          requests.push({ streamId, expectedRevision, prepared: checkPacked(streamId, events) });
        } else {
          const prepared = isPrepared(events) ? checkPrepared(streamId, events) : prepareEvents(streamId, events);
          requests.push({ streamId, expectedRevision, eventIds: prepared.eventIds, prepared });
        }
        indexes.push(index);
      } catch (error) {
        outcomes[index] = { ok: false, error };
      }
    }
    const alone = (request: BulkAppendRequest) => {
      const { streamId, expectedRevision } = request;
      const prepared = isPacked(request.prepared) ? unpackPrepared(request.prepared) : request.prepared;
      const { eventIds } = prepared;
      return this.groups
        .submit(
          {
            streamId,
            expectedRevision,
            eventIds,
            parts: prepared.heads.map((head, k) => ({ head, middle: prepared.middles[k], tail: prepared.tails[k] })),
          },
          eventIds,
        )
        .then(
          (value): AppendOutcome => ({ ok: true, value }),
          (error: unknown): AppendOutcome => ({ ok: false, error }),
        );
    };
    let answered: AppendOutcome[];
    if (requests.length === 0) answered = [];
    // Fault-injection hooks (tests) widen race windows per append: keep those appends on that path.
    else if (this.options.afterStreamLock ?? this.options.beforeCommit)
      answered = await Promise.all(requests.map(alone));
    else {
      try {
        answered = await bulkAppend(this.db, requests, EVENTS_NOTIFY_CHANNEL);
      } catch (error) {
        const fault = mapSqlFault(error, `appendMany (${requests.length} appends)`);
        if (isEventStoreError(fault, 'unavailable')) answered = requests.map(() => ({ ok: false, error: fault }));
        else answered = await Promise.all(requests.map(alone));
      }
    }
    answered.forEach((outcome, k) => (outcomes[indexes[k]] = outcome));
    return outcomes.map((outcome) => outcome!);
  }

  /** Commits one group: one call of `event_store.append_batch`, each append answered on its own. */
  private async commitGroup(group: readonly AppendRequest[]): Promise<Settlement<AppendResult>[]> {
    // Sorted by stream (stable), so a stream's appends follow each other in the call.
    const order = group.map((_, index) => index).sort((a, b) => compareText(group[a].streamId, group[b].streamId));
    let rows: AppendOutcomeRow[];
    try {
      rows = await this.callAppendBatch(
        order.map((index) => group[index]),
        false,
      );
    } catch (error) {
      const operation = group.length === 1 ? `on ${group[0].streamId}` : `(a group of ${group.length})`;
      const fault = mapSqlFault(error, `appendToStream ${operation}`);
      // Unreachable database: every member fails alike (a retry with the same event ids is safe).
      if (isEventStoreError(fault, 'unavailable')) return group.map(() => ({ ok: false, error: fault }));
      // A lone append that failed for its own reason (a timeout, a value the database refuses) would
      // only fail again, later.
      if (group.length === 1 && !isUniqueViolation(error)) return [{ ok: false, error: fault }];
      // Anything else (a timeout, a bad value in one append, a race with another transaction):
      // each member again on its own, so one append's failure is only its own.
      return group.map((request) => ({ later: this.appendAlone(request) }));
    }
    const rowOf = new Map(order.map((index, position) => [index, rows[position]]));
    // A head another transaction holds: alone, waiting for it, so the group did not.
    const settlements = group.map((request, index): Settlement<AppendResult> => {
      const row = rowOf.get(index)!;
      return row.outcome === 'busy' ? { later: this.appendAlone(request) } : settleRow(request, row);
    });
    return settlements;
  }

  /** One append in its own call, waiting for its stream's lock; retried when it raced a concurrent writer. */
  private async appendAlone(request: AppendRequest): Promise<AppendResult> {
    for (let attempt = 1; ; attempt++) {
      let row: AppendOutcomeRow;
      try {
        [row] = await this.callAppendBatch([request], true);
      } catch (error) {
        // A unique violation: a transaction that committed since our snapshot created the stream or
        // stored these ids. The next call sees it (and answers the retry, or the conflict).
        if (attempt < 3 && isUniqueViolation(error)) continue;
        throw mapSqlFault(error, `appendToStream on ${request.streamId}`);
      }
      const settlement = settleRow(request, row);
      if ('later' in settlement) return settlement.later;
      if (settlement.ok) return settlement.value;
      throw settlement.error;
    }
  }

  /**
   * The one round trip. With fault-injection hooks (tests only) the call runs inside an explicit
   * transaction that first locks the heads and takes its id, so the hooks can widen race windows.
   */
  private async callAppendBatch(requests: readonly AppendRequest[], wait: boolean): Promise<AppendOutcomeRow[]> {
    const { afterStreamLock, beforeCommit } = this.options;
    if (!afterStreamLock && !beforeCommit) return appendBatch(this.db, requests, wait);
    return this.db.transaction().execute(async (trx) => {
      const streams = [...new Set(requests.map((request) => request.streamId))].sort(compareText);
      await trx
        .selectFrom('event_store.streams')
        .select('stream_id')
        .where('stream_id', 'in', streams)
        .orderBy('stream_id')
        .forUpdate()
        .execute();
      await trx.selectNoFrom((eb) => eb.fn('pg_current_xact_id').as('xid')).execute();
      if (afterStreamLock) await Promise.all(streams.map((streamId) => afterStreamLock(streamId)));
      const rows = await appendBatch(trx, requests, true);
      const appended = new Set(requests.filter((_, i) => rows[i].outcome === 'appended').map((r) => r.streamId));
      if (beforeCommit) await Promise.all([...appended].map((streamId) => beforeCommit(streamId)));
      return rows;
    });
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

  async readStreams(streamIds: readonly string[]): Promise<Map<string, RecordedEvent[]>> {
    const streams = new Map<string, RecordedEvent[]>(streamIds.map((streamId) => [streamId, []]));
    if (streamIds.length === 0) return streams;
    try {
      // An import's batch reads a few hundred streams at once: without statistics (autovacuum off,
      // PGlite) `= any(…)` of that many ids was priced as most of the table and scanned it whole, per
      // batch — a quadratic import. The unique index on (stream_id, stream_revision) serves it whatever
      // the table's size: sequential scans priced out for this read (docs/event-store.md, "Plans").
      const rows = await this.db.transaction().execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx);
        return selectEvents(trx)
          .where('e.stream_id', '=', (eb) =>
            eb.fn.any(eb.cast<readonly string[]>(eb.val([...streamIds]), sql.raw('text[]'))),
          )
          .orderBy('e.stream_id')
          .orderBy('e.stream_revision')
          .execute();
      });
      for (const row of rows) streams.get(row.stream_id)!.push(toRecordedEvent(row));
      return streams;
    } catch (error) {
      throw mapSqlFault(error, `readStreams (${streamIds.length} streams)`);
    }
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

  /**
   * The position of the last committed event — beyond the visibility horizon readAll stops at, so a
   * reader that must see everything written before it started (a rebuild) knows how far to go.
   */
  async headPosition(): Promise<GlobalPosition> {
    try {
      const row = await this.db
        .selectFrom('event_store.events as e')
        .select((eb) => [
          eb.cast<string>('e.transaction_id', 'text').as('tx'),
          eb.cast<string>('e.global_position', 'text').as('pos'),
        ])
        .orderBy('e.transaction_id', 'desc')
        .orderBy('e.global_position', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? { major: BigInt(row.tx), minor: BigInt(row.pos) } : START;
    } catch (error) {
      throw mapSqlFault(error, 'headPosition');
    }
  }

  /**
   * Events committed after `after`, counted up to `limit` — readable or not: a row that readAll still
   * holds back behind the visibility horizon (an older transaction open anywhere on the server) is
   * counted too, so lag figures show a held horizon as lag instead of "up to date".
   */
  async committedAfter(after: GlobalPosition, limit: number): Promise<CommittedAfter> {
    try {
      const pending = this.db
        .selectFrom('event_store.events as e')
        .select(['e.transaction_id', 'e.global_position', 'e.recorded_at'])
        .where((eb) => isAfter(eb, after))
        .orderBy('e.transaction_id')
        .orderBy('e.global_position')
        .limit(Math.max(1, Math.trunc(limit)));
      const row = await this.db
        .with('p', () => pending)
        .selectFrom('p')
        .select((eb) => {
          // The last pending event (within the limit): its transaction, then its position within it.
          const last = () =>
            eb.selectFrom('p as q').orderBy('q.transaction_id', 'desc').orderBy('q.global_position', 'desc').limit(1);
          return [
            eb.cast<string>(eb.fn.countAll(), 'text').as('count'),
            eb.fn.min('p.recorded_at').as('first_recorded_at'),
            last()
              .select((q) => q.cast<string>('q.transaction_id', 'text').as('tx'))
              .as('last_tx'),
            last()
              .select((q) => q.cast<string>('q.global_position', 'text').as('pos'))
              .as('last_pos'),
          ];
        })
        .executeTakeFirstOrThrow();
      const count = Number(row.count);
      if (count === 0 || !row.last_tx || !row.last_pos || !row.first_recorded_at) return { count: 0, last: after };
      return {
        count,
        firstRecordedAt: new Date(row.first_recorded_at),
        last: { major: BigInt(row.last_tx), minor: BigInt(row.last_pos) },
      };
    } catch (error) {
      throw mapSqlFault(error, 'committedAfter');
    }
  }

  /**
   * This store reading through `db` — e.g. the one connection a projection runner holds — instead
   * of the pool it was made with: a reader that must not queue behind every request's queries for a
   * pooled connection (the in-process runner's `readAll` waited 0.3–0.9 s for one under load). Meant
   * for reads; appends made through it are grouped on their own.
   */
  readingThrough(db: Kysely<EventStoreTables>): SqlEventStore {
    return new SqlEventStore(db, this.options);
  }

  async readAll<E extends EventShape = EventShape>(options: ReadAllOptions): Promise<ReadAllBatch<E>> {
    try {
      // As readStream: the reader names the union.
      return (await this.readAllRows(options)) as ReadAllBatch<E>;
    } catch (error) {
      throw mapSqlFault(error, 'readAll');
    }
  }

  /**
   * `readAll` with the events as the feed's JSON (`ReadAllJsonPage`): the same rows read as text
   * (`selectEventTexts`) and written into the JSON by `eventsJson` — no sixteen values parsed, no
   * view objects, no `JSON.stringify` of the page. Undefined when an instant is not one `toISOString`
   * writes as PostgreSQL's text (years outside 1000–9999) or a text column holds the field separator
   * (U+001F): the caller reads that page with `readAll`.
   */
  async readAllJson(options: ReadAllOptions): Promise<ReadAllJsonPage | undefined> {
    try {
      const texts: readonly EventText[] =
        options.filter?.eventTypes?.length || options.filter?.streamCategories?.length
          ? await this.readAllQuery(selectEventTexts(this.db), options).execute()
          : (await this.db.executeQuery(this.unfilteredReadAllTexts(options))).rows;
      const rows: EventTextRow[] = [];
      for (const { event } of texts) {
        const row = eventTextRow(event);
        // A text column held the separator: the page is readAll's.
        if (row === undefined) return undefined;
        rows.push(row);
      }
      const json = eventsJson(rows);
      if (json === undefined) return undefined;
      const last = rows.at(-1);
      return {
        eventsJson: json,
        count: rows.length,
        cursor: last
          ? { major: BigInt(last.transaction_id), minor: BigInt(last.global_position) }
          : (options.after ?? START),
      };
    } catch (error) {
      throw mapSqlFault(error, 'readAll');
    }
  }

  /** The global-order read's condition, order and limit on `query` (the events as `e`). */
  private readAllQuery<O>(query: SelectQueryBuilder<EventsAsE, 'e', O>, options: ReadAllOptions) {
    const after = options.after ?? START;
    const limit = Math.min(Math.max(1, Math.trunc(options.limit)), this.maxReadAllLimit);
    const types = options.filter?.eventTypes;
    const categories = options.filter?.streamCategories;
    // Rows of transactions that began before the oldest still-running one are final: nothing can
    // commit below that horizon any more, so the cursor can safely pass them.
    return query
      .where((eb) =>
        eb.and([
          isAfter(eb, after),
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
      .limit(limit);
  }

  private async readAllRows(options: ReadAllOptions): Promise<ReadAllBatch> {
    const rows =
      options.filter?.eventTypes?.length || options.filter?.streamCategories?.length
        ? await this.readAllQuery(selectEvents(this.db), options).execute()
        : (await this.db.executeQuery(this.unfilteredReadAll(options))).rows;
    const events = rows.map(toRecordedEvent);
    return { events, cursor: events.at(-1)?.position ?? options.after ?? START };
  }

  /**
   * The unfiltered global-order read (the projection runner's, after every batch and every NOTIFY) with
   * its three parameters, its text built by Kysely once per database rather than per read.
   */
  private unfilteredReadAll(options: ReadAllOptions): CompiledQuery<SelectedEvent> {
    const after = options.after ?? START;
    const limit = Math.min(Math.max(1, Math.trunc(options.limit)), this.maxReadAllLimit);
    // [after.major, after.minor, limit], in the order isAfter and readAllQuery bind them.
    return compiledOnce(
      unfilteredReadAlls,
      this.db.getExecutor().adapter,
      () => this.readAllQuery(selectEvents(this.db), { limit: 1 }).compile(),
      [after.major.toString(), after.minor.toString(), limit],
    );
  }

  /** `unfilteredReadAll` with the columns of `readAllJson` (GET /events without filters). */
  private unfilteredReadAllTexts(options: ReadAllOptions): CompiledQuery<EventText> {
    const after = options.after ?? START;
    const limit = Math.min(Math.max(1, Math.trunc(options.limit)), this.maxReadAllLimit);
    return compiledOnce(
      unfilteredReadAllTexts,
      this.db.getExecutor().adapter,
      // Named on the server: parsed and planned once per connection (libs/database prepared-statements.ts).
      () => preparedOnServer(this.readAllQuery(selectEventTexts(this.db), { limit: 1 }).compile()),
      [after.major.toString(), after.minor.toString(), limit],
    );
  }

  async close(): Promise<void> {
    // The store does not own the database (whoever opened it closes it); it answers what it took.
    await this.groups.drain();
  }
}

type SelectedEvent = InferResult<ReturnType<typeof selectEvents>>[number];

/** The compiled unfiltered readAll per dialect adapter (one per database opened; PostgreSQL or PGlite). */
const unfilteredReadAlls = new WeakMap<object, CompiledQuery<SelectedEvent>>();
/** As unfilteredReadAlls, for readAllJson. */
const unfilteredReadAllTexts = new WeakMap<object, CompiledQuery<EventText>>();

/** An event as `selectEventTexts` reads it. */
interface EventText {
  readonly event: string;
}

/** One queued append, with its events' canonical parts computed before it joins a group. */
interface AppendRequest {
  readonly streamId: string;
  readonly expectedRevision: ExpectedRevision;
  /** Lower-case, as stored and hashed. */
  readonly eventIds: readonly string[];
  readonly parts: readonly Pick<CanonicalEventParts, 'head' | 'middle' | 'tail'>[];
}

/** A row of `event_store.append_batch`: one per append, in the order sent. */
interface AppendOutcomeRow {
  outcome: 'appended' | 'replayed' | 'wrong-expected-revision' | 'idempotency-conflict' | 'busy';
  /** appended/replayed: the stream's revision after the append; wrong-expected-revision: the actual one (null: no stream). */
  next_revision: string | null;
  tx: string | null;
  pos: string | null;
  conflict_ids: string[] | null;
}

/**
 * The call of the append function: a set-returning function of array arguments, which the builder has
 * no words for. One text for every group, so it is named on the server (parsed and planned once per
 * connection, libs/database prepared-statements.ts); on PGlite it runs as a plain statement.
 */
const APPEND_BATCH = preparedOnServer(
  CompiledQuery.raw(
    'select outcome, next_revision, tx, pos, conflict_ids from event_store.append_batch(' +
      '$1::text[], $2::text[], $3::int[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::boolean)',
  ),
).sql;

/** Calls the append function for these appends (already in stream order). */
async function appendBatch(
  db: Kysely<EventStoreTables>,
  requests: readonly AppendRequest[],
  wait: boolean,
): Promise<AppendOutcomeRow[]> {
  const ids: string[] = [];
  const heads: string[] = [];
  const middles: string[] = [];
  const tails: string[] = [];
  for (const request of requests) {
    ids.push(...request.eventIds);
    for (const part of request.parts) {
      heads.push(part.head);
      middles.push(part.middle);
      tails.push(part.tail);
    }
  }
  const { rows } = await db.executeQuery<AppendOutcomeRow>(
    CompiledQuery.raw(APPEND_BATCH, [
      requests.map((request) => request.streamId),
      requests.map((request) => expectedText(request.expectedRevision)),
      requests.map((request) => request.eventIds.length),
      ids,
      heads,
      middles,
      tails,
      wait,
    ]),
  );
  if (rows.length !== requests.length)
    throw new Error(`append_batch answered ${rows.length} rows for ${requests.length} appends`);
  return rows;
}

function settleRow(request: AppendRequest, row: AppendOutcomeRow): Settlement<AppendResult> {
  const { streamId } = request;
  switch (row.outcome) {
    case 'appended':
    case 'replayed':
      return {
        ok: true,
        value: {
          streamId,
          nextExpectedRevision: BigInt(row.next_revision!),
          position: { major: BigInt(row.tx!), minor: BigInt(row.pos!) },
          alreadyStored: row.outcome === 'replayed',
        },
      };
    case 'idempotency-conflict':
      return { ok: false, error: new IdempotencyConflictError(streamId, row.conflict_ids ?? []) };
    case 'wrong-expected-revision':
      return {
        ok: false,
        error: new WrongExpectedRevisionError(
          streamId,
          request.expectedRevision,
          row.next_revision === null ? undefined : BigInt(row.next_revision),
        ),
      };
    case 'busy':
      // Only without waiting; appendAlone waits, so it never sees this.
      return { ok: false, error: new Error(`append_batch: stream ${streamId} busy in a waiting call`) };
  }
}

function expectedText(expected: ExpectedRevision): string {
  return typeof expected === 'bigint' ? expected.toString() : expected;
}

/** Code-unit order: only has to put a stream's appends next to each other, the same way every time. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
