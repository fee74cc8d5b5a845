import { SqlEventStore, migrateEventStore, type EventStore } from '@dealstream/event-store';
import type { DealCommand } from '@dealstream/deals-domain';
import type { PipelineSnapshot } from '@dealstream/pipelines-domain';
import { createPostgresTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { FixtureWriter } from '../../../../test/support/fixture-writer.js';
import { projectBatch } from '../projections/project-batch.js';
import { LIVE_SCHEMA, createReadModelSchema } from '../schema/read-model.schema.js';
import { board } from './board.query.js';
import { funnel, type FunnelPolicy } from './funnel.query.js';
import { pipelineMetrics } from './pipeline-metrics.query.js';
import type { ReportStageMap } from './stage-layout.js';

/*
 * A history recorded under an 8-stage pipeline of which stage R is removed on d12, so the definition
 * in force from then has 7 stages: S0(10%) S1(20%) S2(30%) [R(40%)] S3(50%) S4(70%) S5(80%) S6(90%).
 * Amounts EUR; day n = 2025-01-01 + n days. Every figure below is computed by hand.
 *
 *   E1 1000: S0 d0 → S1 d1 → S2 d2 → R d3 → S4 d5 → S6 d6 → won d7
 *   E2 2000: S0 d1 → S2 d2 (skips S1) → S3 d4 → S5 d5 → lost d6
 *   E3 3000: created in S1 d2 → S0 d3 → S1 d4 → S3 d5; open
 *   E4 4000: S0 d3 → S3 d4 (skips S1, S2) → S1 d5 (the skipped stage, later) → S4 d6; open
 *   E5 5000: S0 d4 → S5 d5 → S6 d7; open
 *   E6 6000: created in S5 d5; open
 *   E7 7000: S0 d6 → S2 d7 → S1 d8 → S2 d9 (back and forth inside a merged pair); open
 *
 * The map onto 5 stages: lead = {S0}, qualify = {S1, S2}, proposal = {R, S3}, negotiation = {S4},
 * closing = {S6}; S5 ignored. Two merged pairs (one with the removed stage), one stage ignored.
 */
const day = (n: number) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);
const P = '5a0e0000-0000-4000-8000-000000000001';
const stage = (n: number) => `5a0e0000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`;
const [S0, S1, S2, S3, S4, S5, S6, R] = [0, 1, 2, 3, 4, 5, 6, 9].map(stage) as [
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
];
const deal = (n: number) => `5a0e0000-0000-4000-8000-0000000001${String(n).padStart(2, '0')}`;

const map: ReportStageMap = {
  targets: [
    { targetId: 'lead', name: 'Lead' },
    { targetId: 'qualify', name: 'Qualify' },
    { targetId: 'proposal', name: 'Proposal' },
    { targetId: 'negotiation', name: 'Negotiation' },
    { targetId: 'closing', name: 'Closing' },
  ],
  assignments: [
    { stageId: S0, countsAs: 'lead' },
    { stageId: S1, countsAs: 'qualify' },
    { stageId: S2, countsAs: 'qualify' },
    { stageId: R, countsAs: 'proposal' },
    { stageId: S3, countsAs: 'proposal' },
    { stageId: S4, countsAs: 'negotiation' },
    { stageId: S5, countsAs: 'ignore' },
    { stageId: S6, countsAs: 'closing' },
  ],
};

const move =
  (toStageId: string) =>
  (pipeline: PipelineSnapshot): DealCommand[] => [{ type: 'MoveDealToStage', data: { toStageId, pipeline } }];
const create =
  (n: number, stageId: string) =>
  (pipeline: PipelineSnapshot): DealCommand[] => [
    {
      type: 'CreateDeal',
      data: {
        dealId: deal(n),
        pipeline,
        stageId,
        title: `E${n}`,
        account: `Account ${n}`,
        amount: n * 1000,
        currency: 'EUR',
        ownerId: 'sam',
      },
    },
  ];

async function writeHistory(store: EventStore): Promise<void> {
  const w = new FixtureWriter(store);
  await w.pipeline(P, day(0), () => [
    {
      type: 'DefinePipeline',
      data: {
        pipelineId: P,
        name: 'Seven stages',
        currency: 'EUR',
        stages: [
          { stageId: S0, name: 'S0', probability: 10 },
          { stageId: S1, name: 'S1', probability: 20 },
          { stageId: S2, name: 'S2', probability: 30 },
          { stageId: R, name: 'R', probability: 40 },
          { stageId: S3, name: 'S3', probability: 50 },
          { stageId: S4, name: 'S4', probability: 70 },
          { stageId: S5, name: 'S5', probability: 80 },
          { stageId: S6, name: 'S6', probability: 90 },
        ],
      },
    },
  ]);
  const steps: [number, number, (p: PipelineSnapshot) => DealCommand[]][] = [
    [0, 1, create(1, S0)],
    [1, 1, move(S1)],
    [1, 2, create(2, S0)],
    [2, 1, move(S2)],
    [2, 2, move(S2)],
    [2, 3, create(3, S1)],
    [3, 1, move(R)],
    [3, 3, move(S0)],
    [3, 4, create(4, S0)],
    [4, 2, move(S3)],
    [4, 3, move(S1)],
    [4, 4, move(S3)],
    [4, 5, create(5, S0)],
    [5, 1, move(S4)],
    [5, 2, move(S5)],
    [5, 3, move(S3)],
    [5, 4, move(S1)],
    [5, 5, move(S5)],
    [5, 6, create(6, S5)],
    [6, 1, move(S6)],
    [6, 2, () => [{ type: 'LoseDeal', data: { reason: 'price' } }]],
    [6, 4, move(S4)],
    [6, 7, create(7, S0)],
    [7, 1, () => [{ type: 'WinDeal', data: { amount: 1000, currency: 'EUR' } }]],
    [7, 5, move(S6)],
    [7, 7, move(S2)],
    [8, 7, move(S1)],
    [9, 7, move(S2)],
  ];
  for (const [d, n, commands] of steps) await w.deal(deal(n), day(d), commands, P);
  await w.pipeline(P, day(12), () => [{ type: 'RemoveStage', data: { stageId: R, moveOpenDealsTo: S3 } }]);
}

describe('reports in a stage map, on a hand-computed history (PostgreSQL)', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    await migrateEventStore(database.db);
    const store = new SqlEventStore(database.db);
    await writeHistory(store);
    await createReadModelSchema(database.db, LIVE_SCHEMA);
    const events = (await store.readAll({ limit: 10_000 })).events;
    await database.db.transaction().execute((trx) => projectBatch(trx, LIVE_SCHEMA, events));
  });
  afterAll(() => database.drop());

  const request = (policy: FunnelPolicy, stageMap?: ReportStageMap) => ({
    from: day(0),
    to: day(10),
    policy,
    asOf: { at: day(20), axis: 'occurred' as const },
    now: day(30),
    ...(stageMap ? { stageMap } : {}),
  });

  /*
   * First entries per target (day − creation day): E1 lead 0, qualify 1, proposal 3, negotiation 5,
   * closing 6 · E2 lead 0, qualify 1, proposal 3 · E3 qualify 0 (d2), lead 1 (d3), proposal 3 ·
   * E4 lead 0 (d3), proposal 1 (d4), qualify 2 (d5), negotiation 3 · E5 lead 0, closing 3 · E6 none
   * (S5 ignored) · E7 lead 0, qualify 1 (S2 d7 before S1 d8).
   * strict (first entries in time order begin lead, qualify, …): E1 all five; E2 up to proposal;
   * E3 nothing (began in qualify); E4 lead only (proposal before qualify); E5 lead only; E7 up to qualify.
   * implied (furthest target): E1 4, E2 2, E3 2, E4 3, E5 4, E7 1.
   */
  const expected: Record<
    FunnelPolicy,
    { reached: number[]; conversion: (number | null)[]; dropOff: (number | null)[]; median: (number | null)[] }
  > = {
    any: {
      reached: [6, 5, 4, 2, 2],
      conversion: [0.8333, 0.8, 0.5, 1, null],
      dropOff: [1, 1, 2, 0, null],
      median: [0, 1, 3, 4, 4.5],
    },
    strict: {
      reached: [5, 3, 2, 1, 1],
      conversion: [0.6, 0.6667, 0.5, 1, null],
      dropOff: [2, 1, 1, 0, null],
      median: [0, 1, 3, 5, 6],
    },
    implied: {
      reached: [6, 6, 5, 3, 2],
      conversion: [1, 0.8333, 0.6, 0.6667, null],
      dropOff: [0, 1, 2, 1, null],
      median: [0, 1, 3, 4, 4.5],
    },
  };

  it.each(Object.keys(expected) as FunnelPolicy[])('mapped funnel, policy %s: every figure', async (policy) => {
    const result = (await funnel(database.db, LIVE_SCHEMA, P, request(policy, map)))!;
    expect(result.stages.map((s) => [s.stageId, s.name])).toEqual(map.targets.map((t) => [t.targetId, t.name]));
    expect(result.stages.map((s) => s.reached)).toEqual(expected[policy].reached);
    expect(result.stages.map((s) => s.conversionToNext)).toEqual(expected[policy].conversion);
    expect(result.stages.map((s) => s.dropOff)).toEqual(expected[policy].dropOff);
    expect(result.stages.map((s) => s.medianDaysToReach)).toEqual(expected[policy].median);
    expect(result.cohort).toEqual({ size: 7, open: 5, won: 1, lost: 1, disqualified: 0 });
    expect(result.winRate).toBe(0.1429);
    // Moves inside qualify (S1→S2, S2→S1) and to or from S5 (ignored) are no transitions between targets.
    expect(result.transitions).toEqual([
      { fromStageId: 'lead', toStageId: 'qualify', count: 4 }, // E1, E2, E3, E7
      { fromStageId: 'lead', toStageId: 'proposal', count: 1 }, // E4
      { fromStageId: 'qualify', toStageId: 'lead', count: 1 }, // E3
      { fromStageId: 'qualify', toStageId: 'proposal', count: 3 }, // E1 (S2→R), E2, E3
      { fromStageId: 'qualify', toStageId: 'negotiation', count: 1 }, // E4
      { fromStageId: 'proposal', toStageId: 'qualify', count: 1 }, // E4
      { fromStageId: 'proposal', toStageId: 'negotiation', count: 1 }, // E1 (R→S4)
      { fromStageId: 'negotiation', toStageId: 'closing', count: 1 }, // E1
    ]);
  });

  it('the same history unmapped: the 7 stages in force, removed R counted under S3', async () => {
    /*
     * First entries by live position: E1 0,1,2,3(R),4,6 · E2 0,2,3,5 · E3 1,0,3 · E4 0,3,1,4 ·
     * E5 0,5,6 · E6 5 · E7 0,2,1. strict: E1 0…4 (then S6 before S5); E2, E4, E5, E7 stage 0 only.
     */
    const reached = async (policy: FunnelPolicy) =>
      (await funnel(database.db, LIVE_SCHEMA, P, request(policy)))!.stages.map((s) => s.reached);
    const any = (await funnel(database.db, LIVE_SCHEMA, P, request('any')))!;
    expect(any.stages.map((s) => s.name)).toEqual(['S0', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6']);
    expect(any.stages.map((s) => s.reached)).toEqual([6, 4, 3, 4, 2, 3, 2]);
    expect(await reached('strict')).toEqual([5, 1, 1, 1, 1, 0, 0]);
    expect(await reached('implied')).toEqual([7, 7, 7, 6, 5, 4, 2]);
    expect(any.cohort).toEqual({ size: 7, open: 5, won: 1, lost: 1, disqualified: 0 });
    // Unmapped transitions keep their stage ids (S1→S2 and S2→S1 count; the move into R counts under S3).
    expect(any.transitions.find((t) => t.fromStageId === S2 && t.toStageId === S1)).toEqual({
      fromStageId: S2,
      toStageId: S1,
      count: 1,
    });
    expect(any.transitions.find((t) => t.fromStageId === S2 && t.toStageId === S3)).toEqual({
      fromStageId: S2,
      toStageId: S3,
      count: 2, // E1 into R, E2 into S3
    });
  });

  it('mapped pipeline metrics as of d20: open deals per target, days since the target was entered', async () => {
    /*
     * Open at d20: E3 S3 since d5 → proposal, 15 days · E4 S4 since d6 → negotiation, 14 ·
     * E5 S6 since d7 → closing, 13 · E7 S2 since d9, but in qualify since d7 → 13 · E6 (S5) ignored.
     * Weighted by each deal's own stage: E3 50% 1500, E4 70% 2800, E5 90% 4500, E7 30% 2100.
     */
    const result = (await pipelineMetrics(
      database.db,
      LIVE_SCHEMA,
      P,
      { at: day(20), axis: 'occurred' },
      day(20),
      map,
    ))!;
    expect(
      result.stages.map((s) => [s.stageId, s.probability, s.count, s.stalledCount, s.averageDaysInStage, s.byCurrency]),
    ).toEqual([
      ['lead', null, 0, 0, null, []],
      ['qualify', null, 1, 0, 13, [{ currency: 'EUR', count: 1, value: 7000, weightedValue: 2100 }]],
      ['proposal', null, 1, 0, 15, [{ currency: 'EUR', count: 1, value: 3000, weightedValue: 1500 }]],
      ['negotiation', null, 1, 0, 14, [{ currency: 'EUR', count: 1, value: 4000, weightedValue: 2800 }]],
      ['closing', null, 1, 0, 13, [{ currency: 'EUR', count: 1, value: 5000, weightedValue: 4500 }]],
    ]);
    expect(result.forecast).toEqual([{ month: null, currency: 'EUR', count: 4, value: 19000, weightedValue: 10900 }]);
    const unmapped = (await pipelineMetrics(database.db, LIVE_SCHEMA, P, { at: day(20), axis: 'occurred' }, day(20)))!;
    expect(unmapped.stages.map((s) => [s.name, s.count, s.averageDaysInStage])).toEqual([
      ['S0', 0, null],
      ['S1', 0, null],
      ['S2', 1, 11],
      ['S3', 1, 15],
      ['S4', 1, 14],
      ['S5', 1, 15],
      ['S6', 1, 13],
    ]);
  });

  it('the mapped board, now and as of d8, pages within a target', async () => {
    const now = (await board(database.db, LIVE_SCHEMA, P, {
      asOf: { axis: 'occurred' },
      now: day(20),
      filters: {},
      limit: 10,
      stageMap: map,
    }))!;
    expect(now.stages.map((s) => [s.stageId, s.count, s.totals, s.deals.map((d) => [d.title, d.daysInStage])])).toEqual(
      [
        ['lead', 0, [], []],
        ['qualify', 1, [{ currency: 'EUR', count: 1, amount: 7000, weightedAmount: 2100 }], [['E7', 13]]],
        ['proposal', 1, [{ currency: 'EUR', count: 1, amount: 3000, weightedAmount: 1500 }], [['E3', 15]]],
        ['negotiation', 1, [{ currency: 'EUR', count: 1, amount: 4000, weightedAmount: 2800 }], [['E4', 14]]],
        ['closing', 1, [{ currency: 'EUR', count: 1, amount: 5000, weightedAmount: 4500 }], [['E5', 13]]],
      ],
    );
    expect(now.stages[1].deals[0].stageEnteredAt).toBe(day(7).toISOString());
    // As of d8: E1 won, E2 lost; E3 proposal (d5), E4 negotiation (d6), E5 closing (d7), E6 ignored, E7 qualify (d7).
    const d8 = (await board(database.db, LIVE_SCHEMA, P, {
      asOf: { at: day(8), axis: 'occurred' },
      now: day(8),
      filters: { maxAmount: 7000 },
      limit: 10,
      stageId: 'qualify',
      stageMap: map,
    }))!;
    expect(d8.stages.map((s) => [s.stageId, s.deals.map((d) => [d.title, d.daysInStage])])).toEqual([
      ['qualify', [['E7', 1]]],
    ]);
  });
});
