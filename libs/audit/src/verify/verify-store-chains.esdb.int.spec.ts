import { randomUUID } from 'node:crypto';
import { EsdbEventStore, hashEvent, type NewEvent } from '@dealstream/event-store';
import { createChainAnchor } from '../anchor/chain-anchor.js';
import { checkStoreChainAnchor } from '../anchor/store-chain-anchor.js';
import { verifyStoreChains } from './verify-store-chains.js';

// The hash chain on a REAL EventStoreDB/KurrentDB server: runs only with EVENTSTORE_CONNECTION_STRING
// (no server can be installed on the build machines), and is reported as skipped otherwise — never
// replaced by the scripted server. Tampering cannot be staged on a real server (its log cannot be
// edited through the client), so this checks what a real server gives back: the chain as written,
// verified per stream, and an anchor over our own streams.
const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;
const describeOnServer = connectionString ? describe : describe.skip;
const title = connectionString
  ? 'hash chain on EventStoreDB'
  : 'hash chain on EventStoreDB — skipped: EVENTSTORE_CONNECTION_STRING not set — no EventStoreDB server on this machine';

describeOnServer(title, () => {
  let store: EsdbEventStore;
  const streams = [`deal-chain-${randomUUID()}`, `deal-chain-${randomUUID()}`];
  const event = (n: number): NewEvent => ({
    eventId: randomUUID(),
    type: 'DealNoted',
    data: { n, text: 'é ✓ "quoted"' },
    metadata: { actorId: 'alice', correlationId: 'c', occurredAt: new Date('2026-03-01T10:00:00.000Z') },
  });

  beforeAll(async () => {
    store = new EsdbEventStore(connectionString!, { timeoutMs: 10_000 });
    await store.appendToStream(streams[0], [event(0), event(1)], { expectedRevision: 'no_stream' });
    await store.appendToStream(streams[0], [event(2)], { expectedRevision: 'any' });
    await store.appendToStream(streams[1], [event(0)], { expectedRevision: 'no_stream' });
  });
  afterAll(() => store?.close());

  it('reads back every event with previousHash and hash equal to hashEvent of what the server returns', async () => {
    const events = await store.readStream(streams[0]);
    expect(events.map((e) => e.previousHash)).toEqual([null, events[0].hash, events[1].hash]);
    for (const e of events) {
      const { actorId, commandId, correlationId, causationId, occurredAt } = e.metadata;
      expect(e.hash).toBe(
        hashEvent({ ...e, actorId, commandId, correlationId, causationId, occurredAt }, e.previousHash ?? null),
      );
    }
  });

  it('verifies each stream intact and holds an anchor over them', async () => {
    for (const streamId of streams)
      expect(await verifyStoreChains(store, { streamId })).toMatchObject({ streamId, ok: true, brokenStreams: 0 });
    const heads = await Promise.all(
      streams.map(async (streamId) => {
        const [last] = await store.readStream(streamId, { direction: 'backwards', maxCount: 1 });
        return { streamId, revision: last.revision, hash: last.hash! };
      }),
    );
    const anchor = createChainAnchor(heads, new Date());
    expect(await checkStoreChainAnchor(store, anchor)).toMatchObject({ ok: true, streamsChecked: 2 });
  });
});
