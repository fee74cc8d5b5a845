import { randomUUID } from 'node:crypto';
import { dealStreamName } from '@dealstream/deals-domain';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

/*
 * The incident of issue 10 end to end: one stored event no read model can hold (a DealCreated with
 * the year 0, as written before the door refused it) used to freeze every read model while /health
 * said ok. Now its stream is parked, later writes stay readable, and /health says `degraded` —
 * naming the stream to admins.
 */
describe('a poison event over HTTP: reads keep flowing, /health is degraded (PostgreSQL)', () => {
  let api: ApiHarness;
  let ops: string;
  let admin: string;
  beforeAll(async () => {
    api = await startApiOnPostgres();
    ops = `Bearer ${await api.token(['ops'], 'olga')}`;
    admin = `Bearer ${await api.token(['admin'], 'root')}`;
  });
  afterAll(() => api.close());

  it('parks the stream, serves the next write, and reports the parked stream', async () => {
    const stageId = randomUUID();
    const pipeline = await api
      .http()
      .post('/pipelines')
      .set('Authorization', ops)
      .send({ name: 'P', currency: 'EUR', stages: [{ stageId, name: 'A', probability: 10 }] })
      .expect(201);
    await api.http().get('/health').expect(200, { status: 'ok' });

    const poisonId = randomUUID();
    await api.appEventStore().appendToStream(
      dealStreamName(poisonId),
      [
        {
          eventId: randomUUID(),
          type: 'DealCreated',
          data: {
            dealId: poisonId,
            pipelineId: pipeline.body.id,
            stageId,
            title: 'Year zero',
            account: 'A',
            amount: 1,
            currency: 'EUR',
            ownerId: 'o',
            expectedCloseDate: '0000-01-01',
            kind: 'new',
          },
          metadata: { actorId: 'old-version', occurredAt: new Date() },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
    // The door refuses the same value today.
    await api
      .http()
      .post('/deals')
      .set('Authorization', ops)
      .send({
        pipelineId: pipeline.body.id,
        title: 'Again',
        account: 'A',
        amount: 1,
        currency: 'EUR',
        expectedCloseDate: '0000-01-01',
      })
      .expect(422);

    const created = await api
      .http()
      .post('/deals')
      .set('Authorization', ops)
      .send({ pipelineId: pipeline.body.id, title: 'After the poison', account: 'A', amount: 100, currency: 'EUR' })
      .expect(201);
    const read = await api
      .http()
      .get(`/deals/${created.body.id}`)
      .query({ minPosition: created.body.position })
      .set('Authorization', ops)
      .expect(200);
    expect(read.body).toMatchObject({ title: 'After the poison', amount: 100 });
    await api.http().get(`/deals/${poisonId}`).set('Authorization', ops).expect(404);

    await api.http().get('/health').expect(200, { status: 'degraded' });
    const detail = await api.http().get('/health').set('Authorization', admin).expect(200);
    expect(detail.body.status).toBe('degraded');
    expect(detail.body.parked).toMatchObject({
      count: 1,
      streams: [
        {
          streamId: dealStreamName(poisonId),
          revision: '0',
          eventType: 'DealCreated',
          errorCode: '22008',
          eventsWaiting: 0,
        },
      ],
    });
  });
});
