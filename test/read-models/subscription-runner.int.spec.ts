import { randomUUID } from 'node:crypto';
import {
  SqlEventStore,
  START,
  comparePositions,
  migrateEventStore,
  type EventSubscription,
  type EventSubscriptionHandlers,
  type GlobalPosition,
  type RecordedEvent,
  type SubscribableEventStore,
} from '@dealstream/event-store';
import {
  LIVE_SCHEMA,
  ProjectionRunner,
  compareReadModels,
  createReadModelSchema,
  ensureReadModelSchema,
  projectBatch,
  readCheckpoint,
} from '@dealstream/read-models';
import { createPostgresTestDatabase, type TestDatabase } from '../support/test-database.js';
import { writeVariedHistory } from '../support/history-generator.js';
import { readAllWritten } from '../support/read-all-written.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The real SQL store given a catch-up subscription (polling readAll underneath) with faults to
 * order: the subscription breaks after N deliveries, or goes silent without an error — what the
 * EventStoreDB client does against a flaky or wedged server. No EventStoreDB server can run here,
 * so the supervisor's behaviour is proven on this stand-in over real PostgreSQL.
 */
class FaultySubscribableStore extends SqlEventStore implements SubscribableEventStore {
  readonly subscriptions: { from: GlobalPosition; fault: string }[] = [];
  faults: ('error-after-40' | 'silent-after-40' | 'none')[] = [];

  subscribeToAll(after: GlobalPosition, handlers: EventSubscriptionHandlers): EventSubscription {
    const fault = this.faults.shift() ?? 'none';
    this.subscriptions.push({ from: after, fault });
    let open = true;
    let delivered = 0;
    void (async () => {
      let cursor = after;
      while (open) {
        const batch = await this.readAll({ after: cursor, limit: 7 });
        for (const event of batch.events) {
          if (!open) return;
          if (fault !== 'none' && delivered === 40) {
            if (fault === 'error-after-40') {
              open = false;
              handlers.onError(new Error('connection reset'));
            }
            return; // silent: stop delivering, say nothing
          }
          handlers.onEvent(event);
          delivered++;
          cursor = event.position;
        }
        await pause(batch.events.length ? 0 : 20);
      }
    })();
    return { close: async () => void (open = false), pause: () => undefined, resume: () => undefined };
  }
}

describe('projection runner on a catch-up subscription, supervised (PostgreSQL)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    await migrateEventStore(database.db);
    await ensureReadModelSchema(database.db);
  });
  afterAll(() => database.drop());

  it('resubscribes from the checkpoint after an error and after a silence, and ends equal to a rebuild', async () => {
    const store = new FaultySubscribableStore(database.db);
    store.faults = ['error-after-40', 'error-after-40', 'silent-after-40', 'none'];
    const { events: written } = await writeVariedHistory(store, 60);
    // A slow batch is not a silence (the probe looks past what was delivered, not past the checkpoint:
    // subscription-supervisor.unit.spec.ts); 1.5 s keeps the silent subscription's restart quick.
    const runner = new ProjectionRunner({
      database,
      store,
      batchSize: 15,
      pollIntervalMs: 30,
      subscription: { silenceMs: 1500, initialBackoffMs: 20, maxBackoffMs: 200 },
    });
    await runner.start();
    const deadline = Date.now() + 60_000;
    while ((await readCheckpoint(database.db, LIVE_SCHEMA)).eventsApplied < written && Date.now() < deadline)
      await pause(20);
    const status = runner.status();
    await runner.stop();

    expect(await readCheckpoint(database.db, LIVE_SCHEMA).then((c) => c.eventsApplied)).toBe(written);
    expect(status.subscription).toMatchObject({ state: 'live', restarts: 3 });
    expect(status.subscription!.lastError).toMatch(/silent for 1500 ms/);
    expect(store.subscriptions.map((s) => s.fault)).toEqual([
      'error-after-40',
      'error-after-40',
      'silent-after-40',
      'none',
    ]);
    // every resubscription started from a committed checkpoint, never from scratch or ahead of it: the
    // starts never go back, and the last is past the beginning (on a loaded machine a fault can come
    // before the runner committed anything of a subscription, so two starts may be equal)
    const starts = store.subscriptions.map((s) => s.from);
    expect(starts[0]).toEqual(START);
    for (let i = 1; i < starts.length; i++)
      expect(comparePositions(starts[i], starts[i - 1])).toBeGreaterThanOrEqual(0);
    expect(comparePositions(starts.at(-1)!, START)).toBeGreaterThan(0);

    const all: RecordedEvent[] = await readAllWritten(store, written);
    const fresh = `fresh_${randomUUID().slice(0, 8)}`;
    await createReadModelSchema(database.db, fresh);
    await database.db.transaction().execute((trx) => projectBatch(trx, fresh, all));
    expect((await compareReadModels(database.db, LIVE_SCHEMA, fresh)).equal).toBe(true);
  }, 120_000);
});
