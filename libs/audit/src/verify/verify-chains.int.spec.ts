import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { SqlEventStore, hashEvent, migrateEventStore } from '@dealstream/event-store';
import {
  createPGliteTestDatabase,
  createPostgresTestDatabase,
  type TestDatabase,
} from '../../../../test/support/test-database.js';
import { verifyHashChains } from './verify-chains.query.js';

/** Streams and how many events each gets (appended in batches of up to 3, so chains span appends). */
const STREAMS: Record<string, number> = {
  'deal-intact1': 7,
  'deal-intact2': 1,
  'deal-data': 6,
  'deal-middle': 6,
  'deal-last': 6,
  'deal-rehash': 6,
  'deal-head': 4,
  'deal-all': 3,
  'deal-micro': 3,
  'pipeline-actor': 6,
};

async function seed(database: TestDatabase): Promise<void> {
  await migrateEventStore(database.db);
  const store = new SqlEventStore(database.db);
  for (const [streamId, count] of Object.entries(STREAMS)) {
    let expectedRevision: bigint | 'no_stream' = 'no_stream';
    for (let i = 0; i < count; i += 3) {
      const batch = Array.from({ length: Math.min(3, count - i) }, (_, j) => ({
        eventId: randomUUID(),
        type: 'ActivityLogged',
        data: { activityId: `a${i + j}`, kind: 'call', amount: 1000 + i + j },
        metadata: {
          actorId: 'alice',
          commandId: `cmd-${i}`,
          correlationId: 'corr',
          occurredAt: new Date(Date.UTC(2026, 0, 1, 0, i + j)),
        },
      }));
      expectedRevision = (await store.appendToStream(streamId, batch, { expectedRevision })).nextExpectedRevision;
    }
  }
}

/** Every kind of tampering someone with write access to the tables could do, one per stream. */
async function tamper(database: TestDatabase): Promise<void> {
  const db = database.db;
  await sql`update event_store.events set data = jsonb_set(data, '{amount}', '1') where stream_id = 'deal-data' and stream_revision = 2`.execute(
    db,
  );
  await sql`delete from event_store.events where stream_id = 'deal-middle' and stream_revision = 3`.execute(db);
  await sql`delete from event_store.events where stream_id = 'deal-last' and stream_revision = 5`.execute(db);
  await sql`update event_store.streams set last_hash = repeat('0', 64) where stream_id = 'deal-head'`.execute(db);
  await sql`delete from event_store.events where stream_id = 'deal-all'`.execute(db);
  await sql`update event_store.events set occurred_at = occurred_at + interval '1 microsecond' where stream_id = 'deal-micro' and stream_revision = 0`.execute(
    db,
  );
  await sql`update event_store.events set actor_id = 'mallory' where stream_id = 'pipeline-actor' and stream_revision = 4`.execute(
    db,
  );
  // A careful forger: changes revision 1 and writes the matching hash — the link from 2 then breaks.
  const { rows } = await sql<{ event_id: string; occurred_at: Date; recorded_at: Date; previous_hash: string }>`
    select event_id::text as event_id, occurred_at, recorded_at, previous_hash from event_store.events where stream_id = 'deal-rehash' and stream_revision = 1`.execute(
    db,
  );
  const row = rows[0];
  const data = { activityId: 'a1', kind: 'email', amount: 1001 };
  const hash = hashEvent(
    {
      streamId: 'deal-rehash',
      revision: 1n,
      eventId: row.event_id,
      type: 'ActivityLogged',
      data,
      actorId: 'alice',
      commandId: 'cmd-0',
      correlationId: 'corr',
      causationId: null,
      occurredAt: new Date(row.occurred_at),
      recordedAt: new Date(row.recorded_at),
    },
    row.previous_hash,
  );
  await sql`update event_store.events set data = ${JSON.stringify(data)}::jsonb, hash = ${hash} where stream_id = 'deal-rehash' and stream_revision = 1`.execute(
    db,
  );
}

const EXPECTED_BREAKS = [
  ['deal-all', 0n, 'head-mismatch'],
  ['deal-data', 2n, 'hash-mismatch'],
  ['deal-head', 3n, 'head-mismatch'],
  ['deal-last', 5n, 'head-mismatch'],
  ['deal-micro', 0n, 'hash-mismatch'],
  ['deal-middle', 3n, 'revision-gap'],
  ['deal-rehash', 2n, 'broken-link'],
  ['pipeline-actor', 4n, 'hash-mismatch'],
];
// Checked per stream, up to and including the breaking event: intact1 7 + intact2 1 + data 3 +
// middle 4 (0..2, then 4) + last 5 + rehash 3 + head 4 + all 0 + micro 1 + actor 5.
const EXPECTED_EVENTS_CHECKED = 7 + 1 + 3 + 4 + 5 + 3 + 4 + 0 + 1 + 5;

describe.each([
  ['PostgreSQL', createPostgresTestDatabase],
  ['PGlite', createPGliteTestDatabase],
])('verifyHashChains on %s', (_name, open) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await open();
    await seed(database);
  });
  afterAll(() => database.drop());

  it('finds nothing wrong in an untouched store, whatever the page size', async () => {
    for (const pageSize of [1, 4, 2000]) {
      expect(await verifyHashChains(database.db, { pageSize })).toEqual({
        streamsChecked: 10,
        eventsChecked: 48,
        brokenStreams: 0,
        breaks: [],
        ok: true,
      });
    }
    expect(await verifyHashChains(database.db, { streamId: 'deal-intact1', pageSize: 2 })).toEqual({
      streamId: 'deal-intact1',
      streamsChecked: 1,
      eventsChecked: 7,
      brokenStreams: 0,
      breaks: [],
      ok: true,
    });
    expect(await verifyHashChains(database.db, { streamId: 'deal-nope' })).toBeUndefined();
  });

  it('after tampering, reports each tampered stream at the right revision and nothing for untouched ones', async () => {
    await tamper(database);
    for (const pageSize of [1, 3, 2000]) {
      const report = (await verifyHashChains(database.db, { pageSize }))!;
      expect(report.breaks.map((b) => [b.streamId, b.revision, b.reason]).sort()).toEqual(EXPECTED_BREAKS);
      expect(report).toMatchObject({
        streamsChecked: 10,
        eventsChecked: EXPECTED_EVENTS_CHECKED,
        brokenStreams: 8,
        ok: false,
      });
    }
  });

  it('verifies one stream at a time', async () => {
    expect(await verifyHashChains(database.db, { streamId: 'deal-intact2' })).toMatchObject({
      ok: true,
      eventsChecked: 1,
      breaks: [],
    });
    const report = (await verifyHashChains(database.db, { streamId: 'deal-middle', pageSize: 2 }))!;
    expect(report.breaks).toEqual([
      {
        streamId: 'deal-middle',
        revision: 3n,
        reason: 'revision-gap',
        detail: 'revision 3 is missing; the next stored event is 4',
      },
    ]);
  });

  it('lists at most maxListedBreaks but counts every broken stream', async () => {
    const report = (await verifyHashChains(database.db, { maxListedBreaks: 2 }))!;
    expect(report.breaks).toHaveLength(2);
    expect(report.brokenStreams).toBe(8);
  });
});

describe('verifyHashChains on PostgreSQL without the stream guard', () => {
  it('reports events whose stream row was deleted', async () => {
    const database = await createPostgresTestDatabase();
    try {
      await migrateEventStore(database.db);
      const store = new SqlEventStore(database.db);
      const event = (i: number) => ({
        eventId: randomUUID(),
        type: 'X',
        data: { i },
        metadata: { actorId: 'a', occurredAt: new Date() },
      });
      await store.appendToStream('deal-orphan', [event(0), event(1)], { expectedRevision: 'no_stream' });
      await store.appendToStream('deal-fine', [event(0)], { expectedRevision: 'no_stream' });
      // What only the tables' owner can do: the guard (migration 0006) refuses deleting a stream row.
      await sql`alter table event_store.streams disable trigger streams_guard_delete`.execute(database.db);
      await sql`delete from event_store.streams where stream_id = 'deal-orphan'`.execute(database.db);
      const report = (await verifyHashChains(database.db))!;
      expect(report.breaks).toEqual([
        {
          streamId: 'deal-orphan',
          revision: 1n,
          reason: 'head-mismatch',
          detail: 'events exist but the stream row is missing',
        },
      ]);
      expect(report).toMatchObject({ streamsChecked: 2, brokenStreams: 1 });
      expect((await verifyHashChains(database.db, { streamId: 'deal-orphan' }))!.breaks).toHaveLength(1);
    } finally {
      await database.drop();
    }
  });
});
