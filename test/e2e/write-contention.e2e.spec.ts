import { randomUUID } from 'node:crypto';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

/**
 * The bound of "decided again": with WRITE_CONTENTION_DEADLINE_MS = 0 a write without If-Match that
 * loses a race gives up at once with 503 write-contention + Retry-After, and writes nothing.
 * (50 writers within the default bound: concurrency-and-idempotency.e2e.spec.ts.)
 */
describe('writes without If-Match past the contention deadline (PostgreSQL)', () => {
  let api: ApiHarness;
  let sales: string;
  let pipelineId: string;

  beforeAll(async () => {
    api = await startApiOnPostgres({ writeContentionDeadlineMs: 0 });
    sales = `Bearer ${await api.token(['sales'], 'sam')}`;
    const ops = `Bearer ${await api.token(['ops'])}`;
    const { body } = await api.http().post('/pipelines').set('Authorization', ops)
      .send({ name: 'P', currency: 'EUR', stages: [{ stageId: randomUUID(), name: 'S', probability: 10 }] }).expect(201);
    pipelineId = body.id;
  });
  afterAll(() => api.close());

  it('answers 503 write-contention with Retry-After to the writers that lost, and every 200 is exactly one event', async () => {
    const { body: deal } = await api.http().post('/deals').set('Authorization', sales).send({ pipelineId, title: 'D', account: 'A', amount: 1, currency: 'EUR' }).expect(201);
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => api.http().patch(`/deals/${deal.id}`).set('Authorization', sales).send({ amount: 100 + i })),
    );
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
});
