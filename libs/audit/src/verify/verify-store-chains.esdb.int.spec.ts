import { randomUUID } from 'node:crypto';
import { EventStoreDBClient, jsonEvent } from '@eventstore/db-client';
import { EsdbEventStore, hashEvent, type NewEvent } from '@dealstream/event-store';
import { createChainAnchor } from '../anchor/chain-anchor.js';
import { checkStoreChainAnchor } from '../anchor/store-chain-anchor.js';
import { verifyStoreChains } from './verify-store-chains.js';

// The hash chain on a REAL EventStoreDB/KurrentDB server: runs only with EVENTSTORE_CONNECTION_STRING
// (no server can be installed on the build machines), and is reported as skipped otherwise — never
// replaced by the scripted server. Tampering cannot be staged on a real server (its log cannot be
// edited through the client), so this checks what a real server gives back — the chain as written,
// verified per stream, an anchor over our own streams — and the tampering a real server does allow:
// events written by someone who bypasses the adapter (a forged chain, no chain), a stream truncated
// (`$tb`), soft-deleted or tombstoned. The same kinds of tampering are staged on the scripted server in
// verify-store-chains.int.spec.ts, and on PostgreSQL in test/e2e/audit-tamper.e2e.spec.ts.
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

  describe('tampering a real server allows', () => {
    let raw: EventStoreDBClient;
    beforeAll(() => {
      raw = EventStoreDBClient.connectionString(connectionString!);
    });
    afterAll(() => raw?.dispose());

    /** A fresh stream of three chained events written by the adapter. */
    const chainedStream = async (): Promise<string> => {
      const streamId = `deal-tamper-${randomUUID()}`;
      await store.appendToStream(streamId, [event(0), event(1), event(2)], { expectedRevision: 'no_stream' });
      return streamId;
    };
    const anchorOf = async (streamId: string) => {
      const [last] = await store.readStream(streamId, { direction: 'backwards', maxCount: 1 });
      return createChainAnchor([{ streamId, revision: last.revision, hash: last.hash! }], new Date());
    };

    it('an event forged by a writer bypassing the adapter (chain fields for other data) is a hash-mismatch', async () => {
      const streamId = await chainedStream();
      const [head] = await store.readStream(streamId, { direction: 'backwards', maxCount: 1 });
      const recordedAt = new Date();
      const occurredAt = new Date('2026-03-01T10:00:00.000Z');
      const honest = { n: 3, text: 'what was approved' };
      const eventId = randomUUID();
      const hash = hashEvent(
        {
          streamId,
          revision: 3n,
          eventId,
          type: 'DealNoted',
          data: honest,
          actorId: 'alice',
          correlationId: 'c',
          occurredAt,
          recordedAt,
        },
        head.hash!,
      );
      await raw.appendToStream(
        streamId,
        jsonEvent({
          id: eventId,
          type: 'DealNoted',
          data: { n: 3, text: 'what was stored instead' },
          metadata: {
            actorId: 'alice',
            correlationId: 'c',
            occurredAt: occurredAt.toISOString(),
            recordedAt: recordedAt.toISOString(),
            previousHash: head.hash,
            hash,
          },
        }),
        { expectedRevision: 2n },
      );
      const report = await verifyStoreChains(store, { streamId });
      expect(report).toMatchObject({ ok: false, brokenStreams: 1 });
      expect(report!.breaks).toEqual([expect.objectContaining({ streamId, revision: 3n, reason: 'hash-mismatch' })]);
    });

    it('an event written without the chain by another producer breaks the link at its revision', async () => {
      const streamId = await chainedStream();
      await raw.appendToStream(streamId, jsonEvent({ type: 'DealNoted', data: { n: 3 } }), { expectedRevision: 2n });
      const report = await verifyStoreChains(store, { streamId });
      expect(report!.breaks).toEqual([expect.objectContaining({ streamId, revision: 3n, reason: 'broken-link' })]);
    });

    it('a stream truncated before revision 2 ($tb) is a revision-gap at 0', async () => {
      const streamId = await chainedStream();
      await raw.setStreamMetadata(streamId, { truncateBefore: 2 });
      const report = await verifyStoreChains(store, { streamId });
      expect(report!.breaks).toEqual([expect.objectContaining({ streamId, revision: 0n, reason: 'revision-gap' })]);
    });

    it.each(['soft-deleted', 'tombstoned'] as const)(
      'a %s stream is stream-missing against its anchor',
      async (how) => {
        const streamId = await chainedStream();
        const anchor = await anchorOf(streamId);
        expect(await checkStoreChainAnchor(store, anchor)).toMatchObject({ ok: true, streamsChecked: 1 });
        if (how === 'soft-deleted') await raw.deleteStream(streamId);
        else await raw.tombstoneStream(streamId);
        const report = await checkStoreChainAnchor(store, anchor);
        expect(report).toMatchObject({ ok: false, brokenStreams: 1 });
        expect(report.breaks.map((b) => [b.streamId, b.reason])).toEqual([[streamId, 'stream-missing']]);
      },
    );
  });

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
