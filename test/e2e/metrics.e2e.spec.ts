import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { dealStreamName } from '@dealstream/deals-domain';
import { SqlEventStore } from '@dealstream/event-store';
import { ProjectionRunner } from '@dealstream/read-models';
import { appConfigFromEnv } from '../../apps/api/src/config/app-config.js';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

/*
 * GET /metrics: the figures move when things happen — requests, commands and their outcomes,
 * appends and conflicts, projection lag while no projector runs and after one caught up, a parked
 * stream, open event streams — and only ops/admin tokens or the static METRICS_TOKEN read them.
 */

const METRICS_TOKEN = 'metrics-token-for-the-e2e-suite-0123456789';

/** The value of one sample, labels given in any order; 0 when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[3] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]] as const),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[4]);
  }
  return 0;
}

describe('GET /metrics (PostgreSQL)', () => {
  let api: ApiHarness;
  let ops: string;
  let sales: string;

  beforeAll(async () => {
    // No projections in the API: the lag grows until the test runs a projector.
    api = await startApiOnPostgres({ projectionsInProcess: false, metricsToken: METRICS_TOKEN });
    ops = `Bearer ${await api.token(['ops'], 'olga')}`;
    sales = `Bearer ${await api.token(['sales'], 'sam')}`;
  });
  afterAll(() => api.close());

  const scrape = async (authorization = `Bearer ${METRICS_TOKEN}`) => {
    const response = await api.http().get('/metrics').set('Authorization', authorization).expect(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    return response.text;
  };

  it('admits ops, admin and the static METRICS_TOKEN; refuses others', async () => {
    await scrape(ops);
    await scrape(`Bearer ${await api.token(['admin'], 'root')}`);
    expect((await api.http().get('/metrics').set('Authorization', sales).expect(403)).body.code).toBe('forbidden');
    expect((await api.http().get('/metrics').set('Authorization', 'Bearer not-the-token').expect(401)).body.code).toBe(
      'unauthorized',
    );
    expect((await api.http().get('/metrics').expect(401)).body.code).toBe('unauthorized');
    // The static token opens /metrics only.
    expect(
      (await api.http().get('/events').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(401)).body.code,
    ).toBe('unauthorized');
    const text = await scrape();
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
  });

  it('counts requests, commands by outcome, appends and conflicts; shows lag and then its catch-up; a parked stream', async () => {
    const before = await scrape();
    const stageId = randomUUID();
    const pipeline = await api
      .http()
      .post('/pipelines')
      .set('Authorization', ops)
      .send({ name: 'P', currency: 'EUR', stages: [{ stageId, name: 'A', probability: 10 }] })
      .expect(201);
    const deals: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { body } = await api
        .http()
        .post('/deals')
        .set('Authorization', sales)
        .send({ pipelineId: pipeline.body.id, title: `D${i}`, account: 'A', amount: 10, currency: 'EUR' })
        .expect(201);
      deals.push(body.id);
    }
    // Rejected by the domain: a stage the pipeline does not have (422).
    await api
      .http()
      .post(`/deals/${deals[0]}/stage`)
      .set('Authorization', sales)
      .send({ toStageId: randomUUID() })
      .expect(422);
    // A conflict at the store: the stream is at revision 0, not 5.
    await expect(
      api
        .appEventStore()
        .appendToStream(
          dealStreamName(deals[1]),
          [{ eventId: randomUUID(), type: 'Noted', data: {}, metadata: { actorId: 'x', occurredAt: new Date() } }],
          { expectedRevision: 5n },
        ),
    ).rejects.toMatchObject({ code: 'wrong-expected-revision' });
    await api.http().get(`/deals/${randomUUID()}`).set('Authorization', sales);

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('dealstream_commands_total', { type: 'CreateDealCommand', outcome: 'ok' })).toBe(3);
    expect(delta('dealstream_commands_total', { type: 'MoveDealCommand', outcome: 'rejected' })).toBe(1);
    expect(delta('dealstream_appends_total', { outcome: 'appended' })).toBe(4);
    expect(delta('dealstream_appended_events_total')).toBe(4);
    expect(delta('dealstream_appends_total', { outcome: 'conflict' })).toBe(1);
    expect(delta('dealstream_append_duration_seconds_count')).toBe(5);
    expect(delta('http_request_duration_seconds_count', { method: 'POST', route: '/deals', status: '201' })).toBe(3);
    expect(
      delta('http_request_duration_seconds_count', { method: 'POST', route: '/deals/:id/stage', status: '422' }),
    ).toBe(1);
    expect(
      delta('http_request_duration_seconds_count', { method: 'GET', route: '/deals/:id', status: '404' }),
    ).toBeGreaterThanOrEqual(1);
    // No route label carries an id.
    expect(after).not.toContain(deals[0]);

    // Nothing projects: every event is lag, and it has an age.
    const stored = await api.eventCount();
    expect(sample(after, 'dealstream_projection_lag_events')).toBe(stored);
    expect(sample(after, 'dealstream_projection_lag_seconds')).toBeGreaterThan(0);
    expect(sample(after, 'dealstream_projection_position')).toBe(0);

    // A projector catches up, and then meets a poison event, which parks its stream.
    const runner = new ProjectionRunner({
      database: api.database,
      store: new SqlEventStore(api.database.db),
      pollIntervalMs: 50,
    });
    await runner.start();
    try {
      let caughtUp = '';
      for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
        caughtUp = await scrape();
        if (sample(caughtUp, 'dealstream_projection_lag_events') === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(sample(caughtUp, 'dealstream_projection_lag_events')).toBe(0);
      expect(sample(caughtUp, 'dealstream_projection_lag_seconds')).toBe(0);
      expect(sample(caughtUp, 'dealstream_projection_position')).toBe(stored);
      expect(sample(caughtUp, 'dealstream_parked_streams')).toBe(0);

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
      let parked = 0;
      for (const deadline = Date.now() + 10_000; parked === 0 && Date.now() < deadline;) {
        parked = sample(await scrape(), 'dealstream_parked_streams');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(parked).toBe(1);
    } finally {
      await runner.stop();
    }
  });

  it('counts open event streams', async () => {
    const baseUrl = await api.baseUrl();
    const open = () =>
      new Promise<http.ClientRequest>((resolve, reject) => {
        const request = http.get(`${baseUrl}/events/stream`, { headers: { Authorization: ops } });
        request.on('response', () => resolve(request));
        request.on('error', reject);
      });
    const base = sample(await scrape(), 'dealstream_event_streams_open');
    expect(base).toBe(0);
    const streams = [await open(), await open()];
    expect(sample(await scrape(), 'dealstream_event_streams_open')).toBe(2);
    for (const stream of streams) stream.destroy();
    let now = 2;
    for (const deadline = Date.now() + 3000; now !== 0 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      now = sample(await scrape(), 'dealstream_event_streams_open');
    }
    expect(now).toBe(0);
  });
});

describe('METRICS_TOKEN', () => {
  it('is read from the environment and refused when short or with whitespace', () => {
    expect(appConfigFromEnv({}).metricsToken).toBeUndefined();
    expect(appConfigFromEnv({ METRICS_TOKEN: METRICS_TOKEN }).metricsToken).toBe(METRICS_TOKEN);
    expect(() => appConfigFromEnv({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
    expect(() => appConfigFromEnv({ METRICS_TOKEN: `${METRICS_TOKEN} x` })).toThrow(/METRICS_TOKEN/);
  });
});
