import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { SqlEventStore } from '@dealstream/event-store';
import { ProjectionRunner } from '@dealstream/read-models';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Readiness on the SQL profile with the projections external (PROJECTIONS=external): it is red while
 * no runner leads, red while the read models lag past READY_MAX_LAG_MS, and green otherwise.
 * Details (checks, positions, errors) only for admins; everyone else gets the status.
 */
describe('health and readiness (PostgreSQL, projections external)', () => {
  let api: ApiHarness;
  let admin: string;
  let ops: string;
  const maxLagMs = 600;

  beforeAll(async () => {
    api = await startApiOnPostgres({
      projectionsInProcess: false,
      readiness: { timeoutMs: 2000, maxLagMs, requireLeader: true },
    });
    admin = `Bearer ${await api.token(['admin'], 'root')}`;
    ops = `Bearer ${await api.token(['ops', 'sales', 'auditor', 'analyst'], 'olga')}`;
  });
  afterAll(() => api.close());

  const ready = (authorization?: string) => {
    const call = api.http().get('/health/ready');
    return authorization ? call.set('Authorization', authorization) : call;
  };
  const writePipeline = () =>
    api
      .http()
      .post('/pipelines')
      .set('Authorization', ops)
      .send({ name: 'P', currency: 'EUR', stages: [{ stageId: randomUUID(), name: 'A', probability: 10 }] })
      .expect(201);

  it('shows details to admins only: anonymous, other roles and bad tokens get the status alone', async () => {
    await api.http().get('/health/live').expect(200, { status: 'ok' });
    await api.http().get('/health').expect(200, { status: 'ok' });
    await api.http().get('/health').set('Authorization', ops).expect(200, { status: 'ok' });
    await api.http().get('/health').set('Authorization', 'Bearer not.a.token').expect(200, { status: 'ok' });
    const detailed = await api.http().get('/health').set('Authorization', admin).expect(200);
    expect(detailed.body).toMatchObject({
      status: 'ok',
      database: 'postgres',
      projections: { mode: 'external' },
      checks: { database: { status: 'ok' } },
    });
  });

  it('is not ready while no projection runner leads anywhere, and ready once one does', async () => {
    const red = await ready().expect(503);
    expect(red.body).toEqual({ status: 'unavailable' });
    const detail = await ready(admin).expect(503);
    expect(detail.body.checks.leader).toMatchObject({ status: 'failed', known: false, thisInstance: 'external' });
    expect(detail.body.checks.writes.status).toBe('ok');
    // /health (for humans) stays 200: the database answers
    await api.http().get('/health').expect(200, { status: 'ok' });

    const runner = new ProjectionRunner({
      database: api.database,
      store: new SqlEventStore(api.database.db),
      pollIntervalMs: 50,
    });
    await runner.start();
    try {
      let answer = await ready(admin);
      for (let i = 0; i < 100 && answer.status !== 200; i++) {
        await pause(50);
        answer = await ready(admin);
      }
      expect(answer.status).toBe(200);
      expect(answer.body.checks.leader).toMatchObject({
        status: 'ok',
        known: true,
        holder: { pid: expect.any(Number) },
      });
      expect(answer.body.checks.projections).toMatchObject({ status: 'ok', pending: false, lagMs: 0 });
    } finally {
      await runner.stop();
    }
  });

  it('is not ready while the read models lag past READY_MAX_LAG_MS, ready again when they catch up', async () => {
    // a "leader" that holds the projection lock and projects nothing: the lag check alone turns red
    const stuck = new pg.Client({ connectionString: api.url });
    await stuck.connect();
    await stuck.query(`select pg_advisory_lock(hashtext('dealstream.projection.read-models'))`);
    try {
      await writePipeline();
      await ready(admin).expect(200); // just written: within the bound
      await pause(maxLagMs + 200);
      const red = await ready(admin).expect(503);
      expect(red.body.checks.leader.status).toBe('ok');
      expect(red.body.checks.projections).toMatchObject({ status: 'failed', pending: true, maxLagMs });
      expect(red.body.checks.projections.lagMs).toBeGreaterThan(maxLagMs);
    } finally {
      await stuck.end();
    }
    const runner = new ProjectionRunner({
      database: api.database,
      store: new SqlEventStore(api.database.db),
      pollIntervalMs: 50,
    });
    await runner.start();
    try {
      let answer = await ready();
      for (let i = 0; i < 100 && answer.status !== 200; i++) {
        await pause(50);
        answer = await ready();
      }
      expect(answer.status).toBe(200);
      expect((await ready(admin)).body.checks.projections).toMatchObject({ status: 'ok', pending: false });
    } finally {
      await runner.stop();
    }
  });
});
