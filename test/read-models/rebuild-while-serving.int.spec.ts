import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import {
  SqlEventStore,
  comparePositions,
  migrateEventStore,
  type GlobalPosition,
  type RecordedEvent,
} from '@dealstream/event-store';
import { writeSyntheticHistory } from '@dealstream/seeding';
import {
  LIVE_SCHEMA,
  ProjectionRunner,
  board,
  compareReadModels,
  createReadModelSchema,
  ensureReadModelSchema,
  projectBatch,
  readCheckpoint,
  rebuildReadModels,
} from '@dealstream/read-models';
import { createPGliteTestDatabase, createPostgresTestDatabase, type TestDatabase } from '../support/test-database.js';
import { writeVariedHistory } from '../support/history-generator.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('rebuild while the API keeps serving (PostgreSQL)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    await migrateEventStore(database.db);
    await ensureReadModelSchema(database.db);
  });
  afterAll(() => database.drop());

  it('swaps in rebuilt tables equal to the live ones while writes, projection and reads go on', async () => {
    const store = new SqlEventStore(database.db);
    const { pipelineId, events: initial } = await writeVariedHistory(store, 200);
    let written = initial;
    const runner = new ProjectionRunner({ database, store, batchSize: 100, pollIntervalMs: 50 });
    await runner.start();
    let running = true;
    const readErrors: unknown[] = [];
    let reads = 0;
    const reader = (async () => {
      while (running) {
        try {
          const result = await board(database.db, LIVE_SCHEMA, pipelineId, {
            asOf: { axis: 'occurred' },
            now: new Date(),
            filters: {},
            limit: 5,
          });
          if (result) reads++;
        } catch (error) {
          readErrors.push(error);
        }
        await pause(2);
      }
    })();
    const writer = (async () => {
      while (running) {
        written += (await writeVariedHistory(store, 5)).events;
        await pause(5);
      }
    })();

    const result = await rebuildReadModels({ db: database.db, store, batchSize: 150 });
    running = false;
    await Promise.all([reader, writer]);
    expect(result.swapped).toBe(true);
    expect(result.parity.equal).toBe(true);
    expect(readErrors).toEqual([]);
    expect(reads).toBeGreaterThan(0);

    // the runner carries on on the swapped-in tables and ends equal to a fresh full projection
    // Read every written event: a transaction in another database of the server (other test files)
    // can hold the store's visibility horizon for a moment, and a read would then stop short.
    const all: RecordedEvent[] = [];
    let cursor: GlobalPosition | undefined;
    const readDeadline = Date.now() + 60_000;
    while (all.length < written && Date.now() < readDeadline) {
      const batch = await store.readAll({ after: cursor, limit: 5000 });
      if (batch.events.length === 0) await pause(20);
      all.push(...batch.events);
      cursor = batch.cursor ?? cursor;
    }
    expect(all).toHaveLength(written);
    const deadline = Date.now() + 60_000;
    while (
      comparePositions((await readCheckpoint(database.db, LIVE_SCHEMA)).position, all.at(-1)!.position) < 0 &&
      Date.now() < deadline
    )
      await pause(20);
    await runner.stop();
    const fresh = `read_models_fresh_${randomUUID().slice(0, 8)}`;
    await createReadModelSchema(database.db, fresh);
    await database.db.transaction().execute((trx) => projectBatch(trx, fresh, all));
    expect((await compareReadModels(database.db, LIVE_SCHEMA, fresh)).equal).toBe(true);
  }, 180_000);

  it('never swaps between the statements of a live batch: a batch in flight during the swap is not lost', async () => {
    // The live runner's batch writes its rows, then moves the checkpoint; if the swap committed in
    // between, the rows went to the replaced tables and the checkpoint move to the new ones.
    const store = new SqlEventStore(database.db);
    await writeVariedHistory(store, 20);
    // armed: the next live batch stops inside its transaction (rows written, checkpoint not yet moved)
    let armed = false;
    let entered = () => {};
    let open = () => {};
    const released = new Promise<void>((resolve) => (open = resolve));
    const runner = new ProjectionRunner({
      database,
      store,
      batchSize: 500,
      pollIntervalMs: 20,
      beforeCheckpoint: async () => {
        if (!armed) return;
        armed = false;
        entered();
        await released;
      },
    });
    await runner.start();
    const caughtUp = async () => {
      const last = (await readEverything(store)).at(-1)!.position;
      const deadline = Date.now() + 60_000;
      while ((await readCheckpoint(database.db, LIVE_SCHEMA)).position.minor !== last.minor && Date.now() < deadline)
        await pause(20);
    };
    await caughtUp();

    let swapStarted = false;
    const rebuilt = rebuildReadModels({
      db: database.db,
      store,
      beforeSwap: async () => {
        const inside = new Promise<void>((resolve) => (entered = resolve));
        armed = true;
        await writeVariedHistory(store, 3);
        await inside;
        swapStarted = true;
      },
    });
    while (!swapStarted) await pause(10);
    await pause(500); // time for a swap that does not wait for the batch to commit
    open();
    const result = await rebuilt;
    expect([result.swapped, result.parity.equal]).toEqual([true, true]);
    await caughtUp();
    await runner.stop();
    const all = await readEverything(store);
    const fresh = `read_models_fresh_${randomUUID().slice(0, 8)}`;
    await createReadModelSchema(database.db, fresh);
    await database.db.transaction().execute((trx) => projectBatch(trx, fresh, all));
    const parity = await compareReadModels(database.db, LIVE_SCHEMA, fresh);
    expect(parity.tables.filter((t) => t.onlyInA + t.onlyInB > 0)).toEqual([]);
  }, 120_000);
});

/** Every event after `after`, however many (one readAll answers at most 10,000). */
async function readEverything(store: SqlEventStore, after?: GlobalPosition): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  let cursor = after;
  for (;;) {
    const batch = await store.readAll({ after: cursor, limit: 5000 });
    if (batch.events.length === 0) return all;
    all.push(...batch.events);
    cursor = batch.cursor;
  }
}

describe('incremental read models equal a full rebuild (property, PGlite)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPGliteTestDatabase();
    await migrateEventStore(database.db);
  });
  afterAll(() => database.drop());

  it('for random synthetic histories cut into random batches', async () => {
    const store = new SqlEventStore(database.db);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
        async (seed, cuts) => {
          run++;
          const before = await readEverything(store);
          // seeds made unique per run: the same seed twice writes nothing new (it is idempotent)
          await writeSyntheticHistory(store, {
            seed: seed * 100 + run,
            deals: 25,
            months: 3,
            end: new Date('2026-01-01T00:00:00Z'),
            concurrency: 2,
          });
          const events = await readEverything(store, before.at(-1)?.position);
          const incremental = `inc_${run}`;
          const whole = `whole_${run}`;
          await createReadModelSchema(database.db, incremental);
          await createReadModelSchema(database.db, whole);
          for (let i = 0, c = 0; i < events.length; c++) {
            const size = cuts[c % cuts.length];
            await database.db.transaction().execute((trx) => projectBatch(trx, incremental, events.slice(i, i + size)));
            i += size;
          }
          await database.db.transaction().execute((trx) => projectBatch(trx, whole, events));
          const parity = await compareReadModels(database.db, incremental, whole);
          return parity.equal && parity.tables.find((t) => t.table === 'deals')!.rows >= 25;
        },
      ),
      { numRuns: 6 },
    );
  }, 180_000);
});
