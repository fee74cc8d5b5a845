import { DomainError, fold, type Decider, type Event } from '@dealstream/decider';
import {
  SqlEventStore,
  migrateEventStore,
  type EventStore,
  type ReadStreamOptions,
  type RecordedEvent,
} from '@dealstream/event-store';
import { createPostgresTestDatabase, type TestDatabase } from '../../../test/support/test-database.js';
import { PreconditionFailedError } from './application.errors.js';
import type { CommandContext } from './command-context.js';
import { handleCommand, type WriteResult } from './handle-command.js';
import { StreamStateCache } from './stream-state-cache.js';

/** A small account: deposits while open, close and reopen, and a no-op deposit of 0. */
type AccountEvent = Event<'Deposited', { amount: number; note?: string }> | Event<'Closed'> | Event<'Reopened'>;
type AccountCommand = Event<'Deposit', { amount: number }> | Event<'Close'> | Event<'Reopen'>;
interface Account {
  readonly open: boolean;
  readonly balance: number;
  readonly version: number;
  /** Whether the last deposit's data had a `note` key: replayed data never has an undefined one. */
  readonly noted?: boolean;
}

const account: Decider<Account, AccountCommand, AccountEvent> = {
  initialState: () => ({ open: true, balance: 0, version: 0 }),
  decide(command, state) {
    switch (command.type) {
      case 'Deposit':
        if (!state.open) throw new DomainError('account-closed', 'conflict', 'closed');
        // `note: undefined` is dropped by the store's JSON, as real deciders' optional fields are.
        return command.data.amount === 0
          ? []
          : [{ type: 'Deposited', data: { amount: command.data.amount, note: undefined } }];
      case 'Close':
        if (!state.open) throw new DomainError('already-closed', 'conflict', 'closed already');
        return [{ type: 'Closed', data: {} }];
      case 'Reopen':
        if (state.open) throw new DomainError('not-closed', 'conflict', 'open');
        return [{ type: 'Reopened', data: {} }];
    }
  },
  evolve(state, event) {
    const version = state.version + 1;
    switch (event.type) {
      case 'Deposited':
        return { ...state, balance: state.balance + event.data.amount, version, noted: 'note' in event.data };
      case 'Closed':
        return { ...state, open: false, version };
      case 'Reopened':
        return { ...state, open: true, version };
    }
  },
};

/** Counts the reads a write makes, and from which revision. */
class CountingStore {
  readonly reads: (bigint | undefined)[] = [];
  constructor(private readonly inner: EventStore) {}
  store(): EventStore {
    return {
      appendToStream: (...args) => this.inner.appendToStream(...args),
      readStream: <E extends Event>(streamId: string, options?: ReadStreamOptions) => {
        this.reads.push(options?.fromRevision);
        return this.inner.readStream<E>(streamId, options);
      },
      streamRevision: (streamId) => this.inner.streamRevision(streamId),
      readAll: (options) => this.inner.readAll(options),
      close: () => this.inner.close(),
    };
  }
}

/** Mulberry32: the random sequences are the same on every run (the seed is in the test name). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const context = (extra: Partial<CommandContext> = {}): CommandContext => ({
  actorId: 'tester',
  correlationId: 'c',
  now: new Date('2026-12-06T12:00:00Z'),
  ...extra,
});

describe('handleCommand on cached stream states (PostgreSQL)', () => {
  let database: TestDatabase;
  let store: SqlEventStore;

  beforeAll(async () => {
    database = await createPostgresTestDatabase({ poolSize: 4 });
    await migrateEventStore(database.db);
    store = new SqlEventStore(database.db);
  });
  afterAll(() => database.drop());

  const replayed = async (streamId: string) => fold(account, await store.readStream<AccountEvent>(streamId));
  const run = (streamId: string, command: AccountCommand, cache?: StreamStateCache, extra?: Partial<CommandContext>) =>
    handleCommand(store, streamId, (state: Account) => account.decide(command, state), {
      decider: account,
      context: context(extra),
      ...(cache ? { cache } : {}),
    }).then(
      (result: WriteResult) => ({ ok: result }),
      (error: unknown) => ({ error }),
    );

  it.each([1, 2, 3])(
    'random commands from three processes with their own caches and one without (seed %i): every outcome and every cached state equals a full replay',
    async (seed) => {
      const next = random(seed);
      const streams = ['a', 'b', 'c'].map((s) => `account-${seed}-${s}`);
      const caches = [new StreamStateCache(), new StreamStateCache(), new StreamStateCache(2), undefined];
      const kinds = ['Deposit', 'Deposit', 'Deposit', 'Close', 'Reopen'] as const;
      for (let step = 0; step < 150; step++) {
        const streamId = streams[Math.floor(next() * streams.length)];
        const cache = caches[Math.floor(next() * caches.length)];
        const kind = kinds[Math.floor(next() * kinds.length)];
        const command: AccountCommand =
          kind === 'Deposit' ? { type: kind, data: { amount: Math.floor(next() * 3) } } : { type: kind, data: {} };
        // What deciding on the whole stream answers right now (nobody writes between this and the command).
        const before = await store.readStream<AccountEvent>(streamId);
        let expected: AccountEvent[] | string;
        try {
          expected = account.decide(command, fold(account, before));
        } catch (error) {
          expected = (error as DomainError).code;
        }
        const outcome = await run(streamId, command, cache);
        if (Array.isArray(expected) && expected.length === 0 && before.length === 0) {
          expect(String((outcome as { error: Error }).error)).toMatch(/decided nothing on an empty stream/);
        } else if (typeof expected === 'string') {
          expect((outcome as { error: DomainError }).error.code).toBe(expected);
        } else {
          const result = (outcome as { ok: WriteResult }).ok;
          expect(result.eventTypes).toEqual(expected.map((e) => e.type));
          expect(result.revision).toBe(BigInt(before.length + expected.length - 1));
        }
        const state = await replayed(streamId);
        const cached = cache?.get(streamId, account);
        if (cached) expect(cached.state).toEqual(state);
      }
      // Whatever is still cached equals the replay of its stream, up to the revision it holds.
      for (const cache of caches)
        for (const streamId of streams) {
          const cached = cache?.get(streamId, account);
          if (!cached) continue;
          const events = await store.readStream<AccountEvent>(streamId);
          const upTo = events.filter((e: RecordedEvent<AccountEvent>) => e.revision <= cached.revision!);
          expect(cached.state).toEqual(fold(account, upTo));
        }
    },
    60_000,
  );

  it('reads nothing when the cached state is current, and only the newer events when another process wrote', async () => {
    const counting = new CountingStore(store);
    const cache = new StreamStateCache();
    const streamId = 'account-stale-1';
    const write = (command: AccountCommand, extra?: Partial<CommandContext>) =>
      handleCommand(counting.store(), streamId, (state: Account) => account.decide(command, state), {
        decider: account,
        context: context(extra),
        cache,
      });
    await write({ type: 'Deposit', data: { amount: 5 } });
    expect(counting.reads).toEqual([undefined]); // the first write folds the (empty) stream
    await write({ type: 'Deposit', data: { amount: 1 } });
    expect(counting.reads).toEqual([undefined]); // current cache: no read at all

    // Another process (no shared cache) appends twice: revisions 2 and 3.
    await run(streamId, { type: 'Deposit', data: { amount: 10 } });
    await run(streamId, { type: 'Deposit', data: { amount: 100 } });
    const result = await write({ type: 'Deposit', data: { amount: 1000 } });
    expect(result.revision).toBe(4n);
    expect(counting.reads).toEqual([undefined, 2n]); // caught by the append, then read from revision 2 on
    expect(cache.get(streamId, account)?.state).toEqual({ open: true, balance: 1116, version: 5, noted: false });
    expect(await replayed(streamId)).toEqual(cache.get(streamId, account)?.state);
  });

  it('a stale cached refusal is decided again on the newer state; a refusal on the current state stands', async () => {
    const cache = new StreamStateCache();
    const streamId = 'account-stale-2';
    await run(streamId, { type: 'Deposit', data: { amount: 1 } }, cache);
    await run(streamId, { type: 'Close', data: {} }, cache);
    // Another process reopens: the cache still says closed.
    await run(streamId, { type: 'Reopen', data: {} });
    const deposit = await run(streamId, { type: 'Deposit', data: { amount: 2 } }, cache);
    expect((deposit as { ok: WriteResult }).ok.revision).toBe(3n);
    await run(streamId, { type: 'Close', data: {} }, cache);
    const refused = await run(streamId, { type: 'Deposit', data: { amount: 2 } }, cache);
    expect((refused as { error: DomainError }).error.code).toBe('account-closed');
    expect(await replayed(streamId)).toEqual({ open: false, balance: 3, version: 5, noted: false });
  });

  it('If-Match is judged against the stream, not the cache: a stale entry neither refuses a current If-Match nor accepts an old one', async () => {
    const cache = new StreamStateCache();
    const streamId = 'account-stale-3';
    await run(streamId, { type: 'Deposit', data: { amount: 1 } }, cache); // revision 0, cached
    await run(streamId, { type: 'Deposit', data: { amount: 1 } }); // revision 1, elsewhere
    // The client saw revision 1 (the cache has 0): the write goes through.
    const current = await run(streamId, { type: 'Deposit', data: { amount: 1 } }, cache, { ifMatchRevision: 1n });
    expect((current as { ok: WriteResult }).ok.revision).toBe(2n);
    await run(streamId, { type: 'Deposit', data: { amount: 1 } }); // revision 3, elsewhere
    // The client saw revision 2, which the cache holds but the stream has left: 412 naming revision 3.
    const stale = await run(streamId, { type: 'Deposit', data: { amount: 1 } }, cache, { ifMatchRevision: 2n });
    const error = (stale as { error: PreconditionFailedError }).error;
    expect(error).toBeInstanceOf(PreconditionFailedError);
    expect([error.expected, error.actual]).toEqual([2n, 3n]);
    expect((await store.readStream(streamId)).length).toBe(4);
  });

  it('a no-op on a stale entry answers where the stream is now', async () => {
    const cache = new StreamStateCache();
    const streamId = 'account-stale-4';
    await run(streamId, { type: 'Deposit', data: { amount: 1 } }, cache);
    const elsewhere = await run(streamId, { type: 'Deposit', data: { amount: 1 } });
    const noop = await run(streamId, { type: 'Deposit', data: { amount: 0 } }, cache);
    expect((noop as { ok: WriteResult }).ok).toEqual({
      ...(elsewhere as { ok: WriteResult }).ok,
      eventTypes: [],
      replayed: false,
    });
  });
});

describe('StreamStateCache', () => {
  const state = (revision: bigint) => ({
    state: { open: true, balance: Number(revision), version: Number(revision) + 1 },
    revision,
    position: { major: 1n, minor: revision },
  });

  it('holds at most maxEntries streams, evicting the least recently used', () => {
    const cache = new StreamStateCache(3);
    for (const id of ['a', 'b', 'c']) cache.set(id, account, state(0n));
    cache.get('a', account); // a is now the most recently used
    cache.set('d', account, state(0n));
    cache.set('e', account, state(0n));
    expect(cache.size).toBe(3);
    expect(['a', 'b', 'c', 'd', 'e'].filter((id) => cache.get(id, account) !== undefined)).toEqual(['a', 'd', 'e']);
  });

  it('never goes back to an older revision, and answers only the decider that folded the state', () => {
    const cache = new StreamStateCache();
    cache.set('a', account, state(5n));
    cache.set('a', account, state(4n));
    expect(cache.get('a', account)?.revision).toBe(5n);
    expect(cache.get('a', { ...account })).toBeUndefined();
    expect(() => new StreamStateCache(0)).toThrow(RangeError);
  });
});
