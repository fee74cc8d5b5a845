import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createPostgresTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import type { NewEvent } from '../port/event-store.types.js';
import { migrateEventStore } from './sql-event-store.migrations.js';
import { SqlEventStore } from './sql-event-store.js';

const event = (): NewEvent => ({
  eventId: randomUUID(),
  type: 'Numbered',
  data: { n: 1 },
  metadata: { actorId: 'test', occurredAt: new Date(Date.UTC(2025, 0, 1)) },
});

/**
 * `event_store.append_batch` runs its statements through PL/pgSQL's plan cache. With autovacuum off
 * (or on PGlite, which has none) nothing analyzes the tables while they grow, and a generic plan built
 * while they were empty (sequential scans) used to stay for the life of the connection: every append
 * then scanned the whole events table, and a large import became quadratic. The function now plans
 * its statements once per connection with sequential scans priced out (docs/event-store.md, "Plans"),
 * so the plans cached while the tables were empty use the indexes. Measured here by the scan counters
 * of the tables: one connection, so its plans are the ones that were cached while empty.
 */
describe('append_batch plans follow the tables as they grow, without ANALYZE (PostgreSQL)', () => {
  let database: TestDatabase;
  let store: SqlEventStore;
  beforeAll(async () => {
    database = await createPostgresTestDatabase({ poolSize: 1 });
    await migrateEventStore(database.db);
    store = new SqlEventStore(database.db, { groupCommit: { maxAppends: 1 } });
  });
  afterAll(() => database.drop());

  const seqScans = async () => {
    await sql`select pg_stat_force_next_flush()`.execute(database.db);
    await sql`select pg_stat_clear_snapshot()`.execute(database.db);
    const { rows } = await sql<{ relname: string; seq_scan: string }>`
      select relname, seq_scan::text from pg_stat_user_tables
       where schemaname = 'event_store' and relname in ('events', 'streams') order by relname`.execute(database.db);
    return Object.fromEntries(rows.map((row) => [row.relname, Number(row.seq_scan)]));
  };

  it('appends to a large table without scanning it, after plans were first made on an empty one', async () => {
    // Enough calls on the empty tables for PL/pgSQL to settle on its generic plans.
    for (let n = 0; n < 12; n++) await store.appendToStream(`warm-${n}`, [event()], { expectedRevision: 'no_stream' });
    // Grow both tables well past what a sequential scan is cheap for (rows written directly: only their size matters here).
    await sql`insert into event_store.streams (stream_id, revision, last_hash)
      select 'bulk-' || g, 0, md5(g::text) from generate_series(1, 50000) g`.execute(database.db);
    await sql`insert into event_store.events (event_id, stream_id, stream_revision, type, data, actor_id,
        occurred_at, recorded_at, hash)
      select gen_random_uuid(), 'bulk-' || g, 0, 'Numbered', '{"n":1}', 'test', now(), now(), md5(g::text)
        from generate_series(1, 50000) g`.execute(database.db);

    const before = await seqScans();
    for (let n = 0; n < 3; n++) {
      await store.appendToStream(`after-${n}`, [event(), event()], { expectedRevision: 'no_stream' });
      await store.appendToStream(`after-${n}`, [event()], { expectedRevision: 1n });
    }
    const after = await seqScans();
    expect(after).toEqual(before);
    expect((await store.readStream('after-2')).map((e) => e.revision)).toEqual([0n, 1n, 2n]);
  });

  it("an import's batch reads and appends hundreds of streams of a large table without scanning it", async () => {
    // The tables hold 50,000+ rows (the test above), never analyzed. A batch as the import sends it:
    // a few hundred deal streams read at once (new and existing), then appended in one transaction.
    const streams = Array.from({ length: 300 }, (_, n) => `import-${n}`);
    await store.appendMany(
      streams.slice(0, 100).map((streamId) => ({ streamId, events: [event()], expectedRevision: 'no_stream' })),
    );
    const before = await seqScans();
    const stored = await store.readStreams(streams);
    const outcomes = await store.appendMany(
      streams.map((streamId, n) => ({
        streamId,
        events: [event(), event()],
        expectedRevision: n < 100 ? 0n : 'no_stream',
      })),
    );
    const after = await seqScans();
    expect(after).toEqual(before);
    expect([...stored.values()].map((events) => events.length)).toEqual(streams.map((_, n) => (n < 100 ? 1 : 0)));
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect((await store.readStream('import-0')).map((e) => e.revision)).toEqual([0n, 1n, 2n]);
  });
});
