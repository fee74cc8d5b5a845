import { sql } from 'kysely';
import { newEvent, newStreamId } from '../contract/event-store.contract.js';
import {
  createPGliteTestDatabase,
  createPostgresTestDatabase,
  type TestDatabase,
} from '../../../../test/support/test-database.js';
import { hashEvent } from '../hash-chain/event-hash.js';
import type { NewEvent, RecordedEvent } from '../port/event-store.types.js';
import { migrateEventStore } from './sql-event-store.migrations.js';
import { PackWriter, prepareEvents, preparedFrom } from './prepared-events.js';
import { SqlEventStore } from './sql-event-store.js';

const provenance = (record: string) => ({
  importId: 'import-1',
  sourceSystem: 'acme-crm',
  sourceRecordId: record,
  sourceActor: 'rep "7" \\ ü',
});

const imported = (type: string, record: string, data: object = {}): NewEvent => {
  const event = newEvent(type, data, {
    commandId: `cmd-${record}`,
    correlationId: 'import-1',
    causationId: `cmd-${record}`,
    occurredAt: new Date('2021-06-01T10:00:00.123Z'),
  });
  return { ...event, metadata: { ...event.metadata, provenance: provenance(record) } };
};

function expectChained(events: readonly RecordedEvent[]): void {
  events.forEach((event, index) => {
    expect(event.revision).toBe(BigInt(index));
    expect(event.previousHash).toBe(index === 0 ? null : events[index - 1].hash);
    expect(event.hash).toBe(
      hashEvent({ ...event, ...event.metadata, recordedAt: event.recordedAt }, event.previousHash ?? null),
    );
  });
}

describe.each([
  ['PostgreSQL', () => createPostgresTestDatabase()],
  ['PGlite', () => createPGliteTestDatabase()],
])('SqlEventStore.appendMany (the bulk path) on %s', (_name, open) => {
  let database: TestDatabase;
  let store: SqlEventStore;
  beforeAll(async () => {
    database = await open();
    await migrateEventStore(database.db);
    store = new SqlEventStore(database.db);
  });
  afterAll(async () => {
    await store.close();
    await database.drop();
  });

  it('chains hashes exactly as append_batch does, across bulk and grouped appends, and moves the head', async () => {
    const streamId = newStreamId('deal');
    await store.appendToStream(streamId, [imported('A', 'r1', { n: 1 })], { expectedRevision: 'no_stream' });
    const [outcome] = await store.appendMany([
      {
        streamId,
        events: [imported('B', 'r2', { text: 'tab\there, "quoted", back\\slash, line\nbreak', n: 2 }), newEvent('C')],
        expectedRevision: 0n,
      },
    ]);
    expect(outcome).toMatchObject({ ok: true, value: { nextExpectedRevision: 2n } });
    await store.appendToStream(streamId, [newEvent('D')], { expectedRevision: 2n });
    const events = await store.readStream(streamId);
    expect(events.map((e) => e.type)).toEqual(['A', 'B', 'C', 'D']);
    expectChained(events);
    expect(events[1].data).toEqual({ text: 'tab\there, "quoted", back\\slash, line\nbreak', n: 2 });
    expect(events[1].metadata).toEqual(imported('B', 'r2').metadata);
    expect(events[2].metadata.provenance).toBeUndefined();
    const { rows } = await sql<{ last_hash: string; revision: string }>`
      select last_hash, revision::text as revision from event_store.streams where stream_id = ${streamId}`.execute(
      database.db,
    );
    expect(rows).toEqual([{ last_hash: events[3].hash, revision: '3' }]);
  });

  it('stores the same columns as the grouped path for the same content', async () => {
    const [grouped, bulk] = [newStreamId('deal'), newStreamId('deal')];
    const events = [imported('DealCreated', 'x1', { amount: 100, title: 'ü €' }), imported('DealWon', 'x2')];
    await store.appendToStream(grouped, events, { expectedRevision: 'no_stream' });
    const [outcome] = await store.appendMany([
      {
        streamId: bulk,
        events: events.map((e) => ({ ...e, eventId: newEvent('x').eventId })),
        expectedRevision: 'no_stream',
      },
    ]);
    expect(outcome.ok).toBe(true);
    const columns = async (streamId: string) =>
      (
        await sql<Record<string, unknown>>`
          select stream_category, stream_revision::text as revision, type, data, actor_id, command_id, correlation_id,
                 causation_id, occurred_at, provenance, previous_hash is null as first
            from event_store.events where stream_id = ${streamId} order by stream_revision`.execute(database.db)
      ).rows;
    expect(await columns(bulk)).toEqual(await columns(grouped));
  });

  it('writes the batch in one transaction and notifies once', async () => {
    const streams = [newStreamId('deal'), newStreamId('deal'), newStreamId('deal')];
    const outcomes = await store.appendMany(
      streams.map((streamId) => ({ streamId, events: [newEvent('A'), newEvent('B')], expectedRevision: 'no_stream' })),
    );
    const majors = new Set(outcomes.map((outcome) => (outcome.ok ? outcome.value.position.major : undefined)));
    expect(majors.size).toBe(1);
    expect([...majors][0]).toEqual(expect.any(BigInt));
    const { rows } = await sql<{ n: string }>`
      select count(distinct transaction_id)::text as n from event_store.events where stream_id = any(${streams}::text[])`.execute(
      database.db,
    );
    expect(rows[0].n).toBe('1');
  });

  it('keeps a value the database refuses with its own append: the others are written', async () => {
    const [good, bad, other] = [newStreamId('deal'), newStreamId('deal'), newStreamId('deal')];
    const outcomes = await store.appendMany([
      { streamId: good, events: [newEvent('A')], expectedRevision: 'no_stream' },
      // jsonb cannot hold \u0000: the whole COPY fails, then each append is tried on its own.
      { streamId: bad, events: [newEvent('B', { text: 'nul\u0000byte' })], expectedRevision: 'no_stream' },
      { streamId: other, events: [newEvent('C'), newEvent('D')], expectedRevision: 'no_stream' },
    ]);
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, false, true]);
    expect(await store.readStream(bad)).toEqual([]);
    expect(await store.streamRevision(bad)).toBeUndefined();
    expectChained(await store.readStream(other));
    expect(await store.readStream(good)).toHaveLength(1);
  });

  it('stores prepared events (prepareEvents, cloned as a worker thread sends them, or packed and transferred) as it stores the same NewEvents', async () => {
    const [plain, prepared, suffix, packed, packedSuffix] = [
      newStreamId('deal'),
      newStreamId('deal'),
      newStreamId('deal'),
      newStreamId('deal'),
      newStreamId('deal'),
    ];
    const content = [
      imported('DealCreated', 'p1', { amount: 100, title: 'tab\there, "quoted", back\\slash, line\nbreak ü €' }),
      imported('DealWon', 'p2'),
      newEvent('Noted', { n: 3 }),
    ];
    // The same content in each stream, with ids of its own (the same ones each time asked).
    const ids = new Map<string, string[]>();
    const events = (streamId: string) => {
      if (!ids.has(streamId))
        ids.set(
          streamId,
          content.map(() => newEvent('x').eventId),
        );
      return content.map((event, k) => ({ ...event, eventId: ids.get(streamId)![k] }));
    };
    const clone = <T>(value: T): T => structuredClone(value);
    // Packed as the import worker packs them, the buffers transferred to this thread.
    const writer = new PackWriter();
    const packs = [packed, packedSuffix].map((streamId) => writer.pack(prepareEvents(streamId, events(streamId))));
    const [sentPacked, sentSuffix] = structuredClone(packs, { transfer: writer.take() });
    const outcomes = await store.appendMany([
      { streamId: plain, events: events(plain), expectedRevision: 'no_stream' },
      { streamId: prepared, events: clone(prepareEvents(prepared, events(prepared))), expectedRevision: 'no_stream' },
      { streamId: packed, events: sentPacked, expectedRevision: 'no_stream' },
    ]);
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, true, true]);
    // A suffix of prepared events (what a stream lacks), after the first event came another way.
    await store.appendToStream(suffix, events(suffix).slice(0, 1), { expectedRevision: 'no_stream' });
    await store.appendToStream(packedSuffix, events(packedSuffix).slice(0, 1), { expectedRevision: 'no_stream' });
    const rests = await store.appendMany([
      { streamId: suffix, events: clone(preparedFrom(prepareEvents(suffix, events(suffix)), 1)), expectedRevision: 0n },
      { streamId: packedSuffix, events: preparedFrom(sentSuffix, 1), expectedRevision: 0n },
    ]);
    for (const rest of rests) expect(rest).toMatchObject({ ok: true, value: { nextExpectedRevision: 2n } });
    const stored = await Promise.all(
      [plain, prepared, suffix, packed, packedSuffix].map((streamId) => store.readStream(streamId)),
    );
    for (const streamEvents of stored) expectChained(streamEvents);
    const written = (streamEvents: readonly RecordedEvent[]) =>
      streamEvents.map(({ revision, type, data, metadata }) => ({ revision, type, data, metadata }));
    expect(written(stored[0])).toHaveLength(3);
    expect(written(stored[1])).toEqual(written(stored[0]));
    expect(written(stored[2])).toEqual(written(stored[0]));
    expect(written(stored[3])).toEqual(written(stored[0]));
    expect(written(stored[4])).toEqual(written(stored[0]));
    expect(stored[1].map((event) => event.eventId)).toEqual(events(prepared).map((event) => event.eventId));
    expect(stored[3].map((event) => event.eventId)).toEqual(events(packed).map((event) => event.eventId));
  });

  it('prepared events go alone through the grouped path when the batch fails, and must match their append', async () => {
    const [good, bad, other, packed] = [
      newStreamId('deal'),
      newStreamId('deal'),
      newStreamId('deal'),
      newStreamId('deal'),
    ];
    const outcomes = await store.appendMany([
      { streamId: good, events: prepareEvents(good, [newEvent('A'), newEvent('B')]), expectedRevision: 'no_stream' },
      // jsonb cannot hold \u0000: the whole COPY fails, then each append is tried on its own.
      {
        streamId: bad,
        events: prepareEvents(bad, [newEvent('B', { text: 'nul\u0000byte' })]),
        expectedRevision: 'no_stream',
      },
      // Prepared for another stream: refused as appendToStream refuses a malformed append.
      { streamId: other, events: prepareEvents(good, [newEvent('C')]), expectedRevision: 'no_stream' },
      // Packed: alone as well (unpacked to its strings).
      {
        streamId: packed,
        events: new PackWriter().pack(prepareEvents(packed, [newEvent('D')])),
        expectedRevision: 'no_stream',
      },
    ]);
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, false, false, true]);
    expect(await store.readStream(packed)).toHaveLength(1);
    expect(outcomes[2]).toMatchObject({ ok: false, error: { code: 'invalid-append' } });
    expectChained(await store.readStream(good));
    expect(await store.readStream(good)).toHaveLength(2);
    expect(await store.readStream(bad)).toEqual([]);
    expect(await store.readStream(other)).toEqual([]);
  });

  it('answers packed events sent again as a retry (their ids read from the packed rows), and a partial overlap as a conflict', async () => {
    const streamId = newStreamId('deal');
    const events = [imported('A', 'q1'), imported('B', 'q2')];
    const pack = () => new PackWriter().pack(prepareEvents(streamId, events));
    const [first] = await store.appendMany([{ streamId, events: pack(), expectedRevision: 'no_stream' }]);
    const [again] = await store.appendMany([{ streamId, events: pack(), expectedRevision: 'no_stream' }]);
    expect(first).toMatchObject({ ok: true, value: { nextExpectedRevision: 1n, alreadyStored: false } });
    expect(again).toMatchObject({ ok: true, value: { nextExpectedRevision: 1n, alreadyStored: true } });
    if (!first.ok || !again.ok) throw new Error('appended');
    expect(again.value.position).toEqual(first.value.position);
    const [overlap] = await store.appendMany([
      {
        streamId,
        events: new PackWriter().pack(prepareEvents(streamId, [events[1], imported('C', 'q3')])),
        expectedRevision: 'no_stream',
      },
    ]);
    expect(overlap).toMatchObject({ ok: false, error: { code: 'idempotency-conflict' } });
    expectChained(await store.readStream(streamId));
  });
});
