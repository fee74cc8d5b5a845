import { randomUUID } from 'node:crypto';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

/**
 * The request log line is written only when its level is enabled, and carries the correlation id.
 * (Its own file: the request logger of the app under test must be the only one in the process.)
 */
describe('the request log at LOG_LEVEL=warn', () => {
  let api: ApiHarness;
  const lines: string[] = [];

  beforeAll(async () => {
    api = await startApiOnPostgres({
      projectionsInProcess: false,
      logLevel: 'warn',
      logDestination: { write: (line: string) => void lines.push(line) },
    });
  });
  afterAll(() => api.close());

  const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

  it('writes nothing for a success and one warn line, with the correlation id and actor, for a 4xx', async () => {
    const token = `Bearer ${await api.token(['admin'], 'log-user')}`;
    lines.length = 0;
    const ok = await api.http().get('/health/live').set('X-Correlation-Id', 'corr-ok');
    expect(ok.status).toBe(200);
    expect(ok.headers['x-correlation-id']).toBe('corr-ok');
    await settle();
    expect(lines).toEqual([]);

    const missing = await api
      .http()
      .get('/deals/00000000-0000-4000-8000-000000000000')
      .set('Authorization', token)
      .set('X-Correlation-Id', 'corr-404');
    expect(missing.status).toBe(404);
    expect(missing.headers['x-correlation-id']).toBe('corr-404');
    await settle();
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 40,
      correlationId: 'corr-404',
      actorId: 'log-user',
      req: { method: 'GET', url: '/deals/00000000-0000-4000-8000-000000000000' },
      res: { statusCode: 404 },
      msg: 'request completed',
    });
    expect(typeof line.responseTime).toBe('number');
  });

  it('names the request by its correlation id in the error logged for a 500', async () => {
    const token = `Bearer ${await api.token(['admin'], 'log-user')}`;
    const store = api.appEventStore();
    const append = store.appendToStream.bind(store);
    store.appendToStream = async () => {
      store.appendToStream = append;
      throw new Error('disk on fire');
    };
    lines.length = 0;
    const failed = await api
      .http()
      .post('/pipelines')
      .set('Authorization', token)
      .set('X-Correlation-Id', 'corr-500')
      .send({ name: 'P', currency: 'EUR', stages: [{ stageId: randomUUID(), name: 'S', probability: 10 }] });
    expect(failed.status).toBe(500);
    expect(failed.body.correlationId).toBe('corr-500');
    await settle();
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    // The filter's error (its message the stack), then the request's own line.
    expect(logged).toEqual([
      expect.objectContaining({ level: 50, context: 'ProblemDetails', correlationId: 'corr-500' }),
      expect.objectContaining({ level: 50, correlationId: 'corr-500', msg: 'request errored' }),
    ]);
    expect(String(logged[0].msg)).toMatch(/^Error: disk on fire/);
  });
});
