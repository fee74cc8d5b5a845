import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SeenWebhooks, readFeed, verifyWebhook, type FeedEvent } from '../../docs/examples/consumer.js';
import { appConfigFromEnv } from '../../apps/api/src/config/app-config.js';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';
import { eventually } from '../support/webhook-receiver.js';

/*
 * The consumer example of docs/integration.md (docs/examples/consumer.ts), run against the real API:
 * the feed read through the typed client and a webhook receiver built with its verifier and dedupe
 * receive the same events in the same order; a forged request is refused.
 */

describe('docs/integration.md consumer example', () => {
  let api: ApiHarness;
  let receiver: http.Server;
  const received: FeedEvent[] = [];
  const refused: number[] = [];
  let secret = '';
  const seen = new SeenWebhooks();
  let replays = 0;

  beforeAll(async () => {
    receiver = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const event = verifyWebhook(secret, request.headers, Buffer.concat(chunks).toString('utf8'));
        if (!event) {
          refused.push(Date.now());
          response.writeHead(401).end();
          return;
        }
        if (seen.first(String(request.headers['webhook-id']))) received.push(event);
        else replays++;
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    api = await startApiOnPostgres({
      webhooks: { ...appConfigFromEnv({}).webhooks, allowedTargets: '127.0.0.1', pollMs: 100 },
    });
  });
  afterAll(async () => {
    await api.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('feed and webhooks deliver the same events in the same order; repeats and forgeries are caught', async () => {
    const baseUrl = await api.baseUrl();
    const admin = await api.token(['admin']);
    const port = (receiver.address() as AddressInfo).port;
    const registered = await api
      .http()
      .post('/webhooks')
      .set('Authorization', `Bearer ${admin}`)
      .send({ url: `http://127.0.0.1:${port}/hooks`, categories: ['pipeline'] })
      .expect(201);
    secret = registered.body.secret;
    for (let i = 0; i < 3; i++)
      await api
        .http()
        .post('/pipelines')
        .set('Authorization', `Bearer ${admin}`)
        .send({ name: `P${i}`, currency: 'EUR', stages: [{ name: 'Lead', probability: 10 }] })
        .expect(201);

    const pulled: FeedEvent[] = [];
    await eventually('three pipelines in the feed', async () => {
      pulled.length = 0;
      await readFeed(
        { baseUrl, token: admin, after: registered.body.position, category: 'pipeline' },
        async (event) => {
          pulled.push(event);
        },
      );
      return pulled.length === 3;
    });
    await eventually('three webhooks', () => received.length === 3);
    expect(received.map((e) => e.eventId)).toEqual(pulled.map((e) => e.eventId));
    expect(received.map((e) => e.type)).toEqual(['PipelineDefined', 'PipelineDefined', 'PipelineDefined']);

    // A replay from the registration: every event again, recognised by its webhook-id.
    await api
      .http()
      .post(`/webhooks/${registered.body.id}/resume`)
      .set('Authorization', `Bearer ${admin}`)
      .send({ fromPosition: registered.body.position })
      .expect(200);
    await eventually('the replayed three', () => replays === 3);
    expect(received).toHaveLength(3);

    // A forged request (another secret) is refused by the verifier.
    const body = JSON.stringify(pulled[0]);
    const forged = await fetch(`http://127.0.0.1:${port}/hooks`, {
      method: 'POST',
      headers: {
        'webhook-id': 'x',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      },
      body,
    });
    expect(forged.status).toBe(401);
    expect(refused).toHaveLength(1);
  });
});
