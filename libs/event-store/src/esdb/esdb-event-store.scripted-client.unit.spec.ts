import { Readable } from 'node:stream';
import { StreamNotFoundError, WrongExpectedVersionError, type EventStoreDBClient } from '@eventstore/db-client';
import { newEvent } from '../contract/event-store.contract.js';
import { IdempotencyConflictError, WrongExpectedRevisionError } from '../port/event-store.errors.js';
import type { NewEvent } from '../port/event-store.types.js';
import type { GlobalPosition } from '../port/global-position.js';
import { EsdbEventStore, type EsdbEventStoreOptions } from './esdb-event-store.js';

// The adapter's own decisions — idempotency detection in the window, readAll's paging,
// filtering and cursor — driven by a scripted in-memory client that answers the way the real
// client does (shapes, error classes, inclusive $all reads). This does NOT show that EventStoreDB
// behaves like the script: that is what the contract suite (esdb-event-store.int.spec.ts) checks
// against a real server, and it is skipped here.

interface Stored {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  data: unknown;
  metadata: unknown;
  created: Date;
  isJson: true;
  position: { commit: bigint; prepare: bigint };
}

type ClientEvent = { id: string; type: string; data: unknown; metadata: unknown };
type Expected = 'any' | 'no_stream' | 'stream_exists' | bigint;

class ScriptedClient {
  readonly log: Stored[] = [];
  private nextPosition = 100n;
  /** When set, an idempotent append answers with the stream's current revision (not where the ids are). */
  reportCurrentRevisionWhenIdempotent = false;

  async appendToStream(
    streamName: string,
    events: ClientEvent[],
    { expectedRevision }: { expectedRevision: Expected },
  ) {
    const stream = this.stream(streamName);
    const current = stream.at(-1)?.revision;
    const idsAt = (from: bigint) => events.every((event, i) => stream[Number(from) + i]?.id === event.id);
    const idempotent = (from: bigint) => ({
      success: true,
      nextExpectedRevision: this.reportCurrentRevisionWhenIdempotent ? current! : from + BigInt(events.length - 1),
      position: undefined,
    });
    const wrong = () =>
      new WrongExpectedVersionError(undefined, {
        streamName,
        expected: expectedRevision,
        current: current === undefined ? 'no_stream' : current,
      });
    if (expectedRevision === 'any') {
      const first = stream.findIndex((event) => event.id === events[0].id);
      if (first >= 0) {
        if (idsAt(BigInt(first))) return idempotent(BigInt(first));
        throw wrong();
      }
    } else if (expectedRevision === 'no_stream') {
      if (current !== undefined) {
        if (idsAt(0n)) return idempotent(0n);
        throw wrong();
      }
    } else if (expectedRevision === 'stream_exists') {
      if (current === undefined) throw wrong();
    } else if (current !== expectedRevision) {
      if (current !== undefined && current > expectedRevision && idsAt(expectedRevision + 1n))
        return idempotent(expectedRevision + 1n);
      throw wrong();
    }
    let revision = current ?? -1n;
    for (const event of events) this.write(streamName, ++revision, event);
    return { success: true, nextExpectedRevision: revision, position: this.log.at(-1)!.position };
  }

  readStream(
    streamName: string,
    options: { direction?: string; fromRevision?: 'start' | 'end' | bigint; maxCount?: number | bigint },
  ) {
    const stream = this.stream(streamName);
    if (stream.length === 0) {
      return cancellable(
        new Readable({
          objectMode: true,
          read() {
            this.destroy(new StreamNotFoundError(undefined, streamName));
          },
        }),
      );
    }
    const backwards = options.direction === 'backwards';
    const from =
      options.fromRevision === 'end'
        ? stream.at(-1)!.revision
        : options.fromRevision === 'start' || options.fromRevision === undefined
          ? 0n
          : options.fromRevision;
    const selected = (
      backwards ? [...stream].reverse().filter((e) => e.revision <= from) : stream.filter((e) => e.revision >= from)
    ).slice(0, Number(options.maxCount ?? Infinity));
    return cancellable(Readable.from(selected.map((event) => ({ event }))));
  }

  /** Like the server: reading from a position includes the event at that position. */
  readAll(options: { fromPosition?: 'start' | { commit: bigint; prepare: bigint }; maxCount?: number | bigint }) {
    const from =
      options.fromPosition === 'start' || options.fromPosition === undefined
        ? { commit: 0n, prepare: 0n }
        : options.fromPosition;
    const selected = this.log
      .filter(
        (e) =>
          e.position.commit > from.commit || (e.position.commit === from.commit && e.position.prepare >= from.prepare),
      )
      .slice(0, Number(options.maxCount ?? Infinity));
    return cancellable(Readable.from(selected.map((event) => ({ event }))));
  }

  /** Something the server writes on its own, between our events. */
  writeSystemEvent(streamId = '$stats-127.0.0.1:2113', type = '$statsCollected'): void {
    this.write(streamId, BigInt(this.stream(streamId).length), {
      id: crypto.randomUUID(),
      type,
      data: {},
      metadata: undefined,
    });
  }

  async dispose() {}
  async getChannel() {
    return { close() {} };
  }

  private stream(name: string): Stored[] {
    return this.log.filter((event) => event.streamId === name).sort((a, b) => (a.revision < b.revision ? -1 : 1));
  }

  private write(streamId: string, revision: bigint, event: ClientEvent): void {
    const position = this.nextPosition;
    this.nextPosition += 100n;
    this.log.push({
      streamId,
      id: event.id,
      revision,
      type: event.type,
      data: JSON.parse(JSON.stringify(event.data)),
      metadata: event.metadata === undefined ? undefined : JSON.parse(JSON.stringify(event.metadata)),
      created: new Date('2026-11-25T10:00:00.000Z'),
      isJson: true,
      position: { commit: position, prepare: position - 1n },
    });
  }
}

function cancellable(readable: Readable) {
  return Object.assign(readable, { cancel: async () => undefined });
}

function storeOn(client: ScriptedClient, options: EsdbEventStoreOptions = {}): EsdbEventStore {
  return new EsdbEventStore('esdb://scripted:2113?tls=false', {
    ...options,
    createClient: () => client as unknown as EventStoreDBClient,
  });
}

const ids = (events: readonly NewEvent[]) => events.map((event) => event.eventId);

describe('EsdbEventStore appends (scripted client)', () => {
  it('writes our metadata with ESDB $correlationId/$causationId and reports the stored position', async () => {
    const client = new ScriptedClient();
    const store = storeOn(client);
    const events = [
      newEvent('DealCreated', { a: 1 }, { correlationId: 'corr', causationId: 'cmd', commandId: 'cmd' }),
      newEvent('DealQualified'),
    ];
    const result = await store.appendToStream('deal-1', events, { expectedRevision: 'no_stream' });
    expect(result).toEqual({
      streamId: 'deal-1',
      nextExpectedRevision: 1n,
      position: { major: 200n, minor: 199n },
      alreadyStored: false,
    });
    expect(client.log[0].metadata).toMatchObject({
      actorId: 'user-1',
      correlationId: 'corr',
      $correlationId: 'corr',
      causationId: 'cmd',
      $causationId: 'cmd',
      appendId: expect.any(String),
    });
    const [read] = await store.readStream('deal-1', { maxCount: 1 });
    expect(read.metadata).toEqual(events[0].metadata);
  });

  it('tells a retry ESDB only recognised (same expectation) from a fresh write, by the append id', async () => {
    const client = new ScriptedClient();
    const store = storeOn(client);
    const events = [newEvent('A'), newEvent('B')];
    const first = await store.appendToStream('deal-1', events, { expectedRevision: 'no_stream' });
    const retry = await store.appendToStream('deal-1', events, { expectedRevision: 'no_stream' });
    expect(retry).toEqual({ ...first, alreadyStored: true });
    expect(client.log).toHaveLength(2);
  });

  it('answers a retry with another expectation (wrong expected version) by finding the ids in the stream', async () => {
    const client = new ScriptedClient();
    const store = storeOn(client);
    const events = [newEvent('A'), newEvent('B')];
    const first = await store.appendToStream('deal-1', events, { expectedRevision: 'no_stream' });
    await store.appendToStream('deal-1', [newEvent('C')], { expectedRevision: 1n });
    for (const expectedRevision of [5n, 0n, 'stream_exists', 'any'] as const) {
      expect(await store.appendToStream('deal-1', events, { expectedRevision })).toEqual({
        ...first,
        alreadyStored: true,
      });
    }
    expect(client.log).toHaveLength(3);
  });

  it('finds the ids when ESDB reports success at another revision than where they are', async () => {
    const client = new ScriptedClient();
    const store = storeOn(client);
    const event = newEvent('A');
    const first = await store.appendToStream('deal-1', [event], { expectedRevision: 'no_stream' });
    await store.appendToStream('deal-1', [newEvent('B')], { expectedRevision: 0n });
    client.reportCurrentRevisionWhenIdempotent = true;
    expect(await store.appendToStream('deal-1', [event], { expectedRevision: 'no_stream' })).toEqual({
      ...first,
      alreadyStored: true,
    });
  });

  it('recognises a retry within the idempotency window, and decides by revision beyond it (the documented limit)', async () => {
    const client = new ScriptedClient();
    const early = newEvent('Early');
    const wide = storeOn(client, { idempotencyWindow: 10 });
    await wide.appendToStream('deal-1', [newEvent('Zero'), early], { expectedRevision: 'no_stream' });
    for (let i = 0; i < 7; i++) await wide.appendToStream('deal-1', [newEvent('Later')], { expectedRevision: 'any' });
    expect(await wide.appendToStream('deal-1', [early], { expectedRevision: 3n })).toMatchObject({
      nextExpectedRevision: 1n,
      alreadyStored: true,
    });
    const narrow = storeOn(client, { idempotencyWindow: 3 });
    await expect(narrow.appendToStream('deal-1', [early], { expectedRevision: 3n })).rejects.toMatchObject({
      code: 'wrong-expected-revision',
      actual: 8n,
    });
    expect(client.log).toHaveLength(9);
  });

  it('refuses a partial overlap before writing (any) and after a wrong expected version (exact)', async () => {
    const client = new ScriptedClient();
    const store = storeOn(client);
    const stored = newEvent('A');
    await store.appendToStream('deal-1', [stored], { expectedRevision: 'no_stream' });
    await expect(
      store.appendToStream('deal-1', [newEvent('New'), stored], { expectedRevision: 'any' }),
    ).rejects.toBeInstanceOf(IdempotencyConflictError);
    await expect(
      store.appendToStream('deal-1', [stored, newEvent('B')], { expectedRevision: 7n }),
    ).rejects.toBeInstanceOf(IdempotencyConflictError);
    const reordered = [newEvent('X'), newEvent('Y')];
    await store.appendToStream('deal-2', reordered, { expectedRevision: 'no_stream' });
    await expect(
      store.appendToStream('deal-2', [...reordered].reverse(), { expectedRevision: 'no_stream' }),
    ).rejects.toMatchObject({ code: 'idempotency-conflict' });
    expect(client.log).toHaveLength(3);
  });

  it('reports a real conflict as WrongExpectedRevisionError with the actual revision', async () => {
    const client = new ScriptedClient();
    const store = storeOn(client);
    await store.appendToStream('deal-1', [newEvent('A'), newEvent('B')], { expectedRevision: 'no_stream' });
    const error = await store
      .appendToStream('deal-1', [newEvent('C')], { expectedRevision: 0n })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongExpectedRevisionError);
    expect(error).toMatchObject({ streamId: 'deal-1', expected: 0n, actual: 1n });
    await expect(
      store.appendToStream('deal-9', [newEvent('C')], { expectedRevision: 'stream_exists' }),
    ).rejects.toMatchObject({ expected: 'stream_exists', actual: undefined });
  });
});

describe('EsdbEventStore reads (scripted client)', () => {
  it('reads a missing stream as empty and its revision as undefined', async () => {
    const store = storeOn(new ScriptedClient());
    expect(await store.readStream('deal-missing')).toEqual([]);
    expect(await store.streamRevision('deal-missing')).toBeUndefined();
  });

  it('reads forwards, backwards and the revision', async () => {
    const store = storeOn(new ScriptedClient());
    await store.appendToStream('deal-1', [newEvent('A'), newEvent('B'), newEvent('C')], {
      expectedRevision: 'no_stream',
    });
    expect((await store.readStream('deal-1', { fromRevision: 1n })).map((e) => e.type)).toEqual(['B', 'C']);
    expect((await store.readStream('deal-1', { direction: 'backwards', maxCount: 2 })).map((e) => e.type)).toEqual([
      'C',
      'B',
    ]);
    expect(await store.streamRevision('deal-1')).toBe(2n);
  });
});

describe('EsdbEventStore readAll (scripted client)', () => {
  async function populated(options: EsdbEventStoreOptions = {}) {
    const client = new ScriptedClient();
    const store = storeOn(client, { readAllPageSize: 3, ...options });
    const appended: NewEvent[] = [];
    for (let i = 0; i < 4; i++) {
      const events = [newEvent(i % 2 ? 'DealWon' : 'DealCreated'), newEvent('PipelineDefined')];
      await store.appendToStream(i % 2 ? `pipeline-${i}` : `deal-${i}`, events, { expectedRevision: 'no_stream' });
      appended.push(...events);
      client.writeSystemEvent();
      client.writeSystemEvent('$$deal-0', '$metadata');
    }
    return { client, store, appended };
  }

  it('pages through $all across page boundaries, once each, without system events', async () => {
    const { store, appended } = await populated();
    const seen: string[] = [];
    let cursor: GlobalPosition | undefined;
    for (let batches = 0; ; batches++) {
      expect(batches).toBeLessThan(10); // 8 events in batches of 3: a reader that never ends fails here
      const batch = await store.readAll({ after: cursor, limit: 3 });
      if (batch.events.length === 0) {
        expect(batch.cursor).toEqual(cursor);
        break;
      }
      seen.push(...batch.events.map((e) => e.eventId));
      expect(batch.cursor).toEqual(batch.events.at(-1)!.position);
      cursor = batch.cursor;
    }
    expect(seen).toEqual(ids(appended));
  });

  it('excludes the event at the cursor itself (ESDB reads from a position inclusively)', async () => {
    const { store, appended } = await populated();
    const [first] = (await store.readAll({ limit: 1 })).events;
    const next = await store.readAll({ after: first.position, limit: 1 });
    expect(next.events.map((e) => e.eventId)).toEqual([appended[1].eventId]);
  });

  it('filters by type and category and answers the cursor it was given when nothing matches', async () => {
    const { store } = await populated();
    const won = await store.readAll({ limit: 100, filter: { eventTypes: ['DealWon'] } });
    expect(won.events.map((e) => e.streamId)).toEqual(['pipeline-1', 'pipeline-3']);
    const pipelines = await store.readAll({
      limit: 100,
      filter: { streamCategories: ['pipeline'], eventTypes: ['PipelineDefined'] },
    });
    expect(pipelines.events.map((e) => e.streamId)).toEqual(['pipeline-1', 'pipeline-3']);
    const none = await store.readAll({ after: won.cursor, limit: 100, filter: { eventTypes: ['Nothing'] } });
    expect(none).toEqual({ events: [], cursor: won.cursor });
  });

  it('reads a selective filter to the end of $all: no match is an empty batch at the cursor it was given', async () => {
    const { store } = await populated({ readAllPageSize: 2 });
    const none = await store.readAll({ limit: 100, filter: { eventTypes: ['Nothing'] } });
    expect(none).toEqual({ events: [], cursor: { major: 0n, minor: 0n } });
    const won = await store.readAll({ limit: 1, filter: { eventTypes: ['DealWon'] } });
    expect(won.events.map((e) => e.streamId)).toEqual(['pipeline-1']);
  });
});
