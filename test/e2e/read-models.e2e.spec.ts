import { randomUUID } from 'node:crypto';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('read models over HTTP (PostgreSQL, in-process runner)', () => {
  let api: ApiHarness;
  let sales: string;
  let analyst: string;
  let pipelineId: string;
  const stages = [randomUUID(), randomUUID(), randomUUID()];

  beforeAll(async () => {
    api = await startApiOnPostgres();
    sales = `Bearer ${await api.token(['sales'], 'sam')}`;
    analyst = `Bearer ${await api.token(['analyst'], 'ann')}`;
    const ops = `Bearer ${await api.token(['ops'])}`;
    const { body } = await api
      .http()
      .post('/pipelines')
      .set('Authorization', ops)
      .send({
        name: 'Board',
        currency: 'EUR',
        stages: stages.map((stageId, i) => ({
          stageId,
          name: `S${i}`,
          probability: [10, 50, 90][i],
          goal: { maxDaysInStage: 30 },
        })),
      })
      .expect(201);
    pipelineId = body.id;
  });
  afterAll(() => api.close());

  const createDeal = async (amount: number) =>
    (
      await api
        .http()
        .post('/deals')
        .set('Authorization', sales)
        .send({ pipelineId, title: `Deal ${amount}`, account: 'A', amount, currency: 'EUR' })
        .expect(201)
    ).body;

  it('reads its own write: minPosition waits for the projection, and the answer says which position it reflects', async () => {
    const created = await createDeal(1000);
    const read = await api
      .http()
      .get(`/deals/${created.id}`)
      .query({ minPosition: created.position })
      .set('Authorization', analyst)
      .expect(200);
    expect(read.body).toMatchObject({
      dealId: created.id,
      status: 'open',
      amount: 1000,
      stageId: stages[0],
      revision: '0',
      identities: 'pseudonymous',
    });
    // The analyst sees the owner as a pseudonym (test/e2e/role-matrix.e2e.spec.ts); the owner's team sees 'sam'.
    expect(read.body.ownerId).toMatch(/^anon-[0-9a-f]{16}$/);
    expect((await api.http().get(`/deals/${created.id}`).set('Authorization', sales).expect(200)).body).toMatchObject({
      ownerId: 'sam',
      identities: 'visible',
    });
    expect(read.headers.etag).toBe('"0"');
    expect(read.headers['x-read-position'] >= created.position).toBe(true);
    const moved = await api
      .http()
      .post(`/deals/${created.id}/stage`)
      .set('Authorization', sales)
      .send({ toStageId: stages[1] })
      .expect(200);
    const again = await api
      .http()
      .get(`/deals/${created.id}`)
      .set('X-Min-Position', moved.body.position)
      .set('Authorization', analyst)
      .expect(200);
    expect(again.body).toMatchObject({ stageId: stages[1], revision: '1' });
  });

  it('answers 503 read-model-behind when a position is not reached in time, 400 for a malformed one', async () => {
    const far = '7fffffffffffff00-0000000000000001'; // beyond any position, inside the accepted 2^63 − 1
    const late = await api
      .http()
      .get(`/pipelines/${pipelineId}/board`)
      .query({ minPosition: far })
      .set('Authorization', analyst);
    expect(late.status).toBe(503);
    expect(late.body.code).toBe('read-model-behind');
    const bad = await api
      .http()
      .get(`/pipelines/${pipelineId}/board`)
      .query({ minPosition: 'nope' })
      .set('Authorization', analyst);
    expect(bad.status).toBe(400);
  }, 30_000);

  it('board and metrics asked later "as of" three past instants equal what they said at those instants', async () => {
    const snapshot = async () => {
      const at = new Date();
      await pause(15);
      const boardNow = (
        await api
          .http()
          .get(`/pipelines/${pipelineId}/board`)
          .query({ minPosition: lastPosition })
          .set('Authorization', analyst)
          .expect(200)
      ).body;
      const metricsNow = (
        await api
          .http()
          .get(`/pipelines/${pipelineId}/metrics/pipeline`)
          .query({ minPosition: lastPosition })
          .set('Authorization', analyst)
          .expect(200)
      ).body;
      await pause(15);
      return { at, boardNow, metricsNow };
    };
    let lastPosition = '';
    const write = async (call: () => Promise<{ body: { position: string } }>) => {
      lastPosition = (await call()).body.position;
    };
    const a = await createDeal(2000);
    lastPosition = a.position;
    await write(() =>
      api.http().post(`/deals/${a.id}/stage`).set('Authorization', sales).send({ toStageId: stages[2] }).expect(200),
    );
    const first = await snapshot();

    const b = await createDeal(3000);
    lastPosition = b.position;
    await write(() =>
      api.http().patch(`/deals/${a.id}`).set('Authorization', sales).send({ amount: 2500 }).expect(200),
    );
    const second = await snapshot();

    await write(() => api.http().post(`/deals/${a.id}/win`).set('Authorization', sales).send({}).expect(200));
    await write(() =>
      api.http().post(`/deals/${b.id}/lose`).set('Authorization', sales).send({ reason: 'timing' }).expect(200),
    );
    const third = await snapshot();

    // later events, so "now" differs from all three snapshots
    const c = await createDeal(4000);
    await api
      .http()
      .post(`/deals/${c.id}/stage`)
      .set('Authorization', sales)
      .send({ toStageId: stages[1] })
      .expect(200);

    for (const past of [first, second, third]) {
      for (const axis of ['occurred', 'recorded']) {
        const boardThen = (
          await api
            .http()
            .get(`/pipelines/${pipelineId}/board`)
            .query({ asOf: past.at.toISOString(), axis })
            .set('Authorization', analyst)
            .expect(200)
        ).body;
        expect(comparableBoard(boardThen)).toEqual(comparableBoard(past.boardNow, past.at));
        const metricsThen = (
          await api
            .http()
            .get(`/pipelines/${pipelineId}/metrics/pipeline`)
            .query({ asOf: past.at.toISOString(), axis })
            .set('Authorization', analyst)
            .expect(200)
        ).body;
        expect(comparableMetrics(metricsThen)).toEqual(comparableMetrics(past.metricsNow));
      }
    }
    // and the three instants really differ from each other and from now
    const now = (await api.http().get(`/pipelines/${pipelineId}/board`).set('Authorization', analyst).expect(200)).body;
    const counts = [first, second, third].map((p) =>
      p.boardNow.stages.map((s: { count: number }) => s.count).join(','),
    );
    counts.push(now.stages.map((s: { count: number }) => s.count).join(','));
    expect(new Set(counts).size).toBeGreaterThanOrEqual(3);
  });

  it('funnel and velocity routes answer for a period, with 400 for a bad period or policy', async () => {
    // One clock reading, so the period is exactly two hours long.
    const now = Date.now();
    const from = new Date(now - 3_600_000).toISOString();
    const to = new Date(now + 3_600_000).toISOString();
    const funnel = await api
      .http()
      .get(`/pipelines/${pipelineId}/metrics/funnel`)
      .query({ from, to, policy: 'implied' })
      .set('Authorization', analyst)
      .expect(200);
    expect(funnel.body.policy).toBe('implied');
    expect(funnel.body.stages).toHaveLength(3);
    expect(funnel.body.cohort.size).toBeGreaterThanOrEqual(4);
    const velocity = await api
      .http()
      .get(`/pipelines/${pipelineId}/metrics/velocity`)
      .query({ from, to })
      .set('Authorization', analyst)
      .expect(200);
    expect(velocity.body.won).toBe(1);
    expect(velocity.body.lost).toBe(1);
    expect(velocity.body.winRatePeriod).toBe(0.5);
    expect(
      (
        await api
          .http()
          .get(`/pipelines/${pipelineId}/metrics/funnel`)
          .query({ from: to, to: from })
          .set('Authorization', analyst)
      ).status,
    ).toBe(400);
    expect(
      (
        await api
          .http()
          .get(`/pipelines/${pipelineId}/metrics/funnel`)
          .query({ from, to, policy: 'loose' })
          .set('Authorization', analyst)
      ).status,
    ).toBe(400);
    expect(
      (
        await api
          .http()
          .get(`/pipelines/${pipelineId}/metrics/velocity`)
          .query({ from: to })
          .set('Authorization', analyst)
      ).status,
    ).toBe(400); // to defaults to now, which is before this from
    // from and to default to the 90 days before the instant (docs/metrics.md, "Conventions").
    const defaulted = await api
      .http()
      .get(`/pipelines/${pipelineId}/metrics/velocity`)
      .query({ asOf: to })
      .set('Authorization', analyst)
      .expect(200);
    expect([defaulted.body.from, defaulted.body.to]).toEqual([
      new Date(Date.parse(to) - 90 * 86_400_000).toISOString(),
      to,
    ]);
    expect(defaulted.body.won).toBe(1);
    expect((await api.http().get(`/pipelines/${randomUUID()}/board`).set('Authorization', analyst)).status).toBe(404);
  });
});

/** Board fields that must not depend on when the question is asked (ages do). */
function comparableBoard(
  board: {
    stages: {
      stageId: string;
      count: number;
      totals: unknown;
      deals: { dealId: string; amount: number; stalled: boolean }[];
    }[];
  },
  _at?: Date,
) {
  return board.stages.map((s) => ({
    stageId: s.stageId,
    count: s.count,
    totals: s.totals,
    deals: s.deals.map((d) => [d.dealId, d.amount, d.stalled]),
  }));
}

function comparableMetrics(metrics: {
  stages: { stageId: string; count: number; stalledCount: number; byCurrency: unknown }[];
  forecast: unknown;
}) {
  return {
    stages: metrics.stages.map((s) => ({
      stageId: s.stageId,
      count: s.count,
      stalled: s.stalledCount,
      byCurrency: s.byCurrency,
    })),
    forecast: metrics.forecast,
  };
}
