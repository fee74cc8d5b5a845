import { Client } from 'pg';
import { SqlEventStore, START, migrateEventStore } from '@dealstream/event-store';
import { buildReadModels, createReadModelSchema } from '@dealstream/read-models';
import { writeVariedHistory } from '../support/history-generator.js';
import { countStoredEvents } from '../support/read-all-written.js';
import { createPostgresTestDatabase, type TestDatabase } from '../support/test-database.js';

/*
 * The SQL store's readAll stops at the server's visibility horizon: while any transaction that took
 * a transaction id is open anywhere on the server, events committed after it are not readable yet.
 * A rebuild that took the first empty batch for the end built read models without them — and
 * swapped them in as live (seen in a benchmark: 204k of 287k events). It must reach the head the
 * store had when it started: it waits for the horizon to move instead.
 */
describe('the rebuild reads to the head it measured at its start (SQL store, PostgreSQL)', () => {
  let database: TestDatabase;
  let store: SqlEventStore;

  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    await migrateEventStore(database.db);
    store = new SqlEventStore(database.db);
  });
  afterAll(() => database.drop());

  it('waits behind a transaction that holds the horizon, then builds every event', async () => {
    const first = await writeVariedHistory(store, 5);
    // A transaction on its own connection takes an id and stays open: the horizon stops there.
    const blocker = new Client({ connectionString: database.url! });
    await blocker.connect();
    await blocker.query('begin');
    await blocker.query('select pg_current_xact_id()');
    const later = await writeVariedHistory(store, 5);
    const total = first.events + later.events;
    expect(await countStoredEvents(database.db)).toBe(total);
    // What a reader sees right now: only the events before the open transaction.
    const visible = await store.readAll({ after: START, limit: 10_000 });
    expect(visible.events.length).toBe(first.events);
    expect(await store.headPosition()).not.toEqual(visible.cursor);

    const schema = `read_models_horizon_${Date.now()}`;
    await createReadModelSchema(database.db, schema);
    const building = buildReadModels(database.db, store, schema, 50);
    let settled = false;
    void building.finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(settled).toBe(false); // still waiting for the horizon, not finished short

    await blocker.query('rollback');
    await blocker.end();
    expect(await building).toBe(total);
  }, 60_000);
});
