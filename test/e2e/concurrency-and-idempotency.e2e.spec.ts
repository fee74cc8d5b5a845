import { randomUUID } from 'node:crypto';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

describe('optimistic concurrency and idempotency over HTTP (PostgreSQL)', () => {
  let api: ApiHarness;
  let sales: string;
  let pipelineId: string;
  const stages = [randomUUID(), randomUUID(), randomUUID()];

  beforeAll(async () => {
    // A generous contention budget: this suite proves writes are decided again until they succeed; the
    // deadline itself is tested in write-contention.e2e.spec.ts (a loaded CI machine needed > 10 s once).
    api = await startApiOnPostgres({ writeContentionDeadlineMs: 60_000 });
    sales = `Bearer ${await api.token(['sales'], 'sam')}`;
    const ops = `Bearer ${await api.token(['ops'])}`;
    const { body } = await api
      .http()
      .post('/pipelines')
      .set('Authorization', ops)
      .send({
        name: 'P',
        currency: 'EUR',
        stages: stages.map((stageId, i) => ({ stageId, name: `S${i}`, probability: 20 * (i + 1) })),
      })
      .expect(201);
    pipelineId = body.id;
  });
  afterAll(() => api.close());

  const newDeal = async () =>
    (
      await api
        .http()
        .post('/deals')
        .set('Authorization', sales)
        .send({ pipelineId, title: 'D', account: 'A', amount: 100, currency: 'EUR' })
        .expect(201)
    ).body;

  describe('If-Match', () => {
    it('lets exactly one of two clients with the same If-Match write; the other gets 412 and writes nothing', async () => {
      const deal = await newDeal();
      const before = await api.eventCount();
      const [first, second] = await Promise.all([
        api
          .http()
          .post(`/deals/${deal.id}/stage`)
          .set('Authorization', sales)
          .set('If-Match', '"0"')
          .send({ toStageId: stages[1] }),
        api
          .http()
          .post(`/deals/${deal.id}/stage`)
          .set('Authorization', sales)
          .set('If-Match', '"0"')
          .send({ toStageId: stages[2] }),
      ]);
      expect([first.status, second.status].sort()).toEqual([200, 412]);
      const loser = first.status === 412 ? first : second;
      expect(loser.body).toMatchObject({ code: 'precondition-failed', currentRevision: '1' });
      expect(await api.eventCount()).toBe(before + 1);
      expect((await api.streamEvents(`deal-${deal.id}`)).map((e) => e.revision)).toEqual([0n, 1n]);
    });

    it('with 12 racing clients, still exactly one wins', async () => {
      const deal = await newDeal();
      const responses = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          api
            .http()
            .post(`/deals/${deal.id}/activities`)
            .set('Authorization', sales)
            .set('If-Match', '"0"')
            .send({ kind: 'note', note: `client ${i}` }),
        ),
      );
      expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
      expect(responses.filter((r) => r.status === 412)).toHaveLength(11);
      expect(await api.streamEvents(`deal-${deal.id}`)).toHaveLength(2);
    });

    it('accepts the current revision and answers the new one as ETag', async () => {
      const deal = await newDeal();
      const moved = await api
        .http()
        .post(`/deals/${deal.id}/stage`)
        .set('Authorization', sales)
        .set('If-Match', deal.revision === '0' ? '"0"' : 'x')
        .send({ toStageId: stages[1] })
        .expect(200);
      expect(moved.headers.etag).toBe('"1"');
      await api
        .http()
        .post(`/deals/${deal.id}/stage`)
        .set('Authorization', sales)
        .set('If-Match', moved.headers.etag)
        .send({ toStageId: stages[2] })
        .expect(200);
    });

    it('without If-Match, concurrent writes to one deal are all decided in turn (no lost update)', async () => {
      const deal = await newDeal();
      const responses = await Promise.all(
        Array.from({ length: 8 }, () =>
          api.http().post(`/deals/${deal.id}/activities`).set('Authorization', sales).send({ kind: 'call' }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(8).fill(201));
      expect(new Set(responses.map((r) => r.body.revision)).size).toBe(8);
      expect(await api.streamEvents(`deal-${deal.id}`)).toHaveLength(9);
    });

    it('50 concurrent PATCHes without If-Match to one deal, each to its own amount: 50 x 200 and 50 events', async () => {
      const deal = await newDeal();
      const amounts = Array.from({ length: 50 }, (_, i) => 1000 + i);
      const responses = await Promise.all(
        amounts.map((amount) => api.http().patch(`/deals/${deal.id}`).set('Authorization', sales).send({ amount })),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
      expect(new Set(responses.map((r) => r.body.revision)).size).toBe(50);
      const events = await api.streamEvents(`deal-${deal.id}`);
      expect(events).toHaveLength(51);
      expect(
        events
          .slice(1)
          .map((e) => (e.data as { amount: number }).amount)
          .sort(),
      ).toEqual(amounts);
    }, 60_000);
  });

  describe('Idempotency-Key', () => {
    it('a retried create returns the same body and appends nothing', async () => {
      const key = `create-${randomUUID()}`;
      const send = () =>
        api
          .http()
          .post('/deals')
          .set('Authorization', sales)
          .set('Idempotency-Key', key)
          .send({ pipelineId, title: 'Once', account: 'A', amount: 1, currency: 'EUR' });
      const first = await send().expect(201);
      const count = await api.eventCount();
      const retry = await send().expect(201);
      expect(retry.body).toEqual(first.body);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.headers.etag).toBe(first.headers.etag);
      expect(await api.eventCount()).toBe(count);
    });

    it('a retried win answers like the first win, not "already won", and appends nothing', async () => {
      const deal = await newDeal();
      const key = randomUUID();
      const first = await api
        .http()
        .post(`/deals/${deal.id}/win`)
        .set('Authorization', sales)
        .set('Idempotency-Key', key)
        .send({ reason: 'fit' })
        .expect(200);
      await api
        .http()
        .post(`/deals/${deal.id}/activities`)
        .set('Authorization', sales)
        .send({ kind: 'email' })
        .expect(201);
      const count = await api.eventCount();
      const retry = await api
        .http()
        .post(`/deals/${deal.id}/win`)
        .set('Authorization', sales)
        .set('Idempotency-Key', key)
        .send({ reason: 'fit' })
        .expect(200);
      expect(retry.body).toEqual(first.body);
      expect(await api.eventCount()).toBe(count);
      const withoutKey = await api
        .http()
        .post(`/deals/${deal.id}/win`)
        .set('Authorization', sales)
        .send({ reason: 'fit' });
      expect(withoutKey.status).toBe(409);
    });

    it('replays a multi-event PATCH whole', async () => {
      const deal = await newDeal();
      const key = randomUUID();
      const patch = () =>
        api
          .http()
          .patch(`/deals/${deal.id}`)
          .set('Authorization', sales)
          .set('Idempotency-Key', key)
          .send({ amount: 500, ownerId: 'sue' });
      const first = await patch().expect(200);
      expect(first.body.events).toEqual(['DealValueChanged', 'DealOwnerReassigned']);
      const retry = await patch().expect(200);
      expect(retry.body).toEqual(first.body);
      expect(await api.streamEvents(`deal-${deal.id}`)).toHaveLength(3);
    });

    it('concurrent duplicates of one key store one set of events and all answer the same', async () => {
      const key = randomUUID();
      const responses = await Promise.all(
        Array.from({ length: 6 }, () =>
          api
            .http()
            .post('/deals')
            .set('Authorization', sales)
            .set('Idempotency-Key', key)
            .send({ pipelineId, title: 'Racy', account: 'A', amount: 7, currency: 'EUR' }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(6).fill(201));
      expect(new Set(responses.map((r) => JSON.stringify(r.body))).size).toBe(1);
      expect(await api.streamEvents(`deal-${responses[0].body.id}`)).toHaveLength(1);
    });

    it('holds across a restart of the service', async () => {
      const key = randomUUID();
      const send = () =>
        api
          .http()
          .post('/deals')
          .set('Authorization', sales)
          .set('Idempotency-Key', key)
          .send({ pipelineId, title: 'Durable', account: 'A', amount: 9, currency: 'EUR' });
      const first = await send().expect(201);
      await api.restart();
      sales = `Bearer ${await api.token(['sales'], 'sam')}`;
      const count = await api.eventCount();
      const retry = await send().expect(201);
      expect(retry.body).toEqual(first.body);
      expect(await api.eventCount()).toBe(count);
    });

    it('is scoped to the caller: another actor with the same key makes a different write', async () => {
      const key = randomUUID();
      const body = { pipelineId, title: 'Mine', account: 'A', amount: 1, currency: 'EUR' };
      const sam = await api
        .http()
        .post('/deals')
        .set('Authorization', sales)
        .set('Idempotency-Key', key)
        .send(body)
        .expect(201);
      const other = `Bearer ${await api.token(['sales'], 'sue')}`;
      const sue = await api
        .http()
        .post('/deals')
        .set('Authorization', other)
        .set('Idempotency-Key', key)
        .send(body)
        .expect(201);
      expect(sue.body.id).not.toBe(sam.body.id);
    });
  });
});
