import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { copyRows } from '@dealstream/database';
import { newEvent, newStreamId } from '../contract/event-store.contract.js';
import {
  createPGliteTestDatabase,
  createPostgresTestDatabase,
  type TestDatabase,
} from '../../../../test/support/test-database.js';
import { migrateEventStore } from './sql-event-store.migrations.js';
import { SqlEventStore } from './sql-event-store.js';

/**
 * The stream guard (migration 0006, docs/event-store.md "Stream guard"): the per-statement triggers that
 * replaced the foreign key events.stream_id → streams. Each refusal here would pass without them (the
 * migration drops the foreign key), and each is checked on both engines, since PGlite runs the same
 * migrations: plain and multi-row INSERT, COPY (the bulk path's way in), UPDATE; a stream's row deleted,
 * renamed or truncated.
 */
const COLUMNS = [
  'event_id',
  'stream_id',
  'stream_revision',
  'type',
  'data',
  'actor_id',
  'occurred_at',
  'recorded_at',
  'hash',
];

/** An event row for `streamId` at `revision` (the hash is only a well-formed value: no chain is checked here). */
function row(streamId: string, revision: number): unknown[] {
  const at = new Date('2025-01-01T00:00:00.000Z');
  return [randomUUID(), streamId, revision, 'X', { revision }, 'user-1', at, at, 'f'.repeat(64)];
}

/** The SQLSTATE and message a statement fails with, or 'ok'. */
async function failure(run: Promise<unknown>): Promise<{ code: string; message: string } | 'ok'> {
  try {
    await run;
    return 'ok';
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return { code, message };
  }
}

function insertRows(db: Kysely<unknown>, rows: unknown[][]) {
  return sql`insert into event_store.events (event_id, stream_id, stream_revision, type, data, actor_id, occurred_at, recorded_at, hash)
    values ${sql.join(
      rows.map(
        ([id, s, r, type, data, actor, occurred, recorded, hash]) =>
          sql`(${id}::uuid, ${s}, ${r}, ${type}, ${JSON.stringify(data)}::jsonb, ${actor}, ${occurred}, ${recorded}, ${hash})`,
      ),
    )}`.execute(db);
}

async function countEvents(db: Kysely<unknown>, streamIds: string[]): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from event_store.events where stream_id = any(${streamIds}::text[])`.execute(db);
  return rows[0].n;
}

describe.each([
  ['PostgreSQL', () => createPostgresTestDatabase()],
  ['PGlite', () => createPGliteTestDatabase()],
])('the stream guard on %s', (_name, open) => {
  let database: TestDatabase;
  let db: Kysely<unknown>;
  let store: SqlEventStore;
  /** A stream with two events, appended by the store. */
  let existing: string;
  beforeAll(async () => {
    database = await open();
    db = database.db as Kysely<unknown>;
    await migrateEventStore(database.db);
    store = new SqlEventStore(database.db);
    existing = newStreamId('deal');
    await store.appendToStream(existing, [newEvent('A'), newEvent('B')], { expectedRevision: 'no_stream' });
  });
  afterAll(async () => {
    await store.close();
    await database.drop();
  });

  it('replaced the foreign key with statement triggers', async () => {
    const { rows: keys } = await sql<{ name: string }>`
      select conname as name from pg_constraint
       where conrelid = 'event_store.events'::regclass and contype = 'f'`.execute(db);
    expect(keys).toEqual([]);
    const { rows: triggers } = await sql<{ name: string; table: string }>`
      select t.tgname as name, c.relname as "table" from pg_trigger t join pg_class c on c.oid = t.tgrelid
       where c.relnamespace = 'event_store'::regnamespace and not t.tgisinternal order by t.tgname`.execute(db);
    expect(triggers).toEqual([
      { name: 'events_stream_guard_insert', table: 'events' },
      { name: 'events_stream_guard_update', table: 'events' },
      { name: 'streams_guard_delete', table: 'streams' },
      { name: 'streams_guard_rename', table: 'streams' },
      { name: 'streams_guard_truncate', table: 'streams' },
    ]);
  });

  it('refuses a plain INSERT of an event whose stream has no row (23503, naming the stream)', async () => {
    const missing = newStreamId('deal');
    expect(await failure(insertRows(db, [row(missing, 0)]))).toEqual({
      code: '23503',
      message: `insert or update on table "events" violates the stream guard: stream "${missing}" has no row in event_store.streams`,
    });
    expect(await countEvents(db, [missing])).toBe(0);
  });

  it('refuses a multi-row INSERT when one of its rows has no stream, storing none of them', async () => {
    const missing = newStreamId('deal');
    const result = await failure(insertRows(db, [row(existing, 2), row(missing, 0), row(existing, 3)]));
    expect(result).toMatchObject({ code: '23503', message: expect.stringContaining(`stream "${missing}"`) });
    expect(await countEvents(db, [existing, missing])).toBe(2);
  });

  it('refuses a COPY (the bulk path) when one of its rows has no stream, storing none of them', async () => {
    const missing = newStreamId('deal');
    const result = await failure(
      db
        .transaction()
        .execute((trx) =>
          copyRows(trx, 'event_store.events', COLUMNS, [row(existing, 2), row(existing, 3), row(missing, 0)]),
        ),
    );
    expect(result).toMatchObject({ code: '23503', message: expect.stringContaining(`stream "${missing}"`) });
    expect(await countEvents(db, [existing, missing])).toBe(2);
  });

  it('takes rows whose streams exist, created in the same transaction too, by INSERT and by COPY', async () => {
    const created = newStreamId('deal');
    await db.transaction().execute(async (trx) => {
      await sql`insert into event_store.streams (stream_id, revision) values (${created}, 1)`.execute(trx);
      await copyRows(trx, 'event_store.events', COLUMNS, [row(created, 0)]);
      await insertRows(trx, [row(created, 1)]);
    });
    expect(await countEvents(db, [created])).toBe(2);
    // Checked at the end of the statement, as the foreign key was: one statement writing both passes.
    const both = newStreamId('deal');
    await sql`with s as (insert into event_store.streams (stream_id, revision) values (${both}, 0) returning stream_id)
      insert into event_store.events (event_id, stream_id, stream_revision, type, data, actor_id, occurred_at, recorded_at, hash)
      select ${randomUUID()}::uuid, s.stream_id, 0, 'X', '{}'::jsonb, 'user-1', now(), now(), ${'f'.repeat(64)} from s`.execute(
      db,
    );
    expect(await countEvents(db, [both])).toBe(1);
    // The store's own paths: the bulk path (COPY) and append_batch (INSERT … SELECT) to new and old streams.
    const bulk = newStreamId('deal');
    const outcomes = await store.appendMany([
      { streamId: bulk, events: [newEvent('A'), newEvent('B')], expectedRevision: 'no_stream' },
      { streamId: created, events: [newEvent('C')], expectedRevision: 'any' },
    ]);
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, true]);
    await store.appendToStream(bulk, [newEvent('C')], { expectedRevision: 1n });
    expect((await store.readStream(bulk)).map((event) => event.type)).toEqual(['A', 'B', 'C']);
  });

  it('refuses moving an event to a stream that has no row', async () => {
    const missing = newStreamId('deal');
    const result = await failure(
      sql`update event_store.events set stream_id = ${missing} where stream_id = ${existing} and stream_revision = 0`.execute(
        db,
      ),
    );
    expect(result).toMatchObject({ code: '23503', message: expect.stringContaining(`stream "${missing}"`) });
  });

  it('refuses deleting, renaming or truncating a stream row; the heads still move', async () => {
    expect(await failure(sql`delete from event_store.streams where stream_id = ${existing}`.execute(db))).toEqual({
      code: '23503',
      message: `delete on table "streams" refused by the stream guard: stream "${existing}" is never deleted or renamed`,
    });
    // Without events too: the store never deletes a stream row (nothing to lock, see the docs).
    const empty = newStreamId('deal');
    await sql`insert into event_store.streams (stream_id, revision) values (${empty}, -1)`.execute(db);
    expect(await failure(sql`delete from event_store.streams where stream_id = ${empty}`.execute(db))).toMatchObject({
      code: '23503',
    });
    expect(
      await failure(
        sql`update event_store.streams set stream_id = 'deal-renamed' where stream_id = ${existing}`.execute(db),
      ),
    ).toEqual({
      code: '23503',
      message: `update on table "streams" refused by the stream guard: stream "${existing}" is never deleted or renamed`,
    });
    expect(await failure(sql`truncate event_store.streams, event_store.events`.execute(db))).toMatchObject({
      code: '23503',
      message: 'truncate of table "streams" refused by the stream guard: stream rows are never deleted',
    });
    expect(
      await failure(
        sql`update event_store.streams set stream_id = stream_id where stream_id = ${existing}`.execute(db),
      ),
    ).toBe('ok');
    await store.appendToStream(existing, [newEvent('C')], { expectedRevision: 1n });
    const { rows } = await sql<{ revision: string }>`
      select revision::text as revision from event_store.streams where stream_id = ${existing}`.execute(db);
    expect(rows).toEqual([{ revision: '2' }]);
  });
});

describe('the stream guard on the bulk path, PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    // One connection: the statistics read below are the ones the bulk append's backend wrote.
    database = await createPostgresTestDatabase({ poolSize: 1 });
    await migrateEventStore(database.db);
  });
  afterAll(() => database.drop());

  async function tempFiles(): Promise<number> {
    await sql`select pg_stat_force_next_flush()`.execute(database.db);
    await sql`select pg_stat_clear_snapshot()`.execute(database.db);
    const { rows } = await sql<{ n: number }>`
      select temp_files::int as n from pg_stat_database where datname = current_database()`.execute(database.db);
    return rows[0].n;
  }

  it('COPYs a 5,000-event batch in chunks whose transition tables fit in the default work_mem: no temporary file', async () => {
    const store = new SqlEventStore(database.db);
    const note = 'n'.repeat(600);
    const before = await tempFiles();
    const outcomes = await store.appendMany(
      Array.from({ length: 100 }, () => ({
        streamId: newStreamId('deal'),
        events: Array.from({ length: 50 }, (_, i) => newEvent('X', { i, note })),
        expectedRevision: 'no_stream' as const,
      })),
    );
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(await tempFiles()).toBe(before);
    await store.close();
  });
});
