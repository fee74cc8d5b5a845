import {
  EsdbEventStore,
  SqlEventStore,
  hashEvent,
  migrateEventStore,
  type EventStore,
  type NewEvent,
} from '@dealstream/event-store';
import { openDatabase, type Database } from '@dealstream/database';
import { ScriptedEsdbServer } from '@dealstream/event-store/testing';
import { checkStoreChainAnchor, takeStoreChainAnchor } from '../anchor/store-chain-anchor.js';
import { verifyHashChains } from './verify-chains.query.js';
import { verifyStoreChains } from './verify-store-chains.js';

// Tamper evidence through the event store port, on both profiles: the SQL store (PGlite) and the
// EventStoreDB adapter — against the scripted gRPC server, which is NOT EventStoreDB (no server can
// run here; the contract suite covers a real one when EVENTSTORE_CONNECTION_STRING is set). What is
// under test is the adapter's chain (previousHash/hash in each event's metadata, by the SQL store's
// hashEvent) and the port-level verifier and anchor.

function event(type: string, data: object, actorId = 'alice'): NewEvent {
  return {
    eventId: crypto.randomUUID(),
    type,
    data,
    metadata: { actorId, correlationId: 'corr-1', occurredAt: new Date('2026-03-01T10:00:00.000Z') },
  };
}

async function writeHistory(store: EventStore): Promise<void> {
  await store.appendToStream('deal-1', [event('DealCreated', { title: 'A' }), event('DealUpdated', { amount: 5 })], {
    expectedRevision: 'no_stream',
  });
  await store.appendToStream('deal-1', [event('DealWon', {})], { expectedRevision: 'any' });
  await store.appendToStream('deal-2', [event('DealCreated', { title: 'B' })], { expectedRevision: 'no_stream' });
  await store.appendToStream('deal-2', [event('DealUpdated', { title: 'B2' })], { expectedRevision: 0n });
}

describe('hash chain through the port: the same events verify on both profiles', () => {
  let server: ScriptedEsdbServer;
  let esdb: EsdbEventStore;
  let database: Database;
  let sql: SqlEventStore;

  beforeAll(async () => {
    server = await new ScriptedEsdbServer().start();
    esdb = new EsdbEventStore(server.connectionString, { timeoutMs: 5000 });
    database = await openDatabase({ kind: 'pglite' });
    await migrateEventStore(database.db);
    sql = new SqlEventStore(database.db);
    await writeHistory(esdb);
    await writeHistory(sql);
  });

  afterAll(async () => {
    await esdb.close();
    await server.stop();
    await database.close();
  });

  it('EventStoreDB events carry previousHash and hash computed by hashEvent, chained per stream', async () => {
    const events = await esdb.readStream('deal-1');
    expect(events.map((e) => e.previousHash)).toEqual([null, events[0].hash, events[1].hash]);
    for (const e of events) {
      const { actorId, commandId, correlationId, causationId, occurredAt } = e.metadata;
      const content = { ...e, actorId, commandId, correlationId, causationId, occurredAt };
      expect(e.hash).toBe(hashEvent(content, e.previousHash ?? null));
    }
  });

  it.each(['eventstoredb', 'sql'] as const)('%s: the whole store and one stream verify intact', async (profile) => {
    const store = profile === 'sql' ? sql : esdb;
    expect(await verifyStoreChains(store)).toEqual({
      streamsChecked: 2,
      eventsChecked: 5,
      brokenStreams: 0,
      breaks: [],
      ok: true,
    });
    expect(await verifyStoreChains(store, { streamId: 'deal-2' })).toMatchObject({ streamId: 'deal-2', ok: true });
    expect(await verifyStoreChains(store, { streamId: 'deal-none' })).toBeUndefined();
  });

  it('the port verifier agrees with the SQL verifier on the SQL store', async () => {
    const viaTables = await verifyHashChains(database.db);
    expect(viaTables).toMatchObject({ ok: true, streamsChecked: 2, eventsChecked: 5 });
  });
});

describe('tamper evidence on the EventStoreDB adapter (scripted gRPC server)', () => {
  let server: ScriptedEsdbServer;
  let store: EsdbEventStore;

  beforeEach(async () => {
    server = await new ScriptedEsdbServer().start();
    store = new EsdbEventStore(server.connectionString, { timeoutMs: 5000 });
    await writeHistory(store);
  });

  afterEach(async () => {
    await store.close();
    await server.stop();
  });

  it('an edited event is a hash-mismatch at its revision; the other stream stays intact', async () => {
    server.tamper('deal-1', 1n, { data: { amount: 5000 } });
    const report = await verifyStoreChains(store);
    expect(report).toMatchObject({ ok: false, brokenStreams: 1, streamsChecked: 2 });
    expect(report!.breaks).toEqual([
      expect.objectContaining({ streamId: 'deal-1', revision: 1n, reason: 'hash-mismatch' }),
    ]);
  });

  it('an imported event keeps its provenance and verifies; a forged source actor is a hash-mismatch', async () => {
    const provenance = { importId: 'imp-1', sourceSystem: 'acme', sourceRecordId: 'OH-1', sourceActor: 'sam' };
    await store.appendToStream(
      'deal-3',
      [{ ...event('DealCreated', { title: 'C' }), metadata: { ...event('x', {}).metadata, provenance } }],
      {
        expectedRevision: 'no_stream',
      },
    );
    const [stored] = await store.readStream('deal-3');
    expect(stored.metadata.provenance).toEqual(provenance);
    expect(await verifyStoreChains(store, { streamId: 'deal-3' })).toMatchObject({ ok: true });
    server.tamper('deal-3', 0n, { metadata: (m) => ({ ...m, provenance: { ...provenance, sourceActor: 'mallory' } }) });
    expect((await verifyStoreChains(store, { streamId: 'deal-3' }))!.breaks).toEqual([
      expect.objectContaining({ streamId: 'deal-3', revision: 0n, reason: 'hash-mismatch' }),
    ]);
  });

  it('an event edited and re-hashed on its own breaks the link to its successor', async () => {
    const [, second] = await store.readStream('deal-1');
    const data = { amount: 5000 };
    const { actorId, commandId, correlationId, causationId, occurredAt } = second.metadata;
    const hash = hashEvent(
      { ...second, data, actorId, commandId, correlationId, causationId, occurredAt },
      second.previousHash ?? null,
    );
    server.tamper('deal-1', 1n, { data, metadata: (m) => ({ ...m, hash }) });
    const report = await verifyStoreChains(store, { streamId: 'deal-1' });
    expect(report!.breaks).toEqual([expect.objectContaining({ revision: 2n, reason: 'broken-link' })]);
  });

  it('an anchor is taken on an intact store and catches a deleted stream and a consistent rewrite', async () => {
    const taken = await takeStoreChainAnchor(store, () => new Date('2026-03-02T00:00:00.000Z'));
    expect(taken.ok).toBe(true);
    const anchor = (taken as Extract<typeof taken, { ok: true }>).anchor;
    expect(anchor.heads.map((h) => [h.streamId, h.revision])).toEqual([
      ['deal-1', 2n],
      ['deal-2', 1n],
    ]);
    expect(await checkStoreChainAnchor(store, anchor)).toMatchObject({ ok: true, streamsChecked: 2 });

    // Appends after the anchor are harmless: an anchor certifies a prefix.
    await store.appendToStream('deal-2', [event('DealLost', {})], { expectedRevision: 1n });
    expect(await checkStoreChainAnchor(store, anchor)).toMatchObject({ ok: true });

    // A consistent rewrite of deal-2 (every hash recomputed) verifies on its own, but not against the anchor.
    const original = await store.readStream('deal-2');
    let previous: string | null = null;
    for (const e of original) {
      const data = e.revision === 0n ? { title: 'forged' } : e.data;
      const { actorId, commandId, correlationId, causationId, occurredAt } = e.metadata;
      const hash = hashEvent({ ...e, data, actorId, commandId, correlationId, causationId, occurredAt }, previous);
      const previousHash = previous;
      server.tamper('deal-2', e.revision, { data, metadata: (m) => ({ ...m, previousHash, hash }) });
      previous = hash;
    }
    expect(await verifyStoreChains(store)).toMatchObject({ ok: true });
    server.deleteStream('deal-1');
    const against = await checkStoreChainAnchor(store, anchor);
    expect(against).toMatchObject({ ok: false, brokenStreams: 2 });
    expect(against.breaks.map((b) => [b.streamId, b.reason])).toEqual([
      ['deal-1', 'stream-missing'],
      ['deal-2', 'hash-differs'],
    ]);
  });

  it('a hard-deleted (tombstoned) stream is `stream-missing` against the anchor, not an error', async () => {
    const taken = await takeStoreChainAnchor(store, () => new Date('2026-03-02T00:00:00.000Z'));
    const anchor = (taken as Extract<typeof taken, { ok: true }>).anchor;
    server.tombstone('deal-1');
    const against = await checkStoreChainAnchor(store, anchor);
    expect(against).toMatchObject({ ok: false, brokenStreams: 1, streamsChecked: 2 });
    expect(against.breaks.map((b) => [b.streamId, b.reason])).toEqual([['deal-1', 'stream-missing']]);
    expect(await verifyStoreChains(store, { streamId: 'deal-1' })).toBeUndefined();
  });

  it('a broken store is not anchored: its report is returned instead', async () => {
    server.tamper('deal-2', 0n, { data: { title: 'edited' } });
    const taken = await takeStoreChainAnchor(store);
    expect(taken).toMatchObject({ ok: false, verification: { ok: false, brokenStreams: 1 } });
  });
});
