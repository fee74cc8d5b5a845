import { EventStoreDBClient } from '@eventstore/db-client';
import { newEvent } from '../contract/event-store.contract.js';
import { EventStoreError, IdempotencyConflictError } from '../port/event-store.errors.js';
import { START } from '../port/global-position.js';
import { EsdbEventStore } from './esdb-event-store.js';
import { ScriptedEsdbServer } from './testing/scripted-esdb-server.js';

// Failure paths of the EventStoreDB adapter against a scripted gRPC server that speaks the streams
// protocol from the client's own generated definitions (testing/scripted-esdb-server.ts). It is NOT
// EventStoreDB: what a real server does is checked by the contract suite (esdb-event-store.int.spec.ts),
// which runs only with EVENTSTORE_CONNECTION_STRING. Durations are checked generously (loaded machine).

const BOUND_MS = 400;

describe('EsdbEventStore failure paths (scripted gRPC server, not EventStoreDB)', () => {
  let server: ScriptedEsdbServer;
  let store: EsdbEventStore;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);

  beforeAll(() => process.on('uncaughtException', onUncaught).on('unhandledRejection', onUncaught));
  afterAll(() => process.off('uncaughtException', onUncaught).off('unhandledRejection', onUncaught));

  beforeEach(async () => {
    uncaught.length = 0;
    server = await new ScriptedEsdbServer().start();
    store = new EsdbEventStore(server.connectionString, { timeoutMs: BOUND_MS });
  });

  afterEach(async () => {
    await store.close();
    await server.stop();
  });

  /**
   * For the tests that are not about the bound: a first call sets up the channel and asks the server
   * for its features, which on a loaded machine (jest's two workers, the other tier's PostgreSQL) can
   * take longer than BOUND_MS, and then failed as a timeout what only checks an answer.
   */
  async function withRoomyBound(test: (roomy: EsdbEventStore) => Promise<void>): Promise<void> {
    const roomy = new EsdbEventStore(server.connectionString, { timeoutMs: 10_000 });
    try {
      await test(roomy);
    } finally {
      await roomy.close();
    }
  }

  it('answers normally when nothing is scripted (the server is usable at all)', () =>
    withRoomyBound(async (store) => {
      const result = await store.appendToStream('deal-ok', [newEvent('DealCreated')], {
        expectedRevision: 'no_stream',
      });
      expect(result).toMatchObject({ streamId: 'deal-ok', nextExpectedRevision: 0n, alreadyStored: false });
      expect((await store.readStream('deal-ok')).map((e) => e.type)).toEqual(['DealCreated']);
    }));

  describe('finding 1: a timeout never crashes the process nor fails an unrelated append', () => {
    it('two appends time out, a healthy one meanwhile succeeds, and the timed-out retry answers the original result', async () => {
      const a = newEvent('DealCreated');
      const c = newEvent('DealCreated');
      const b = newEvent('DealCreated');
      // A and C are stored at once but answered only after 3 bounds; B is answered within the bound.
      server.script.append.push({ kind: 'delay', ms: 3 * BOUND_MS }, { kind: 'delay', ms: 3 * BOUND_MS });
      const first = settle(store.appendToStream('deal-a', [a], { expectedRevision: 'no_stream' }));
      await sleep(BOUND_MS / 2);
      const second = settle(store.appendToStream('deal-c', [c], { expectedRevision: 'no_stream' }));
      await sleep(BOUND_MS / 2 + 50); // A has timed out; C is still running
      server.script.append.push({ kind: 'delay', ms: BOUND_MS / 2 });
      const healthy = settle(store.appendToStream('deal-b', [b], { expectedRevision: 'no_stream' }));

      const [ra, rc, rb] = await Promise.all([first, second, healthy]);
      expect(errorCode(ra)).toBe('timeout');
      expect(errorCode(rc)).toBe('timeout');
      expect(rb).toMatchObject({
        ok: true,
        value: { streamId: 'deal-b', nextExpectedRevision: 0n, alreadyStored: false },
      });
      await sleep(3 * BOUND_MS); // the late replies to A and C arrive
      expect(uncaught).toEqual([]);

      // A was stored: its retry with the same ids answers the original result.
      const retry = await store.appendToStream('deal-a', [a], { expectedRevision: 'no_stream' });
      const [stored] = await store.readStream('deal-a');
      expect(retry).toEqual({
        streamId: 'deal-a',
        nextExpectedRevision: 0n,
        position: stored.position,
        alreadyStored: true,
      });
      expect(server.records.filter((r) => r.streamId === 'deal-a')).toHaveLength(1);
    });

    it('an append whose channel the client shut down under it fails `unavailable` at once: no unhandled rejection, no wait for the bound', async () => {
      // The client closes its channel by itself after an unavailable or cancelled answer on any call
      // (Client.handleError). An append that took the channel's gRPC client a few microtasks before
      // then makes its call on a shut-down channel: grpc-js throws synchronously, inside the client's
      // async Promise executor (append.js) — an unhandled rejection, which ends a Node process, and
      // an append that never settles. The race is narrow; here the channel is closed directly, with
      // its gRPC client still cached, to make the same call deterministic.
      let client: EventStoreDBClient | undefined;
      const raced = new EsdbEventStore(server.connectionString, {
        timeoutMs: 5_000,
        createClient: (text) => (client = EventStoreDBClient.connectionString(text)),
      });
      try {
        await raced.appendToStream('deal-warm', [newEvent('DealCreated')], { expectedRevision: 'no_stream' });
        // The append's window read is answered after 300 ms; meanwhile the channel is shut down (a call
        // already running on it finishes, as grpc-js does), so the append itself meets the closed channel.
        server.script.read.push({ kind: 'delay', ms: 300 });
        const started = Date.now();
        const pending = settle(
          raced.appendToStream('deal-shut', [newEvent('DealCreated')], { expectedRevision: 'no_stream' }),
        );
        await sleep(100);
        (await (client as unknown as { getChannel(): Promise<{ close(): void }> }).getChannel()).close();
        const outcome = await pending;
        expect(errorCode(outcome)).toBe('unavailable');
        expect(Date.now() - started).toBeLessThan(2_500);
        await sleep(100);
        expect(uncaught).toEqual([]);
        expect(server.records.filter((r) => r.streamId === 'deal-shut')).toHaveLength(0);
      } finally {
        await raced.close();
      }
    });

    it("an append's gRPC call ends with the port call's bound, not a whole bound after its own start", async () => {
      // The append reads the stream first (answered after 800 of its 1,000 ms); its Append call then
      // gets what is left of the bound as its deadline (the server sees about 1,000 ms after the start;
      // a whole bound from its own start would be 1,800 ms), so the server is not left working on it
      // long after the caller was told `timeout`. Generous margin: the server shares the event loop.
      const bound = 1_000;
      const timed = new EsdbEventStore(server.connectionString, { timeoutMs: bound });
      try {
        server.script.read.push({ kind: 'delay', ms: 800 });
        server.script.append.push({ kind: 'delay', ms: 2 * bound });
        const started = Date.now();
        const outcome = await settle(
          timed.appendToStream('deal-deadline', [newEvent('DealCreated')], { expectedRevision: 'no_stream' }),
        );
        expect(errorCode(outcome)).toBe('timeout');
        const [call] = server.appendDeadlines;
        expect(call.deadline).toBeDefined();
        expect(call.deadline! - started).toBeLessThan(bound + 500);
        await sleep(2 * bound);
        expect(uncaught).toEqual([]);
      } finally {
        await timed.close();
      }
    });

    it('a not-ready answer on one call makes the client replace its channel; appends running on the old one still succeed', async () => {
      // The evidence for "one client, rely on its reconnection": the client closes a channel after an
      // unavailable answer (Client.handleError) while other calls run on it; grpc-js lets them finish.
      let client: EventStoreDBClient | undefined;
      const patient = new EsdbEventStore(server.connectionString, {
        timeoutMs: 3_000,
        createClient: (text) => (client = EventStoreDBClient.connectionString(text)),
      });
      const channelOf = () => (client as unknown as { getChannel(): Promise<unknown> }).getChannel();
      try {
        const events = Array.from({ length: 5 }, () => newEvent('DealCreated'));
        for (const _ of events) server.script.append.push({ kind: 'delay', ms: 300 });
        const running = events.map((event, i) =>
          settle(patient.appendToStream(`deal-running-${i}`, [event], { expectedRevision: 'no_stream' })),
        );
        while (server.calls.append < events.length) await sleep(5); // the Append calls are at the server
        const before = await channelOf();
        server.script.read.push({ kind: 'not-ready' });
        expect(errorCode(await settle(patient.readStream('deal-unrelated')))).toBe('unavailable');
        await sleep(10);
        expect(await channelOf()).not.toBe(before); // the client closed the old channel and made a new one
        const outcomes = await Promise.all(running);
        expect(outcomes.map((o) => (o.ok ? o.value.alreadyStored : errorCode(o)))).toEqual(events.map(() => false));
        const next = await patient.appendToStream('deal-next', [newEvent('DealCreated')], {
          expectedRevision: 'no_stream',
        });
        expect(next.alreadyStored).toBe(false);
        expect(uncaught).toEqual([]);
      } finally {
        await patient.close();
      }
    });

    it('a connection dropped mid-append is `unavailable` or `timeout`, never a crash; the retry finds what was stored', async () => {
      const event = newEvent('DealCreated');
      server.script.append.push({ kind: 'drop', commit: true });
      const dropped = await settle(store.appendToStream('deal-drop', [event], { expectedRevision: 'no_stream' }));
      expect(['unavailable', 'timeout']).toContain(errorCode(dropped));
      const retry = await store.appendToStream('deal-drop', [event], { expectedRevision: 'no_stream' });
      expect(retry).toMatchObject({ nextExpectedRevision: 0n, alreadyStored: true });
      expect(uncaught).toEqual([]);
    });

    it('a server-cancelled append is reported as `timeout` (outcome unknown), and the retry answers the original result', async () => {
      const event = newEvent('DealCreated');
      server.script.append.push({ kind: 'cancelled', commit: true });
      const cancelled = await settle(store.appendToStream('deal-cancel', [event], { expectedRevision: 'no_stream' }));
      expect(errorCode(cancelled)).toBe('timeout');
      const retry = await store.appendToStream('deal-cancel', [event], { expectedRevision: 'no_stream' });
      expect(retry).toMatchObject({ nextExpectedRevision: 0n, alreadyStored: true });
    });
  });

  describe('finding 2: not ready, busy and unknown answers are `unavailable` (503 with Retry-After in the API)', () => {
    it.each(['not-ready', 'busy', 'unknown'] as const)('append answered %s → unavailable', async (kind) => {
      server.script.append.push(kind === 'unknown' ? { kind, commit: false } : { kind });
      const outcome = await settle(
        store.appendToStream('deal-x', [newEvent('DealCreated')], { expectedRevision: 'any' }),
      );
      expect(errorCode(outcome)).toBe('unavailable');
      expect(server.records.filter((r) => r.streamId === 'deal-x')).toHaveLength(0);
    });

    it.each(['not-ready', 'busy', 'unknown'] as const)('readStream answered %s → unavailable', async (kind) => {
      server.script.read.push({ kind });
      expect(errorCode(await settle(store.readStream('deal-y')))).toBe('unavailable');
    });
  });

  describe('finding 3: readAll honours the port contract past filtered stretches', () => {
    it('keeps reading past more filtered-out events than one scan holds: an empty batch only at the head', async () => {
      const scanning = new EsdbEventStore(server.connectionString, {
        timeoutMs: BOUND_MS * 5,
        readAllPageSize: 10,
      });
      try {
        server.addSystemEvents(75);
        const written = await scanning.appendToStream('deal-late', [newEvent('DealCreated')], {
          expectedRevision: 'no_stream',
        });
        const batch = await scanning.readAll({ after: START, limit: 10 });
        expect(batch.events.map((e) => e.streamId)).toEqual(['deal-late']);
        expect(batch.cursor).toEqual(written.position);
        server.addSystemEvents(75);
        const atHead = await scanning.readAll({ after: batch.cursor, limit: 10 });
        expect(atHead).toEqual({ events: [], cursor: batch.cursor });
      } finally {
        await scanning.close();
      }
    });

    it('with its default options too: past 11,000 filtered-out events (more than one call ever scanned before)', async () => {
      // The adapter before issue 20 stopped after scanning 10,000 events and answered an empty batch
      // with a moved cursor; a rebuild read that as the end. Default page size (500): 23 round trips.
      const defaults = new EsdbEventStore(server.connectionString, { timeoutMs: 10_000 });
      try {
        server.addSystemEvents(11_000);
        const written = await defaults.appendToStream('deal-behind', [newEvent('DealCreated')], {
          expectedRevision: 'no_stream',
        });
        const batch = await defaults.readAll({ after: START, limit: 100 });
        expect(batch).toEqual({
          events: [expect.objectContaining({ streamId: 'deal-behind' })],
          cursor: written.position,
        });
      } finally {
        await defaults.close();
      }
    }, 60_000);
  });

  describe('finding 5: appends with `any` do not scan whole streams', () => {
    it('an `any` append to a 2,000-event stream reads at most the idempotency window and its own events back', () =>
      withRoomyBound(async (store) => {
        server.addEvents('deal-long', 2000);
        const before = server.streamEventsSent;
        const result = await store.appendToStream('deal-long', [newEvent('DealNoted')], { expectedRevision: 'any' });
        expect(result).toMatchObject({ nextExpectedRevision: 2000n, alreadyStored: false });
        expect(server.streamEventsSent - before).toBeLessThanOrEqual(100 + 1);
        const chained = await store.readStream('deal-long', { fromRevision: 2000n });
        expect(chained[0].previousHash).toBeNull(); // the seeded head carries no hash: the chain restarts visibly
      }));
  });

  describe('finding 4: a partial event-id overlap is idempotency-conflict, as on the SQL store', () => {
    it('[A] stored, then [B, A] at revision 0 is refused and nothing is written', async () => {
      const a = newEvent('DealCreated');
      const b = newEvent('DealUpdated');
      await store.appendToStream('deal-overlap', [a], { expectedRevision: 'no_stream' });
      const outcome = await settle(store.appendToStream('deal-overlap', [b, a], { expectedRevision: 0n }));
      expect(outcome.ok).toBe(false);
      expect((outcome as { error: unknown }).error).toBeInstanceOf(IdempotencyConflictError);
      expect((await store.readStream('deal-overlap')).map((e) => e.eventId)).toEqual([a.eventId]);
    });

    it('[A] stored, then [B, A] with `any` is refused too', async () => {
      const a = newEvent('DealCreated');
      await store.appendToStream('deal-overlap-any', [a], { expectedRevision: 'no_stream' });
      const outcome = await settle(
        store.appendToStream('deal-overlap-any', [newEvent('DealUpdated'), a], { expectedRevision: 'any' }),
      );
      expect((outcome as { error: unknown }).error).toBeInstanceOf(IdempotencyConflictError);
    });
  });
});

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function errorCode(outcome: Settled<unknown>): string {
  if (outcome.ok) return 'resolved';
  return outcome.error instanceof EventStoreError ? outcome.error.code : `raw: ${String(outcome.error)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
