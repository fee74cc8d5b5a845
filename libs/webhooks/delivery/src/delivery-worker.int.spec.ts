import { randomUUID } from 'node:crypto';
import { SqlEventStore, encodePosition, migrateEventStore } from '@dealstream/event-store';
import { webhookStreamName } from '@dealstream/webhooks-domain';
import { createPostgresTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { WebhookReceiver, eventually } from '../../../../test/support/webhook-receiver.js';
import { registerTestSubscription } from '../../../../test/support/webhook-subscription.js';
import { WebhookDeliveryWorker, backoffMs, webhookIdOf, type DeliveryWorkerOptions } from './delivery-worker.js';
import { TargetPolicy } from './target-policy.js';
import { migrateWebhookSchema } from './webhook.migrations.js';

/*
 * The delivery worker on real PostgreSQL with a real receiver on 127.0.0.1: a POST whose record never
 * commits (a crash between the two) is sent again with the same webhook-id, and a target that the
 * policy refuses at delivery time is never called.
 */

describe('webhook delivery worker', () => {
  let database: TestDatabase;
  let store: SqlEventStore;
  const receiver = new WebhookReceiver();
  let url: string;
  const workers: WebhookDeliveryWorker[] = [];

  beforeAll(async () => {
    database = await createPostgresTestDatabase({ poolSize: 6 });
    await migrateEventStore(database.db);
    await migrateWebhookSchema(database.db);
    store = new SqlEventStore(database.db);
    url = await receiver.start();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    receiver.received.length = 0;
  });
  afterAll(async () => {
    await receiver.stop();
    await database.drop();
  });

  function worker(overrides: Partial<DeliveryWorkerOptions> = {}): WebhookDeliveryWorker {
    const created = new WebhookDeliveryWorker({
      db: database.db,
      store,
      policy: new TargetPolicy('127.0.0.1'),
      maxFailures: 10,
      backoffBaseMs: 100,
      backoffMaxMs: 200,
      timeoutMs: 2000,
      pollMs: 50,
      leaseMs: 2000,
      ...overrides,
    });
    workers.push(created);
    created.start();
    return created;
  }

  const subscribe = (target: string) => registerTestSubscription(database.db, store, target, ['Pinged']);

  async function ping(): Promise<string> {
    const eventId = randomUUID();
    await store.appendToStream(
      `ping-${randomUUID()}`,
      [{ eventId, type: 'Pinged', data: {}, metadata: { actorId: 'test', occurredAt: new Date() } }],
      { expectedRevision: 'no_stream' },
    );
    return eventId;
  }

  it('sends a POST whose record did not commit again, with the same webhook-id, and then moves on', async () => {
    const id = await subscribe(url);
    const [first, second] = [await ping(), await ping()];
    let crashes = 1;
    const crashing = worker({
      beforeRecord: async () => {
        if (crashes-- > 0) throw new Error('crash between the POST and its record');
      },
    });
    await eventually('two deliveries', () => receiver.deliveredEventIds().length >= 3);
    await crashing.stop();
    expect(receiver.deliveredEventIds()).toEqual([first, first, second]);
    expect(receiver.received.map((r) => r.id)).toEqual([
      webhookIdOf(id, first),
      webhookIdOf(id, first),
      webhookIdOf(id, second),
    ]);
    const attempts = await database.db
      .selectFrom('webhooks.attempts')
      .select(['event_id', 'attempt', 'outcome'])
      .where('subscription_id', '=', id)
      .orderBy('attempt_id')
      .execute();
    // The lost POST left no record: the checkpoint and the attempt rows commit together.
    expect(attempts).toEqual([
      { event_id: first, attempt: 1, outcome: 'delivered' },
      { event_id: second, attempt: 1, outcome: 'delivered' },
    ]);

    // A new worker (a restarted process) finds the checkpoint after `second`: nothing is sent twice.
    worker();
    const third = await ping();
    await eventually('the third delivery', () => receiver.deliveredEventIds().length === 4);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.deliveredEventIds()).toEqual([first, first, second, third]);
    const checkpoint = await database.db
      .selectFrom('webhooks.checkpoints')
      .select(['position', 'delivered'])
      .where('subscription_id', '=', id)
      .executeTakeFirstOrThrow();
    const events = await store.readAll({ limit: 1000 });
    expect(checkpoint.position).toBe(encodePosition(events.events.at(-1)!.position));
    expect(Number(checkpoint.delivered)).toBe(3);
  });

  it('refuses at delivery time a target the policy refuses now (DNS or configuration changed), without calling it', async () => {
    const id = await subscribe(url);
    await ping();
    worker({ policy: new TargetPolicy(''), maxFailures: 2 });
    await eventually('the pause after two refusals', async () => {
      const events = await store.readStream(webhookStreamName(id));
      return events.at(-1)?.type === 'WebhookSubscriptionPaused';
    });
    expect(receiver.received).toEqual([]);
    const attempts = await database.db
      .selectFrom('webhooks.attempts')
      .select(['attempt', 'outcome'])
      .where('subscription_id', '=', id)
      .orderBy('attempt_id')
      .execute();
    expect(attempts).toEqual([
      { attempt: 1, outcome: 'refused-target' },
      { attempt: 2, outcome: 'refused-target' },
    ]);
  });

  it('purges attempt rows older than the retention, keeps the others', async () => {
    const id = randomUUID();
    const row = {
      subscription_id: id,
      webhook_id: randomUUID(),
      event_id: randomUUID(),
      stream_id: 'ping-1',
      event_type: 'Pinged',
      position: encodePosition({ major: 1n, minor: 1n }),
      attempt: 1,
      outcome: 'delivered' as const,
      status: 200,
      error: null,
      duration_ms: 3,
      response_excerpt: null,
    };
    await database.db
      .insertInto('webhooks.attempts')
      .values([
        { ...row, attempted_at: new Date(Date.now() - 8 * 86_400_000) },
        { ...row, attempted_at: new Date(Date.now() - 6 * 86_400_000) },
      ])
      .execute();
    const purging = new WebhookDeliveryWorker({
      db: database.db,
      store,
      policy: new TargetPolicy(''),
      maxFailures: 1,
      backoffBaseMs: 1,
      backoffMaxMs: 1,
      timeoutMs: 1,
      pollMs: 1,
      leaseMs: 1,
      attemptRetentionMs: 7 * 86_400_000,
    });
    expect(await purging.purgeAttempts()).toBe(1);
    const left = await database.db
      .selectFrom('webhooks.attempts')
      .select('attempted_at')
      .where('subscription_id', '=', id)
      .execute();
    expect(left).toHaveLength(1);
  });

  it('backs off exponentially with equal jitter, capped', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, 100, 1000, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, 100, 1000, () => 1))).toEqual([100, 200, 400, 800, 1000]);
  });
});
