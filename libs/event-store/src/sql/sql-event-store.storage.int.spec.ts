import { sql } from 'kysely';
import { newEvent, newStreamId } from '../contract/event-store.contract.js';
import { createPostgresTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { hashEvent } from '../hash-chain/event-hash.js';
import { migrateEventStore } from './sql-event-store.migrations.js';
import { SqlEventStore } from './sql-event-store.js';

describe('SqlEventStore storage on PostgreSQL', () => {
  let database: TestDatabase;
  let store: SqlEventStore;
  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    await migrateEventStore(database.db);
    store = new SqlEventStore(database.db);
  });
  afterAll(() => database.drop());

  it('migrates idempotently', async () => {
    const again = await migrateEventStore(database.db);
    expect(again.results).toEqual([]);
  });

  it('writes all events of an append or none', async () => {
    const streamId = newStreamId('deal');
    await store.appendToStream(streamId, [newEvent('A')], { expectedRevision: 'no_stream' });
    // jsonb cannot hold \u0000: the second event fails inside the transaction.
    const error = await store
      .appendToStream(streamId, [newEvent('B'), newEvent('C', { text: 'nul\u0000byte' })], { expectedRevision: 0n })
      .catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect((await store.readStream(streamId)).map((e) => e.type)).toEqual(['A']);
    expect(await store.streamRevision(streamId)).toBe(0n);
    expect((await store.appendToStream(streamId, [newEvent('D')], { expectedRevision: 0n })).nextExpectedRevision).toBe(
      1n,
    );
  });

  it('chains each event to its predecessor by hash, across appends', async () => {
    const streamId = newStreamId('deal');
    await store.appendToStream(streamId, [newEvent('A', { n: 1 }), newEvent('B', { n: 2 })], {
      expectedRevision: 'no_stream',
    });
    await store.appendToStream(streamId, [newEvent('C', { n: 3 })], { expectedRevision: 1n });
    const events = await store.readStream(streamId);
    expect(events[0].previousHash).toBeNull();
    expect(events[1].previousHash).toBe(events[0].hash);
    expect(events[2].previousHash).toBe(events[1].hash);
    for (const event of events) {
      const recomputed = hashEvent(
        { ...event, ...event.metadata, recordedAt: event.recordedAt },
        event.previousHash ?? null,
      );
      expect(event.hash).toBe(recomputed);
      expect(event.hash).toMatch(/^[0-9a-f]{64}$/);
    }
    const { rows } = await sql<{
      last_hash: string;
    }>`select last_hash from event_store.streams where stream_id = ${streamId}`.execute(database.db);
    expect(rows[0].last_hash).toBe(events[2].hash);
  });

  it('keeps one unbroken chain when many appends race on one stream with expected revision any', async () => {
    const streamId = newStreamId('deal');
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        store.appendToStream(streamId, [newEvent('Any', { i })], { expectedRevision: 'any' }),
      ),
    );
    const events = await store.readStream(streamId);
    expect(events.map((e) => e.revision)).toEqual(Array.from({ length: 30 }, (_, i) => BigInt(i)));
    for (let i = 1; i < events.length; i++) expect(events[i].previousHash).toBe(events[i - 1].hash);
  });
});
