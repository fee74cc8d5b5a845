import { randomUUID } from 'node:crypto';
import { SqlEventStore, migrateEventStore, type EventStore } from '@dealstream/event-store';
import { dealStreamName, type DealCommand } from '@dealstream/deals-domain';
import {
  LIVE_SCHEMA,
  ProjectionRunner,
  ensureReadModelSchema,
  listParkedStreams,
  rebuildReadModels,
  waitForCheckpoint,
} from '@dealstream/read-models';
import { writeSyntheticHistory } from '@dealstream/seeding';
import { FixtureWriter } from '../support/fixture-writer.js';
import { appendPoison } from '../support/poison-event.js';
import { createPGliteTestDatabase, createPostgresTestDatabase, type TestDatabase } from '../support/test-database.js';

/*
 * The rebuild prepares batch N+1 (its rows loaded, its events applied in memory) while batch N is
 * written, starting from the rows batch N left behind (rebuild.ts, Pipelined). With tiny batches every
 * deal's events fall into many batches, so each one's rows pass from batch to batch in memory: the
 * rebuilt tables must equal the live runner's, which loads every batch's rows from the database.
 */

async function projectLive(database: TestDatabase, store: EventStore): Promise<void> {
  const runner = new ProjectionRunner({ database, store, batchSize: 500, pollIntervalMs: 20 });
  await runner.start();
  try {
    const head = await store.headPosition!();
    expect(await waitForCheckpoint(database.db, LIVE_SCHEMA, head, 60_000)).toBeDefined();
  } finally {
    await runner.stop();
  }
}

describe.each([
  ['PostgreSQL', createPostgresTestDatabase],
  ['PGlite', createPGliteTestDatabase],
])('a pipelined rebuild (%s)', (_name, create) => {
  let database: TestDatabase;
  let store: SqlEventStore;
  beforeEach(async () => {
    database = await create();
    await migrateEventStore(database.db);
    await ensureReadModelSchema(database.db);
    store = new SqlEventStore(database.db);
  });
  afterEach(() => database.drop());

  it('in batches of 7 equals the live tables built in batches of 500, every deal spread over many batches', async () => {
    const seeded = await writeSyntheticHistory(store, {
      seed: 11,
      deals: 30,
      months: 4,
      end: new Date('2026-06-01T00:00:00Z'),
      concurrency: 4,
    });
    expect(seeded.events).toBeGreaterThan(200);
    await projectLive(database, store);

    const progress: number[] = [];
    const rebuild = await rebuildReadModels({
      db: database.db,
      store,
      batchSize: 7,
      swap: false,
      onProgress: (applied) => progress.push(applied),
    });
    expect(rebuild.parity.tables.filter((t) => t.onlyInA + t.onlyInB > 0)).toEqual([]);
    expect(rebuild.parity.equal).toBe(true);
    expect(rebuild.applied).toBe(seeded.events);
    expect(rebuild.parked).toBe(0);
    // Progress counts committed events only: it never runs backwards and ends at the total.
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(seeded.events);
  }, 120_000);

  it('a poison event in the middle parks its stream; the batches written before and after it are all there once', async () => {
    const writer = new FixtureWriter(store);
    const stages = [randomUUID(), randomUUID(), randomUUID()];
    const pipelineId = randomUUID();
    await writer.pipeline(pipelineId, new Date('2026-01-01T00:00:00Z'), () => [
      {
        type: 'DefinePipeline',
        data: {
          pipelineId,
          name: 'Pipelined',
          currency: 'EUR',
          stages: stages.map((stageId, i) => ({ stageId, name: `S${i}`, probability: 20 + 30 * i })),
        },
      },
    ]);
    const at = new Date('2026-02-01T00:00:00Z');
    type Pipeline = Parameters<Parameters<FixtureWriter['deal']>[2]>[0];
    const create = (dealId: string, amount: number) => (pipeline: Pipeline) =>
      [
        {
          type: 'CreateDeal',
          data: { dealId, pipeline, title: `Deal ${amount}`, account: 'Acme', amount, currency: 'EUR', ownerId: 'o' },
        },
      ] as DealCommand[];
    const move = (toStageId: string) => (pipeline: Pipeline) =>
      [{ type: 'MoveDealToStage', data: { toStageId, pipeline } }] as DealCommand[];
    const deals = Array.from({ length: 40 }, () => randomUUID());
    let poisonId = '';
    for (const [i, dealId] of deals.entries()) {
      await writer.deal(dealId, at, create(dealId, 100 + i), pipelineId);
      if (i === 20) poisonId = await appendPoison(store, pipelineId, stages[0]);
    }
    // Each deal moves twice after the poison: its rows cross the batch that fails.
    for (const stageId of [stages[1], stages[2]])
      for (const dealId of deals) await writer.deal(dealId, at, move(stageId), pipelineId);
    await projectLive(database, store);
    expect((await listParkedStreams(database.db)).map((p) => p.streamId)).toEqual([dealStreamName(poisonId)]);

    const rebuild = await rebuildReadModels({ db: database.db, store, batchSize: 10, swap: false });
    expect(rebuild.parity.tables.filter((t) => t.onlyInA + t.onlyInB > 0)).toEqual([]);
    expect(rebuild.parity.equal).toBe(true);
    expect(rebuild.parked).toBe(1);
    expect(rebuild.applied).toBe(1 + 1 + 40 * 3); // every event passed: the pipeline's, the poison, 40 deals × 3
  }, 120_000);
});
