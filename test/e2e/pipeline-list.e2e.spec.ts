import { randomUUID } from 'node:crypto';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

/**
 * GET /pipelines: every pipeline in (name, id) order, a keyset page at a time, with its live stages and
 * how many deals are open in it now (from the totals the projection keeps per stage). Hand-counted:
 * Alpha has two open deals and one won; Beta none; Gamma is archived with one open deal.
 */
describe('GET /pipelines (PostgreSQL)', () => {
  let api: ApiHarness;
  let ops: string;
  let sales: string;
  const ids: Record<string, string> = {};
  const stages: Record<string, string[]> = {};
  let lastPosition = '';

  const define = async (name: string) => {
    stages[name] = [randomUUID(), randomUUID()];
    const { body } = await api
      .http()
      .post('/pipelines')
      .set('Authorization', ops)
      .send({
        name,
        currency: 'EUR',
        stages: stages[name].map((stageId, i) => ({ stageId, name: `${name} ${i}`, probability: [20, 60][i] })),
      })
      .expect(201);
    ids[name] = body.id;
    lastPosition = body.position;
  };
  const deal = async (pipeline: string) => {
    const { body } = await api
      .http()
      .post('/deals')
      .set('Authorization', sales)
      .send({ pipelineId: ids[pipeline], title: 'D', account: 'A', amount: 1000, currency: 'EUR' })
      .expect(201);
    lastPosition = body.position;
    return body.id as string;
  };

  beforeAll(async () => {
    api = await startApiOnPostgres();
    ops = `Bearer ${await api.token(['ops'])}`;
    sales = `Bearer ${await api.token(['sales'])}`;
    for (const name of ['Gamma', 'Alpha', 'Beta']) await define(name);
    await deal('Alpha');
    await deal('Alpha');
    const won = await deal('Alpha');
    lastPosition = (await api.http().post(`/deals/${won}/win`).set('Authorization', sales).send({}).expect(200)).body
      .position;
    await deal('Gamma');
    lastPosition = (
      await api.http().post(`/pipelines/${ids.Gamma}/archive`).set('Authorization', ops).send().expect(200)
    ).body.position;
  });
  afterAll(() => api.close());

  const list = (query: Record<string, string>, token = sales) =>
    api
      .http()
      .get('/pipelines')
      .query({ minPosition: lastPosition, ...query })
      .set('Authorization', token);

  it('lists every pipeline in name order with its live stages and open deals', async () => {
    const { body, headers } = await list({}).expect(200);
    expect(
      body.pipelines.map((p: { name: string; openDeals: number; status: string }) => [p.name, p.openDeals, p.status]),
    ).toEqual([
      ['Alpha', 2, 'active'],
      ['Beta', 0, 'active'],
      ['Gamma', 1, 'archived'],
    ]);
    expect(body.pipelines[0]).toEqual({
      pipelineId: ids.Alpha,
      name: 'Alpha',
      currency: 'EUR',
      status: 'active',
      stages: [
        { stageId: stages.Alpha[0], name: 'Alpha 0', probability: 20 },
        { stageId: stages.Alpha[1], name: 'Alpha 1', probability: 60 },
      ],
      openDeals: 2,
      revision: '0',
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(body.nextCursor).toBeNull();
    expect(body.readPosition >= lastPosition).toBe(true);
    expect(headers['x-read-position']).toBe(body.readPosition);
  });

  it('pages by keyset: limit=2 then the cursor gives the rest, nothing twice', async () => {
    const first = (await list({ limit: '2' }).expect(200)).body;
    expect(first.pipelines.map((p: { name: string }) => p.name)).toEqual(['Alpha', 'Beta']);
    expect(typeof first.nextCursor).toBe('string');
    const second = (await list({ limit: '2', cursor: first.nextCursor }).expect(200)).body;
    expect(second.pipelines.map((p: { name: string }) => p.name)).toEqual(['Gamma']);
    expect(second.nextCursor).toBeNull();
  });

  it('filters by status', async () => {
    const archived = (await list({ status: 'archived' }).expect(200)).body;
    expect(archived.pipelines.map((p: { name: string }) => p.name)).toEqual(['Gamma']);
    const active = (await list({ status: 'active' }).expect(200)).body;
    expect(active.pipelines.map((p: { name: string }) => p.name)).toEqual(['Alpha', 'Beta']);
  });

  it('refuses what it cannot use with 400, and callers without a token with 401', async () => {
    expect((await list({ cursor: 'bm90LWEtY3Vyc29y' }).expect(400)).body.code).toBe('invalid-cursor');
    const foreign = Buffer.from(JSON.stringify(['Alpha', 'not-a-uuid'])).toString('base64url');
    expect((await list({ cursor: foreign }).expect(400)).body.code).toBe('invalid-cursor');
    expect((await list({ limit: '0' }).expect(400)).body.code).toBe('validation-failed');
    expect((await list({ status: 'deleted' }).expect(400)).body.code).toBe('validation-failed');
    expect((await api.http().get('/pipelines').expect(401)).body.code).toBe('unauthorized');
  });
});
