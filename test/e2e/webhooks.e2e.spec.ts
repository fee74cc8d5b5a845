import { randomUUID } from 'node:crypto';
import type { WebhookConfig } from '@dealstream/webhooks';
import { appConfigFromEnv } from '../../apps/api/src/config/app-config.js';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';
import { WebhookReceiver, eventually, verifyStandardWebhook } from '../support/webhook-receiver.js';

/*
 * Webhooks end to end: the real API on its own PostgreSQL database, its in-process delivery worker,
 * and a real HTTP receiver on 127.0.0.1 (allowed explicitly by WEBHOOK_ALLOWED_TARGETS here).
 * Signatures are checked with the Standard Webhooks reference library (standardwebhooks)
 * (test/support/webhook-receiver.ts), not with libs/webhooks.
 */

const STAGE = '11111111-1111-4111-8111-111111111111';

function webhookConfig(overrides: Partial<WebhookConfig>): { webhooks: WebhookConfig } {
  return {
    webhooks: {
      ...appConfigFromEnv({}).webhooks,
      allowedTargets: '127.0.0.1',
      pollMs: 100,
      leaseMs: 5000,
      ...overrides,
    },
  };
}

async function writer(api: ApiHarness) {
  const auth = `Bearer ${await api.token(['ops'], 'olga-ops')}`;
  const pipeline = await api
    .http()
    .post('/pipelines')
    .set('Authorization', auth)
    .send({ name: 'Hooks', currency: 'EUR', stages: [{ stageId: STAGE, name: 'Lead', probability: 10 }] })
    .expect(201);
  return {
    async deal(title: string): Promise<void> {
      await api
        .http()
        .post('/deals')
        .set('Authorization', auth)
        .send({ pipelineId: pipeline.body.id, title, account: 'ACME', amount: 100, currency: 'EUR' })
        .expect(201);
    },
  };
}

/**
 * The feed after `after` once it holds `count` deal events: the SQL store holds back events behind
 * the oldest transaction running anywhere on the (shared) server, so a read right after a write may
 * not show it yet — the deliveries wait for the same horizon.
 */
async function feedHolding(api: ApiHarness, after: string, count: number): Promise<string[]> {
  let ids: string[] = [];
  await eventually(`${count} deal events in the feed`, async () => {
    ids = await dealEventIdsAfter(api, after);
    return ids.length >= count;
  });
  expect(ids).toHaveLength(count);
  return ids;
}

/** Event ids of the `deal` category after a cursor, in feed order (what a subscription must receive). */
async function dealEventIdsAfter(api: ApiHarness, after: string): Promise<string[]> {
  const ids: string[] = [];
  const auth = `Bearer ${await api.token(['ops'])}`;
  for (let cursor = after; ;) {
    const page = await api
      .http()
      .get(`/events?category=deal&limit=1000&after=${cursor}`)
      .set('Authorization', auth)
      .expect(200);
    if (page.body.events.length === 0) return ids;
    ids.push(...page.body.events.map((event: { eventId: string }) => event.eventId));
    cursor = page.body.next;
  }
}

describe('webhooks: retries, signatures, pause and replay (receiver on 127.0.0.1)', () => {
  let api: ApiHarness;
  const receiver = new WebhookReceiver();
  let admin: string;
  let url: string;

  beforeAll(async () => {
    url = await receiver.start();
    api = await startApiOnPostgres({
      ...webhookConfig({ maxFailures: 4, backoffBaseMs: 300, backoffMaxMs: 1000 }),
      readiness: { ...appConfigFromEnv({}).readiness, maxWebhookBacklog: 1 },
    });
    admin = `Bearer ${await api.token(['admin'], 'ada-admin')}`;
  });
  afterAll(async () => {
    await api.close();
    await receiver.stop();
  });

  it('refuses private, loopback, link-local and non-https targets with 422 problem+json, writing nothing', async () => {
    const before = await api.eventCount();
    const cases: [string, string, string][] = [
      ['https://169.254.169.254/latest/meta-data', 'webhook-target-refused', 'address'],
      ['https://10.0.0.1/hook', 'webhook-target-refused', 'address'],
      ['https://192.168.0.10/hook', 'webhook-target-refused', 'address'],
      ['https://127.0.0.2/hook', 'webhook-target-refused', 'address'],
      ['https://[::1]/hook', 'webhook-target-refused', 'address'],
      ['https://[::ffff:169.254.169.254]/hook', 'webhook-target-refused', 'address'],
      ['https://[fe80::1]/hook', 'webhook-target-refused', 'address'],
      ['http://93.184.215.14/hook', 'webhook-target-refused', 'scheme'],
    ];
    for (const [target, code, reason] of cases) {
      const response = await api.http().post('/webhooks').set('Authorization', admin).send({ url: target });
      expect([target, response.status, response.body.code, response.body.details?.reason]).toEqual([
        target,
        422,
        code,
        reason,
      ]);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const invalid = await api.http().post('/webhooks').set('Authorization', admin).send({ url: 'ftp://example.com/x' });
    expect([invalid.status, invalid.body.code]).toEqual([422, 'invalid-webhook']);
    expect(await api.eventCount()).toBe(before);
  });

  it('delivers every matching event in feed order, signed; retries with the same webhook-id after growing, jittered pauses; lists the attempts', async () => {
    const deals = await writer(api);
    let failuresLeft = 3;
    receiver.answer = () => (failuresLeft-- > 0 ? 500 : 200);
    const registered = await api
      .http()
      .post('/webhooks')
      .set('Authorization', admin)
      .send({ url, categories: ['deal'], description: 'forecast sync' })
      .expect(201);
    const { id, secret, position } = registered.body as { id: string; secret: string; position: string };
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    for (let i = 0; i < 5; i++) await deals.deal(`Deal ${i}`);
    const expected = await feedHolding(api, position, 5);
    await eventually('five deliveries', () => receiver.deliveredEventIds().length >= 5);

    // Every request is signed for this secret (and none for another one).
    for (const request of receiver.received) expect(verifyStandardWebhook(secret, request)).toBe(true);
    expect(verifyStandardWebhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, receiver.received[0])).toBe(false);
    // The first event: three 500s and a success, one webhook-id, pauses of at least half the backoff.
    const first = receiver.received.slice(0, 4);
    expect(first.map((r) => r.status)).toEqual([500, 500, 500, 200]);
    expect(new Set(first.map((r) => r.id)).size).toBe(1);
    const gaps = first.slice(1).map((r, i) => r.at - first[i].at);
    // backoff after n failures: min(1000, 300·2^(n−1)) → waited 150–300, 300–600, 500–1000 ms
    expect(gaps[0]).toBeGreaterThanOrEqual(150);
    expect(gaps[1]).toBeGreaterThanOrEqual(300);
    expect(gaps[2]).toBeGreaterThanOrEqual(500);
    // In feed order, each exactly once, a distinct webhook-id per event.
    expect(receiver.deliveredEventIds()).toEqual(expected);
    const ids = receiver.received.filter((r) => r.status === 200).map((r) => r.id);
    expect(new Set(ids).size).toBe(5);

    const attempts = await api.http().get(`/webhooks/${id}/attempts`).set('Authorization', admin).expect(200);
    const oldestFirst = [...attempts.body.attempts].reverse();
    expect(
      oldestFirst
        .slice(0, 4)
        .map((a: { attempt: number; outcome: string; status: number; webhookId: string }) => [
          a.attempt,
          a.outcome,
          a.status,
          a.webhookId,
        ]),
    ).toEqual([
      [1, 'failed', 500, first[0].id],
      [2, 'failed', 500, first[0].id],
      [3, 'failed', 500, first[0].id],
      [4, 'delivered', 200, first[0].id],
    ]);
    expect(oldestFirst).toHaveLength(8);
    const shown = await api
      .http()
      .get(`/webhooks/${id}`)
      .set('Authorization', `Bearer ${await api.token(['ops'])}`)
      .expect(200);
    expect(shown.body).toMatchObject({
      status: 'active',
      categories: ['deal'],
      delivery: { failures: 0, delivered: 5, backlog: 0, checkpoint: expect.any(String) },
    });
    expect(JSON.stringify(shown.body)).not.toContain(secret.slice(6));
    await api.http().delete(`/webhooks/${id}`).set('Authorization', admin).expect(200);
  });

  it('pauses a subscription whose receiver keeps answering 500 after the bound, then resumes and replays it from a cursor', async () => {
    receiver.received.length = 0;
    receiver.answer = () => 200;
    const deals = await writer(api);
    const registered = await api
      .http()
      .post('/webhooks')
      .set('Authorization', admin)
      .send({ url, eventTypes: ['DealCreated'] })
      .expect(201);
    const { id, secret, position } = registered.body as { id: string; secret: string; position: string };
    await deals.deal('Before the outage');
    await eventually('the first delivery', () => receiver.deliveredEventIds().length === 1);
    receiver.answer = () => 500;
    await deals.deal('During the outage');
    await deals.deal('Still during the outage');
    await eventually('the pause', async () => {
      const shown = await api.http().get(`/webhooks/${id}`).set('Authorization', admin);
      return shown.body.status === 'paused';
    });
    const shown = await api.http().get(`/webhooks/${id}`).set('Authorization', admin).expect(200);
    expect(shown.body).toMatchObject({
      pausedReason: 'failing',
      delivery: { failures: 4, backlog: 2, lastError: 'HTTP 500' },
    });
    // Metrics and readiness agree: two events wait, above WEBHOOK_READY_MAX_BACKLOG = 1.
    const metrics = await api.http().get('/metrics').set('Authorization', admin).expect(200);
    expect(metrics.text).toMatch(/^dealstream_webhook_backlog_events 2$/m);
    expect(metrics.text).toMatch(/^dealstream_webhook_deliveries_total\{outcome="failed"\} (\d+)$/m);
    expect(metrics.text).toMatch(/^dealstream_webhook_deliveries_total\{outcome="delivered"\} (\d+)$/m);
    const notReady = await api.http().get('/health/ready').set('Authorization', admin).expect(503);
    expect(notReady.body.checks.webhooks).toMatchObject({ status: 'failed', backlog: 2, maxBacklog: 1 });
    const failing = receiver.received.filter((r) => r.status === 500);
    expect(failing).toHaveLength(4); // WEBHOOK_MAX_FAILURES = 4 here
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.received.filter((r) => r.status === 500)).toHaveLength(4); // nothing while paused
    const history = await api.http().get(`/webhooks/${id}/history`).set('Authorization', admin).expect(200);
    expect(history.body.events.map((e: { type: string; actorId: string }) => [e.type, e.actorId])).toEqual([
      ['WebhookSubscriptionRegistered', 'ada-admin'],
      ['WebhookSubscriptionPaused', 'system:webhook-delivery'],
    ]);

    // Receiver fixed; resume replaying from the registration: both events again, in order, same ids.
    receiver.answer = () => 200;
    const conflict = await api.http().post(`/webhooks/${id}/pause`).set('Authorization', admin).send({});
    expect([conflict.status, conflict.body.code]).toEqual([409, 'webhook-already-paused']);
    await api
      .http()
      .post(`/webhooks/${id}/resume`)
      .set('Authorization', admin)
      .send({ fromPosition: position })
      .expect(200);
    await eventually('the replay', () => receiver.deliveredEventIds().length === 4);
    const delivered = receiver.received.filter((r) => r.status === 200);
    const expected = await feedHolding(api, position, 3);
    expect(receiver.deliveredEventIds()).toEqual([expected[0], expected[0], expected[1], expected[2]]);
    expect(delivered[1].id).toBe(delivered[0].id); // a replay keeps the webhook-id
    expect(delivered[2].id).toBe(failing[0].id); // as does the retry after the pause
    for (const request of receiver.received) expect(verifyStandardWebhook(secret, request)).toBe(true);
    const ready = await api.http().get('/health/ready').set('Authorization', admin).expect(200);
    expect(ready.body.checks.webhooks).toMatchObject({ status: 'ok', backlog: 0 });
    const active = await api.http().get(`/webhooks/${id}`).set('Authorization', admin).expect(200);
    expect(active.body).toMatchObject({ status: 'active', pausedReason: null, delivery: { failures: 0, backlog: 0 } });
    const notPaused = await api.http().post(`/webhooks/${id}/resume`).set('Authorization', admin).send({});
    expect([notPaused.status, notPaused.body.code]).toEqual([409, 'webhook-not-paused']);
    const history2 = await api.http().get(`/webhooks/${id}/history`).set('Authorization', admin).expect(200);
    expect(history2.body.events.at(-1)).toMatchObject({
      type: 'WebhookSubscriptionResumed',
      actorId: 'ada-admin',
      data: { fromPosition: position },
    });
    await api.http().delete(`/webhooks/${id}`).set('Authorization', admin).expect(200);
  });

  it('carries a W3C traceparent from the request that wrote an event to its webhook', async () => {
    receiver.received.length = 0;
    receiver.answer = () => 200;
    const registered = await api
      .http()
      .post('/webhooks')
      .set('Authorization', admin)
      .send({ url, eventTypes: ['PipelineDefined'] })
      .expect(201);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const written = await api
      .http()
      .post('/pipelines')
      .set('Authorization', `Bearer ${await api.token(['ops'])}`)
      .set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`)
      .send({ name: 'Traced', currency: 'EUR', stages: [{ name: 'Lead', probability: 10 }] })
      .expect(201);
    expect(written.headers['x-correlation-id']).toBe(traceId);
    await eventually('the traced delivery', () => receiver.deliveredEventIds().length === 1);
    const [delivery] = receiver.received;
    expect(JSON.parse(delivery.body)).toMatchObject({ type: 'PipelineDefined', correlationId: traceId });
    expect(delivery.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(delivery.traceparent).not.toContain('00f067aa0ba902b7'); // a span of its own
    await api.http().delete(`/webhooks/${registered.body.id}`).set('Authorization', admin).expect(200);
  });

  it('rotates the secret: both secrets sign during the grace period, then the new one alone', async () => {
    receiver.received.length = 0;
    receiver.answer = () => 200;
    const deals = await writer(api);
    const registered = await api
      .http()
      .post('/webhooks')
      .set('Authorization', admin)
      .send({ url, eventTypes: ['DealCreated'] })
      .expect(201);
    const { id, secret: oldSecret } = registered.body as { id: string; secret: string };
    const rotated = await api
      .http()
      .post(`/webhooks/${id}/rotate-secret`)
      .set('Authorization', admin)
      .send({})
      .expect(200);
    const newSecret = rotated.body.secret as string;
    expect(rotated.body.events).toEqual(['WebhookSecretRotated']);
    expect(newSecret).not.toBe(oldSecret);
    await deals.deal('During the grace period');
    await eventually('the first delivery', () => receiver.received.length === 1);
    const [during] = receiver.received;
    expect(during.signature.split(' ')).toHaveLength(2);
    expect(verifyStandardWebhook(oldSecret, during)).toBe(true);
    expect(verifyStandardWebhook(newSecret, during)).toBe(true);
    // The grace period ends (moved into the past here instead of waiting 24 h).
    await api.database.db
      .updateTable('webhooks.secrets')
      .set({ retire_after: new Date(Date.now() - 1000) })
      .where('subscription_id', '=', id)
      .where('retire_after', 'is not', null)
      .execute();
    await deals.deal('After the grace period');
    await eventually('the second delivery', () => receiver.received.length === 2);
    const after = receiver.received[1];
    expect(after.signature.split(' ')).toHaveLength(1);
    expect(verifyStandardWebhook(newSecret, after)).toBe(true);
    expect(verifyStandardWebhook(oldSecret, after)).toBe(false);
    const shown = await api.http().get(`/webhooks/${id}`).set('Authorization', admin).expect(200);
    expect(shown.body.secretFingerprint).not.toBe(
      (await api.http().get(`/webhooks/${id}/history`).set('Authorization', admin)).body.events[0].data
        .secretFingerprint,
    );
    await api.http().delete(`/webhooks/${id}`).set('Authorization', admin).expect(200);
  });

  it('changes a subscription in place: the next deliveries go to the new URL; the change is in its history', async () => {
    const first = new WebhookReceiver();
    const second = new WebhookReceiver();
    const [firstUrl, secondUrl] = [await first.start(), await second.start()];
    try {
      const registered = await api
        .http()
        .post('/webhooks')
        .set('Authorization', admin)
        .send({ url: firstUrl, categories: ['deal'] })
        .expect(201);
      const id = registered.body.id as string;

      const empty = await api.http().patch(`/webhooks/${id}`).set('Authorization', admin).send({});
      expect([empty.status, empty.body.code]).toEqual([400, 'empty-patch']);
      const before = await api.eventCount();
      const refused = await api
        .http()
        .patch(`/webhooks/${id}`)
        .set('Authorization', admin)
        .send({ url: 'https://10.0.0.1/hook' });
      expect([refused.status, refused.body.code]).toEqual([422, 'webhook-target-refused']);
      expect(await api.eventCount()).toBe(before);

      const changed = await api
        .http()
        .patch(`/webhooks/${id}`)
        .set('Authorization', admin)
        .send({ url: secondUrl, description: 'moved' })
        .expect(200);
      expect(changed.body.revision).toBe('1');
      // The same change again records nothing.
      const again = await api
        .http()
        .patch(`/webhooks/${id}`)
        .set('Authorization', admin)
        .send({ url: secondUrl })
        .expect(200);
      expect(again.body.revision).toBe('1');

      await (await writer(api)).deal('After the move');
      await eventually('a delivery to the new URL', () => second.received.length > 0);
      expect(first.received).toEqual([]);
      expect((JSON.parse(second.received[0].body) as { type: string }).type).toBe('DealCreated');

      const shown = await api.http().get(`/webhooks/${id}`).set('Authorization', admin).expect(200);
      expect([shown.body.url, shown.body.description, shown.body.categories]).toEqual([secondUrl, 'moved', ['deal']]);
      const history = await api.http().get(`/webhooks/${id}/history`).set('Authorization', admin).expect(200);
      expect(
        history.body.events.map((event: { type: string; data: unknown; actorId: string }) => [
          event.type,
          event.type === 'WebhookSubscriptionChanged' ? event.data : undefined,
          event.actorId,
        ]),
      ).toEqual([
        ['WebhookSubscriptionRegistered', undefined, 'ada-admin'],
        ['WebhookSubscriptionChanged', { url: secondUrl, description: 'moved' }, 'ada-admin'],
      ]);
    } finally {
      await first.stop();
      await second.stop();
    }
  });

  it('answers 404 for an unknown subscription and 400 for a malformed cursor', async () => {
    const unknown = randomUUID();
    const missing = await api.http().get(`/webhooks/${unknown}`).set('Authorization', admin);
    expect([missing.status, missing.body.code]).toEqual([404, 'webhook-not-found']);
    const resume = await api
      .http()
      .post(`/webhooks/${unknown}/resume`)
      .set('Authorization', admin)
      .send({ fromPosition: 'x' });
    expect([resume.status, resume.body.code]).toEqual([400, 'validation-failed']);
  });
});

describe('webhooks: receiver down for 30 s during writes, the API restarted meanwhile', () => {
  let api: ApiHarness;
  const receiver = new WebhookReceiver();
  let target: string;

  beforeAll(async () => {
    target = await receiver.start();
    api = await startApiOnPostgres(webhookConfig({ maxFailures: 100, backoffBaseMs: 200, backoffMaxMs: 2000 }));
  });
  afterAll(async () => {
    await api.close();
    await receiver.stop();
  });

  it('delivers everything once it is back: in feed order (so in order per stream), none missing, none twice', async () => {
    const admin = `Bearer ${await api.token(['admin'])}`;
    const registered = await api
      .http()
      .post('/webhooks')
      .set('Authorization', admin)
      .send({ url: target, categories: ['deal'] })
      .expect(201);
    const { position } = registered.body as { position: string };
    let deals = await writer(api);
    await deals.deal('While up');
    await eventually('the first delivery', () => receiver.deliveredEventIds().length === 1);

    await receiver.stop();
    const downAt = Date.now();
    const write = async (until: number) => {
      for (let i = 0; Date.now() < until; i++) await Promise.all([0, 1, 2].map((w) => deals.deal(`Down ${w}-${i}`)));
    };
    await write(downAt + 12_000);
    await api.restart(); // a clean stop: the worker finishes and records what is in flight
    deals = await writer(api);
    await write(downAt + 28_000);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, downAt + 30_000 - Date.now())));
    expect(receiver.received).toHaveLength(1); // nothing got through while down
    await receiver.start();

    const expected = await dealEventIdsAfter(api, position);
    expect(expected.length).toBeGreaterThan(30);
    await eventually('every event', () => receiver.deliveredEventIds().length >= expected.length, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.deliveredEventIds()).toEqual(expected);
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(receiver.received.length);
  });
});
