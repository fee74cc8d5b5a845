import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { SqlEventStoreOptions } from '@dealstream/event-store';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

/**
 * The bound of "decided again": with WRITE_CONTENTION_DEADLINE_MS = 0 a write without If-Match that
 * loses a race gives up at once with 503 write-contention + Retry-After, and writes nothing.
 * (50 writers within the default bound: concurrency-and-idempotency.e2e.spec.ts.) An identical keyed
 * request waits for the one in flight as long as that bound, so here it does not wait: 409.
 */
describe('writes without If-Match past the contention deadline (PostgreSQL)', () => {
  let api: ApiHarness;
  let sales: string;
  let pipelineId: string;

  beforeAll(async () => {
    api = await startApiOnPostgres({ writeContentionDeadlineMs: 0 });
    sales = `Bearer ${await api.token(['sales'], 'sam')}`;
    const ops = `Bearer ${await api.token(['ops'])}`;
    const { body } = await api
      .http()
      .post('/pipelines')
      .set('Authorization', ops)
      .send({ name: 'P', currency: 'EUR', stages: [{ stageId: randomUUID(), name: 'S', probability: 10 }] })
      .expect(201);
    pipelineId = body.id;
  });
  afterAll(() => api.close());

  const aWriterWaitsOnALock = async () =>
    (
      await sql<{ waiting: boolean }>`select exists (select 1 from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock') as waiting`.execute(api.database.db)
    ).rows[0].waiting;

  it('answers 503 write-contention with Retry-After to the writers that lost, and every 200 is exactly one event', async () => {
    const { body: deal } = await api
      .http()
      .post('/deals')
      .set('Authorization', sales)
      .send({ pipelineId, title: 'D', account: 'A', amount: 1, currency: 'EUR' })
      .expect(201);
    // The first append's commit is held until another writer, decided on the same revision, waits on
    // the stream's lock: that one must lose (without the hold, on a busy machine the writers could
    // arrive one after the other and none lose — the race this test is about would not happen).
    const hooks = (api.appEventStore() as unknown as { options: SqlEventStoreOptions }).options;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = true;
    Object.assign(hooks, {
      beforeCommit: async () => {
        if (!holding) return;
        holding = false;
        await held;
      },
    });
    const sent = Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api
          .http()
          .patch(`/deals/${deal.id}`)
          .set('Authorization', sales)
          .send({ amount: 100 + i }),
      ),
    );
    while (!(await aWriterWaitsOnALock())) await new Promise((resolve) => setTimeout(resolve, 10));
    Object.assign(hooks, { beforeCommit: undefined });
    release();
    const responses = await sent;
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    const refused = responses.filter((r) => r.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.body).toMatchObject({ code: 'write-contention', status: 503 });
      expect(r.headers['retry-after']).toBe('1');
    }
    const written = responses.filter((r) => r.status === 200);
    expect(await api.streamEvents(`deal-${deal.id}`)).toHaveLength(1 + written.length);
  });

  it('an identical keyed request while the first is still in flight, past the wait bound: 409 idempotency-key-in-flight with Retry-After; afterwards the replay', async () => {
    const hooks = (api.appEventStore() as unknown as { options: SqlEventStoreOptions }).options;
    let releaseCommit!: () => void;
    const held = new Promise<void>((resolve) => (releaseCommit = resolve));
    let entered!: () => void;
    const inCommit = new Promise<void>((resolve) => (entered = resolve));
    Object.assign(hooks, {
      beforeCommit: async () => {
        entered();
        await held;
      },
    });
    const key = `k-${randomUUID()}`;
    const send = () =>
      api
        .http()
        .post('/deals')
        .set('Authorization', sales)
        .set('Idempotency-Key', key)
        .send({ pipelineId, title: 'Slow', account: 'A', amount: 1, currency: 'EUR' });
    const first = send().then((r) => r);
    await inCommit;
    Object.assign(hooks, { beforeCommit: undefined });
    const second = await send();
    expect([second.status, second.body.code]).toEqual([409, 'idempotency-key-in-flight']);
    expect(second.headers['retry-after']).toBe('1');
    releaseCommit();
    expect((await first).status).toBe(201);
    const third = await send().expect(201);
    expect(third.headers['idempotent-replayed']).toBe('true');
    expect(third.body).toEqual((await first).body);
    expect(await api.streamEvents(`deal-${third.body.id}`)).toHaveLength(1);
  });
});
