import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg, { Pool } from 'pg';
import { SqlEventStore, migrateEventStore, type EventStore, type GlobalPosition } from '@dealstream/event-store';
import { dealStreamName } from '@dealstream/deals-domain';
import {
  CheckpointWatch,
  LIVE_SCHEMA,
  ProjectionRunner,
  compareAndSetCheckpoint,
  ensureReadModelSchema,
  readCheckpoint,
} from '@dealstream/read-models';
import { openDatabase, type Database } from '@dealstream/database';
import { appendActivity } from '../support/append-activity.js';
import { FixtureWriter } from '../support/fixture-writer.js';
import { createPostgresTestDatabase, type TestDatabase } from '../support/test-database.js';

/*
 * Projection lag (issue 13): how quickly the runner wakes up and how quickly waiting reads learn it
 * moved — without giving up the checkpoint's compare-and-set now that the runner keeps its
 * position in memory between batches.
 */

const STAGE = randomUUID();

async function setUp(database: TestDatabase) {
  const store = new SqlEventStore(database.db);
  const writer = new FixtureWriter(store);
  const pipelineId = randomUUID();
  await writer.pipeline(pipelineId, new Date('2026-01-01T00:00:00Z'), () => [
    {
      type: 'DefinePipeline',
      data: { pipelineId, name: 'Lag', currency: 'EUR', stages: [{ stageId: STAGE, name: 'S', probability: 50 }] },
    },
  ]);
  const deal = async (dealId = randomUUID()): Promise<GlobalPosition> => {
    await writer.deal(
      dealId,
      new Date('2026-02-01T00:00:00Z'),
      (pipeline) => [
        {
          type: 'CreateDeal',
          data: { dealId, pipeline, title: 'Lag', account: 'Acme', amount: 100, currency: 'EUR', ownerId: 'owner-1' },
        },
      ],
      pipelineId,
    );
    return (await store.readStream(dealStreamName(dealId))).at(-1)!.position;
  };
  return { store, deal };
}

async function projectedDeals(database: TestDatabase): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*)::text as n from read_models.deals`.execute(database.db);
  return Number(rows[0].n);
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

/** A second pool on a test database (the writer and the observer of a test whose own pool is held). */
let other: Database | undefined;
async function openOther(url: string): Promise<TestDatabase> {
  other = await openDatabase({ kind: 'postgres', connectionString: url, poolSize: 4 });
  return { ...other, drop: () => Promise.resolve() };
}

const reached = (position: GlobalPosition, target: GlobalPosition) =>
  position.major > target.major || (position.major === target.major && position.minor >= target.minor);

describe('projection runner wake-ups and the checkpoint watch (PostgreSQL)', () => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await createPostgresTestDatabase();
    await migrateEventStore(database.db);
    await ensureReadModelSchema(database.db);
  });
  afterEach(() => database.drop());

  it('events a NOTIFY announced but an older transaction held back are projected soon after it ends, not a poll interval later', async () => {
    const { store, deal } = await setUp(database);
    const runner = new ProjectionRunner({ database, store, pollIntervalMs: 30_000 });
    await runner.start();
    try {
      const first = await deal();
      await until(async () => reached((await readCheckpoint(database.db, LIVE_SCHEMA)).position, first), 10_000);

      // A transaction that holds an xid and notifies nothing (another service's, say) holds the xmin horizon.
      const blocker = new Pool({
        connectionString: database.config.kind === 'postgres' ? database.config.connectionString : '',
        max: 1,
      });
      const client = await blocker.connect();
      try {
        await client.query('begin');
        await client.query('select pg_current_xact_id()');
        await deal(); // committed and notified, but held back behind the blocker
        await new Promise((resolve) => setTimeout(resolve, 300)); // the runner reads, finds nothing, sleeps
        expect(await projectedDeals(database)).toBe(1);
        await client.query('commit'); // no NOTIFY comes with this
      } finally {
        client.release();
        await blocker.end();
      }
      // Before: the runner slept until its next poll (30 s here). Now it looks again within a second.
      const tookMs = await until(async () => (await projectedDeals(database)) === 2, 5_000);
      expect(tookMs).toBeLessThan(5_000);
    } finally {
      await runner.stop();
    }
  }, 60_000);

  it('keeps its position in memory yet still refuses a batch when the checkpoint moved under it, and carries on from where it moved', async () => {
    const { store, deal } = await setUp(database);
    // The runner's reads of the global order pass this gate; armed, the next read waits for `release`.
    // (The runner reads through its own connection, `readingThrough`: that reader is gated too.)
    let gate: Promise<void> | undefined;
    const gateReads = (inner: SqlEventStore): SqlEventStore =>
      new Proxy(inner, {
        get(target, property) {
          if (property === 'readAll')
            return async (options: Parameters<SqlEventStore['readAll']>[0]) => {
              await gate;
              return target.readAll(options);
            };
          if (property === 'readingThrough')
            return (db: Parameters<SqlEventStore['readingThrough']>[0]) => gateReads(target.readingThrough(db));
          const value: unknown = Reflect.get(target, property);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
    const gated = gateReads(store);
    const logs: Record<string, unknown>[] = [];
    const runner = new ProjectionRunner({
      database,
      store: gated,
      pollIntervalMs: 50,
      initialRetryBackoffMs: 20,
      log: (entry) => logs.push(entry),
    });
    await runner.start();
    try {
      const first = await deal();
      await until(async () => reached((await readCheckpoint(database.db, LIVE_SCHEMA)).position, first), 10_000);
      const here = (await readCheckpoint(database.db, LIVE_SCHEMA)).position;
      let release = () => {};
      gate = new Promise((resolve) => (release = resolve));
      const skippedId = randomUUID();
      const skipped = await deal(skippedId);
      const applied = await deal();
      // "Another runner" applied the skipped deal's event (writing nothing) and moved the checkpoint;
      // this runner still holds `here` in memory.
      await database.db.transaction().execute((trx) => compareAndSetCheckpoint(trx, LIVE_SCHEMA, here, skipped, 1));
      gate = undefined;
      release();
      await until(async () => reached((await readCheckpoint(database.db, LIVE_SCHEMA)).position, applied), 10_000);
      await until(async () => (await projectedDeals(database)) >= 2, 10_000);
      // Its batch (both deals) was refused by the compare-and-set and rolled back whole; the retry read
      // the checkpoint again and applied only what lay after it.
      expect(logs.some((entry) => String(entry.error).includes('checkpoint moved under this runner'))).toBe(true);
      expect(await projectedDeals(database)).toBe(2);
      const { rows } = await sql<{ n: string }>`
        select count(*)::text as n from read_models.deals where deal_id = ${skippedId}::uuid`.execute(database.db);
      expect(rows[0].n).toBe('0');
    } finally {
      await runner.stop();
    }
  }, 60_000);

  it('reads the global order on its own connection: it keeps projecting while every pooled connection is taken', async () => {
    // The API's pool under load: every connection busy with requests' queries. The runner holds its own
    // connection (the advisory lock's) and reads there; before, its readAll queued for a pooled one.
    const pooled = await createPostgresTestDatabase({ poolSize: 3 });
    try {
      const url = pooled.url!;
      await migrateEventStore(pooled.db);
      await ensureReadModelSchema(pooled.db);
      const writer = await setUp(await openOther(url)); // the writes come through another pool
      const runner = new ProjectionRunner({
        database: pooled,
        store: new SqlEventStore(pooled.db),
        pollIntervalMs: 100,
      });
      await runner.start();
      let release = () => {};
      const held: Promise<unknown>[] = [];
      try {
        const first = await writer.deal();
        await until(async () => reached((await readCheckpoint(other!.db, LIVE_SCHEMA)).position, first), 10_000);
        // Take the two pooled connections the runner does not hold, until the end of the test.
        const holding = new Promise<void>((resolve) => (release = resolve));
        let taken = 0;
        for (let i = 0; i < 2; i++)
          held.push(
            pooled.db.connection().execute(async () => {
              taken++;
              await holding;
            }),
          );
        await until(async () => taken === 2, 5_000);
        const second = await writer.deal();
        await until(async () => reached((await readCheckpoint(other!.db, LIVE_SCHEMA)).position, second), 10_000);
        const { rows } = await sql<{ n: string }>`select count(*)::text as n from read_models.deals`.execute(other!.db);
        expect(rows[0].n).toBe('2');
      } finally {
        release();
        await Promise.all(held);
        await runner.stop();
      }
    } finally {
      await other?.close();
      other = undefined;
      await pooled.drop();
    }
  }, 60_000);

  it('believing no stream parked, a batch does not look its streams up; a stream parked meanwhile (by another process) is noticed and its events wait', async () => {
    // Every statement sent that looks streams up in parked_streams (runner/parking.ts), counted on
    // the connections of a database opened after this (a pooled connection keeps the `query` it had).
    let lookups = 0;
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
      if (text?.startsWith('select "stream_id" from "read_models"."parked_streams"')) lookups++;
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof pg.Client.prototype.query;
    const counted = await createPostgresTestDatabase();
    await migrateEventStore(counted.db);
    await ensureReadModelSchema(counted.db);
    const database = counted;
    const { store, deal } = await setUp(database);
    const runner = new ProjectionRunner({ database, store, pollIntervalMs: 50 });
    await runner.start();
    try {
      const at = async (target: GlobalPosition) =>
        until(async () => reached((await readCheckpoint(database.db, LIVE_SCHEMA)).position, target), 10_000);
      await at(await deal());
      lookups = 0;
      for (let i = 0; i < 3; i++) await at(await deal());
      expect(lookups).toBe(0); // three batches, none of them looked its streams up

      // Another process parked a stream (a rebuild swapped in with it parked, say): the runner believes otherwise.
      const parkedId = randomUUID();
      await deal(parkedId);
      const parkedEvent = (await store.readStream(dealStreamName(parkedId))).at(-1)!;
      await at(parkedEvent.position);
      await sql`insert into read_models.parked_streams (stream_id, event_id, revision, position_major, position_minor, event_type, error, parked_at)
        values (${dealStreamName(parkedId)}, ${parkedEvent.eventId}::uuid, 1, 0, 0, 'DealCreated', 'parked by a test', now())`.execute(
        database.db,
      );
      const flowingId = randomUUID();
      await deal(flowingId);
      await appendActivity(store, parkedId);
      const last = await appendActivity(store, flowingId);
      await at(last);
      expect(lookups).toBeGreaterThan(0); // the batch start found the table not empty and looked up
      const { rows } = await sql<{ deal_id: string; activity_count: number }>`
        select deal_id::text, activity_count from read_models.deals where deal_id = any(${[parkedId, flowingId]}::uuid[])`.execute(
        database.db,
      );
      const counts = Object.fromEntries(rows.map((row) => [row.deal_id, Number(row.activity_count)]));
      expect(counts).toEqual({ [parkedId]: 0, [flowingId]: 1 }); // the parked stream's activity waits
      const waiting = await sql<{ n: string }>`
        select events_waiting::text as n from read_models.parked_streams where stream_id = ${dealStreamName(parkedId)}`.execute(
        database.db,
      );
      expect(waiting.rows[0].n).toBe('1');
    } finally {
      pg.Client.prototype.query = query;
      await runner.stop();
      await counted.drop();
    }
  }, 60_000);

  it('a watch answers every waiting read from one checkpoint read when poked, long before its poll tick, and times out as before', async () => {
    const { deal } = await setUp(database);
    const target = await deal();
    const watch = new CheckpointWatch(database.db, LIVE_SCHEMA, 60_000);
    const waiting = Array.from({ length: 50 }, () => watch.wait(target, 20_000));
    const timedOut = watch.wait({ major: target.major + 1n, minor: 0n }, 200);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const start = (await readCheckpoint(database.db, LIVE_SCHEMA)).position;
    await database.db.transaction().execute((trx) => compareAndSetCheckpoint(trx, LIVE_SCHEMA, start, target, 1));
    const poked = Date.now();
    watch.poke();
    const answers = await Promise.all(waiting);
    expect(Date.now() - poked).toBeLessThan(5_000); // the tick is a minute away
    expect(answers.map((position) => position && reached(position, target))).toEqual(answers.map(() => true));
    expect(await timedOut).toBeUndefined();
    // Already reached: answered by the waiter's own first read.
    expect(await watch.wait(target, 1_000)).toEqual(target);
  }, 60_000);
  it('a read at or below a position the watch already knows (committed or read) is answered without reading the checkpoint again', async () => {
    const { deal } = await setUp(database);
    const first = await deal();
    const second = await deal();
    const own = await openDatabase({ kind: 'postgres', connectionString: database.url!, poolSize: 2 });
    const watch = new CheckpointWatch(own.db, LIVE_SCHEMA, 60_000);
    const start = (await readCheckpoint(database.db, LIVE_SCHEMA)).position;
    await database.db.transaction().execute((trx) => compareAndSetCheckpoint(trx, LIVE_SCHEMA, start, first, 1));
    expect(await watch.wait(first, 1_000)).toEqual(first); // learnt from its read
    watch.reached(second); // as a runner's commit tells it
    await own.close(); // from here on, any query of the watch fails
    expect(await watch.wait(first, 1_000)).toEqual(second);
    expect(await watch.wait(second, 1_000)).toEqual(second);
    // Beyond what it knows it still asks the database (which is gone here).
    await expect(watch.wait({ major: second.major + 1n, minor: 0n }, 1_000)).rejects.toThrow();
  }, 60_000);
  it('a runner that tells the watch each position it commits answers the reads it reaches at once, long before the tick', async () => {
    const { store, deal } = await setUp(database);
    const watch = new CheckpointWatch(database.db, LIVE_SCHEMA, 60_000);
    const runner = new ProjectionRunner({ database, store, pollIntervalMs: 50, onCommitted: watch.reached });
    const target = await deal();
    const waiting = Array.from({ length: 20 }, () => watch.wait(target, 30_000));
    const beyond = watch.wait({ major: target.major + 1n, minor: 0n }, 2_000);
    await new Promise((resolve) => setTimeout(resolve, 200)); // their own first reads found it behind
    const started = Date.now();
    await runner.start();
    try {
      const answers = await Promise.all(waiting);
      // No poke, and the tick is a minute away: only the committed position can have answered them.
      expect(Date.now() - started).toBeLessThan(25_000);
      expect(answers.map((position) => position && reached(position, target))).toEqual(answers.map(() => true));
      const live = (await readCheckpoint(database.db, LIVE_SCHEMA)).position;
      expect(answers.every((position) => position && reached(live, position))).toBe(true);
      // A read beyond what was committed is not answered by it.
      expect(await beyond).toBeUndefined();
    } finally {
      await runner.stop();
    }
  }, 60_000);
  it('with minBatchIntervalMs, starts its reads at least that far apart, so events appended meanwhile come in one batch', async () => {
    const { store, deal } = await setUp(database);
    const dealId = randomUUID();
    const created = await deal(dealId);
    // The store seen through a wrapper that notes when each read starts (a plain EventStore: the runner
    // then reads through it rather than on its own connection).
    const reads: number[] = [];
    const watched = {
      readAll: (options: Parameters<EventStore['readAll']>[0]) => {
        reads.push(performance.now());
        return store.readAll(options);
      },
    } as unknown as EventStore;
    const batches: number[] = [];
    const intervalMs = 400;
    const runner = new ProjectionRunner({
      database,
      store: watched,
      pollIntervalMs: 60_000,
      minBatchIntervalMs: intervalMs,
      onBatch: ({ events, committed }) => {
        if (committed) batches.push(events);
      },
    });
    await runner.start();
    try {
      await until(async () => reached((await readCheckpoint(database.db, LIVE_SCHEMA)).position, created), 10_000);
      // Ten commits, each NOTIFYing the runner, one after the other.
      let last = created;
      for (let i = 0; i < 10; i++) last = await appendActivity(store, dealId);
      await until(async () => reached((await readCheckpoint(database.db, LIVE_SCHEMA)).position, last), 10_000);
    } finally {
      await runner.stop();
    }
    const gaps = reads.slice(1).map((at, i) => at - reads[i]);
    // Timers never fire early by more than the clock's rounding.
    expect(gaps.filter((gap) => gap < intervalMs - 2)).toEqual([]);
    expect(batches.reduce((sum, events) => sum + events, 0)).toBe(12); // the pipeline, the deal, ten activities
    expect(batches.length).toBeLessThan(12);
  }, 60_000);
  it('told to hurry (a read waits), reads at once instead of waiting out minBatchIntervalMs', async () => {
    const { store, deal } = await setUp(database);
    const dealId = randomUUID();
    const created = await deal(dealId);
    const runner = new ProjectionRunner({ database, store, pollIntervalMs: 60_000, minBatchIntervalMs: 120_000 });
    await runner.start();
    try {
      // Its first read (at start) is not spaced; the next one would be two minutes after it.
      await until(async () => reached((await readCheckpoint(database.db, LIVE_SCHEMA)).position, created), 10_000);
      const activity = await appendActivity(store, dealId);
      runner.hurry();
      await until(async () => reached((await readCheckpoint(database.db, LIVE_SCHEMA)).position, activity), 30_000);
    } finally {
      await runner.stop();
    }
  }, 60_000);

  it('a watch tells its listener when a read starts waiting beyond what it knows, not when it can answer at once', async () => {
    const { deal } = await setUp(database);
    const watch = new CheckpointWatch(database.db, LIVE_SCHEMA, 60_000);
    let told = 0;
    watch.onWait(() => told++);
    const target = await deal();
    expect(await watch.wait(target, 50)).toBeUndefined(); // nothing projects here
    expect(told).toBe(1);
    watch.reached(target);
    expect(await watch.wait(target, 50)).toEqual(target);
    expect(told).toBe(1);
  }, 60_000);
});
