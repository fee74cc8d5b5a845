import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

/**
 * The EventStoreDB profile as a user meets it when the server misbehaves: the API is started with
 * EVENTSTORE_CONNECTION_STRING pointing at a local TCP server that accepts connections and never
 * answers (the case in which the Node client hangs forever). Writes must come back as 503 problem+json
 * within the configured bound, and the app must stay up. (No EventStoreDB server can run here; the
 * contract suite against a real one runs when EVENTSTORE_CONNECTION_STRING is set.)
 */
describe('API on the EventStoreDB profile with a silent server', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  let api: ApiHarness;

  beforeAll(async () => {
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    api = await startApiOnPostgres({
      env: { EVENTSTORE_CONNECTION_STRING: `esdb://127.0.0.1:${port}?tls=false`, EVENTSTORE_TIMEOUT_MS: '400' },
      readWaitMs: 300,
      subscriptionSilenceMs: 300,
    });
  });
  afterAll(async () => {
    await api.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('answers a write with 503 event-store-unavailable within the bound', async () => {
    const token = `Bearer ${await api.token(['ops'])}`;
    const started = Date.now();
    const response = await api
      .http()
      .post('/pipelines')
      .set('Authorization', token)
      .send({ name: 'P', stages: [{ name: 'A', probability: 1 }] });
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.body.code).toBe('event-store-unavailable');
    expect(response.headers['retry-after']).toBe('1');
    expect(Date.now() - started).toBeLessThan(15_000); // bounded (generously: the bound is 400 ms per call)
    // and the SQL store is not in play on this profile: its tables were never even created
    await expect(api.eventCount()).rejects.toThrow(/event_store\.events" does not exist/);
  });

  it('keeps serving: health answers and reports the supervised subscription backing off', async () => {
    const admin = `Bearer ${await api.token(['admin'])}`;
    const health = await api.http().get('/health').set('Authorization', admin).expect(200);
    expect(health.body.projections.mode).toBe('in-process');
    // silent past 300 ms, then the probe times out (400 ms): the supervisor replaces the subscription
    const deadline = Date.now() + 20_000;
    let subscription: { restarts: number; lastError: string | null } | undefined;
    while (Date.now() < deadline) {
      subscription = (await api.http().get('/health').set('Authorization', admin).expect(200)).body.projections
        .subscription;
      if (subscription && subscription.restarts >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(subscription!.restarts).toBeGreaterThanOrEqual(2);
    expect(subscription!.lastError).toMatch(/no answer within 400 ms/);
  });

  it('keeps Idempotency-Keys in the PostgreSQL database: a keyed write of unknown outcome stays bound to its request', async () => {
    const token = `Bearer ${await api.token(['ops'])}`;
    const key = 'esdb-profile-key-1';
    const send = (name: string) =>
      api
        .http()
        .post('/pipelines')
        .set('Authorization', token)
        .set('Idempotency-Key', key)
        .send({ name, stages: [{ name: 'A', probability: 1 }] });
    expect((await send('P')).status).toBe(503);
    // The event store may or may not have stored it: the key stays bound to the request, its lease expired.
    const { rows } = await sql<{ state: string; target: string; expired: boolean }>`
      select state, target, lease_until <= now() as expired from api.idempotency_keys where idempotency_key = ${key}`.execute(
      api.database.db,
    );
    expect(rows).toEqual([{ state: 'in-flight', target: '/pipelines', expired: true }]);
    const other = await send('Q');
    expect([other.status, other.body.code]).toEqual([422, 'idempotency-key-reused']);
    // The same request takes the key over at once and is tried again (and times out again here).
    const retry = await send('P');
    expect([retry.status, retry.body.code]).toEqual([503, 'event-store-unavailable']);
  });
});
