import { randomUUID } from 'node:crypto';
import { createPGliteTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import type { NewEvent } from '../port/event-store.types.js';
import { migrateEventStore } from './sql-event-store.migrations.js';
import { SqlEventStore } from './sql-event-store.js';

const event = (n: number): NewEvent => ({
  eventId: randomUUID(),
  type: 'Numbered',
  data: { n },
  metadata: { actorId: 'test', occurredAt: new Date(Date.UTC(2025, 0, 1, 0, n)) },
});

/* readStreams (the historic import reads a batch's streams in one query): every stream asked for, whole, in revision order. */
describe('SqlEventStore.readStreams (PGlite)', () => {
  let database: TestDatabase;
  let store: SqlEventStore;
  beforeAll(async () => {
    database = await createPGliteTestDatabase();
    await migrateEventStore(database.db);
    store = new SqlEventStore(database.db);
  });
  afterAll(() => database.drop());

  it('answers every stream asked for: the stored ones whole in revision order, a missing one as []', async () => {
    await store.appendToStream(
      'b-1',
      Array.from({ length: 12 }, (_, n) => event(n)),
      { expectedRevision: 'no_stream' },
    );
    await store.appendToStream('a-1', [event(100)], { expectedRevision: 'no_stream' });
    await store.appendToStream('a-1', [event(101)], { expectedRevision: 0n });
    const streams = await store.readStreams(['b-1', 'missing', 'a-1']);
    expect([...streams.keys()]).toEqual(['b-1', 'missing', 'a-1']);
    expect(streams.get('b-1')!.map((e) => [e.revision, (e.data as { n: number }).n])).toEqual(
      Array.from({ length: 12 }, (_, n) => [BigInt(n), n]),
    );
    expect(streams.get('a-1')).toEqual(await store.readStream('a-1'));
    expect(streams.get('missing')).toEqual([]);
    expect(await store.readStreams([])).toEqual(new Map());
  });
});
