import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { SqlEventStore, migrateEventStore } from '@dealstream/event-store';
import { LIVE_SCHEMA, ensureReadModelSchema, projectionLag } from '@dealstream/read-models';
import { createPostgresTestDatabase, type TestDatabase } from '../support/test-database.js';

/*
 * The lag figures (metrics, readiness, `projections status`) count what is committed and not yet
 * projected. On PostgreSQL, readAll holds back rows behind the visibility horizon while an older
 * transaction is open anywhere on the server — the projection cannot move then, and the lag must say
 * so. Before `committedAfter`, the lag paged through readAll and reported 0 ("up to date") while
 * every new event waited.
 */
describe('projection lag while an old transaction holds the horizon (PostgreSQL)', () => {
  let database: TestDatabase;
  let store: SqlEventStore;
  let holder: pg.Client;

  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    await migrateEventStore(database.db);
    await ensureReadModelSchema(database.db);
    store = new SqlEventStore(database.db);
    holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
  });
  afterAll(async () => {
    await holder.end();
    await database.drop();
  });

  const append = (streamId: string, n: number) =>
    store.appendToStream(
      streamId,
      Array.from({ length: n }, () => ({
        eventId: randomUUID(),
        type: 'Noted',
        data: {},
        metadata: { actorId: 'lag-test', occurredAt: new Date() },
      })),
      { expectedRevision: 'any' },
    );

  it("counts the events readAll holds back, with the oldest one's age and the last position", async () => {
    await append('note-a', 2);
    await holder.query('begin');
    await holder.query('select pg_current_xact_id()'); // the horizon stops here until it ends
    try {
      const before = Date.now();
      await append('note-b', 3);
      await append('note-c', 1);
      // The held-back rows really are invisible to readAll (note-a's may be too: the horizon is the
      // whole server's, and other sessions' transactions count) …
      const readable = await store.readAll({ limit: 100 });
      expect(readable.events.filter((event) => event.streamId !== 'note-a')).toEqual([]);

      // … and the lag still counts all six, from the first one.
      const lag = await projectionLag(database.db, store, LIVE_SCHEMA);
      expect(lag).toMatchObject({ behind: 6, behindAtLeast: false });
      expect(lag.oldestPendingRecordedAt!.getTime()).toBeLessThanOrEqual(before);
      const last = await database.db
        .selectFrom('event_store.events')
        .select((eb) => [
          eb.cast<string>('transaction_id', 'text').as('tx'),
          eb.cast<string>('global_position', 'text').as('pos'),
        ])
        .where('stream_id', '=', 'note-c')
        .executeTakeFirstOrThrow();
      expect(lag.head).toEqual({ major: BigInt(last.tx), minor: BigInt(last.pos) });

      // Counted up to the limit, then "more than".
      expect(await projectionLag(database.db, store, LIVE_SCHEMA, { countLimit: 4 })).toMatchObject({
        behind: 4,
        behindAtLeast: true,
      });
      expect(await projectionLag(database.db, store, LIVE_SCHEMA, { countLimit: 6 })).toMatchObject({
        behind: 6,
        behindAtLeast: false,
      });
    } finally {
      await holder.query('rollback');
    }
  });

  it('nothing pending: behind 0, head at the checkpoint, no age', async () => {
    const empty = await createPostgresTestDatabase();
    try {
      await migrateEventStore(empty.db);
      await ensureReadModelSchema(empty.db);
      const lag = await projectionLag(empty.db, new SqlEventStore(empty.db), LIVE_SCHEMA);
      expect(lag).toEqual({
        checkpoint: lag.checkpoint,
        eventsApplied: 0,
        head: lag.checkpoint,
        behind: 0,
        behindAtLeast: false,
      });
    } finally {
      await empty.drop();
    }
  });
});
