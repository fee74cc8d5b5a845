import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase, type Database } from '@dealstream/database';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { startApiOn } from '../support/private-api.js';
import { appConfigFromEnv } from '../../apps/api/src/config/app-config.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A hung database: the events table locked by another session for longer than the statement
 * timeout. Writes answer 503 problem+json with Retry-After within their bounds and write nothing;
 * a request whose connection is dropped mid-flight is 503, never 500. Private PostgreSQL server.
 */
describe('bounded waits on a locked or dropped database (private PostgreSQL, in-process API)', () => {
  let server: PrivatePostgres;
  let api: Awaited<ReturnType<typeof startApiOn>>;
  let observer: Database;
  let sales: string;
  let pipelineId: string;
  const statementTimeoutMs = 1500;
  const readyTimeoutMs = 800;
  let admin: string;

  beforeAll(async () => {
    server = await startPrivatePostgres();
    // The pool of 3 holds one connection for the runner's advisory lock: two left for requests. No
    // webhook delivery worker here: its polls would take a third share of the pool (seen: readiness's
    // own `database` check starved of a connection).
    api = await startApiOn(server.url, {
      poolSize: 3,
      timeouts: { statementTimeoutMs, lockTimeoutMs: 0, connectTimeoutMs: 400 },
      config: {
        readiness: { timeoutMs: readyTimeoutMs, maxLagMs: 30_000, requireLeader: true },
        webhooks: { ...appConfigFromEnv({}).webhooks, deliveryInProcess: false },
      },
    });
    admin = await api.token(['admin'], 'root');
    observer = await openDatabase({
      kind: 'postgres',
      connectionString: server.url,
      poolSize: 2,
      timeouts: { statementTimeoutMs: 0, lockTimeoutMs: 0, connectTimeoutMs: 0 },
    });
    sales = await api.token(['sales', 'ops']);
    const stages = [randomUUID(), randomUUID()];
    const { body } = await api
      .http()
      .post('/pipelines')
      .set('Authorization', sales)
      .send({
        name: 'Locks',
        currency: 'EUR',
        stages: stages.map((stageId, i) => ({ stageId, name: `S${i}`, probability: 10 + 50 * i })),
      })
      .expect(201);
    pipelineId = body.id;
  });
  afterAll(async () => {
    await api?.close();
    await observer?.close();
    server?.destroy();
  });

  const eventCount = async () =>
    Number(
      (await sql<{ n: string }>`select count(*)::text as n from event_store.events`.execute(observer.db)).rows[0].n,
    );
  const createDeal = (key: string) =>
    api
      .http()
      .post('/deals')
      .set('Authorization', sales)
      .set('Idempotency-Key', key)
      .send({ pipelineId, title: key, account: 'A', amount: 100, currency: 'EUR' });

  /** Holds `lock table … in access exclusive mode` on its own connection until released. */
  const holdLock = async (table: string) => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query('begin');
    await client.query(`lock table ${table} in access exclusive mode`);
    return async () => {
      await client.query('rollback');
      await client.end();
    };
  };

  it('a write behind a table lock held past the statement timeout answers 503 with Retry-After, within the bound, and writes nothing', async () => {
    const before = await eventCount();
    const release = await holdLock('event_store.events');
    try {
      const started = Date.now();
      const response = await createDeal('locked-1');
      const took = Date.now() - started;
      expect(response.status).toBe(503);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.body).toMatchObject({ status: 503, code: 'event-store-unavailable' });
      expect(JSON.stringify(response.body)).not.toMatch(/statement timeout|canceling/i); // no raw PostgreSQL text
      expect(took).toBeGreaterThanOrEqual(statementTimeoutMs - 100);
      expect(took).toBeLessThan(statementTimeoutMs + 2000);
    } finally {
      await release();
    }
    expect(await eventCount()).toBe(before);
    // the same key after the release writes it once
    const retried = await createDeal('locked-1');
    expect(retried.status).toBe(201);
    expect(await eventCount()).toBe(before + 1);
  });

  it('writes that cannot get a pool connection in time answer 503 as well, and write nothing', async () => {
    const before = await eventCount();
    const release = await holdLock('event_store.events');
    try {
      const responses = await Promise.all(Array.from({ length: 5 }, (_, i) => createDeal(`crowd-${i}`)));
      expect(responses.map((r) => r.status)).toEqual([503, 503, 503, 503, 503]);
      for (const response of responses) expect(response.headers['retry-after']).toBe('1');
    } finally {
      await release();
    }
    expect(await eventCount()).toBe(before);
  });

  it('a connection dropped mid-request (write or read) is 503, never 500', async () => {
    const created = (await createDeal('drop-read').expect(201)).body as { id: string; position: string };
    const dealId = created.id;
    // Projected before the lock is taken: otherwise the runner's batch can be the one waiting on
    // read_models.deals, be the backend terminated below, and leave the read to its statement timeout
    // (seen on a loaded CI machine: 503 database-timeout instead of database-unavailable).
    await api.http().get(`/deals/${dealId}?minPosition=${created.position}`).set('Authorization', sales).expect(200);
    const terminateWaiters = async () => {
      for (let i = 0; i < 200; i++) {
        const { rows } = await sql<{
          n: string;
        }>`select count(pg_terminate_backend(pid))::text as n from pg_stat_activity
          where wait_event_type = 'Lock' and pid <> pg_backend_pid() and backend_type = 'client backend'`.execute(
          observer.db,
        );
        if (Number(rows[0].n) > 0) return;
        await pause(10);
      }
      throw new Error('no request was waiting');
    };
    const before = await eventCount();
    let release = await holdLock('event_store.events');
    try {
      const write = createDeal('dropped-write').then((r) => r);
      await terminateWaiters();
      const response = await write;
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.body.code).toBe('event-store-unavailable');
    } finally {
      await release();
    }
    expect(await eventCount()).toBe(before);

    release = await holdLock('read_models.deals');
    try {
      const read = api
        .http()
        .get(`/deals/${dealId}`)
        .set('Authorization', sales)
        .then((r) => r);
      await terminateWaiters();
      const response = await read;
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.body.code).toBe('database-unavailable');
      expect(JSON.stringify(response.body)).not.toMatch(/terminating connection/i);
    } finally {
      await release();
    }
    // and the API serves again
    await api.http().get(`/deals/${dealId}`).set('Authorization', sales).expect(200);
  });

  it('readiness is red within its bound while the events table is locked, green again after; /health/live and /health stay up', async () => {
    const ready = () => api.http().get('/health/ready');
    // the earlier tests left the runner backing off after its own timeouts: wait for it to lead again
    const deadline = Date.now() + 15_000;
    let last = await ready().set('Authorization', admin);
    while (last.status !== 200 && Date.now() < deadline) {
      await pause(100);
      last = await ready().set('Authorization', admin);
    }
    expect(last.body).toMatchObject({ status: 'ok' });
    expect((await ready()).body).toEqual({ status: 'ok' });
    const release = await holdLock('event_store.events');
    try {
      const started = Date.now();
      const red = await ready();
      expect(red.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(readyTimeoutMs + 1000);
      expect(red.body).toEqual({ status: 'unavailable' }); // anonymous: no detail, no PostgreSQL text
      expect(red.headers['retry-after']).toBe('1');
      const detailed = await ready().set('Authorization', admin);
      expect(detailed.status).toBe(503);
      expect(detailed.body.checks.database).toMatchObject({ status: 'ok' });
      // Cancelled by its lock/statement bound, or — on a loaded machine — by the probe's own timer first.
      const writes = detailed.body.checks.writes as { status: string; error: string };
      expect(writes).toEqual(
        writes.status === 'timeout'
          ? { status: 'timeout', error: expect.stringMatching(/READY_TIMEOUT_MS=800 ms$/) }
          : {
              status: 'failed',
              error: expect.stringMatching(/^(55P03|57014): canceling statement due to (lock|statement) timeout/),
            },
      );
      await api.http().get('/health/live').expect(200, { status: 'ok' });
      await api.http().get('/health').expect(200, { status: 'ok' }); // the database itself answers
    } finally {
      await release();
    }
    // Green again once the runner, which may have backed off on the lock meanwhile, leads again (bounded).
    // The detailed answer is polled too: on a loaded machine one probe can still miss its 800 ms timer.
    const greenBy = Date.now() + 15_000;
    let after = await ready();
    while (after.status !== 200 && Date.now() < greenBy) {
      await pause(100);
      after = await ready();
    }
    expect({ status: after.status, body: after.body }).toEqual({ status: 200, body: { status: 'ok' } });
    // Readiness turns green as soon as some session holds the projection lock; this instance's role
    // is the projection thread's last report (sent at most every 100 ms), so `thisInstance` may still
    // say `reconnecting` for a moment after — seen once on a fresh-clone run. Polled until it leads.
    const leads = (response: Awaited<ReturnType<typeof ready>>) =>
      response.status === 200 &&
      (response.body as { checks?: { leader?: { thisInstance?: string } } }).checks?.leader?.thisInstance === 'active';
    let green = await ready().set('Authorization', admin);
    while (!leads(green) && Date.now() < greenBy) {
      await pause(100);
      green = await ready().set('Authorization', admin);
    }
    expect(green.status).toBe(200);
    expect(green.body).toMatchObject({
      status: 'ok',
      database: 'postgres',
      checks: {
        database: { status: 'ok' },
        writes: { status: 'ok' },
        projections: { status: 'ok' },
        leader: { status: 'ok', known: true, thisInstance: 'active' },
      },
    });
  });
});
