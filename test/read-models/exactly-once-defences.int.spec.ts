import { sql } from 'kysely';
import { SqlEventStore, migrateEventStore, START, type RecordedEvent } from '@dealstream/event-store';
import {
  compareAndSetCheckpoint,
  compareReadModels,
  createReadModelSchema,
  projectBatch,
  readCheckpoint,
} from '@dealstream/read-models';
import { createPostgresTestDatabase, type TestDatabase } from '../support/test-database.js';
import { writeVariedHistory } from '../support/history-generator.js';
import { readAllWritten } from '../support/read-all-written.js';

/*
 * The crash test (test/crash) shows that batches survive kills exactly once, but two defences make
 * that hold and it cannot tell which one saved a batch. Each is shown alone here: with the other
 * one absent, it still keeps every row (and the incrementally maintained totals) exactly-once.
 */
describe('exactly-once batches: each defence on its own (PostgreSQL)', () => {
  let database: TestDatabase;
  let events: RecordedEvent[];
  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    await migrateEventStore(database.db);
    const store = new SqlEventStore(database.db);
    const { events: written } = await writeVariedHistory(store, 30);
    events = await readAllWritten(store, written);
    await createReadModelSchema(database.db, 'once');
    await database.db.transaction().execute((trx) => projectBatch(trx, 'once', events));
  });
  afterAll(() => database.drop());

  it('without a checkpoint, re-applying overlapping batches changes nothing: events at or below a row revision are skipped', async () => {
    await createReadModelSchema(database.db, 'replayed');
    const half = Math.floor(events.length / 2);
    // as a runner whose checkpoint never moved would: the first half, then everything from the
    // start again, then the second half a third time — every event at least twice
    for (const slice of [events.slice(0, half), events, events.slice(half)]) {
      await database.db.transaction().execute((trx) => projectBatch(trx, 'replayed', slice));
    }
    const parity = await compareReadModels(database.db, 'once', 'replayed');
    expect(parity.tables.filter((t) => t.onlyInA + t.onlyInB > 0)).toEqual([]);
    // stage_totals is a counter (+1 / -1 per change), the table a double application would skew first
    expect(parity.tables.find((t) => t.table === 'stage_totals')!.rows).toBeGreaterThan(0);
  });

  it('without the revision guard, the checkpoint compare-and-set refuses a batch already applied, and its rows roll back', async () => {
    await createReadModelSchema(database.db, 'guarded');
    const cursor = events.at(-1)!.position;
    await database.db.transaction().execute(async (trx) => {
      await projectBatch(trx, 'guarded', events);
      await compareAndSetCheckpoint(trx, 'guarded', START, cursor, events.length);
    });
    // A second runner that read the checkpoint before the first one committed applies the same
    // batch into empty tables (so no row revision can stop it) and then tries to move the checkpoint.
    await createReadModelSchema(database.db, 'stale');
    const second = database.db.transaction().execute(async (trx) => {
      await projectBatch(trx, 'stale', events);
      await compareAndSetCheckpoint(trx, 'guarded', START, cursor, events.length);
    });
    await expect(second).rejects.toThrow('checkpoint moved under this runner: another runner is active');
    const { rows } = await sql<{ n: string }>`select count(*)::text as n from stale.deals`.execute(database.db);
    expect(rows[0].n).toBe('0');
    expect(await readCheckpoint(database.db, 'guarded')).toEqual({ position: cursor, eventsApplied: events.length });
    const parity = await compareReadModels(database.db, 'once', 'guarded');
    expect(parity.tables.filter((t) => t.onlyInA + t.onlyInB > 0)).toEqual([]);
  });
});
