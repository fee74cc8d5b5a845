import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { SqlEventStore, encodePosition, migrateEventStore } from '@dealstream/event-store';
import { migrateWebhookSchema, webhookIdOf } from '@dealstream/webhooks';
import { createPostgresTestDatabase, type TestDatabase } from '../support/test-database.js';
import { WebhookReceiver, eventually } from '../support/webhook-receiver.js';
import { registerTestSubscription } from '../support/webhook-subscription.js';

const PROJECTOR = 'dist/apps/projector/src/main.js';
const EVENTS = 24;
/** The receivals (1-based, counting every POST) during which the test kills the worker with SIGKILL. */
const KILL_AT = new Set([3, 11, 19]);

/**
 * At-least-once webhook delivery across real crashes: the projector worker (which delivers webhooks
 * unless WEBHOOK_DELIVERY=off) is killed with SIGKILL while a POST is in flight — after the receiver
 * has the request, before the worker could record it. A new worker takes the subscription over when
 * the dead one's lease runs out and sends that event again with the same webhook-id; no event is
 * missing, the order is the global order, and the record holds each event once.
 */
describe('webhook delivery across SIGKILL (real projector processes)', () => {
  let database: TestDatabase;
  let store: SqlEventStore;
  const receiver = new WebhookReceiver();
  const children: ChildProcess[] = [];
  let current: ChildProcess | undefined;
  let receivals = 0;

  beforeAll(async () => {
    if (!existsSync(PROJECTOR)) throw new Error(`${PROJECTOR} missing: npm test builds it (npm run build)`);
    database = await createPostgresTestDatabase({ poolSize: 4 });
    await migrateEventStore(database.db);
    await migrateWebhookSchema(database.db);
    store = new SqlEventStore(database.db);
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await receiver.stop();
    await database.drop();
  });

  const startWorker = () => {
    const child = spawn(process.execPath, [PROJECTOR], {
      env: {
        ...process.env,
        DATABASE_URL: database.url!,
        WEBHOOK_ALLOWED_TARGETS: '127.0.0.1',
        WEBHOOK_POLL_MS: '50',
        WEBHOOK_TIMEOUT_MS: '2000',
        WEBHOOK_LEASE_MS: '5100',
        WEBHOOK_BACKOFF_BASE_MS: '100',
        WEBHOOK_BACKOFF_MAX_MS: '200',
      },
      stdio: 'ignore',
    });
    children.push(child);
    current = child;
  };

  it('sends the event in flight again with the same webhook-id after each kill, and every event in order', async () => {
    const url = await receiver.start();
    const subscriptionId = await registerTestSubscription(database.db, store, url, ['Pinged']);
    const eventIds: string[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const eventId = randomUUID();
      await store.appendToStream(
        `ping-${randomUUID()}`,
        [{ eventId, type: 'Pinged', data: { i }, metadata: { actorId: 'test', occurredAt: new Date() } }],
        { expectedRevision: 'no_stream' },
      );
      eventIds.push(eventId);
    }

    const killed: string[] = [];
    receiver.answer = ({ body }) => {
      receivals += 1;
      if (KILL_AT.has(receivals)) {
        // The request is here, its answer never reaches the worker: a crash between the POST and its record.
        current!.kill('SIGKILL');
        killed.push((JSON.parse(body) as { eventId: string }).eventId);
        current = undefined;
      }
      return 200;
    };
    startWorker();
    await eventually(
      'every event delivered across the kills',
      () => {
        if (!current) startWorker();
        return new Set(receiver.deliveredEventIds()).size === EVENTS;
      },
      90_000,
    );

    expect(killed).toHaveLength(KILL_AT.size);
    // Each killed POST comes again right after itself (same event, same webhook-id); nothing else twice.
    const expected = eventIds.flatMap((id) => (killed.includes(id) ? [id, id] : [id]));
    expect(receiver.deliveredEventIds()).toEqual(expected);
    expect(receiver.received.map((r) => r.id)).toEqual(expected.map((id) => webhookIdOf(subscriptionId, id)));

    // The record holds every event once (a killed POST left no row), and the checkpoint is at the last one.
    const attempts = await database.db
      .selectFrom('webhooks.attempts')
      .select(['event_id', 'outcome'])
      .where('subscription_id', '=', subscriptionId)
      .orderBy('attempt_id')
      .execute();
    expect(attempts).toEqual(eventIds.map((event_id) => ({ event_id, outcome: 'delivered' })));
    const checkpoint = await database.db
      .selectFrom('webhooks.checkpoints')
      .select(['position', 'delivered'])
      .where('subscription_id', '=', subscriptionId)
      .executeTakeFirstOrThrow();
    const all = await store.readAll({ limit: 1000, filter: { eventTypes: ['Pinged'] } });
    expect(checkpoint.position).toBe(encodePosition(all.events.at(-1)!.position));
    expect(Number(checkpoint.delivered)).toBe(EVENTS);
  }, 120_000);
});
