import { sql } from 'kysely';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import {
  comparePositions,
  encodePosition,
  START,
  type EventStore,
  type GlobalPosition,
  type RecordedEvent,
} from '@dealstream/event-store';
import { countParkedStreams, projectAvoidingParked, withParking } from '../runner/parking.js';
import {
  carriedRows,
  prepareBatch,
  writeBatch,
  type CarriedRows,
  type PreparedBatch,
} from '../projections/project-batch.js';
import { compareAndSetCheckpoint } from '../runner/checkpoint.js';
import { PROJECTION_NAME, excludeLiveBatches, readCheckpoint } from '../runner/checkpoint.js';
import { LIVE_SCHEMA, createReadModelSchema, secondaryIndexes } from '../schema/read-model.schema.js';
import { compareReadModels, type ParityReport } from './parity.js';

export interface RebuildOptions {
  readonly db: ReadModelDb;
  readonly store: EventStore;
  readonly batchSize?: number;
  /** Called after every batch with the events applied so far. */
  readonly onProgress?: (applied: number) => void;
  /** false: build and compare only, keep the live tables (a dry run). */
  readonly swap?: boolean;
  /** Fault injection for tests: runs after the build phase, right before the swap transaction. */
  readonly beforeSwap?: () => Promise<void>;
}

export interface RebuildResult {
  readonly schema: string;
  readonly applied: number;
  readonly parity: ParityReport;
  readonly swapped: boolean;
  /** Streams the rebuild parked because an event could not be projected (see runner/parking.ts). */
  readonly parked: number;
  /** The replaced live schema when it could not be dropped right away (e.g. a long reader held it). */
  readonly leftover?: string;
  /**
   * Events the live tables were behind when the comparison began (no live runner overtook the
   * rebuild in time), applied to them inside the swap transaction before comparing. Kept on a swap;
   * rolled back on a dry run — the live tables are then still behind by (at least) this many.
   */
  readonly liveCaughtUp: number;
}

/**
 * Rebuilds every read model from the event store into a fresh schema while the live one keeps
 * serving, then — under the live checkpoint's row lock, so the live runner pauses — brings both to
 * the same position, checks parity row for row and swaps the schemas in one transaction.
 * A parity failure aborts the swap and keeps the live tables.
 */
export async function rebuildReadModels(options: RebuildOptions): Promise<RebuildResult> {
  const { db, store } = options;
  const batchSize = options.batchSize ?? 2000;
  const schema = `read_models_rebuild_${Date.now()}`;
  await createReadModelSchema(db, schema);
  let applied = await buildReadModels(db, store, schema, batchSize, options.onProgress);

  await options.beforeSwap?.();
  let parity: ParityReport | undefined;
  let parked = 0;
  let liveCaughtUp = 0;
  const swap = options.swap !== false;
  for (let attempt = 1; ; attempt++) {
    try {
      await db.transaction().execute(async (trx) => {
        liveCaughtUp = 0;
        // Waits for a live batch in flight to commit and holds the next one off until the swap is done.
        await excludeLiveBatches(trx);
        // Holding the live checkpoint row pauses the live runner at its next commit.
        await trx
          .withSchema(LIVE_SCHEMA)
          .selectFrom('checkpoints')
          .select('projection')
          .where('projection', '=', PROJECTION_NAME)
          .forUpdate()
          .execute();
        const live = (await readCheckpoint(trx, LIVE_SCHEMA)).position;
        const rebuilt = (await readCheckpoint(trx, schema)).position;
        if (comparePositions(rebuilt, live) > 0) {
          // Writing the live tables here could deadlock with a live batch waiting on our row lock:
          // let the live runner catch up first; only if none seems to run, do it ourselves.
          if (attempt <= LIVE_CATCH_UP_ATTEMPTS) throw new RetrySwap();
          liveCaughtUp = await catchUp(trx, store, LIVE_SCHEMA, live, rebuilt);
        } else if (comparePositions(rebuilt, live) < 0) {
          applied += await catchUp(trx, store, schema, rebuilt, live);
        }
        parity = await compareReadModels(trx, LIVE_SCHEMA, schema);
        parked = await countParkedStreams(trx, schema);
        if (!parity.equal || !swap) throw new KeepLive();
        // Raw: DDL (renaming schemas), which the builder does not say.
        await sql`alter schema ${sql.id(LIVE_SCHEMA)} rename to ${sql.id(`${schema}_replaced`)}`.execute(trx);
        await sql`alter schema ${sql.id(schema)} rename to ${sql.id(LIVE_SCHEMA)}`.execute(trx);
      });
      break;
    } catch (error) {
      if (error instanceof KeepLive) {
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
        return { schema, applied, parity: parity!, swapped: false, parked, liveCaughtUp };
      }
      const deadlock = (error as { code?: string }).code === '40P01';
      if (!(error instanceof RetrySwap) && !deadlock) throw error;
      if (attempt > LIVE_CATCH_UP_ATTEMPTS + 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const leftover = await dropQuietly(db, `${schema}_replaced`);
  return { schema, applied, parity: parity!, swapped: true, parked, liveCaughtUp, ...(leftover ? { leftover } : {}) };
}

/**
 * ~60 s of empty batches before the head measured at the start, then the rebuild fails rather than
 * stop short. On the SQL store an empty batch before the head means a transaction open somewhere on
 * the server holds back the visibility horizon; the rebuild waits for it to end.
 */
const EMPTY_BEFORE_HEAD_RETRIES = 600;

/** ~5 s of waiting for a live runner to overtake the rebuild before writing the live tables ourselves. */
const LIVE_CATCH_UP_ATTEMPTS = 100;

class RetrySwap extends Error {}
class KeepLive extends Error {}

/** How buildReadModels goes about it (both for measuring: the defaults are the faster ways, as measured). */
export interface BuildOptions {
  /**
   * true: a build from position 0 fills its tables UNLOGGED and sets them LOGGED before the indexes.
   * Off by default: measured on 200k events of the 1M-event store (2026-12-07), the SET LOGGED rewrites
   * cost more than the WAL they saved (5,343 against 7,172 events/s); kept to measure it again.
   */
  readonly unlogged?: boolean;
  /** false: one batch at a time, no batch prepared while the one before is written (see Pipelined). */
  readonly pipelined?: boolean;
}

/**
 * Projects the whole event store into `schema` (which must be fresh), batch by batch, each batch
 * and its checkpoint in one transaction. Returns the number of events applied.
 */
export async function buildReadModels(
  db: ReadModelDb,
  store: EventStore,
  schema: string,
  batchSize: number,
  onProgress?: (applied: number) => void,
  options: BuildOptions = {},
): Promise<number> {
  const { unlogged = false, pipelined = true } = options;
  let applied = 0;
  let cursor = START;
  // Everything written before the rebuild started must be in it: never stop before this head.
  const head = (await store.headPosition?.()) ?? START;
  // Bulk load: empty tables fill without their secondary indexes, which are built once at the end (and,
  // when asked, unlogged: no WAL while they fill, made logged — one rewrite each — before the indexes).
  const bulk = comparePositions((await readCheckpoint(db, schema)).position, START) === 0;
  if (bulk) {
    for (const index of secondaryIndexes(schema))
      // Raw: DDL.
      await sql`drop index if exists ${sql.id(schema)}.${sql.id(index.name)}`.execute(db);
    if (unlogged)
      for (const table of BULK_TABLES)
        await sql`alter table ${sql.id(schema)}.${sql.id(table)} set unlogged`.execute(db);
  }
  let emptyBeforeHead = 0;
  // The next batch is read while this one is projected (another connection on a pool).
  const read = (after: GlobalPosition) => {
    const pending = store.readAll({ after, limit: batchSize });
    pending.catch(() => {}); // awaited below; never an unhandled rejection meanwhile
    return pending;
  };
  // Pipelined: a batch is prepared (its rows loaded, its events applied in memory) while the one before
  // is written and committed, starting from the rows that one left (see Pipelined below). Any failure
  // — a poison event, a fault — ends the pipeline: that batch and every later one go the one-at-a-time
  // way, which parks poison streams (and which a schema that already has parked streams takes throughout).
  let pipeline: Pipelined | undefined =
    pipelined && (await countParkedStreams(db, schema)) === 0 ? new Pipelined() : undefined;
  let next = read(cursor);
  for (;;) {
    const batch = await next;
    if (batch.events.length === 0) {
      // Everything read so far is written before the build waits or ends.
      if (pipeline) {
        applied = await finish(pipeline, db, schema, onProgress);
        onProgress?.(applied);
        if (pipeline.stopped) pipeline = undefined;
      }
      if (comparePositions(cursor, head) < 0) {
        // "Nothing more" before the head: read again (the store's contract says this cannot last).
        if (++emptyBeforeHead > EMPTY_BEFORE_HEAD_RETRIES)
          throw new Error(
            `the event store keeps answering an empty batch at ${encodePosition(cursor)}, before the head ${encodePosition(head)} it had when the rebuild started (on PostgreSQL: a transaction left open on the server holds the visibility horizon back)`,
          );
        await new Promise((resolve) => setTimeout(resolve, 100));
        next = read(cursor);
        continue;
      }
      if (bulk && unlogged)
        for (const table of BULK_TABLES)
          await sql`alter table ${sql.id(schema)}.${sql.id(table)} set logged`.execute(db);
      for (const index of secondaryIndexes(schema)) await index.create.execute(db);
      await analyzeSchema(db, schema);
      return applied;
    }
    emptyBeforeHead = 0;
    next = read(batch.cursor);
    const current: BuildBatch = { events: batch.events, from: cursor, to: batch.cursor };
    cursor = batch.cursor;
    if (pipeline) {
      await pipeline.push(db, schema, current);
      // Stopped (a batch it could not prepare or write): those batches again one at a time, then on without it.
      applied = pipeline.stopped ? await finish(pipeline, db, schema, onProgress) : pipeline.applied;
      if (pipeline.stopped) pipeline = undefined;
    } else {
      // One at a time. A poison event parks its stream here as in the live runner, instead of failing the rebuild.
      applied += await projectOne(db, schema, current);
    }
    onProgress?.(applied);
  }
}

/**
 * Waits for the pipeline's batch in flight; if it failed, or the pipeline had stopped, writes the batches
 * it left unwritten one at a time (parking poison streams). Returns the events applied in all.
 */
async function finish(
  pipeline: Pipelined,
  db: ReadModelDb,
  schema: string,
  onProgress?: (applied: number) => void,
): Promise<number> {
  await pipeline.drain();
  let applied = pipeline.applied;
  for (const unwritten of pipeline.unwritten.splice(0)) {
    applied += await projectOne(db, schema, unwritten);
    onProgress?.(applied);
  }
  pipeline.applied = applied;
  return applied;
}

/** A batch of the rebuild: its events and the checkpoint it moves from and to. */
interface BuildBatch {
  readonly events: readonly RecordedEvent[];
  readonly from: GlobalPosition;
  readonly to: GlobalPosition;
}

/**
 * A build's batch transaction commits without waiting for a WAL flush: nothing reads the rebuild's
 * schema before the swap, whose own commit is durable and carries everything before it.
 */
async function buildTransaction(trx: ReadModelDb): Promise<void> {
  // Raw: a setting local to the transaction.
  await sql`set local synchronous_commit = off`.execute(trx);
}

/** One batch and its checkpoint in one transaction, poison events parking their streams; returns how many events. */
async function projectOne(db: ReadModelDb, schema: string, batch: BuildBatch): Promise<number> {
  await withParking((project) =>
    db.transaction().execute(async (trx) => {
      await buildTransaction(trx);
      await project(trx, schema, batch.events);
      await compareAndSetCheckpoint(trx, schema, batch.from, batch.to, batch.events.length);
    }),
  );
  return batch.events.length;
}

/**
 * The rebuild's two-stage pipeline: while batch N is written in its transaction (PostgreSQL's work),
 * batch N+1 is prepared (Node's: its events decoded and applied), so the two overlap on two cores
 * instead of taking turns (measured 2026-12-07: Node 70 µs and PostgreSQL 46 µs of CPU per event,
 * the build idle 43% of its wall time waiting for the writes).
 *
 * Batch N+1 starts from the rows batch N left in memory (carriedRows) and loads only the others —
 * rows no batch since N−1 touched, and N−1 is committed before N+1 is prepared. Nothing else writes a
 * rebuild's schema (a schema with parked streams does not come here: their events must wait).
 */
/**
 * Events a batch is prepared in between turns of the event loop (~2 ms of Node's time each): without
 * them the batch being written stalled after every statement while the next one was prepared in one
 * go — measured at 1M events, a `set local` answered in 16 ms, and the pipeline gained 2% over one
 * batch at a time (test/benchmarks/README.md, 2026-12-07 e).
 */
const PREPARE_SLICE = 100;

class Pipelined {
  /** Events committed. */
  applied = 0;
  /** True once a batch could not be prepared or written: from it on, `unwritten`, the build goes one at a time. */
  stopped = false;
  /** Batches not written because the pipeline stopped, oldest first. */
  readonly unwritten: BuildBatch[] = [];
  private inFlight: { batch: BuildBatch; done: Promise<boolean> } | undefined;
  private carried: CarriedRows | undefined;

  /** Prepares a batch and starts writing it once the one before is committed; or, once stopped, queues it unwritten. */
  async push(db: ReadModelDb, schema: string, batch: BuildBatch): Promise<void> {
    let prepared: PreparedBatch | undefined;
    if (!this.stopped)
      try {
        prepared = await prepareBatch(db, schema, batch.events, this.carried, PREPARE_SLICE);
      } catch {
        prepared = undefined; // a poison event or a fault: the one-at-a-time way finds out which
      }
    await this.drain();
    if (this.stopped || !prepared) {
      this.stopped = true;
      this.unwritten.push(batch);
      return;
    }
    this.carried = carriedRows(prepared);
    const written = prepared;
    const done = db
      .transaction()
      .execute(async (trx) => {
        await buildTransaction(trx);
        await writeBatch(trx, schema, written);
        await compareAndSetCheckpoint(trx, schema, batch.from, batch.to, batch.events.length);
      })
      .then(
        () => true,
        () => false,
      );
    this.inFlight = { batch, done };
  }

  /** Waits for the batch being written; if it failed, the pipeline stops with it first among `unwritten`. */
  async drain(): Promise<void> {
    const inFlight = this.inFlight;
    if (!inFlight) return;
    this.inFlight = undefined;
    if (await inFlight.done) this.applied += inFlight.batch.events.length;
    else {
      this.stopped = true;
      this.unwritten.unshift(inFlight.batch);
    }
  }
}

/** The tables a build from position 0 fills (unlogged while it does, when asked): every one that grows with the store. */
const BULK_TABLES = [
  'deals',
  'deal_states',
  'deal_versions',
  'stage_intervals',
  'stage_transitions',
  'stage_first_entries',
  'open_deal_deltas',
] as const;

const VACUUMED: ReadonlySet<string> = new Set(['deals', 'stage_intervals']);

/** Applies the events in (from, to] to `schema` inside `trx`; returns how many. */
async function catchUp(
  trx: ReadModelDb,
  store: EventStore,
  schema: string,
  from: GlobalPosition,
  to: GlobalPosition,
): Promise<number> {
  let cursor = from;
  let count = 0;
  while (comparePositions(cursor, to) < 0) {
    const batch = await store.readAll({ after: cursor, limit: 2000 });
    const events: RecordedEvent[] = batch.events.filter((event) => comparePositions(event.position, to) <= 0);
    if (events.length === 0) break;
    await projectAvoidingParked(trx, schema, events, { isolate: true });
    const next = events.at(-1)!.position;
    await compareAndSetCheckpoint(trx, schema, cursor, next, events.length);
    cursor = next;
    count += events.length;
  }
  return count;
}

/** Drops a replaced schema unless something still holds it; then it is left for the next rebuild. */
async function dropQuietly(db: ReadModelDb, schema: string): Promise<string | undefined> {
  try {
    await db.transaction().execute(async (trx) => {
      await sql`set local lock_timeout = '5s'`.execute(trx);
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(trx);
    });
    return undefined;
  } catch {
    return schema;
  }
}

/**
 * Gathers planner statistics for freshly built tables: without them the first reports after a
 * swap are planned for empty tables (nested loops over 100k rows) until autovacuum gets to them.
 * `deals` and `stage_intervals` are also vacuumed (marks their pages all-visible, so index-only scans
 * need no heap visits).
 */
async function analyzeSchema(db: ReadModelDb, schema: string): Promise<void> {
  // Raw: the catalogue and ANALYZE, outside the read-model tables.
  const { rows } = await sql<{
    name: string;
  }>`select tablename as name from pg_tables where schemaname = ${schema}`.execute(db);
  for (const { name } of rows)
    // Vacuumed too, for their visibility maps: the board's filtered totals and the as-of stall count scan indexes only.
    await (
      VACUUMED.has(name)
        ? sql`vacuum (analyze) ${sql.id(schema)}.${sql.id(name)}`
        : sql`analyze ${sql.id(schema)}.${sql.id(name)}`
    ).execute(db);
}
