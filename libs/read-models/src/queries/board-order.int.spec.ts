import { SqlEventStore, migrateEventStore } from '@dealstream/event-store';
import { createPostgresTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { FixtureWriter } from '../../../../test/support/fixture-writer.js';
import { readAllStored } from '../../../../test/support/read-all-written.js';
import { projectBatch } from '../projections/project-batch.js';
import { LIVE_SCHEMA, createReadModelSchema } from '../schema/read-model.schema.js';
import { board } from './board.query.js';

/*
 * The board's order and keyset paging where amounts tie, and its totals where currencies mix: one
 * stage, created in this order —
 *   deal 03: USD 1,000; deal 01: EUR 1,000; deal 02: EUR 1,000; deal 04: EUR 500.
 * Largest first, ties by deal id: 01, 02, 03, 04; totals by currency: EUR then USD.
 */
const P = '0b0a0000-0000-4000-8000-000000000001';
const A = '0b0a0000-0000-4000-8000-00000000000a';
const deal = (n: number) => `0b0a0000-0000-4000-8000-0000000001${String(n).padStart(2, '0')}`;
const day = (n: number) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

describe('the board orders tied amounts by deal id, pages across the tie, and orders totals by currency (PostgreSQL)', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    await migrateEventStore(database.db);
    const store = new SqlEventStore(database.db);
    const w = new FixtureWriter(store);
    await w.pipeline(P, day(0), () => [
      {
        type: 'DefinePipeline',
        data: { pipelineId: P, name: 'Ties', stages: [{ stageId: A, name: 'A', probability: 10 }] },
      },
    ]);
    for (const [n, amount, currency] of [
      [3, 1000, 'USD'],
      [1, 1000, 'EUR'],
      [2, 1000, 'EUR'],
      [4, 500, 'EUR'],
    ] as const) {
      await w.deal(
        deal(n),
        day(n),
        (pipeline) => [
          {
            type: 'CreateDeal',
            data: {
              dealId: deal(n),
              pipeline,
              stageId: A,
              title: `D${n}`,
              account: 'Acme',
              amount,
              currency,
              ownerId: 'sam',
            },
          },
        ],
        P,
      );
    }
    await createReadModelSchema(database.db, LIVE_SCHEMA);
    const events = await readAllStored(database.db, store);
    await database.db.transaction().execute((trx) => projectBatch(trx, LIVE_SCHEMA, events));
  });
  afterAll(() => database.drop());

  const at = (request: {
    limit: number;
    cursor?: { amount: number; dealId: string };
    minAmount?: number;
    ownerId?: string;
    asOf?: Date;
  }) =>
    board(database.db, LIVE_SCHEMA, P, {
      asOf: request.asOf ? { axis: 'occurred', at: request.asOf } : { axis: 'occurred' },
      now: day(10),
      filters: {
        ...(request.minAmount === undefined ? {} : { minAmount: request.minAmount }),
        ...(request.ownerId === undefined ? {} : { ownerId: request.ownerId }),
      },
      limit: request.limit,
      ...(request.cursor ? { stageId: A, cursor: request.cursor } : {}),
    });

  it.each([
    ['live, maintained totals', undefined, undefined, undefined],
    ['live, totals off the board index', 0, undefined, undefined],
    // Every deal is sam's: the same board, its page found by an index-only scan then read by key.
    ['live, owner filter: keys first', undefined, 'sam', undefined],
    ['as of an instant, ranked from the versions', undefined, undefined, day(10)],
  ])('%s: one page of all, then pages of two across the tie', async (_name, minAmount, ownerId, asOf) => {
    const whole = (await at({ limit: 10, minAmount, ownerId, asOf }))!;
    expect(whole.stages[0].deals.map((d) => d.title)).toEqual(['D1', 'D2', 'D3', 'D4']);
    expect(whole.stages[0].deals.map((d) => [d.ownerId, d.currency, d.account])).toEqual([
      ['sam', 'EUR', 'Acme'],
      ['sam', 'EUR', 'Acme'],
      ['sam', 'USD', 'Acme'],
      ['sam', 'EUR', 'Acme'],
    ]);
    expect(whole.stages[0].totals).toEqual([
      { currency: 'EUR', count: 3, amount: 2500, weightedAmount: 250 },
      { currency: 'USD', count: 1, amount: 1000, weightedAmount: 100 },
    ]);
    const first = (await at({ limit: 2, minAmount, ownerId, asOf }))!;
    expect(first.stages[0].deals.map((d) => d.title)).toEqual(['D1', 'D2']);
    expect(first.stages[0].nextCursor).toEqual({ amount: 1000, dealId: deal(2) });
    const second = (await at({ limit: 2, minAmount, ownerId, asOf, cursor: first.stages[0].nextCursor! }))!;
    expect(second.stages[0].deals.map((d) => d.title)).toEqual(['D3', 'D4']);
    expect(second.stages[0].nextCursor).toBeNull();
  });
});
