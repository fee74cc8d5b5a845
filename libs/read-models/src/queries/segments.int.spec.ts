import { decideAll } from '@dealstream/decider';
import { randomUUID } from 'node:crypto';
import { SqlEventStore, migrateEventStore, type EventStore } from '@dealstream/event-store';
import { dealDecider, dealStreamName, type DealCommand } from '@dealstream/deals-domain';
import type { PipelineSnapshot } from '@dealstream/pipelines-domain';
import { createPostgresTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { FixtureWriter } from '../../../../test/support/fixture-writer.js';
import { readAllStored } from '../../../../test/support/read-all-written.js';
import { projectBatch } from '../projections/project-batch.js';
import { LIVE_SCHEMA, createReadModelSchema } from '../schema/read-model.schema.js';
import { board } from './board.query.js';
import { funnel } from './funnel.query.js';
import { pipelineMetrics } from './pipeline-metrics.query.js';
import type { Segment } from './segment.js';
import { velocity } from './velocity.query.js';

/*
 * Segments (docs/metrics.md, "Segments"): every figure below computed by hand.
 * Stages A(10%) B(30%) C(60%); day n = 2025-01-01 + n days; period [d0, d10); reports at d20 unless said.
 *
 *   D1 new, sam, EUR 1000, created d0 in A → B d2 → won d5 (1000)
 *   D2 new, sue, USD 2000, created d1 in A → lost d4
 *   D3 up-sell of D1 (owner sam carries over), EUR 500, created d6 in A → B d7; open
 *   D4 new, sam, EUR 3000, created d2 directly in B by import I1; open
 *   D5 new, sue, EUR 8000, created d3 in A; d8 reassigned to sam and raised to 9000; open
 */
const day = (n: number) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);
const P = '5e900000-0000-4000-8000-000000000001';
const [A, B, C] = ['a', 'b', 'c'].map((x) => `5e900000-0000-4000-8000-00000000000${x}`) as [string, string, string];
const deal = (n: number) => `5e900000-0000-4000-8000-0000000001${String(n).padStart(2, '0')}`;
const I1 = '5e900000-0000-4000-8000-0000000000f1';

const create =
  (n: number, stageId: string, amount: number, currency: string, ownerId: string) =>
  (pipeline: PipelineSnapshot): DealCommand[] => [
    {
      type: 'CreateDeal',
      data: { dealId: deal(n), pipeline, stageId, title: `D${n}`, account: `Account ${n}`, amount, currency, ownerId },
    },
  ];
const move =
  (toStageId: string) =>
  (pipeline: PipelineSnapshot): DealCommand[] => [{ type: 'MoveDealToStage', data: { toStageId, pipeline } }];

async function writeHistory(store: EventStore): Promise<void> {
  const w = new FixtureWriter(store);
  await w.pipeline(P, day(0), () => [
    {
      type: 'DefinePipeline',
      data: {
        pipelineId: P,
        name: 'Segments',
        stages: [
          { stageId: A, name: 'A', probability: 10 },
          { stageId: B, name: 'B', probability: 30 },
          { stageId: C, name: 'C', probability: 60 },
        ],
      },
    },
  ]);
  await w.deal(deal(1), day(0), create(1, A, 1000, 'EUR', 'sam'), P);
  await w.deal(deal(2), day(1), create(2, A, 2000, 'USD', 'sue'), P);
  await w.deal(deal(1), day(2), move(B), P);
  // D4 comes from an import: its DealCreated carries provenance (as libs/import writes it).
  const pipeline = await w.snapshot(P);
  const imported = decideAll(dealDecider, create(4, B, 3000, 'EUR', 'sam')(pipeline), dealDecider.initialState());
  await store.appendToStream(
    dealStreamName(deal(4)),
    imported.map((event) => ({
      eventId: randomUUID(),
      type: event.type,
      data: event.data,
      metadata: {
        actorId: 'importer',
        occurredAt: day(2),
        provenance: { importId: I1, sourceSystem: 'canonical', sourceRecordId: 'r-4', sourceActor: 'someone' },
      },
    })),
    { expectedRevision: 'no_stream' },
  );
  await w.deal(deal(5), day(3), create(5, A, 8000, 'EUR', 'sue'), P);
  await w.deal(deal(2), day(4), () => [{ type: 'LoseDeal', data: { reason: 'price' } }], P);
  await w.deal(deal(1), day(5), () => [{ type: 'WinDeal', data: {} }], P);
  await w.followOn(deal(3), deal(1), day(6), 'upsell', { title: 'D3', amount: 500, currency: 'EUR' }, P);
  await w.deal(deal(3), day(7), move(B), P);
  await w.deal(
    deal(5),
    day(8),
    () => [
      { type: 'ReassignDealOwner', data: { ownerId: 'sam' } },
      { type: 'ChangeDealValue', data: { amount: 9000, currency: 'EUR' } },
    ],
    P,
  );
}

describe('report segments on a hand-computed dataset (PostgreSQL)', () => {
  let database: TestDatabase;
  const now = day(20);
  const period = { from: day(0), to: day(10) };

  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    await migrateEventStore(database.db);
    const store = new SqlEventStore(database.db);
    await writeHistory(store);
    await createReadModelSchema(database.db, LIVE_SCHEMA);
    const events = await readAllStored(database.db, store);
    await database.db.transaction().execute((trx) => projectBatch(trx, LIVE_SCHEMA, events));
  });
  afterAll(() => database.drop());

  const funnelOf = async (segment: Segment | undefined, at?: Date) => {
    const result = await funnel(database.db, LIVE_SCHEMA, P, {
      ...period,
      policy: 'any',
      asOf: { axis: 'occurred', ...(at ? { at } : {}) },
      now,
      ...(segment ? { segment } : {}),
    });
    return {
      cohort: result!.cohort,
      winRate: result!.winRate,
      reached: result!.stages.map((s) => s.reached),
      median: result!.stages.map((s) => s.medianDaysToReach),
      transitions: result!.transitions.map((t) => `${t.fromStageId.slice(-1)}→${t.toStageId.slice(-1)}:${t.count}`),
    };
  };

  it('the whole population: the funnel counts every kind (the default cohort)', async () => {
    expect(await funnelOf(undefined)).toEqual({
      cohort: { size: 5, open: 3, won: 1, lost: 1, disqualified: 0 },
      winRate: 0.2,
      reached: [4, 3, 0],
      median: [0, 1, null],
      transitions: ['a→b:2'],
    });
  });

  it('kind=new: new business only (D1, D2, D4, D5)', async () => {
    expect(await funnelOf({ kinds: ['new'] })).toEqual({
      cohort: { size: 4, open: 2, won: 1, lost: 1, disqualified: 0 },
      winRate: 0.25,
      reached: [3, 2, 0],
      median: [0, 1, null],
      transitions: ['a→b:1'],
    });
  });

  it('time in stage over the cohort: p50 and p90 of each deal’s total days in the stage (open visits up to d20)', async () => {
    const days = async (segment?: Segment) => {
      const result = await funnel(database.db, LIVE_SCHEMA, P, {
        ...period,
        policy: 'any',
        asOf: { axis: 'occurred' },
        now,
        ...(segment ? { segment } : {}),
      });
      return result!.stages.map((s) => [s.daysInStageP50, s.daysInStageP90]);
    };
    // A: D1 2, D2 3, D3 1, D5 17 → [1, 2, 3, 17]: p50 2.5, p90 3 + 0.7 × 14 = 12.8.
    // B: D1 3, D3 13, D4 18 → [3, 13, 18]: p50 13, p90 13 + 0.8 × 5 = 17.
    expect(await days()).toEqual([
      [2.5, 12.8],
      [13, 17],
      [null, null],
    ]);
    // New business: A [2, 3, 17] → 3 and 3 + 0.8 × 14 = 14.2; B [3, 18] → 10.5 and 3 + 0.9 × 15 = 16.5.
    expect(await days({ kinds: ['new'] })).toEqual([
      [3, 14.2],
      [10.5, 16.5],
      [null, null],
    ]);
  });

  it('time in stage as of a past instant: visits that ended after it count up to it (d3)', async () => {
    const result = await funnel(database.db, LIVE_SCHEMA, P, {
      ...period,
      policy: 'any',
      asOf: { axis: 'occurred', at: day(3) },
      now,
    });
    // Cohort by d3: D1, D2, D4, D5. A: D1 2 (d0→d2), D2 2 (d1→lost d4, counted to d3), D5 0 (entered d3)
    // → [0, 2, 2]: p50 2, p90 2. B: D1 1 (d2→won d5, counted to d3), D4 1 (d2, open) → p50 1, p90 1.
    expect(result!.stages.map((s) => [s.daysInStageP50, s.daysInStageP90])).toEqual([
      [2, 2],
      [1, 1],
      [null, null],
    ]);
  });

  it('kind=upsell: the up-sell alone (D3)', async () => {
    expect(await funnelOf({ kinds: ['upsell'] })).toEqual({
      cohort: { size: 1, open: 1, won: 0, lost: 0, disqualified: 0 },
      winRate: 0,
      reached: [1, 1, 0],
      median: [0, 1, null],
      transitions: ['a→b:1'],
    });
    expect((await funnelOf({ kinds: ['cross-sell'] })).cohort.size).toBe(0);
  });

  it('owners are judged at the instant: D5 is sam’s at d20, sue’s at d5', async () => {
    expect((await funnelOf({ ownerIds: ['sue'] })).cohort.size).toBe(1); // D2
    expect((await funnelOf({ ownerIds: ['sam'] })).cohort).toEqual({
      size: 4,
      open: 3,
      won: 1,
      lost: 0,
      disqualified: 0,
    });
    // At d5: created by then D1, D2, D4, D5; sue owned D2 and D5.
    expect(await funnelOf({ ownerIds: ['sue'] }, day(5))).toEqual({
      cohort: { size: 2, open: 1, won: 0, lost: 1, disqualified: 0 },
      winRate: 0,
      reached: [2, 0, 0],
      median: [0, null, null],
      transitions: [],
    });
    expect((await funnelOf({ ownerIds: [] })).cohort.size).toBe(0);
  });

  it('currency and amount band (at the instant: D5 is 9000 at d20, 8000 at d4)', async () => {
    expect((await funnelOf({ currencies: ['USD'] })).cohort).toEqual({
      size: 1,
      open: 0,
      won: 0,
      lost: 1,
      disqualified: 0,
    });
    // 2000…5000 at d20: D2 (2000), D4 (3000).
    expect(await funnelOf({ minAmount: 2000, maxAmount: 5000 })).toEqual({
      cohort: { size: 2, open: 1, won: 0, lost: 1, disqualified: 0 },
      winRate: 0,
      reached: [1, 1, 0],
      median: [0, 0, null],
      transitions: [],
    });
    expect((await funnelOf({ minAmount: 8000, maxAmount: 8000 }, day(4))).cohort.size).toBe(1); // D5 at 8000
    expect((await funnelOf({ minAmount: 8000, maxAmount: 8000 })).cohort.size).toBe(0); // 9000 since d8
  });

  it('source: live, any import, one import', async () => {
    expect((await funnelOf({ source: { type: 'live' } })).cohort.size).toBe(4);
    expect(await funnelOf({ source: { type: 'imported' } })).toEqual({
      cohort: { size: 1, open: 1, won: 0, lost: 0, disqualified: 0 },
      winRate: 0,
      reached: [0, 1, 0],
      median: [null, 0, null],
      transitions: [],
    });
    expect((await funnelOf({ source: { type: 'imported', importId: I1 } })).cohort.size).toBe(1);
    expect((await funnelOf({ source: { type: 'imported', importId: randomUUID() } })).cohort.size).toBe(0);
  });

  const velocityOf = (segment?: Segment) =>
    velocity(database.db, LIVE_SCHEMA, P, {
      ...period,
      asOf: { axis: 'occurred' },
      now,
      ...(segment ? { segment } : {}),
    });

  it('velocity follows the segment: opportunities, closings, rates and per-currency sums', async () => {
    expect(await velocityOf()).toEqual({
      opportunities: 5,
      won: 1,
      lost: 1,
      winRatePeriod: 0.5,
      winRateCohort: 0.2,
      averageCycleDays: 5,
      disqualified: 0,
      lostReasons: [{ reason: 'price', count: 1 }],
      disqualificationReasons: [],
      byCurrency: [
        {
          currency: 'EUR',
          opportunities: 4,
          won: 1,
          wonAmount: 1000,
          lost: 0,
          lostAmount: 0,
          averageWonAmount: 1000,
          velocityPerDay: 400,
        },
        {
          currency: 'USD',
          opportunities: 1,
          won: 0,
          wonAmount: 0,
          lost: 1,
          lostAmount: 2000,
          averageWonAmount: null,
          velocityPerDay: null,
        },
      ],
    });
    expect(await velocityOf({ kinds: ['new'] })).toEqual({
      opportunities: 4,
      won: 1,
      lost: 1,
      winRatePeriod: 0.5,
      winRateCohort: 0.25,
      averageCycleDays: 5,
      disqualified: 0,
      lostReasons: [{ reason: 'price', count: 1 }],
      disqualificationReasons: [],
      byCurrency: [
        {
          currency: 'EUR',
          opportunities: 3,
          won: 1,
          wonAmount: 1000,
          lost: 0,
          lostAmount: 0,
          averageWonAmount: 1000,
          velocityPerDay: 300,
        },
        {
          currency: 'USD',
          opportunities: 1,
          won: 0,
          wonAmount: 0,
          lost: 1,
          lostAmount: 2000,
          averageWonAmount: null,
          velocityPerDay: null,
        },
      ],
    });
    // EUR only: D2's loss is out, so every closing in the period is a win.
    expect(await velocityOf({ currencies: ['EUR'] })).toEqual({
      opportunities: 4,
      won: 1,
      lost: 0,
      winRatePeriod: 1,
      winRateCohort: 0.25,
      averageCycleDays: 5,
      disqualified: 0,
      lostReasons: [],
      disqualificationReasons: [],
      byCurrency: [
        {
          currency: 'EUR',
          opportunities: 4,
          won: 1,
          wonAmount: 1000,
          lost: 0,
          lostAmount: 0,
          averageWonAmount: 1000,
          velocityPerDay: 800,
        },
      ],
    });
    expect(await velocityOf({ ownerIds: ['sue'] })).toEqual({
      opportunities: 1,
      won: 0,
      lost: 1,
      winRatePeriod: 0,
      winRateCohort: 0,
      averageCycleDays: null,
      disqualified: 0,
      lostReasons: [{ reason: 'price', count: 1 }],
      disqualificationReasons: [],
      byCurrency: [
        {
          currency: 'USD',
          opportunities: 1,
          won: 0,
          wonAmount: 0,
          lost: 1,
          lostAmount: 2000,
          averageWonAmount: null,
          velocityPerDay: null,
        },
      ],
    });
  });

  const pipelineOf = async (segment?: Segment, at?: Date) => {
    const result = await pipelineMetrics(
      database.db,
      LIVE_SCHEMA,
      P,
      { axis: 'occurred', ...(at ? { at } : {}) },
      at ?? now,
      undefined,
      segment,
    );
    return result!.stages.map((s) => [s.count, s.byCurrency.map((c) => `${c.currency}:${c.value}/${c.weightedValue}`)]);
  };

  it('pipeline metrics follow the segment (open deals at the instant: D3 B 500, D4 B 3000, D5 A 9000)', async () => {
    expect(await pipelineOf()).toEqual([
      [1, ['EUR:9000/900']],
      [2, ['EUR:3500/1050']],
      [0, []],
    ]);
    expect(await pipelineOf({ kinds: ['new'] })).toEqual([
      [1, ['EUR:9000/900']],
      [1, ['EUR:3000/900']],
      [0, []],
    ]);
    expect(await pipelineOf({ source: { type: 'live' } })).toEqual([
      [1, ['EUR:9000/900']],
      [1, ['EUR:500/150']],
      [0, []],
    ]);
    expect(await pipelineOf({ minAmount: 1000, maxAmount: 5000 })).toEqual([
      [0, []],
      [1, ['EUR:3000/900']],
      [0, []],
    ]);
    expect(await pipelineOf({ ownerIds: ['sue'] })).toEqual([
      [0, []],
      [0, []],
      [0, []],
    ]);
    // At d4 (after D2's loss that day): D1 in B (1000), D4 in B (3000), D5 in A (8000, sue's).
    expect(await pipelineOf({ ownerIds: ['sue'] }, day(4))).toEqual([
      [1, ['EUR:8000/800']],
      [0, []],
      [0, []],
    ]);
  });

  it('the board follows the segment in its counts, totals and deals', async () => {
    const result = await board(database.db, LIVE_SCHEMA, P, {
      asOf: { axis: 'occurred' },
      now,
      limit: 20,
      filters: { kinds: ['upsell', 'cross-sell'] },
    });
    expect(
      result!.stages.map((s) => [
        s.count,
        s.totals.map((t) => `${t.currency}:${t.amount}/${t.weightedAmount}`),
        s.deals.map((d) => d.title),
      ]),
    ).toEqual([
      [0, [], []],
      [1, ['EUR:500/150'], ['D3']],
      [0, [], []],
    ]);
    const usd = await board(database.db, LIVE_SCHEMA, P, {
      asOf: { axis: 'occurred', at: day(3) },
      now: day(3),
      limit: 20,
      filters: { currencies: ['USD'], source: { type: 'live' } },
    });
    expect(usd!.stages.map((s) => s.deals.map((d) => d.title))).toEqual([['D2'], [], []]);
  });
});
