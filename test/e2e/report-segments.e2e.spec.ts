import { randomUUID } from 'node:crypto';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

/*
 * Segments over HTTP (docs/metrics.md, "Segments"): the parameters every report takes, the `segment`
 * every answer states, owners by pseudonym for analysts, and 400 (never 500) for what cannot be a segment.
 * The figures themselves are hand-computed in libs/read-models/src/queries/segments.int.spec.ts.
 *
 *   sam: new 1000 → won; its up-sell 300 (open)        sue: new 5000 (open)
 */
describe('report segments over HTTP (PostgreSQL)', () => {
  let api: ApiHarness;
  let analyst: string;
  let sam: string;
  let ops: string;
  let pipelineId: string;
  let position: string;
  let suePseudonym: string;
  const stages = [randomUUID(), randomUUID()];
  // One clock reading, so the period is exactly two hours long.
  const now = Date.now();
  const from = new Date(now - 3_600_000).toISOString();
  const to = new Date(now + 3_600_000).toISOString();

  beforeAll(async () => {
    api = await startApiOnPostgres();
    analyst = `Bearer ${await api.token(['analyst'], 'ann')}`;
    sam = `Bearer ${await api.token(['sales'], 'sam')}`;
    const sue = `Bearer ${await api.token(['sales'], 'sue')}`;
    ops = `Bearer ${await api.token(['ops'])}`;
    pipelineId = (
      await api
        .http()
        .post('/pipelines')
        .set('Authorization', ops)
        .send({
          name: 'Segments',
          currency: 'EUR',
          stages: stages.map((stageId, i) => ({ stageId, name: `S${i}`, probability: [20, 60][i] })),
        })
        .expect(201)
    ).body.id;
    const create = (token: string, amount: number) =>
      api
        .http()
        .post('/deals')
        .set('Authorization', token)
        .send({ pipelineId, title: `Deal ${amount}`, account: 'A', amount, currency: 'EUR' })
        .expect(201);
    const won = (await create(sam, 1000)).body;
    await api.http().post(`/deals/${won.id}/win`).set('Authorization', sam).send({}).expect(200);
    await api
      .http()
      .post(`/deals/${won.id}/upsell`)
      .set('Authorization', sam)
      .send({ title: 'More', amount: 300, currency: 'EUR' })
      .expect(201);
    const sues = (await create(sue, 5000)).body;
    position = sues.position;
    suePseudonym = (
      await api
        .http()
        .get(`/deals/${sues.id}`)
        .query({ minPosition: position })
        .set('Authorization', analyst)
        .expect(200)
    ).body.ownerId;
  });
  afterAll(() => api.close());

  const get = (report: string, query: Record<string, string>, token = analyst) =>
    api
      .http()
      .get(`/pipelines/${pipelineId}/${report}`)
      .query({ minPosition: position, ...query })
      .set('Authorization', token);

  it('the funnel states its default cohort (all kinds) and narrows to new business', async () => {
    const all = await get('metrics/funnel', { from, to }).expect(200);
    expect(all.body.segment).toEqual({
      kinds: ['new', 'upsell', 'cross-sell'],
      owners: null,
      currencies: null,
      minAmount: null,
      maxAmount: null,
      source: 'all',
    });
    expect(all.body.cohort.size).toBe(3);
    const newOnly = await get('metrics/funnel', { from, to, kind: 'new' }).expect(200);
    expect(newOnly.body.segment.kinds).toEqual(['new']);
    expect(newOnly.body.cohort).toEqual({ size: 2, open: 1, won: 1, lost: 0, disqualified: 0 });
    const upsells = await get('metrics/velocity', { from, to, kind: 'upsell' }).expect(200);
    expect([upsells.body.opportunities, upsells.body.won]).toEqual([1, 0]);
  });

  it('analysts name owners by pseudonym on every report; a clear id from them is 400', async () => {
    const funnel = await get('metrics/funnel', { from, to, owners: suePseudonym }).expect(200);
    expect(funnel.body.cohort.size).toBe(1);
    expect(funnel.body.segment.owners).toEqual([suePseudonym]);
    const pipeline = await get('metrics/pipeline', { owners: suePseudonym }).expect(200);
    expect(pipeline.body.stages.map((s: { count: number }) => s.count)).toEqual([1, 0]);
    const board = await get('board', { owners: suePseudonym, minAmount: '5000', maxAmount: '5000' }).expect(200);
    expect(board.body.stages[0].totals).toEqual([{ currency: 'EUR', count: 1, amount: 5000, weightedAmount: 1000 }]);
    const refused = await get('metrics/velocity', { from, to, owners: 'sue' }).expect(400);
    expect(refused.body.type).toMatch(/owner-filter-needs-pseudonym$/);
    // Ops sees clear ids and filters by them.
    expect((await get('metrics/funnel', { from, to, owners: 'sam,nobody' }, ops).expect(200)).body.cohort.size).toBe(2);
  });

  it('currency, amount band and source narrow every report', async () => {
    expect((await get('metrics/funnel', { from, to, currency: 'USD' }).expect(200)).body.cohort.size).toBe(0);
    expect((await get('metrics/funnel', { from, to, minAmount: '1000' }).expect(200)).body.cohort.size).toBe(2);
    expect((await get('metrics/funnel', { from, to, source: 'live' }).expect(200)).body.cohort.size).toBe(3);
    expect((await get('metrics/funnel', { from, to, source: 'imported' }).expect(200)).body.cohort.size).toBe(0);
    const oneImport = await get('metrics/pipeline', { source: `import:${randomUUID()}` }).expect(200);
    expect(oneImport.body.stages.map((s: { count: number }) => s.count)).toEqual([0, 0]);
  });

  it('what cannot be a segment is 400 problem+json, never 500', async () => {
    const bad: Record<string, string | string[]>[] = [
      { kind: 'renewal' },
      { kind: 'new,' },
      { kind: ['new', 'upsell'] },
      { currency: 'eur' },
      { minAmount: '5', maxAmount: '4' },
      { minAmount: '-1' },
      { source: 'import:' },
      { source: 'import:a b' },
      { source: 'csv' },
      { owners: '' },
      { owners: ',' },
    ];
    for (const query of bad) {
      const response = await api
        .http()
        .get(`/pipelines/${pipelineId}/metrics/funnel`)
        .query({ from, to, ...query })
        .set('Authorization', ops);
      expect([JSON.stringify(query), response.status, response.headers['content-type']]).toEqual([
        JSON.stringify(query),
        400,
        expect.stringMatching(/^application\/problem\+json/),
      ]);
    }
  });

  it('POST …/funnel/query takes the same segment in its body (JSON arrays), with the one-off map', async () => {
    // One target per stage: the map changes no figure, so the segment alone narrows the cohort.
    const stageMap = {
      targets: [
        { targetId: 'first', name: 'First' },
        { targetId: 'second', name: 'Second' },
      ],
      stages: [
        { stageId: stages[0], countsAs: 'first' },
        { stageId: stages[1], countsAs: 'second' },
      ],
    };
    const query = (segment: object | undefined, token = analyst) =>
      api
        .http()
        .post(`/pipelines/${pipelineId}/metrics/funnel/query`)
        .set('Authorization', token)
        .set('X-Min-Position', position)
        .send({ from, to, stageMap, ...(segment ? { segment } : {}) });
    const all = (await query(undefined).expect(200)).body;
    expect(all.cohort.size).toBe(3);
    expect(all.segment.kinds).toEqual(['new', 'upsell', 'cross-sell']);
    const newOnly = (await query({ kinds: ['new'] }).expect(200)).body;
    expect(newOnly.cohort).toEqual({ size: 2, open: 1, won: 1, lost: 0, disqualified: 0 });
    expect(newOnly.segment).toEqual({
      kinds: ['new'],
      owners: null,
      currencies: null,
      minAmount: null,
      maxAmount: null,
      source: 'all',
    });
    // The same as the GET funnel with the same segment, figure for figure (stages carry the targets' ids).
    const viaGet = (await get('metrics/funnel', { from, to, kind: 'new' }).expect(200)).body;
    expect(newOnly.stages.map((s: { reached: number }) => s.reached)).toEqual(
      viaGet.stages.map((s: { reached: number }) => s.reached),
    );
    expect((await query({ owners: [suePseudonym] }).expect(200)).body.cohort.size).toBe(1);
    expect((await query({ minAmount: 1000, currencies: ['EUR'] }).expect(200)).body.cohort.size).toBe(2);
    expect((await query({ owners: ['sam'] }, ops).expect(200)).body.cohort.size).toBe(2);
    const clearFromAnalyst = await query({ owners: ['sue'] }).expect(400);
    expect(clearFromAnalyst.body.code).toBe('owner-filter-needs-pseudonym');
    expect((await query({ minAmount: 5, maxAmount: 4 }).expect(400)).body.code).toBe('invalid-amount-band');
    for (const bad of [
      { kinds: ['renewal'] },
      { kinds: 'new' },
      { minAmount: '5' },
      { currencies: ['eur'] },
      { owners: [] },
    ])
      expect([JSON.stringify(bad), (await query(bad).expect(400)).body.code]).toEqual([
        JSON.stringify(bad),
        'validation-failed',
      ]);
  });
});
