import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appConfigFromEnv } from '../../apps/api/src/config/app-config.js';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';
import { eventually } from '../support/webhook-receiver.js';

/*
 * Both scrapes of issue 17: the API's GET /metrics and the projector worker's own port
 * (PROJECTOR_METRICS_PORT), real processes on one PostgreSQL database. Two workers: A active, B in
 * standby. A is paused (SIGSTOP, holding the projection lock), writes go on: the lag rises on B's
 * scrape and on the API's; A continues (SIGCONT) and the lag falls back to 0.
 */

const PROJECTOR = 'dist/apps/projector/src/main.js';
const METRICS_TOKEN = 'projector-metrics-test-token-0123456789abcdef';

interface Worker {
  readonly child: ChildProcess;
  readonly port: Promise<number>;
}

function startProjector(url: string, name: string): Worker {
  const databaseUrl = new URL(url);
  databaseUrl.searchParams.set('application_name', `projector-${name}`);
  const child = spawn(process.execPath, [PROJECTOR], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl.toString(),
      PROJECTOR_METRICS_PORT: '0',
      PROJECTOR_METRICS_HOST: '127.0.0.1',
      METRICS_TOKEN,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = new Promise<number>((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /"metricsPort":(\d+)/.exec(buffer);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`projector ${name} exited (${code}) before listening`)));
  });
  return { child, port };
}

async function scrape(port: number, token = METRICS_TOKEN): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, text: await response.text() };
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('projector metrics: its own port, beside the API’s', () => {
  let api: ApiHarness;
  const workers: Worker[] = [];

  beforeAll(async () => {
    if (!existsSync(PROJECTOR)) throw new Error(`${PROJECTOR} missing: npm test builds it (npm run build)`);
    api = await startApiOnPostgres({
      projectionsInProcess: false,
      webhooks: { ...appConfigFromEnv({}).webhooks, deliveryInProcess: false },
    });
  });
  afterAll(async () => {
    for (const { child } of workers) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    await api.close();
  });

  it('exports batches, lag per projection and role; the lag rises while the active worker is paused and falls after', async () => {
    const ops = `Bearer ${await api.token(['ops'])}`;
    const write = async (n: number) => {
      for (let i = 0; i < n; i++)
        await api
          .http()
          .post('/pipelines')
          .set('Authorization', ops)
          .send({ name: `P${i}`, currency: 'EUR', stages: [{ name: 'Lead', probability: 10 }] })
          .expect(201);
    };
    await write(3);
    const a = startProjector(api.url, 'a');
    workers.push(a);
    const portA = await a.port;
    await eventually('worker A active and caught up', async () => {
      const { text } = await scrape(portA);
      return (
        value(text, 'dealstream_projector_runner_role{projection="read-models",role="active"}') === 1 &&
        value(text, 'dealstream_projection_lag_events{projection="read-models"}') === 0
      );
    });
    const first = (await scrape(portA)).text;
    for (const name of [
      'dealstream_projector_batch_duration_seconds_bucket',
      'dealstream_projector_batches_total',
      'dealstream_projector_events_applied_total',
      'dealstream_projection_lag_events',
      'dealstream_projection_lag_seconds',
      'dealstream_parked_streams',
      'dealstream_projector_runner_role',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ])
      expect([name, first.includes(`\n${name}`)]).toEqual([name, true]);
    // The worker delivers webhooks too (WEBHOOK_DELIVERY defaults to in-process): its counter is declared.
    expect(first).toContain('# TYPE dealstream_webhook_deliveries_total counter');
    expect(value(first, 'dealstream_projector_events_applied_total{projection="read-models"}')).toBe(3);
    expect(
      value(first, 'dealstream_projector_batches_total{projection="read-models",outcome="committed"}'),
    ).toBeGreaterThanOrEqual(1);
    expect((await scrape(portA, 'wrong-token')).status).toBe(401);

    const b = startProjector(api.url, 'b');
    workers.push(b);
    const portB = await b.port;
    await eventually('worker B in standby', async () => {
      const { text } = await scrape(portB);
      return value(text, 'dealstream_projector_runner_role{projection="read-models",role="standby"}') === 1;
    });

    a.child.kill('SIGSTOP'); // paused: it keeps the projection lock, so B stays in standby
    await write(4);
    await eventually('the lag on B’s scrape', async () => {
      const { text } = await scrape(portB);
      return value(text, 'dealstream_projection_lag_events{projection="read-models"}') === 4;
    });
    const paused = (await scrape(portB)).text;
    expect(value(paused, 'dealstream_projection_lag_seconds{projection="read-models"}')).toBeGreaterThan(0);
    const apiScrape = await api.http().get('/metrics').set('Authorization', ops).expect(200);
    expect(value(apiScrape.text, 'dealstream_projection_lag_events')).toBe(4);

    a.child.kill('SIGCONT');
    await eventually('the lag back to 0', async () => {
      const { text } = await scrape(portB);
      return value(text, 'dealstream_projection_lag_events{projection="read-models"}') === 0;
    });
    expect(
      value((await scrape(portA)).text, 'dealstream_projector_events_applied_total{projection="read-models"}'),
    ).toBe(7);
  }, 120_000);
});
