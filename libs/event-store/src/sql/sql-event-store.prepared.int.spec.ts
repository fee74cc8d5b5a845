import { sql } from 'kysely';
import { preparedNameOf } from '@dealstream/database';
import { newEvent, newStreamId } from '../contract/event-store.contract.js';
import { createPostgresTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { migrateEventStore } from './sql-event-store.migrations.js';
import { SqlEventStore } from './sql-event-store.js';

/*
 * Every group's call of event_store.append_batch has the same text, so on PostgreSQL it goes as one
 * named prepared statement per connection (one connection here: `pg_prepared_statements` is per
 * session) — and answers every outcome as before: appended, replayed, wrong expected revision.
 */
describe('SqlEventStore on PostgreSQL: the append call as a named prepared statement', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPostgresTestDatabase({ poolSize: 1 });
    await migrateEventStore(database.db);
  });
  afterAll(() => database.drop());

  it('prepares the call once on the connection and answers each append on its own', async () => {
    const store = new SqlEventStore(database.db);
    const streamId = newStreamId('note');
    const first = newEvent('NoteTaken', { n: 1 });
    expect(
      (await store.appendToStream(streamId, [first], { expectedRevision: 'no_stream' })).nextExpectedRevision,
    ).toBe(0n);
    for (let revision = 0n; revision < 7n; revision++)
      await store.appendToStream(streamId, [newEvent('NoteTaken', { n: 1 })], { expectedRevision: revision });
    // A retry of the first append answers its original result; a stale revision is refused.
    expect(
      (await store.appendToStream(streamId, [first], { expectedRevision: 'no_stream' })).nextExpectedRevision,
    ).toBe(0n);
    await expect(
      store.appendToStream(streamId, [newEvent('NoteTaken', { n: 1 })], { expectedRevision: 3n }),
    ).rejects.toMatchObject({
      name: 'WrongExpectedRevisionError',
    });
    expect((await store.readStream(streamId)).map((event) => event.revision)).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n]);

    const { rows } = await sql<{ name: string; statement: string }>`
      select name, statement from pg_prepared_statements where statement like '%event_store.append_batch(%'`.execute(
      database.db,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].name).toBe(preparedNameOf(rows[0].statement));
    expect(rows[0].name).toMatch(/^ds_[0-9a-f]{32}$/);
  });
});
