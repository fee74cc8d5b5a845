import { randomUUID } from 'node:crypto';
import { decodePosition } from '@dealstream/event-store';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

const STAGES = ['Prospecting', 'Qualifying', 'Contact made', 'Needs assessment', 'Proposal', 'Negotiation', 'Closing'];

describe('deal lifecycle over HTTP (PostgreSQL)', () => {
  let api: ApiHarness;
  let ops: string;
  let sales: string;
  beforeAll(async () => {
    api = await startApiOnPostgres();
    ops = await api.token(['ops'], 'olivia-ops');
    sales = await api.token(['sales'], 'sam-sales');
  });
  afterAll(() => api.close());

  it('defines a 7-stage pipeline, then creates, qualifies, moves, logs, revalues, wins and up-sells a deal', async () => {
    const stageIds = STAGES.map(() => randomUUID());
    const pipeline = await api
      .http()
      .post('/pipelines')
      .set('Authorization', `Bearer ${ops}`)
      .send({
        name: 'New business',
        currency: 'EUR',
        stages: STAGES.map((name, i) => ({
          stageId: stageIds[i],
          name,
          probability: [5, 10, 20, 35, 60, 80, 90][i],
          goal: { maxDaysInStage: 14 },
        })),
      })
      .expect(201);
    expect(pipeline.body).toMatchObject({
      revision: '0',
      events: ['PipelineDefined'],
      streamId: `pipeline-${pipeline.body.id}`,
    });
    expect(pipeline.headers.etag).toBe('"0"');
    expect(pipeline.headers.location).toBe(`/pipelines/${pipeline.body.id}`);
    const pipelineId: string = pipeline.body.id;

    const auth = { Authorization: `Bearer ${sales}` };
    const created = await api
      .http()
      .post('/deals')
      .set(auth)
      .send({
        pipelineId,
        title: 'ACME — 500 seats',
        account: 'ACME Corp',
        amount: 5_000_000,
        currency: 'EUR',
        expectedCloseDate: '2026-12-31',
      })
      .expect(201);
    const dealId: string = created.body.id;
    expect(created.body).toMatchObject({ revision: '0', events: ['DealCreated'] });
    const steps: [string, string, object, number, string[]][] = [
      [
        'post',
        `/deals/${dealId}/qualify`,
        {
          budget: { confirmed: true },
          authority: { confirmed: true },
          need: { confirmed: true, note: 'replacing spreadsheets' },
          timeline: { confirmed: false },
        },
        200,
        ['DealQualified'],
      ],
      ['post', `/deals/${dealId}/stage`, { toStageId: stageIds[1] }, 200, ['StageAdvanced']],
      ['post', `/deals/${dealId}/stage`, { toStageId: stageIds[4] }, 200, ['StageAdvanced']],
      ['post', `/deals/${dealId}/stage`, { toStageId: stageIds[3] }, 200, ['StageAdvanced']],
      ['post', `/deals/${dealId}/activities`, { kind: 'call', outcome: 'demo booked' }, 201, ['ActivityLogged']],
      ['post', `/deals/${dealId}/activities`, { kind: 'meeting', note: 'demo with IT' }, 201, ['ActivityLogged']],
      [
        'patch',
        `/deals/${dealId}`,
        { amount: 4_500_000, ownerId: 'sue-sales' },
        200,
        ['DealValueChanged', 'DealOwnerReassigned'],
      ],
      ['post', `/deals/${dealId}/stage`, { toStageId: stageIds[5] }, 200, ['StageAdvanced']],
      ['post', `/deals/${dealId}/win`, { reason: 'best fit' }, 200, ['DealWon']],
    ];
    let revision = 0;
    let lastPosition = decodePosition(created.body.position)!;
    for (const [method, path, body, status, events] of steps) {
      const response = await (api.http() as any)[method](path).set(auth).send(body).expect(status);
      revision += events.length;
      expect(response.body).toMatchObject({
        id: dealId,
        streamId: `deal-${dealId}`,
        revision: String(revision),
        events,
      });
      expect(response.headers.etag).toBe(`"${revision}"`);
      const position = decodePosition(response.body.position)!;
      expect(
        position.major > lastPosition.major ||
          (position.major === lastPosition.major && position.minor > lastPosition.minor),
      ).toBe(true);
      lastPosition = position;
    }

    const upsell = await api
      .http()
      .post(`/deals/${dealId}/upsell`)
      .set(auth)
      .send({ title: 'ACME — 200 more seats', amount: 1_800_000, currency: 'EUR' })
      .expect(201);
    expect(upsell.body).toMatchObject({ revision: '0', events: ['DealCreated'], parentDealId: dealId });

    const stored = await api.streamEvents(`deal-${dealId}`);
    expect(stored.map((e) => e.type)).toEqual([
      'DealCreated',
      'DealQualified',
      'StageAdvanced',
      'StageAdvanced',
      'StageAdvanced',
      'ActivityLogged',
      'ActivityLogged',
      'DealValueChanged',
      'DealOwnerReassigned',
      'StageAdvanced',
      'DealWon',
    ]);
    expect(stored.map((e) => e.revision)).toEqual(stored.map((_, i) => BigInt(i)));
    expect(new Set(stored.map((e) => e.metadata.actorId))).toEqual(new Set(['sam-sales']));
    expect(stored[0].data).toMatchObject({
      dealId,
      pipelineId,
      stageId: stageIds[0],
      amount: 5_000_000,
      currency: 'EUR',
      ownerId: 'sam-sales',
      kind: 'new',
    });
    expect(stored.filter((e) => e.type === 'StageAdvanced').map((e) => e.data)).toEqual([
      { fromStageId: stageIds[0], toStageId: stageIds[1] },
      { fromStageId: stageIds[1], toStageId: stageIds[4] },
      { fromStageId: stageIds[4], toStageId: stageIds[3] },
      { fromStageId: stageIds[3], toStageId: stageIds[5] },
    ]);
    expect(stored[7].data).toMatchObject({ amount: 4_500_000, previousAmount: 5_000_000 });
    expect(stored[10].data).toMatchObject({ amount: 4_500_000, reason: 'best fit' });
    // one request, one correlation id, on both events of the PATCH
    expect(stored[7].metadata.correlationId).toBe(stored[8].metadata.correlationId);
    expect(stored[7].metadata.correlationId).not.toBe(stored[6].metadata.correlationId);

    const child = await api.streamEvents(`deal-${upsell.body.id}`);
    expect(child.map((e) => e.type)).toEqual(['DealCreated']);
    expect(child[0].data).toMatchObject({
      parentDealId: dealId,
      kind: 'upsell',
      account: 'ACME Corp',
      amount: 1_800_000,
      pipelineId,
    });
    expect(child[0].metadata.actorId).toBe('sam-sales');

    const pipelineEvents = await api.streamEvents(`pipeline-${pipelineId}`);
    expect(pipelineEvents.map((e) => [e.type, e.metadata.actorId])).toEqual([['PipelineDefined', 'olivia-ops']]);
  });

  it('propagates X-Correlation-Id into the events and echoes it', async () => {
    const ops2 = await api.token(['ops']);
    const response = await api
      .http()
      .post('/pipelines')
      .set('Authorization', `Bearer ${ops2}`)
      .set('X-Correlation-Id', 'import-2026-11-25.42')
      .send({ name: 'Partners', stages: [{ name: 'Lead', probability: 10 }] })
      .expect(201);
    expect(response.headers['x-correlation-id']).toBe('import-2026-11-25.42');
    const [event] = await api.streamEvents(response.body.streamId);
    expect(event.metadata.correlationId).toBe('import-2026-11-25.42');
  });

  it('manages stages: add, patch, reorder, remove with a destination, archive', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const auth = { Authorization: `Bearer ${ops}` };
    const { body } = await api
      .http()
      .post('/pipelines')
      .set(auth)
      .send({
        name: 'Renewals',
        stages: [
          { stageId: a, name: 'Due', probability: 50 },
          { stageId: b, name: 'Quoted', probability: 70 },
        ],
      })
      .expect(201);
    const id = body.id;
    await api
      .http()
      .post(`/pipelines/${id}/stages`)
      .set(auth)
      .send({ stageId: c, name: 'Signed', probability: 95, index: 1 })
      .expect(201);
    await api
      .http()
      .patch(`/pipelines/${id}/stages/${c}`)
      .set(auth)
      .send({ name: 'Verbal yes', probability: 90, goal: { maxDaysInStage: 7 } })
      .expect(200);
    await api
      .http()
      .post(`/pipelines/${id}/stages/reorder`)
      .set(auth)
      .send({ stageIds: [a, b, c] })
      .expect(200);
    await api.http().delete(`/pipelines/${id}/stages/${b}`).query({ moveOpenDealsTo: c }).set(auth).expect(200);
    const archived = await api.http().post(`/pipelines/${id}/archive`).set(auth).expect(200);
    expect(archived.body.revision).toBe('7'); // 8 events: revisions 0..7
    const events = await api.streamEvents(`pipeline-${id}`);
    expect(events.map((e) => e.type)).toEqual([
      'PipelineDefined',
      'StageAdded',
      'StageRenamed',
      'StageProbabilityChanged',
      'StageGoalSet',
      'StagesReordered',
      'StageRemoved',
      'PipelineArchived',
    ]);
    expect(events.find((e) => e.type === 'StageRemoved')!.data).toEqual({ stageId: b, moveOpenDealsTo: c });
  });
});
