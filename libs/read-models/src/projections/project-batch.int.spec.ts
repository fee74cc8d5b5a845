import { randomUUID } from 'node:crypto';
import { SqlEventStore, migrateEventStore, type RecordedEvent } from '@dealstream/event-store';
import type { DealCommand } from '@dealstream/deals-domain';
import { FixtureWriter } from '../../../../test/support/fixture-writer.js';
import { createPostgresTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { compareReadModels } from '../rebuild/parity.js';
import { createReadModelSchema } from '../schema/read-model.schema.js';
import { carriedRows, prepareBatch, projectBatch, writeBatch, type PreparedBatch } from './project-batch.js';

/*
 * The rebuild's pipeline (rebuild.ts) prepares batch N+1 before batch N is written, from the rows N
 * left in memory. Here that order is forced, batch after batch: N+1 is always prepared while N is not
 * yet in the database — so a row taken from the database instead of from N would be N−1's, and the
 * tables would differ from those written one batch at a time.
 */
describe('prepareBatch from the rows of the batch before, written after it', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    await migrateEventStore(database.db);
  });
  afterAll(() => database.drop());

  it('writes exactly what projectBatch writes batch by batch', async () => {
    const store = new SqlEventStore(database.db);
    const writer = new FixtureWriter(store);
    const stages = [randomUUID(), randomUUID(), randomUUID()];
    const pipelineId = randomUUID();
    await writer.pipeline(pipelineId, new Date('2026-01-01T00:00:00Z'), () => [
      {
        type: 'DefinePipeline',
        data: {
          pipelineId,
          name: 'Carried',
          currency: 'EUR',
          stages: stages.map((stageId, i) => ({ stageId, name: `S${i}`, probability: 20 + 30 * i })),
        },
      },
    ]);
    type Pipeline = Parameters<Parameters<FixtureWriter['deal']>[2]>[0];
    const deals = [randomUUID(), randomUUID(), randomUUID()];
    const day = (n: number) => new Date(Date.UTC(2026, 1, n, 9));
    const rounds: ((dealId: string, i: number) => (pipeline: Pipeline) => DealCommand[])[] = [
      (dealId, i) => (pipeline) => [
        {
          type: 'CreateDeal',
          data: {
            dealId,
            pipeline,
            title: `Deal ${i}`,
            account: 'Acme',
            amount: 1000 * (i + 1),
            currency: 'EUR',
            ownerId: 'o1',
          },
        },
      ],
      () => (pipeline) => [{ type: 'MoveDealToStage', data: { toStageId: stages[1], pipeline } }],
      (_, i) => () => [{ type: 'ChangeDealValue', data: { amount: 1500 * (i + 1), currency: 'EUR' } }],
      () => () => [{ type: 'ReassignDealOwner', data: { ownerId: 'o2' } }],
      () => (pipeline) => [{ type: 'MoveDealToStage', data: { toStageId: stages[2], pipeline } }],
      () => () => [{ type: 'LoseDeal', data: { reason: 'price' } }],
      () => (pipeline) => [{ type: 'ReopenDeal', data: { pipeline, toStageId: stages[0] } }],
      () => (pipeline) => [{ type: 'MoveDealToStage', data: { toStageId: stages[1], pipeline } }],
      () => () => [{ type: 'WinDeal', data: {} }],
    ];
    // Round by round across the three deals: every batch of two holds the deal the batch before touched.
    for (const [r, round] of rounds.entries())
      for (const [i, dealId] of deals.entries()) await writer.deal(dealId, day(r + 1), round(dealId, i), pipelineId);
    const events: RecordedEvent[] = (await store.readAll({ limit: 1000 })).events;
    expect(events).toHaveLength(1 + rounds.length * deals.length);
    const batches = Array.from({ length: Math.ceil(events.length / 2) }, (_, i) => events.slice(2 * i, 2 * i + 2));

    await createReadModelSchema(database.db, 'one_by_one');
    for (const batch of batches)
      await database.db.transaction().execute((trx) => projectBatch(trx, 'one_by_one', batch));

    await createReadModelSchema(database.db, 'carried');
    let prepared: PreparedBatch | undefined;
    for (const batch of batches) {
      // Yielding after every event, as the rebuild does after every slice: the loop may run in between.
      const next = await prepareBatch(database.db, 'carried', batch, prepared && carriedRows(prepared), 1);
      if (prepared) {
        const written = prepared;
        await database.db.transaction().execute((trx) => writeBatch(trx, 'carried', written));
      }
      prepared = next;
    }
    const last = prepared!;
    await database.db.transaction().execute((trx) => writeBatch(trx, 'carried', last));

    const parity = await compareReadModels(database.db, 'one_by_one', 'carried');
    expect(parity.tables.filter((t) => t.onlyInA + t.onlyInB > 0)).toEqual([]);
    expect(parity.equal).toBe(true);
    expect(parity.tables.find((t) => t.table === 'stage_intervals')!.rows).toBeGreaterThan(10);
  }, 60_000);
});
