import { randomUUID } from 'node:crypto';
import { encodePosition } from '@dealstream/event-store';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('removing a stage moves its open deals (PostgreSQL, in-process runner)', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApiOnPostgres();
  });
  afterAll(() => api.close());

  it('moves every open deal of the removed stage in its own stream, once, and leaves closed ones', async () => {
    const ops = `Bearer ${await api.token(['ops'], 'olivia')}`;
    const sales = `Bearer ${await api.token(['sales'], 'sam')}`;
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const { body: pipeline } = await api
      .http()
      .post('/pipelines')
      .set('Authorization', ops)
      .send({
        name: 'P',
        currency: 'EUR',
        stages: [
          { stageId: a, name: 'A', probability: 10 },
          { stageId: b, name: 'B', probability: 40 },
          { stageId: c, name: 'C', probability: 70 },
        ],
      })
      .expect(201);
    const deal = async () =>
      (
        await api
          .http()
          .post('/deals')
          .set('Authorization', sales)
          .send({ pipelineId: pipeline.id, stageId: b, title: 'D', account: 'A', amount: 100, currency: 'EUR' })
          .expect(201)
      ).body.id as string;
    const [open1, open2, lost, elsewhere] = [await deal(), await deal(), await deal(), await deal()];
    await api.http().post(`/deals/${lost}/lose`).set('Authorization', sales).send({ reason: 'price' }).expect(200);
    await api.http().post(`/deals/${elsewhere}/stage`).set('Authorization', sales).send({ toStageId: a }).expect(200);

    const removal = await api
      .http()
      .delete(`/pipelines/${pipeline.id}/stages/${b}`)
      .query({ moveOpenDealsTo: c })
      .set('Authorization', ops)
      .expect(200);
    const [removed] = (await api.streamEvents(`pipeline-${pipeline.id}`)).filter((e) => e.type === 'StageRemoved');

    const deadline = Date.now() + 30_000;
    const stageOf = async (id: string, minPosition: string = removal.body.position) =>
      (await api.http().get(`/deals/${id}`).query({ minPosition }).set('Authorization', sales).expect(200)).body
        .stageId as string;
    while ((await stageOf(open1)) !== c || (await stageOf(open2)) !== c) {
      if (Date.now() > deadline) throw new Error('open deals were not moved');
      await pause(50);
    }
    for (const id of [open1, open2]) {
      const events = await api.streamEvents(`deal-${id}`);
      const moves = events.filter((e) => e.type === 'StageAdvanced');
      expect(moves.map((e) => e.data)).toEqual([{ fromStageId: b, toStageId: c, reason: 'stage-removed' }]);
      expect(moves[0].metadata).toMatchObject({ actorId: 'system:stage-relocation', correlationId: removed.eventId });
    }
    expect((await api.streamEvents(`deal-${lost}`)).map((e) => e.type)).toEqual(['DealCreated', 'DealLost']);
    expect((await api.streamEvents(`deal-${elsewhere}`)).map((e) => e.type)).toEqual(['DealCreated', 'StageAdvanced']);

    // a restart moves nothing: no open deal is left in the removed stage
    const count = await api.eventCount();
    await api.restart();
    await pause(1500);
    expect(await api.eventCount()).toBe(count);

    // A command that loaded the pipeline just before the removal can still land a deal in the removed
    // stage afterwards (two streams, no shared transaction). Written here as that handler would have:
    // the reactor, level-triggered, must move it out again once it is projected.
    const [late] = (await api.streamEvents(`deal-${open1}`)).slice(-1);
    const stale = await api.appEventStore().appendToStream(
      `deal-${open1}`,
      [
        {
          eventId: randomUUID(),
          type: 'StageAdvanced',
          data: { fromStageId: c, toStageId: b },
          metadata: {
            actorId: 'sam',
            commandId: randomUUID(),
            correlationId: randomUUID(),
            causationId: randomUUID(),
            occurredAt: new Date(),
          },
        },
      ],
      { expectedRevision: late.revision },
    );
    const lateDeadline = Date.now() + 30_000;
    while ((await api.streamEvents(`deal-${open1}`)).length < 4) {
      if (Date.now() > lateDeadline) throw new Error('a deal that entered the removed stage late was not moved');
      await pause(50);
    }
    const [relocatedAgain] = (await api.streamEvents(`deal-${open1}`)).slice(3);
    expect(relocatedAgain.revision).toBe(stale.nextExpectedRevision + 1n);
    expect(relocatedAgain.data).toEqual({ fromStageId: b, toStageId: c, reason: 'stage-removed' });
    expect(relocatedAgain.metadata).toMatchObject({
      actorId: 'system:stage-relocation',
      correlationId: removed.eventId,
    });
    // read at least up to the relocation itself: the removal's position says nothing about it (was flaky under load)
    expect(await stageOf(open1, encodePosition(relocatedAgain.position))).toBe(c);

    // the lost deal, reopened, goes where its removed stage's deals went
    await api.http().post(`/deals/${lost}/reopen`).set('Authorization', sales).send({}).expect(200);
    expect((await api.streamEvents(`deal-${lost}`)).at(-1)!.data).toMatchObject({ toStageId: c });
  });
});
