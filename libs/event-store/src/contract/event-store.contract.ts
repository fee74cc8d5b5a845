import { randomUUID } from 'node:crypto';
import { IdempotencyConflictError, WrongExpectedRevisionError, isEventStoreError } from '../port/event-store.errors.js';
import type { EventStore } from '../port/event-store.port.js';
import type { AppendResult, NewEvent, RecordedEvent } from '../port/event-store.types.js';
import { START, comparePositions, type GlobalPosition } from '../port/global-position.js';

/** Hooks an adapter may honour to widen race windows; adapters without transactions ignore them. */
interface FaultInjection {
  afterStreamLock?: (streamId: string) => Promise<void>;
  beforeCommit?: (streamId: string) => Promise<void>;
}

interface EventStoreContractSubject {
  /** Opens a store over the suite's (shared, already migrated) storage. */
  openStore(faults?: FaultInjection): Promise<EventStore>;
  teardown(): Promise<void>;
}

export interface EventStoreContractOptions {
  /** Shown in test names, e.g. 'SqlEventStore on PostgreSQL'. */
  readonly name: string;
  readonly setup: () => Promise<EventStoreContractSubject>;
  /** When set, the whole suite is skipped and the reason shown in the test name. */
  readonly skipReason?: string;
  /**
   * Guarantees an adapter's storage cannot give, each with the reason: those tests are reported as
   * skipped with it, never as passed. (EventStoreDB has no index by event id across streams.)
   */
  readonly limitations?: {
    readonly eventIdUniqueAcrossStreams?: string;
    /** The optional bulk `appendMany`, when the adapter does not offer it (callers append one by one). */
    readonly appendMany?: string;
  };
  /** Sizes of the concurrency scenarios; smaller for single-session PGlite. */
  readonly concurrency?: { writers: number; appendsPerWriter: number; maxDelayMs: number; sameRevisionWriters: number };
}

/**
 * The behaviour every EventStore adapter must have. Run it from an adapter's `.int.spec.ts`:
 *
 * @example eventStoreContract({ name: 'SqlEventStore on PGlite', setup: async () => ({ openStore, teardown }) });
 */
export function eventStoreContract(options: EventStoreContractOptions): void {
  const concurrency = options.concurrency ?? {
    writers: 16,
    appendsPerWriter: 40,
    maxDelayMs: 8,
    sameRevisionWriters: 50,
  };
  const describeOrSkip = options.skipReason ? describe.skip : describe;
  const title = options.skipReason ? `${options.name} — skipped: ${options.skipReason}` : options.name;

  describeOrSkip(`EventStore contract: ${title}`, () => {
    let subject: EventStoreContractSubject;
    let store: EventStore;

    beforeAll(async () => {
      subject = await options.setup();
      store = await subject.openStore();
    });
    afterAll(async () => {
      await store?.close();
      await subject?.teardown();
    });

    describe('appending', () => {
      it('creates a stream with no_stream: revisions from 0, data and metadata read back as written', async () => {
        const streamId = newStreamId('deal');
        const occurredAt = new Date('2025-03-31T09:15:00.123Z');
        const events = [
          newEvent(
            'DealCreated',
            { title: 'ACME renewal', amount: 125_000, nested: { list: [1, 'two', null] } },
            { occurredAt, correlationId: 'corr-1', causationId: 'cmd-1', commandId: 'cmd-1' },
          ),
          newEvent('DealQualified', { score: 75 }, { occurredAt }),
        ];
        const result = await store.appendToStream(streamId, events, { expectedRevision: 'no_stream' });
        expect(result.nextExpectedRevision).toBe(1n);
        expect(result.alreadyStored).toBe(false);
        expect(typeof result.position.major).toBe('bigint');

        const read = await store.readStream(streamId);
        expect(read.map((e) => [e.revision, e.type, e.eventId])).toEqual([
          [0n, 'DealCreated', events[0].eventId],
          [1n, 'DealQualified', events[1].eventId],
        ]);
        expect(read[0].data).toEqual({ title: 'ACME renewal', amount: 125_000, nested: { list: [1, 'two', null] } });
        expect(read[0].metadata).toEqual({
          actorId: 'user-1',
          commandId: 'cmd-1',
          correlationId: 'corr-1',
          causationId: 'cmd-1',
          occurredAt,
        });
        expect(read[1].metadata).toEqual({ actorId: 'user-1', occurredAt });
        expect(read[0].streamId).toBe(streamId);
        expect(read[0].recordedAt).toBeInstanceOf(Date);
        expect(Math.abs(read[0].recordedAt.getTime() - Date.now())).toBeLessThan(10 * 60_000);
        expect(comparePositions(read[1].position, read[0].position)).toBeGreaterThan(0);
        expect(read[1].position).toEqual(result.position);
        expect(await store.streamRevision(streamId)).toBe(1n);
      });

      it('refuses no_stream when the stream exists, reporting its revision, and writes nothing', async () => {
        const streamId = await seededStream(store, 2);
        const error = await store
          .appendToStream(streamId, [newEvent('X')], { expectedRevision: 'no_stream' })
          .catch((e) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({ code: 'wrong-expected-revision', streamId, expected: 'no_stream', actual: 1n });
        expect(await store.readStream(streamId)).toHaveLength(2);
      });

      it('appends at an exact expected revision and refuses a stale one', async () => {
        const streamId = await seededStream(store, 3);
        const ok = await store.appendToStream(streamId, [newEvent('X'), newEvent('Y')], { expectedRevision: 2n });
        expect(ok.nextExpectedRevision).toBe(4n);
        const stale = await store.appendToStream(streamId, [newEvent('Z')], { expectedRevision: 2n }).catch((e) => e);
        expect(stale).toMatchObject({ code: 'wrong-expected-revision', expected: 2n, actual: 4n });
        const ahead = await store.appendToStream(streamId, [newEvent('Z')], { expectedRevision: 9n }).catch((e) => e);
        expect(ahead).toMatchObject({ code: 'wrong-expected-revision', expected: 9n, actual: 4n });
        expect((await store.readStream(streamId)).map((e) => e.type)).toEqual(['Seeded', 'Seeded', 'Seeded', 'X', 'Y']);
      });

      it('refuses an exact revision on a stream that does not exist', async () => {
        const streamId = newStreamId('deal');
        const error = await store.appendToStream(streamId, [newEvent('X')], { expectedRevision: 0n }).catch((e) => e);
        expect(error).toMatchObject({ code: 'wrong-expected-revision', actual: undefined });
        expect(await store.streamRevision(streamId)).toBeUndefined();
        expect(await store.readStream(streamId)).toEqual([]);
      });

      it('appends with any on new and existing streams', async () => {
        const streamId = newStreamId('deal');
        expect(
          (await store.appendToStream(streamId, [newEvent('A')], { expectedRevision: 'any' })).nextExpectedRevision,
        ).toBe(0n);
        expect(
          (await store.appendToStream(streamId, [newEvent('B'), newEvent('C')], { expectedRevision: 'any' }))
            .nextExpectedRevision,
        ).toBe(2n);
        expect((await store.readStream(streamId)).map((e) => `${e.revision}:${e.type}`)).toEqual(['0:A', '1:B', '2:C']);
      });

      it('appends with stream_exists only to existing streams', async () => {
        const missing = newStreamId('deal');
        await expect(
          store.appendToStream(missing, [newEvent('A')], { expectedRevision: 'stream_exists' }),
        ).rejects.toMatchObject({
          code: 'wrong-expected-revision',
          actual: undefined,
        });
        const existing = await seededStream(store, 1);
        expect(
          (await store.appendToStream(existing, [newEvent('A')], { expectedRevision: 'stream_exists' }))
            .nextExpectedRevision,
        ).toBe(1n);
      });

      it('rejects an append without events or with duplicate ids in it, writing nothing', async () => {
        const streamId = newStreamId('deal');
        await expect(store.appendToStream(streamId, [], { expectedRevision: 'any' })).rejects.toMatchObject({
          code: 'invalid-append',
        });
        const event = newEvent('A');
        await expect(store.appendToStream(streamId, [event, event], { expectedRevision: 'any' })).rejects.toMatchObject(
          { code: 'invalid-append' },
        );
        expect(await store.streamRevision(streamId)).toBeUndefined();
      });
    });

    describe('idempotency by event id', () => {
      it('re-appending stored events returns the original result and stores nothing new', async () => {
        const streamId = newStreamId('deal');
        const events = [newEvent('A'), newEvent('B')];
        const first = await store.appendToStream(streamId, events, { expectedRevision: 'no_stream' });
        const retryNoStream = await store.appendToStream(streamId, events, { expectedRevision: 'no_stream' });
        const retryAny = await store.appendToStream(streamId, events, { expectedRevision: 'any' });
        const retryExact = await store.appendToStream(streamId, events, { expectedRevision: 5n });
        for (const retry of [retryNoStream, retryAny, retryExact]) {
          expect(retry).toEqual({ ...first, alreadyStored: true });
        }
        expect((await store.readStream(streamId)).map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
      });

      it('returns the original position for a retried event after later appends', async () => {
        const streamId = newStreamId('deal');
        const event = newEvent('A');
        const first = await store.appendToStream(streamId, [event], { expectedRevision: 'no_stream' });
        await store.appendToStream(streamId, [newEvent('B')], { expectedRevision: 0n });
        const retry = await store.appendToStream(streamId, [event], { expectedRevision: 'no_stream' });
        expect(retry.position).toEqual(first.position);
        expect(retry.nextExpectedRevision).toBe(0n);
        expect(await store.readStream(streamId)).toHaveLength(2);
      });

      it('refuses an append that partly overlaps stored events, writing nothing', async () => {
        const streamId = newStreamId('deal');
        const stored = newEvent('A');
        await store.appendToStream(streamId, [stored], { expectedRevision: 'no_stream' });
        const error = await store
          .appendToStream(streamId, [stored, newEvent('B')], { expectedRevision: 'any' })
          .catch((e) => e);
        expect(error).toBeInstanceOf(IdempotencyConflictError);
        expect(await store.readStream(streamId)).toHaveLength(1);
      });

      const crossStream = options.limitations?.eventIdUniqueAcrossStreams;
      (crossStream ? it.skip : it)(
        `refuses an event id that is stored in another stream${crossStream ? ` — skipped: ${crossStream}` : ''}`,
        async () => {
          const event = newEvent('A');
          await store.appendToStream(newStreamId('deal'), [event], { expectedRevision: 'no_stream' });
          const other = newStreamId('deal');
          await expect(store.appendToStream(other, [event], { expectedRevision: 'any' })).rejects.toMatchObject({
            code: 'idempotency-conflict',
          });
          expect(await store.readStream(other)).toEqual([]);
        },
      );
    });

    const noAppendMany = options.limitations?.appendMany;
    const many = (title: string, test: () => Promise<void>) =>
      (noAppendMany ? it.skip : it)(`appendMany: ${title}${noAppendMany ? ` — skipped: ${noAppendMany}` : ''}`, test);
    describe('appending many streams at once (optional appendMany)', () => {
      many('answers each append as appendToStream would, in order, and writes only those that hold', async () => {
        const fresh = newStreamId('deal');
        const existing = await seededStream(store, 2);
        const stale = await seededStream(store, 2);
        const taken = await seededStream(store, 1);
        const twice = newStreamId('deal');
        const retried = newStreamId('deal');
        const retriedEvents = [newEvent('R1'), newEvent('R2')];
        const original = await store.appendToStream(retried, retriedEvents, { expectedRevision: 'no_stream' });
        const overlapped = await seededStream(store, 1);
        const [overlappedEvent] = await store.readStream(overlapped);
        const outcomes = await store.appendMany!([
          { streamId: fresh, events: [newEvent('F1'), newEvent('F2')], expectedRevision: 'no_stream' },
          { streamId: existing, events: [newEvent('E')], expectedRevision: 1n },
          { streamId: stale, events: [newEvent('S')], expectedRevision: 0n },
          { streamId: taken, events: [newEvent('T')], expectedRevision: 'no_stream' },
          { streamId: twice, events: [newEvent('W1')], expectedRevision: 'no_stream' },
          { streamId: twice, events: [newEvent('W2'), newEvent('W3')], expectedRevision: 0n },
          { streamId: twice, events: [newEvent('W4')], expectedRevision: 0n },
          { streamId: retried, events: retriedEvents, expectedRevision: 'no_stream' },
          {
            streamId: overlapped,
            events: [{ ...newEvent('O'), eventId: overlappedEvent.eventId }, newEvent('O2')],
            expectedRevision: 'no_stream',
          },
          { streamId: newStreamId('deal'), events: [], expectedRevision: 'no_stream' },
          { streamId: newStreamId('deal'), events: [newEvent('X')], expectedRevision: 'stream_exists' },
        ]);
        const value = (index: number) => {
          const outcome = outcomes[index];
          if (!outcome.ok) throw new Error(`append ${index} failed: ${String(outcome.error)}`);
          return outcome.value;
        };
        const error = (index: number) => {
          const outcome = outcomes[index];
          if (outcome.ok) throw new Error(`append ${index} succeeded`);
          return outcome.error;
        };
        expect(outcomes).toHaveLength(11);
        expect(value(0)).toMatchObject({ streamId: fresh, nextExpectedRevision: 1n, alreadyStored: false });
        expect(value(1)).toMatchObject({ streamId: existing, nextExpectedRevision: 2n, alreadyStored: false });
        expect(error(2)).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error(2)).toMatchObject({ expected: 0n, actual: 1n });
        expect(error(3)).toMatchObject({ code: 'wrong-expected-revision', actual: 0n });
        expect(value(4).nextExpectedRevision).toBe(0n);
        expect(value(5).nextExpectedRevision).toBe(2n); // saw the append before it in the same batch
        expect(error(6)).toMatchObject({ code: 'wrong-expected-revision', actual: 2n });
        expect(value(7)).toEqual({ ...original, alreadyStored: true });
        expect(error(8)).toBeInstanceOf(IdempotencyConflictError);
        expect(error(9)).toMatchObject({ code: 'invalid-append' });
        expect(error(10)).toMatchObject({ code: 'wrong-expected-revision', actual: undefined });

        const types = async (streamId: string) => (await store.readStream(streamId)).map((e) => [e.revision, e.type]);
        expect(await types(fresh)).toEqual([
          [0n, 'F1'],
          [1n, 'F2'],
        ]);
        expect(await types(existing)).toEqual([
          [0n, 'Seeded'],
          [1n, 'Seeded'],
          [2n, 'E'],
        ]);
        expect(await types(stale)).toHaveLength(2);
        expect(await types(taken)).toHaveLength(1);
        expect(await types(twice)).toEqual([
          [0n, 'W1'],
          [1n, 'W2'],
          [2n, 'W3'],
        ]);
        expect(await types(retried)).toEqual([
          [0n, 'R1'],
          [1n, 'R2'],
        ]);
        expect(await types(overlapped)).toEqual([[0n, 'Seeded']]);
        expect(await store.streamRevision(twice)).toBe(2n);
        const [last] = await store.readStream(fresh, { direction: 'backwards', maxCount: 1 });
        expect(value(0).position).toEqual(last.position);
      });

      many('answers a retried batch with the original results and stores nothing twice', async () => {
        const appends = [newStreamId('deal'), newStreamId('deal')].map((streamId) => ({
          streamId,
          events: [newEvent('A'), newEvent('B')],
          expectedRevision: 'no_stream' as const,
        }));
        const first = await store.appendMany!(appends);
        const again = await store.appendMany!(appends);
        const anyRevision = await store.appendMany!(
          appends.map((append) => ({ ...append, expectedRevision: 'any' as const })),
        );
        for (const retry of [again, anyRevision]) {
          expect(retry).toEqual(
            first.map((outcome) =>
              outcome.ok ? { ok: true, value: { ...outcome.value, alreadyStored: true } } : outcome,
            ),
          );
        }
        for (const { streamId } of appends) expect(await store.readStream(streamId)).toHaveLength(2);
      });

      many(
        'lets exactly one of two batches creating the same stream write it; the other is told the revision',
        async () => {
          const streamId = newStreamId('deal');
          const results = await Promise.all(
            [0, 1].map((writer) =>
              store.appendMany!([
                { streamId, events: [newEvent('Raced', { writer })], expectedRevision: 'no_stream' },
                { streamId: newStreamId('deal'), events: [newEvent('Own', { writer })], expectedRevision: 'no_stream' },
              ]),
            ),
          );
          const raced = results.map(([outcome]) => outcome);
          expect(raced.filter((outcome) => outcome.ok)).toHaveLength(1);
          const lost = raced.find((outcome) => !outcome.ok);
          expect(lost).toMatchObject({ ok: false, error: { code: 'wrong-expected-revision', actual: 0n } });
          expect(results.every(([, own]) => own.ok)).toBe(true); // the race stays with its append
          expect(await store.readStream(streamId)).toHaveLength(1);
        },
      );
    });

    describe('reading a stream', () => {
      it('reads forwards from a revision with a max count', async () => {
        const streamId = await seededStream(store, 6);
        const read = await store.readStream(streamId, { fromRevision: 2n, maxCount: 3 });
        expect(read.map((e) => e.revision)).toEqual([2n, 3n, 4n]);
      });

      it('orders revisions numerically past 10', async () => {
        const streamId = await seededStream(store, 12);
        expect((await store.readStream(streamId)).map((e) => e.revision)).toEqual(
          Array.from({ length: 12 }, (_, i) => BigInt(i)),
        );
        expect(
          (await store.readStream(streamId, { direction: 'backwards', maxCount: 3 })).map((e) => e.revision),
        ).toEqual([11n, 10n, 9n]);
      });

      it('reads backwards from the end and from a revision', async () => {
        const streamId = await seededStream(store, 5);
        expect(
          (await store.readStream(streamId, { direction: 'backwards', maxCount: 2 })).map((e) => e.revision),
        ).toEqual([4n, 3n]);
        expect(
          (await store.readStream(streamId, { direction: 'backwards', fromRevision: 2n })).map((e) => e.revision),
        ).toEqual([2n, 1n, 0n]);
      });

      it('reads a missing stream, or past its end, as empty', async () => {
        expect(await store.readStream(newStreamId('deal'))).toEqual([]);
        const streamId = await seededStream(store, 2);
        expect(await store.readStream(streamId, { fromRevision: 2n })).toEqual([]);
      });
    });

    describe('reading the global order', () => {
      it('returns appended events once each, in append order, in batches that resume at the cursor', async () => {
        const from = await readToEnd(store, START);
        const appended: string[] = [];
        for (let i = 0; i < 7; i++) {
          const events = [newEvent('A'), newEvent('B')];
          await store.appendToStream(newStreamId(i % 2 ? 'deal' : 'pipeline'), events, {
            expectedRevision: 'no_stream',
          });
          appended.push(...events.map((e) => e.eventId));
        }
        const seen: RecordedEvent[] = [];
        let cursor = from.cursor;
        await readUntil(store, from.cursor, 3, (batch) => {
          expect(batch.events.length).toBeLessThanOrEqual(3);
          seen.push(...batch.events);
          cursor = batch.cursor;
          return appended.every((id) => seen.some((e) => e.eventId === id));
        });
        expect((await store.readAll({ after: cursor, limit: 3 })).events).toEqual([]);
        expect(seen.map((e) => e.eventId)).toEqual(appended);
        for (let i = 1; i < seen.length; i++)
          expect(comparePositions(seen[i].position, seen[i - 1].position)).toBeGreaterThan(0);
        expect(cursor).toEqual(seen.at(-1)!.position);
      });

      it('filters by event type and by stream category', async () => {
        const from = await readToEnd(store, START);
        const deal = newStreamId('deal');
        const pipeline = newStreamId('pipeline');
        await store.appendToStream(deal, [newEvent('DealCreated'), newEvent('DealWon')], {
          expectedRevision: 'no_stream',
        });
        await store.appendToStream(pipeline, [newEvent('PipelineDefined')], { expectedRevision: 'no_stream' });
        const everything = await readUntil(store, from.cursor, 100, (batch) =>
          batch.events.some((e) => e.streamId === pipeline),
        );
        expect(everything.map((e) => e.streamId)).toEqual([deal, deal, pipeline]);
        const byType = await store.readAll({
          after: from.cursor,
          limit: 100,
          filter: { eventTypes: ['DealWon', 'PipelineDefined'] },
        });
        expect(byType.events.map((e) => e.type)).toEqual(['DealWon', 'PipelineDefined']);
        const byCategory = await store.readAll({
          after: from.cursor,
          limit: 100,
          filter: { streamCategories: ['pipeline'] },
        });
        expect(byCategory.events.map((e) => e.streamId)).toEqual([pipeline]);
      });

      it('answers an empty batch with the cursor it was given', async () => {
        const end = await readToEnd(store, START);
        const batch = await store.readAll({ after: end.cursor, limit: 10 });
        expect(batch).toEqual({ events: [], cursor: end.cursor });
      });
    });

    describe('concurrency', () => {
      it(`lets exactly one of ${concurrency.sameRevisionWriters} appends expecting the same revision succeed`, async () => {
        const streamId = await seededStream(store, 1);
        const results = await Promise.allSettled(
          Array.from({ length: concurrency.sameRevisionWriters }, (_, i) =>
            store.appendToStream(streamId, [newEvent('Raced', { writer: i })], { expectedRevision: 0n }),
          ),
        );
        const fulfilled = results.filter((r): r is PromiseFulfilledResult<AppendResult> => r.status === 'fulfilled');
        const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(fulfilled).toHaveLength(1);
        expect(fulfilled[0].value.nextExpectedRevision).toBe(1n);
        expect(rejected.every((r) => isEventStoreError(r.reason, 'wrong-expected-revision'))).toBe(true);
        const events = await store.readStream(streamId);
        expect(events.map((e) => e.revision)).toEqual([0n, 1n]);
        expect(events[1].type).toBe('Raced');
      });

      it(`delivers every event exactly once, in a never-decreasing order, to a reader following ${concurrency.writers} concurrent writers with delayed commits`, async () => {
        const faulty = await subject.openStore({
          afterStreamLock: () => randomDelay(concurrency.maxDelayMs),
          beforeCommit: () => randomDelay(concurrency.maxDelayMs),
        });
        const { committed, delivered } = await followConcurrentWriters({
          writer: faulty,
          reader: store,
          ...concurrency,
        });
        await faulty.close();

        const ids = delivered.map((e) => e.eventId);
        expect(new Set(ids).size).toBe(ids.length); // nothing delivered twice
        expect(new Set(ids)).toEqual(new Set(committed)); // nothing skipped, nothing invented
        for (let i = 1; i < delivered.length; i++) {
          expect(comparePositions(delivered[i].position, delivered[i - 1].position)).toBeGreaterThan(0);
        }
        const revisionsByStream = new Map<string, bigint[]>();
        for (const event of delivered)
          revisionsByStream.set(event.streamId, [...(revisionsByStream.get(event.streamId) ?? []), event.revision]);
        for (const revisions of revisionsByStream.values()) {
          expect(revisions).toEqual(revisions.map((_, i) => BigInt(i)));
        }
      });
    });
  });
}

/**
 * The "no skipped events" scenario: `writers` tasks append 1–3 events at a time to their own streams
 * through `writer` (which may delay inside its transactions), while one task follows the global
 * order through `reader` until everything is written and one more read finds nothing new.
 */
export async function followConcurrentWriters(options: {
  writer: EventStore;
  reader: EventStore;
  writers: number;
  appendsPerWriter: number;
}): Promise<{ committed: string[]; delivered: RecordedEvent[] }> {
  const start = (await readToEnd(options.reader, START)).cursor;
  const committed: string[] = [];
  let writing = true;
  const writers = Array.from({ length: options.writers }, async (_, w) => {
    const streamId = newStreamId('deal');
    let revision: bigint | 'no_stream' = 'no_stream';
    for (let i = 0; i < options.appendsPerWriter; i++) {
      const events = Array.from({ length: 1 + (i % 3) }, () => newEvent('Written', { w, i }));
      const result = await options.writer.appendToStream(streamId, events, { expectedRevision: revision });
      revision = result.nextExpectedRevision;
      committed.push(...events.map((e) => e.eventId));
    }
  });
  const delivered: RecordedEvent[] = [];
  const deliveredIds = new Set<string>();
  let finishedAt = 0;
  const reader = (async () => {
    let cursor = start;
    for (;;) {
      const done = !writing;
      const batch = await options.reader.readAll({ after: cursor, limit: 25 });
      delivered.push(...batch.events);
      for (const event of batch.events) deliveredIds.add(event.eventId);
      cursor = batch.cursor;
      // Done when writing is over and everything committed arrived (or, for a broken reader, after a
      // grace period): an empty batch alone is no proof, since an unrelated transaction anywhere on
      // the server may hold the SQL store's visibility horizon for a while.
      const complete = committed.every((id) => deliveredIds.has(id));
      if (done && batch.events.length === 0 && (complete || Date.now() - finishedAt > GRACE_MS)) return;
      if (batch.events.length === 0) await delay(done ? 10 : 1);
    }
  })();
  try {
    await Promise.all(writers);
  } finally {
    finishedAt = Date.now();
    writing = false;
    await reader;
  }
  return { committed, delivered };
}

export function newStreamId(category: string): string {
  return `${category}-${randomUUID()}`;
}

export function newEvent(type: string, data: object = {}, metadata: Partial<NewEvent['metadata']> = {}): NewEvent {
  return {
    eventId: randomUUID(),
    type,
    data,
    metadata: { actorId: 'user-1', occurredAt: new Date('2025-01-01T00:00:00.000Z'), ...metadata },
  };
}

async function seededStream(store: EventStore, count: number): Promise<string> {
  const streamId = newStreamId('deal');
  await store.appendToStream(
    streamId,
    Array.from({ length: count }, () => newEvent('Seeded')),
    { expectedRevision: 'no_stream' },
  );
  return streamId;
}

/**
 * The cursor after everything committed so far. An empty batch alone does not prove that (the SQL
 * store's horizon may lag behind transactions elsewhere on the server), so it appends a marker and
 * reads until the marker arrives: every transaction that committed before the marker's began sorts
 * before it.
 */
async function readToEnd(store: EventStore, after: GlobalPosition): Promise<{ cursor: GlobalPosition; count: number }> {
  const marker = newEvent('ContractMarker');
  await store.appendToStream(newStreamId('marker'), [marker], { expectedRevision: 'no_stream' });
  let count = 0;
  let cursor = after;
  await readUntil(store, after, 1000, (batch) => {
    count += batch.events.length;
    cursor = batch.cursor;
    return batch.events.some((event) => event.eventId === marker.eventId);
  });
  return { cursor, count };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How long a follower keeps reading for events it has not seen yet after the writers finished. */
const GRACE_MS = 3_000;

/**
 * Reads the global order from `after` until `enough` says so (or 60 s pass), returning everything
 * read. Tests never take one empty batch for "the end": the SQL store's horizon may lag behind
 * transactions elsewhere on the server.
 */
async function readUntil(
  store: EventStore,
  after: GlobalPosition,
  limit: number,
  enough: (batch: { events: RecordedEvent[]; cursor: GlobalPosition }) => boolean,
): Promise<RecordedEvent[]> {
  const read: RecordedEvent[] = [];
  const deadline = Date.now() + 60_000;
  let cursor = after;
  for (;;) {
    const batch = await store.readAll({ after: cursor, limit });
    read.push(...batch.events);
    cursor = batch.cursor;
    if (enough(batch) || Date.now() > deadline) return read;
    if (batch.events.length === 0) await delay(10);
  }
}
const randomDelay = (maxMs: number) => delay(Math.floor(Math.random() * (maxMs + 1)));
