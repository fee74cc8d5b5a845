import { ScriptedEsdbServer } from '@dealstream/event-store/testing';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

/**
 * The EventStoreDB profile as a user meets it when the server is slow, not ready or busy (issue 20,
 * findings 1 and 2). The API runs against the scripted gRPC server — the client's own protocol
 * definitions, scripted per call; it is NOT EventStoreDB (none can run here), so only the failure
 * paths are under test. Writes must answer 503 `event-store-unavailable` with Retry-After, a write
 * that times out must not fail a healthy one running beside it, and the process must stay up.
 */
describe('API on the EventStoreDB profile with a scripted slow / not-ready / busy server', () => {
  const BOUND_MS = 400;
  let server: ScriptedEsdbServer;
  let api: ApiHarness;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);

  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    server = await new ScriptedEsdbServer().start();
    api = await startApiOnPostgres({
      env: { EVENTSTORE_CONNECTION_STRING: server.connectionString, EVENTSTORE_TIMEOUT_MS: String(BOUND_MS) },
      readWaitMs: 300,
    });
  });
  afterAll(async () => {
    await api.close();
    await server.stop();
    process.off('uncaughtException', onUncaught);
  });

  const createPipeline = async (name: string, idempotencyKey?: string) => {
    const request = api
      .http()
      .post('/pipelines')
      .set('Authorization', `Bearer ${await api.token(['ops'])}`);
    if (idempotencyKey !== undefined) request.set('Idempotency-Key', idempotencyKey);
    return request.send({ name, currency: 'EUR', stages: [{ name: 'A', probability: 10 }] });
  };

  it.each(['not-ready', 'busy'] as const)(
    'a write the server answers %s gets 503 with Retry-After, nothing written',
    async (kind) => {
      const before = server.records.length;
      server.script.append.push({ kind });
      const response = await createPipeline(`P-${kind}`);
      expect([response.status, response.body.code, response.headers['retry-after']]).toEqual([
        503,
        'event-store-unavailable',
        '1',
      ]);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(server.records.length).toBe(before);
      // The next write goes through: the store was not left broken.
      expect((await createPipeline(`P-${kind}-after`)).status).toBe(201);
    },
  );

  it('a write that times out answers 503 while a healthy write beside it answers 201; the process stays up', async () => {
    server.script.append.push({ kind: 'delay', ms: 3 * BOUND_MS });
    const slow = createPipeline('P-slow');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const healthy = await createPipeline('P-healthy');
    expect(healthy.status).toBe(201);
    const timedOut = await slow;
    expect([timedOut.status, timedOut.body.code]).toEqual([503, 'event-store-unavailable']);
    await new Promise((resolve) => setTimeout(resolve, 3 * BOUND_MS)); // the late reply arrives
    expect(uncaught).toEqual([]);
    expect((await api.http().get('/health/live')).status).toBe(200);
    expect((await createPipeline('P-after')).status).toBe(201);
  });

  it('a write that timed out but was stored: its retry with the same Idempotency-Key answers the original result, written once', async () => {
    server.script.append.push({ kind: 'delay', ms: 3 * BOUND_MS });
    const key = `k-${crypto.randomUUID()}`;
    const timedOut = await createPipeline('P-unknown-outcome', key);
    expect([timedOut.status, timedOut.body.code, timedOut.headers['retry-after']]).toEqual([
      503,
      'event-store-unavailable',
      '1',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 3 * BOUND_MS)); // the server stores it and answers late
    const stored = server.records.filter((r) => r.type === 'PipelineDefined' && r.streamId.startsWith('pipeline-'));
    const streamOf = (name: string) =>
      stored.find((r) => JSON.parse(Buffer.from(r.data).toString('utf8')).name === name)?.streamId;
    const streamId = streamOf('P-unknown-outcome');
    expect(streamId).toBeDefined();

    const retry = await createPipeline('P-unknown-outcome', key);
    expect(retry.status).toBe(201);
    expect(`pipeline-${retry.body.id}`).toBe(streamId);
    expect(server.records.filter((r) => r.streamId === streamId)).toHaveLength(1);
    expect(uncaught).toEqual([]);
  });
});
