import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { newEvent } from '../contract/event-store.contract.js';
import { EventStoreError } from '../port/event-store.errors.js';
import type { EventStore } from '../port/event-store.port.js';
import { EsdbEventStore } from './esdb-event-store.js';

// What the adapter does without an EventStoreDB server: against a server that accepts TCP and then
// says nothing (the client alone would hang forever), and against a refused port. Durations are
// only checked generously (10× the bound) so a loaded machine cannot make this flaky.

const BOUND_MS = 300;
const GENEROUS_MS = 10 * BOUND_MS;

const calls: ReadonlyArray<[string, (store: EventStore) => Promise<unknown>]> = [
  [
    'appendToStream',
    (store) => store.appendToStream('deal-silent', [newEvent('DealCreated')], { expectedRevision: 'no_stream' }),
  ],
  ['readStream', (store) => store.readStream('deal-silent')],
  ['readStream backwards', (store) => store.readStream('deal-silent', { direction: 'backwards', maxCount: 1 })],
  ['readAll', (store) => store.readAll({ limit: 10 })],
  ['streamRevision', (store) => store.streamRevision('deal-silent')],
];

/** Runs a call and returns its rejection with how long it took; fails if it resolves. */
async function rejection(call: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  try {
    const value = await call();
    throw new Error(`expected a rejection, got ${String(value)}`);
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
}

describe('EsdbEventStore against a server that accepts connections and never answers', () => {
  let server: Server;
  const sockets = new Set<Socket>();
  let store: EsdbEventStore;

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    store = new EsdbEventStore(`esdb://127.0.0.1:${(server.address() as AddressInfo).port}?tls=false`, {
      timeoutMs: BOUND_MS,
    });
  });

  afterAll(async () => {
    await store.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it.each(calls)('%s rejects with EventStoreError timeout within the bound', async (_, call) => {
    const { error, ms } = await rejection(() => call(store));
    expect(error).toBeInstanceOf(EventStoreError);
    expect(error).toMatchObject({ code: 'timeout' });
    expect(ms).toBeLessThan(GENEROUS_MS);
  });

  it('the silent server really was reached: the client connected to it', () => {
    expect(sockets.size).toBeGreaterThan(0);
  });

  it('keeps timing out (not hanging) on later calls with the same client: appends never wait on a cached server-features call', async () => {
    const results = await Promise.all(calls.map(([, call]) => rejection(() => call(store))));
    expect(results.map(({ error }) => (error as EventStoreError).code)).toEqual(calls.map(() => 'timeout'));
    for (const { ms } of results) expect(ms).toBeLessThan(GENEROUS_MS);
  });

  it('leaves nothing behind: closing settles the abandoned calls without unhandled rejections', async () => {
    const abandoned = rejection(() =>
      store.appendToStream('deal-silent', [newEvent('DealCreated')], { expectedRevision: 'any' }),
    );
    await store.close();
    for (const socket of sockets) socket.destroy();
    expect((await abandoned).error).toMatchObject({ code: expect.stringMatching(/^(timeout|unavailable)$/) });
    // Jest fails the test if a rejection of an abandoned client call went unhandled meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 2 * BOUND_MS));
    await expect(store.readStream('deal-silent')).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining('closed'),
    });
  });
});

describe('EsdbEventStore against a refused port', () => {
  let store: EsdbEventStore;

  beforeAll(async () => {
    // A port that was just free: listen on an ephemeral port, then close it.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    // A bound far above what a refusal takes, so what we see is the client's own answer.
    store = new EsdbEventStore(`esdb://127.0.0.1:${port}?tls=false`, { timeoutMs: 5_000 });
  });

  afterAll(() => store.close());

  it.each(calls)('%s rejects with EventStoreError unavailable (gRPC code 14), not a timeout', async (_, call) => {
    const { error } = await rejection(() => call(store));
    expect(error).toBeInstanceOf(EventStoreError);
    expect(error).toMatchObject({ code: 'unavailable', cause: expect.objectContaining({ code: 14 }) });
  });
});

describe('EsdbEventStore configuration', () => {
  it('refuses a malformed connection string and a non-positive bound up front', () => {
    expect(() => new EsdbEventStore('http://nope')).toThrow();
    expect(() => new EsdbEventStore('esdb://127.0.0.1:2113?tls=false', { timeoutMs: 0 })).toThrow(RangeError);
  });

  it('refuses invalid appends and reads before any network call', async () => {
    const store = new EsdbEventStore('esdb://127.0.0.1:2113?tls=false');
    try {
      await expect(store.appendToStream('deal-1', [], { expectedRevision: 'any' })).rejects.toMatchObject({
        code: 'invalid-append',
      });
      const event = newEvent('A');
      await expect(store.appendToStream('deal-1', [event, event], { expectedRevision: 'any' })).rejects.toMatchObject({
        code: 'invalid-append',
      });
      await expect(store.readStream('deal-1', { maxCount: -1 })).rejects.toMatchObject({ code: 'invalid-append' });
      await expect(store.readStream('deal-1', { maxCount: 0 })).resolves.toEqual([]);
    } finally {
      await store.close();
    }
  });
});
