import { randomUUID } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { SqlEventStore, comparePositions, migrateEventStore, type GlobalPosition } from '@dealstream/event-store';
import { ensureReadModelSchema } from '@dealstream/read-models';
import { appendActivity } from '../../../../test/support/append-activity.js';
import { createPostgresTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { ProjectionThread } from './projection-thread.js';

async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 20) {
    if (waited > 30_000) throw new Error(`not within 30 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('ProjectionThread', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPostgresTestDatabase({ poolSize: 2 });
    await migrateEventStore(database.db);
    await ensureReadModelSchema(database.db);
  });
  afterAll(() => database.drop());

  it('reports commits and runs the reaction on this thread; a thread that dies is started again and goes on', async () => {
    const store = new SqlEventStore(database.db);
    const committed: GlobalPosition[] = [];
    let reactions = 0;
    const logged: Record<string, unknown>[] = [];
    const thread = new ProjectionThread({
      database: { kind: 'postgres', connectionString: database.url! },
      onCommitted: (position) => committed.push(position),
      afterBatch: () => Promise.resolve(reactions++),
      log: (entry) => logged.push(entry),
      restartDelayMs: 50,
    });
    const append = () => appendActivity(store);
    const reached = (target: GlobalPosition) => () => committed.some((p) => comparePositions(p, target) >= 0);
    await thread.start();
    try {
      const first = await append();
      await until(reached(first), 'the first event committed');
      await until(() => thread.status().role === 'active' && reactions > 0, 'active, and a reaction ran');
      // Its young generation is bounded (V8's default grew it to 32 MB of the API's RSS).
      expect((thread as unknown as { worker: Worker }).worker.resourceLimits?.maxYoungGenerationSizeMb).toBe(12);

      // A crash of the thread (not a database fault, which the runner retries itself).
      await (thread as unknown as { worker: Worker }).worker.terminate();
      expect(thread.status().role).toBe('reconnecting');
      expect(logged).toContainEqual(expect.objectContaining({ msg: 'projection thread ended; starting it again' }));
      const second = await append();
      await until(reached(second), 'an event appended after the crash committed');
      await until(() => thread.status().role === 'active', 'active again');
    } finally {
      await thread.stop();
    }
    expect(thread.status().role).toBe('stopped');
  }, 60_000);
  it('runs the reaction once at start and then only after batches whose event types call for it', async () => {
    const store = new SqlEventStore(database.db);
    const committed: GlobalPosition[] = [];
    const asked: string[][] = [];
    let reactions = 0;
    const thread = new ProjectionThread({
      database: { kind: 'postgres', connectionString: database.url! },
      onCommitted: (position) => committed.push(position),
      afterBatch: () => Promise.resolve(reactions++),
      afterBatchCalledFor: (eventTypes) => {
        asked.push([...eventTypes]);
        return eventTypes.includes('StageAdvanced');
      },
      minBatchIntervalMs: 50,
      log: () => {},
    });
    const append = async (type: string, data: Record<string, unknown>) =>
      (
        await store.appendToStream(
          `deal-${randomUUID()}`,
          [
            {
              eventId: randomUUID(),
              type,
              data,
              metadata: { actorId: 'test', occurredAt: new Date('2026-03-01T00:00:00Z') },
            },
          ],
          { expectedRevision: 'any' },
        )
      ).position;
    const activity = () => append('ActivityLogged', { activityId: randomUUID(), kind: 'call' });
    const reached = (target: GlobalPosition) => () => committed.some((p) => comparePositions(p, target) >= 0);
    await thread.start();
    try {
      await until(() => reactions === 1, 'the reaction run once at start');
      let last = await activity();
      for (let i = 0; i < 4; i++) last = await activity();
      await until(reached(last), 'the activities committed');
      expect(asked.length).toBeGreaterThan(0);
      expect(asked.flat().every((type) => type === 'ActivityLogged')).toBe(true);
      expect(reactions).toBe(1);

      const moved = await append('StageAdvanced', { fromStageId: randomUUID(), toStageId: randomUUID() });
      await until(reached(moved), 'the stage move committed');
      await until(() => reactions === 2, 'the reaction run after the batch that called for it');
      expect(asked.at(-1)).toContain('StageAdvanced');
    } finally {
      await thread.stop();
    }
  }, 60_000);
  it('told to hurry, its runner reads at once instead of waiting out its read spacing', async () => {
    const store = new SqlEventStore(database.db);
    const committed: GlobalPosition[] = [];
    const thread = new ProjectionThread({
      database: { kind: 'postgres', connectionString: database.url! },
      onCommitted: (position) => committed.push(position),
      minBatchIntervalMs: 120_000,
      log: () => {},
    });
    await thread.start(); // its first read is now: the next would be two minutes later
    try {
      const appended = await appendActivity(store);
      thread.hurry();
      await until(() => committed.some((p) => comparePositions(p, appended) >= 0), 'the event committed');
    } finally {
      await thread.stop();
    }
  }, 60_000);
});
