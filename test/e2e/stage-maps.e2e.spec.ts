import { randomUUID } from 'node:crypto';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

/**
 * Stage maps over HTTP: an analyst defines one, a bad one is a 422 naming every offending entry with
 * nothing written, the map is read back and replaced, and every report takes stageMap=.
 */
describe('stage maps over HTTP (PostgreSQL)', () => {
  let api: ApiHarness;
  let analyst: string;
  let pipelineId: string;
  let removedStage: string;
  /** Position of the fixture's last write: reads wait for it. */
  let fixturePosition: string;
  const stages = [randomUUID(), randomUUID(), randomUUID()];
  const from = '2000-01-01T00:00:00.000Z';
  const to = '2100-01-01T00:00:00.000Z';

  beforeAll(async () => {
    api = await startApiOnPostgres();
    analyst = `Bearer ${await api.token(['analyst'], 'ann')}`;
    const ops = `Bearer ${await api.token(['ops'])}`;
    const sales = `Bearer ${await api.token(['sales'], 'sam')}`;
    pipelineId = (
      await api
        .http()
        .post('/pipelines')
        .set('Authorization', ops)
        .send({
          name: 'Mapped',
          currency: 'EUR',
          stages: stages.map((stageId, i) => ({ stageId, name: `S${i}`, probability: [10, 50, 90][i] })),
        })
        .expect(201)
    ).body.id;
    // A fourth stage, removed again: a map must cover it too.
    removedStage = (
      await api
        .http()
        .post(`/pipelines/${pipelineId}/stages`)
        .set('Authorization', ops)
        .send({ name: 'Old', probability: 20 })
        .expect(201)
    ).body.stageId;
    await api
      .http()
      .delete(`/pipelines/${pipelineId}/stages/${removedStage}`)
      .query({ moveOpenDealsTo: stages[0] })
      .set('Authorization', ops)
      .expect(200);
    for (const amount of [100, 200]) {
      const deal = await api
        .http()
        .post('/deals')
        .set('Authorization', sales)
        .send({ pipelineId, title: `D${amount}`, account: 'A', amount, currency: 'EUR' })
        .expect(201);
      if (amount === 200)
        fixturePosition = (
          await api
            .http()
            .post(`/deals/${deal.body.id}/stage`)
            .set('Authorization', sales)
            .send({ toStageId: stages[1] })
            .expect(200)
        ).body.position;
    }
  });
  afterAll(() => api.close());

  const goodMap = () => ({
    name: 'Early and late',
    targets: [
      { targetId: 'early', name: 'Early' },
      { targetId: 'late', name: 'Late' },
    ],
    stages: [
      { stageId: stages[0], countsAs: 'early' },
      { stageId: stages[1], countsAs: 'early' },
      { stageId: stages[2], countsAs: 'late' },
      { stageId: removedStage, countsAs: 'ignore' },
    ],
  });

  it('refuses a bad map with 422 naming every offending entry, and writes nothing', async () => {
    const before = await api.eventCount();
    const unknown = randomUUID();
    const response = await api
      .http()
      .post(`/pipelines/${pipelineId}/stage-maps`)
      .set('Authorization', analyst)
      .send({
        name: 'Bad',
        targets: [
          { targetId: 'early', name: 'Early' },
          { targetId: 'early', name: 'Again' },
        ],
        stages: [
          { stageId: stages[0], countsAs: 'early' },
          { stageId: unknown, countsAs: 'early' },
          { stageId: stages[1], countsAs: 'nowhere' },
        ],
      })
      .expect(422);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body.code).toBe('invalid-stage-map');
    expect(response.body.details.problems).toEqual([
      { rule: 'duplicate-target-id', entries: ['early'] },
      { rule: 'unknown-stage', entries: [unknown] },
      { rule: 'unknown-target', entries: [{ stageId: stages[1], countsAs: 'nowhere' }] },
      { rule: 'unmapped-stage', entries: [stages[2], removedStage] },
    ]);
    expect(await api.eventCount()).toBe(before);
  });

  it('defines, reads, replaces and deletes a map; reports compute in it', async () => {
    const defined = await api
      .http()
      .post(`/pipelines/${pipelineId}/stage-maps`)
      .set('Authorization', analyst)
      .send(goodMap())
      .expect(201);
    const id = defined.body.id;
    expect(defined.headers.location).toBe(`/stage-maps/${id}`);
    expect(defined.body).toMatchObject({ streamId: `stagemap-${id}`, revision: '0', events: ['StageMapDefined'] });

    const read = await api.http().get(`/stage-maps/${id}`).set('Authorization', analyst).expect(200);
    expect(read.headers.etag).toBe('"0"');
    expect(read.body).toEqual({ stageMapId: id, pipelineId, revision: '0', ...goodMap() });

    const position = defined.body.position;
    const funnel = await api
      .http()
      .get(`/pipelines/${pipelineId}/metrics/funnel`)
      .query({ from, to, stageMap: id, minPosition: position })
      .set('Authorization', analyst)
      .expect(200);
    // D100 entered S0 (early); D200 S0 then S1 (both early): one target, two deals, no transition between targets.
    expect(funnel.body.stages.map((s: { stageId: string; reached: number }) => [s.stageId, s.reached])).toEqual([
      ['early', 2],
      ['late', 0],
    ]);
    expect(funnel.body.transitions).toEqual([]);
    expect(funnel.body.stageMap).toEqual({ stageMapId: id, name: 'Early and late', revision: '0' });

    const board = await api
      .http()
      .get(`/pipelines/${pipelineId}/board`)
      .query({ stageMap: id, stageId: 'early', minPosition: position })
      .set('Authorization', analyst)
      .expect(200);
    expect(
      board.body.stages.map((s: { stageId: string; count: number; probability: number | null }) => [
        s.stageId,
        s.count,
        s.probability,
      ]),
    ).toEqual([['early', 2, null]]);
    const metrics = await api
      .http()
      .get(`/pipelines/${pipelineId}/metrics/pipeline`)
      .query({ stageMap: id })
      .set('Authorization', analyst)
      .expect(200);
    // Weighted by each deal's own stage: 100 × 10% + 200 × 50% = 110.
    expect(metrics.body.stages[0].byCurrency).toEqual([{ currency: 'EUR', count: 2, value: 300, weightedValue: 110 }]);
    const velocity = await api
      .http()
      .get(`/pipelines/${pipelineId}/metrics/velocity`)
      .query({ from, to, stageMap: id })
      .set('Authorization', analyst)
      .expect(200);
    expect(velocity.body).toMatchObject({ opportunities: 2, stageMap: { stageMapId: id } });

    const changed = { ...goodMap(), name: 'All in one', targets: [{ targetId: 'all', name: 'All' }] };
    changed.stages = changed.stages.map((s) => ({ ...s, countsAs: s.countsAs === 'ignore' ? 'ignore' : 'all' }));
    await api
      .http()
      .put(`/stage-maps/${id}`)
      .set('Authorization', analyst)
      .set('If-Match', '"0"')
      .send(changed)
      .expect(200);
    const reread = await api.http().get(`/stage-maps/${id}`).set('Authorization', analyst).expect(200);
    expect(reread.body).toMatchObject({
      name: 'All in one',
      revision: '1',
      targets: [{ targetId: 'all', name: 'All' }],
    });

    await api.http().delete(`/stage-maps/${id}`).set('Authorization', analyst).expect(200);
    await api.http().get(`/stage-maps/${id}`).set('Authorization', analyst).expect(404);
    const gone = await api
      .http()
      .get(`/pipelines/${pipelineId}/metrics/funnel`)
      .query({ from, to, stageMap: id })
      .set('Authorization', analyst)
      .expect(422);
    expect(gone.body.code).toBe('unknown-stage-map');
    // The map's history stays in its own stream: who defined, changed and deleted it, when.
    const history = await api.streamEvents(`stagemap-${id}`);
    expect(history.map((e) => [e.type, e.metadata.actorId])).toEqual([
      ['StageMapDefined', 'ann'],
      ['StageMapChanged', 'ann'],
      ['StageMapDeleted', 'ann'],
    ]);
  });

  it('answers the funnel in a one-off map from a POST body, writing nothing; a bad one is 422', async () => {
    const before = await api.eventCount();
    const oneOff = await api
      .http()
      .post(`/pipelines/${pipelineId}/metrics/funnel/query`)
      .set('Authorization', analyst)
      .set('X-Min-Position', fixturePosition)
      .send({
        from,
        to,
        policy: 'strict',
        stageMap: {
          targets: [
            { targetId: 'first', name: 'First' },
            { targetId: 'rest', name: 'Rest' },
          ],
          stages: [
            { stageId: stages[0], countsAs: 'first' },
            { stageId: stages[1], countsAs: 'rest' },
            { stageId: stages[2], countsAs: 'rest' },
            { stageId: removedStage, countsAs: 'ignore' },
          ],
        },
      })
      .expect(200);
    // Both deals began in S0 (first); D200 then entered S1 (rest), in order.
    expect(oneOff.body.stages.map((s: { stageId: string; reached: number }) => [s.stageId, s.reached])).toEqual([
      ['first', 2],
      ['rest', 1],
    ]);
    expect(oneOff.body).toMatchObject({
      policy: 'strict',
      stageMap: null,
      transitions: [{ fromStageId: 'first', toStageId: 'rest', count: 1 }],
    });
    const bad = await api
      .http()
      .post(`/pipelines/${pipelineId}/metrics/funnel/query`)
      .set('Authorization', analyst)
      .send({
        from,
        to,
        stageMap: { targets: [{ targetId: 'all', name: 'All' }], stages: [{ stageId: stages[0], countsAs: 'all' }] },
      })
      .expect(422);
    expect(bad.body.details.problems).toEqual([
      { rule: 'unmapped-stage', entries: [stages[1], stages[2], removedStage] },
    ]);
    expect(await api.eventCount()).toBe(before);
  });

  it('refuses a map of another pipeline, an unknown pipeline, and sales', async () => {
    const map = await api
      .http()
      .post(`/pipelines/${pipelineId}/stage-maps`)
      .set('Authorization', analyst)
      .send(goodMap())
      .expect(201);
    const other = randomUUID();
    await api.http().post(`/pipelines/${other}/stage-maps`).set('Authorization', analyst).send(goodMap()).expect(404);
    const ops = `Bearer ${await api.token(['ops'])}`;
    const otherPipeline = (
      await api
        .http()
        .post('/pipelines')
        .set('Authorization', ops)
        .send({ name: 'Other', stages: [{ name: 'Only', probability: 10 }] })
        .expect(201)
    ).body.id;
    const wrong = await api
      .http()
      .get(`/pipelines/${otherPipeline}/metrics/pipeline`)
      .query({ stageMap: map.body.id })
      .set('Authorization', analyst)
      .expect(422);
    expect(wrong.body.code).toBe('stage-map-of-another-pipeline');
    const sales = `Bearer ${await api.token(['sales'], 'sam')}`;
    await api
      .http()
      .post(`/pipelines/${pipelineId}/stage-maps`)
      .set('Authorization', sales)
      .send(goodMap())
      .expect(403);
  });
});
