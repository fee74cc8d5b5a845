import { sql } from 'kysely';
import { newEvent, newStreamId } from '../contract/event-store.contract.js';
import {
  createPGliteTestDatabase,
  createPostgresTestDatabase,
  type TestDatabase,
} from '../../../../test/support/test-database.js';
import { hashEvent } from '../hash-chain/event-hash.js';
import type { AppendResult, NewEvent } from '../port/event-store.types.js';
import { migrateEventStore } from './sql-event-store.migrations.js';
import { SqlEventStore } from './sql-event-store.js';

type Outcome = { ok: AppendResult } | { error: { code: string; actual?: bigint; eventIds?: readonly string[] } };

async function outcome(promise: Promise<AppendResult>): Promise<Outcome> {
  try {
    return { ok: await promise };
  } catch (error) {
    const { code, actual, eventIds } = error as { code: string; actual?: bigint; eventIds?: readonly string[] };
    return { error: { code, ...(actual !== undefined ? { actual } : {}), ...(eventIds ? { eventIds } : {}) } };
  }
}

/** Every stored event's hash recomputed from its content, and each linked to its predecessor. */
async function expectChainIntact(store: SqlEventStore, streamId: string) {
  const events = await store.readStream(streamId);
  let previous: string | null = null;
  for (const event of events) {
    expect(event.previousHash).toBe(previous);
    expect(event.hash).toBe(hashEvent({ ...event, ...event.metadata, recordedAt: event.recordedAt }, previous));
    previous = event.hash!;
  }
  return events;
}

function groupCommitSuite(name: string, open: () => Promise<TestDatabase>) {
  describe(`SqlEventStore group commit on ${name}`, () => {
    let database: TestDatabase;
    let store: SqlEventStore;
    beforeAll(async () => {
      database = await open();
      await migrateEventStore(database.db);
      // A long wait and one group in flight: everything submitted in one turn is one group.
      store = new SqlEventStore(database.db, { groupCommit: { waitMs: 50, maxAppends: 64, maxInFlight: 1 } });
    });
    afterAll(() => database.drop());

    it('answers each append of one group on its own: clean, stale, retried and conflicting side by side, in one transaction', async () => {
      const existing = newStreamId('deal');
      const stored = [newEvent('A'), newEvent('B')];
      const first = await store.appendToStream(existing, stored, { expectedRevision: 'no_stream' });
      const elsewhere = newEvent('Elsewhere');
      const other = newStreamId('deal');
      await store.appendToStream(other, [elsewhere], { expectedRevision: 'no_stream' });

      const clean = [newStreamId('deal'), newStreamId('deal'), newStreamId('deal')];
      const group = await Promise.all([
        outcome(store.appendToStream(clean[0], [newEvent('C1'), newEvent('C2')], { expectedRevision: 'no_stream' })),
        outcome(store.appendToStream(existing, [newEvent('Stale')], { expectedRevision: 0n })),
        outcome(store.appendToStream(existing, stored, { expectedRevision: 'no_stream' })), // a retry
        outcome(store.appendToStream(clean[1], [newEvent('C3')], { expectedRevision: 'any' })),
        outcome(store.appendToStream(newStreamId('deal'), [elsewhere], { expectedRevision: 'any' })), // id of another stream
        outcome(store.appendToStream(clean[2], [newEvent('C4')], { expectedRevision: 'no_stream' })),
        outcome(store.appendToStream(existing, [newEvent('Next')], { expectedRevision: 1n })),
      ]);

      const appended = [group[0], group[3], group[5], group[6]].map((o) => ('ok' in o ? o.ok : undefined));
      expect(appended.map((r) => r?.nextExpectedRevision)).toEqual([1n, 0n, 0n, 2n]);
      expect(appended.every((r) => r?.alreadyStored === false)).toBe(true);
      // Stale, retried and conflicting appends did not fail the group: the others share one transaction.
      expect(new Set(appended.map((r) => r?.position.major)).size).toBe(1);
      expect(group[1]).toEqual({ error: { code: 'wrong-expected-revision', actual: 1n } });
      expect(group[2]).toEqual({ ok: { ...first, alreadyStored: true } });
      expect(group[4]).toEqual({ error: { code: 'idempotency-conflict', eventIds: [elsewhere.eventId] } });

      expect((await expectChainIntact(store, existing)).map((e) => e.type)).toEqual(['A', 'B', 'Next']);
      expect((await expectChainIntact(store, clean[0])).map((e) => e.type)).toEqual(['C1', 'C2']);
    });

    it('fails only the append the database refuses: its neighbours are retried one by one and stored', async () => {
      const [before, nul, after] = [newStreamId('deal'), newStreamId('deal'), newStreamId('deal')];
      const group = await Promise.all([
        outcome(store.appendToStream(before, [newEvent('A')], { expectedRevision: 'no_stream' })),
        // jsonb cannot hold \u0000: the group's statement fails as a whole.
        outcome(store.appendToStream(nul, [newEvent('Bad', { text: 'nul\u0000byte' })], { expectedRevision: 'any' })),
        outcome(store.appendToStream(after, [newEvent('B'), newEvent('C')], { expectedRevision: 'any' })),
      ]);
      expect(group[0]).toMatchObject({ ok: { nextExpectedRevision: 0n, alreadyStored: false } });
      expect(group[1]).toMatchObject({ error: {} });
      expect(group[2]).toMatchObject({ ok: { nextExpectedRevision: 1n, alreadyStored: false } });
      expect(await store.readStream(nul)).toEqual([]);
      expect(await store.streamRevision(nul)).toBeUndefined();
      expect((await expectChainIntact(store, after)).map((e) => e.type)).toEqual(['B', 'C']);
    });

    it('runs appends to one stream within a group as if one after another', async () => {
      const streamId = newStreamId('deal');
      const group = await Promise.all([
        outcome(store.appendToStream(streamId, [newEvent('First')], { expectedRevision: 'no_stream' })),
        outcome(store.appendToStream(streamId, [newEvent('Second'), newEvent('Third')], { expectedRevision: 0n })),
        outcome(store.appendToStream(streamId, [newEvent('Stale')], { expectedRevision: 0n })),
        outcome(store.appendToStream(streamId, [newEvent('Again')], { expectedRevision: 'no_stream' })),
        outcome(store.appendToStream(streamId, [newEvent('Any')], { expectedRevision: 'any' })),
        outcome(store.appendToStream(streamId, [newEvent('Exists')], { expectedRevision: 'stream_exists' })),
      ]);
      const ok = group.map((o) => ('ok' in o ? o.ok.nextExpectedRevision : o.error));
      expect(ok).toEqual([
        0n,
        2n,
        { code: 'wrong-expected-revision', actual: 2n },
        { code: 'wrong-expected-revision', actual: 2n },
        3n,
        4n,
      ]);
      const positions = group.flatMap((o) => ('ok' in o ? [o.ok.position] : []));
      expect(new Set(positions.map((p) => p.major)).size).toBe(1);
      expect(positions.map((p) => p.minor)).toEqual([...positions.map((p) => p.minor)].sort((a, b) => Number(a - b)));
      const events = await expectChainIntact(store, streamId);
      expect(events.map((e) => `${e.revision}:${e.type}`)).toEqual([
        '0:First',
        '1:Second',
        '2:Third',
        '3:Any',
        '4:Exists',
      ]);
      expect(events.at(-1)!.position).toEqual(positions.at(-1));
    });

    it('answers an append and its retry in the same turn: the retry waits for the next group and replays', async () => {
      const streamId = newStreamId('deal');
      const events: NewEvent[] = [newEvent('Once')];
      const [a, b] = await Promise.all([
        store.appendToStream(streamId, events, { expectedRevision: 'no_stream' }),
        store.appendToStream(streamId, events, { expectedRevision: 'no_stream' }),
      ]);
      expect(b).toEqual({ ...a, alreadyStored: true });
      expect(await store.readStream(streamId)).toHaveLength(1);
    });

    it('moves the head to the last hash of each stream of the group', async () => {
      const streams = [newStreamId('deal'), newStreamId('pipeline')];
      await Promise.all(
        streams.flatMap((s) => [
          store.appendToStream(s, [newEvent('X')], { expectedRevision: 'no_stream' }),
          store.appendToStream(s, [newEvent('Y')], { expectedRevision: 0n }),
        ]),
      );
      for (const streamId of streams) {
        const events = await expectChainIntact(store, streamId);
        const { rows } = await sql<{ revision: string; last_hash: string }>`
          select revision::text as revision, last_hash from event_store.streams where stream_id = ${streamId}`.execute(
          database.db,
        );
        expect(rows).toEqual([{ revision: '1', last_hash: events[1].hash }]);
      }
    });

    it('with EVENT_STORE_GROUP_COMMIT_LINGER_MS, appends arriving apart share a transaction; without, they do not', async () => {
      const apart = async (target: SqlEventStore) => {
        // Two appends first, so that the next comes soon after two (a linger needs appends coming that often).
        for (const type of ['L0', 'L0'])
          await target.appendToStream(newStreamId('deal'), [newEvent(type)], { expectedRevision: 'no_stream' });
        const first = target.appendToStream(newStreamId('deal'), [newEvent('L1')], { expectedRevision: 'no_stream' });
        await new Promise((resolve) => setTimeout(resolve, 30));
        const second = target.appendToStream(newStreamId('deal'), [newEvent('L2')], { expectedRevision: 'no_stream' });
        const results = await Promise.all([first, second]);
        return new Set(results.map((result) => result.position.major)).size;
      };
      const lingering = new SqlEventStore(database.db, {
        groupCommit: { waitMs: 2, maxAppends: 64, maxInFlight: 2, lingerMs: 1_000 },
      });
      expect(await apart(lingering)).toBe(1);
      const notLingering = new SqlEventStore(database.db, {
        groupCommit: { waitMs: 2, maxAppends: 64, maxInFlight: 2, lingerMs: 0 },
      });
      expect(await apart(notLingering)).toBe(2);
    });
  });
}

groupCommitSuite('PostgreSQL', () => createPostgresTestDatabase({ poolSize: 8 }));
groupCommitSuite('PGlite', () => createPGliteTestDatabase());

describe('SqlEventStore group commit on PostgreSQL: other transactions', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPostgresTestDatabase({ poolSize: 8 });
    await migrateEventStore(database.db);
  });
  afterAll(() => database.drop());

  it('does not hold a group up for a stream another transaction has locked: that append alone waits', async () => {
    const store = new SqlEventStore(database.db, { groupCommit: { waitMs: 50, maxAppends: 64, maxInFlight: 1 } });
    const locked = newStreamId('deal');
    await store.appendToStream(locked, [newEvent('A')], { expectedRevision: 'no_stream' });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const holder = database.db.transaction().execute(async (trx) => {
      await sql`select 1 from event_store.streams where stream_id = ${locked} for update`.execute(trx);
      holding();
      await released;
    });
    await held;
    const finished: string[] = [];
    const clean = newStreamId('deal');
    const blocked = store.appendToStream(locked, [newEvent('B')], { expectedRevision: 0n }).then((r) => {
      finished.push('locked');
      return r;
    });
    const free = store.appendToStream(clean, [newEvent('C')], { expectedRevision: 'no_stream' }).then((r) => {
      finished.push('clean');
      return r;
    });
    expect((await free).nextExpectedRevision).toBe(0n);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(finished).toEqual(['clean']); // the clean append committed while the other stream was locked
    release();
    await holder;
    expect((await blocked).nextExpectedRevision).toBe(1n);
    expect(finished).toEqual(['clean', 'locked']);
    await expectChainIntact(store, locked);
  });

  it('answers a retry that raced its still-uncommitted original with the original result', async () => {
    const streamId = newStreamId('deal');
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let inCommit!: () => void;
    const committing = new Promise<void>((resolve) => (inCommit = resolve));
    const slow = new SqlEventStore(database.db, {
      beforeCommit: async () => {
        inCommit();
        await released;
      },
    });
    const fast = new SqlEventStore(database.db);
    const events = [newEvent('Once'), newEvent('Twice')];
    const original = slow.appendToStream(streamId, events, { expectedRevision: 'no_stream' });
    await committing;
    const retry = fast.appendToStream(streamId, events, { expectedRevision: 'no_stream' });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the retry now waits on the original's new stream row
    release();
    const [a, b] = await Promise.all([original, retry]);
    expect(a.alreadyStored).toBe(false);
    expect(b).toEqual({ ...a, alreadyStored: true });
    expect(await fast.readStream(streamId)).toHaveLength(2);
  });
});
