import { SqlEventStore, migrateEventStore } from '@dealstream/event-store';
import { createPostgresTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { FixtureWriter } from '../../../../test/support/fixture-writer.js';
import { readAllStored } from '../../../../test/support/read-all-written.js';
import { projectBatch } from '../projections/project-batch.js';
import { LIVE_SCHEMA, createReadModelSchema } from '../schema/read-model.schema.js';
import { board, type Board } from './board.query.js';

/*
 * The live board keeps the pipeline's definition between requests and checks it against the
 * pipeline's revision inside its own statement: a change to the pipeline (a rename, a probability, a
 * goal, a stage added, a stage removed) shows on the very next board, on the same connection pool.
 *
 * Stage A (probability 10, goal 5 days), one EUR 1,000 deal in it since day 1; the board at day 10.
 */
const P = '0b0b0000-0000-4000-8000-000000000001';
const A = '0b0b0000-0000-4000-8000-00000000000a';
const B = '0b0b0000-0000-4000-8000-00000000000b';
const D = '0b0b0000-0000-4000-8000-000000000101';
const day = (n: number) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

describe('the live board follows every change to its pipeline (PostgreSQL)', () => {
  let database: TestDatabase;
  let writer: FixtureWriter;
  let projected = 0;

  const project = async () => {
    const events = (await readAllStored(database.db, new SqlEventStore(database.db))).slice(projected);
    await database.db.transaction().execute((trx) => projectBatch(trx, LIVE_SCHEMA, events));
    projected += events.length;
  };
  const live = async (): Promise<Board> => {
    const answer = await board(database.db, LIVE_SCHEMA, P, {
      asOf: { axis: 'occurred' },
      now: day(10),
      filters: {},
      limit: 10,
    });
    if (!answer) throw new Error('no board');
    return answer;
  };
  const columns = (b: Board) =>
    b.stages.map((s) => ({
      stageId: s.stageId,
      name: s.name,
      probability: s.probability,
      maxDaysInStage: s.maxDaysInStage,
      count: s.count,
      stalledCount: s.stalledCount,
      weighted: s.totals.map((t) => t.weightedAmount),
    }));

  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    await migrateEventStore(database.db);
    writer = new FixtureWriter(new SqlEventStore(database.db));
    await writer.pipeline(P, day(0), () => [
      {
        type: 'DefinePipeline',
        data: {
          pipelineId: P,
          name: 'Cached',
          stages: [{ stageId: A, name: 'A', probability: 10, goal: { maxDaysInStage: 5 } }],
        },
      },
    ]);
    await writer.deal(
      D,
      day(1),
      (pipeline) => [
        {
          type: 'CreateDeal',
          data: {
            dealId: D,
            pipeline,
            stageId: A,
            title: 'D',
            account: 'Acme',
            amount: 1000,
            currency: 'EUR',
            ownerId: 'sam',
          },
        },
      ],
      P,
    );
    await createReadModelSchema(database.db, LIVE_SCHEMA);
    await project();
  });
  afterAll(() => database.drop());

  it('shows each change on the next board', async () => {
    const first = await live();
    expect(first.pipeline.revision).toBe(0);
    expect(columns(first)).toEqual([
      { stageId: A, name: 'A', probability: 10, maxDaysInStage: 5, count: 1, stalledCount: 1, weighted: [100] },
    ]);
    expect(await live()).toEqual(first); // asked again: the kept definition, the same board

    await writer.pipeline(P, day(2), () => [
      { type: 'RenameStage', data: { stageId: A, name: 'Qualify' } },
      { type: 'ChangeStageProbability', data: { stageId: A, probability: 40 } },
      { type: 'SetStageGoal', data: { stageId: A, goal: { maxDaysInStage: 30 } } },
      { type: 'AddStage', data: { stage: { stageId: B, name: 'B', probability: 60 } } },
    ]);
    await project();
    const second = await live();
    expect(second.pipeline.revision).toBe(4);
    expect(columns(second)).toEqual([
      { stageId: A, name: 'Qualify', probability: 40, maxDaysInStage: 30, count: 1, stalledCount: 0, weighted: [400] },
      { stageId: B, name: 'B', probability: 60, maxDaysInStage: null, count: 0, stalledCount: 0, weighted: [] },
    ]);

    // Stage A removed, its deal moved to B: the board shows B alone, holding the deal.
    await writer.pipeline(P, day(3), () => [{ type: 'RemoveStage', data: { stageId: A, moveOpenDealsTo: B } }]);
    await project();
    const third = await live();
    expect(third.pipeline.revision).toBe(5);
    expect(columns(third)).toEqual([
      { stageId: B, name: 'B', probability: 60, maxDaysInStage: null, count: 1, stalledCount: 0, weighted: [600] },
    ]);
    expect(third.stages[0]?.deals.map((d) => d.dealId)).toEqual([D]);
  });
});
