import { SqlEventStore, migrateEventStore, type EventStore } from '@dealstream/event-store';
import type { DealCommand } from '@dealstream/deals-domain';
import type { PipelineSnapshot } from '@dealstream/pipelines-domain';
import { createPostgresTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { projectBatch } from '../projections/project-batch.js';
import { compareReadModels } from '../rebuild/parity.js';
import { LIVE_SCHEMA, createReadModelSchema } from '../schema/read-model.schema.js';
import { FixtureWriter } from '../../../../test/support/fixture-writer.js';
import { board } from './board.query.js';
import { funnel, type FunnelPolicy } from './funnel.query.js';
import { pipelineMetrics } from './pipeline-metrics.query.js';
import { velocity } from './velocity.query.js';
import { readAllStored } from '../../../../test/support/read-all-written.js';

/*
 * A small history, every figure below computed by hand (docs/metrics.md has the definitions).
 * Stages A(10%, ≤5 days) B(30%, ≤10 days) C(60%) D(90%); all amounts EUR; day n = 2025-01-01 + n days.
 *
 *   D1 created d0 in A 1000 → B d2 → C d5 → won d9 at 1200
 *   D2 created d1 in A 2000 → C d3 (skips B) → lost d8
 *   D3 created d2 in A 3000 → B d4 → back to A d6 → B again d7 (re-enters B); open
 *   D4 created d3 directly in B 4000 → disqualified d5
 *   D5 created d4 in A 5000, owner sue; open (stalled from d9)
 *   D6 up-sell of D1, created d10 in A 500; open
 *   D7 created d20 in A 700; open (outside the period)
 *   Pipeline: d6 stage C renamed "Proposal sent" and 60% → 70%; d25 stage D removed (deals to C).
 */
const day = (n: number) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);
const P = '0d1b0000-0000-4000-8000-000000000001';
const [A, B, C, D] = ['a', 'b', 'c', 'd'].map((x) => `0d1b0000-0000-4000-8000-00000000000${x}`) as [
  string,
  string,
  string,
  string,
];
const deal = (n: number) => `0d1b0000-0000-4000-8000-0000000001${String(n).padStart(2, '0')}`;

const move =
  (toStageId: string) =>
  (pipeline: PipelineSnapshot): DealCommand[] => [{ type: 'MoveDealToStage', data: { toStageId, pipeline } }];
const create =
  (n: number, stageId: string, amount: number, ownerId = 'sam') =>
  (pipeline: PipelineSnapshot): DealCommand[] => [
    {
      type: 'CreateDeal',
      data: {
        dealId: deal(n),
        pipeline,
        stageId,
        title: `D${n}`,
        account: `Account ${n}`,
        amount,
        currency: 'EUR',
        ownerId,
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
        name: 'Fixture',
        currency: 'EUR',
        stages: [
          { stageId: A, name: 'A', probability: 10, goal: { maxDaysInStage: 5 } },
          { stageId: B, name: 'B', probability: 30, goal: { maxDaysInStage: 10 } },
          { stageId: C, name: 'C', probability: 60 },
          { stageId: D, name: 'D', probability: 90 },
        ],
      },
    },
  ]);
  const steps: [number, number, (p: PipelineSnapshot) => DealCommand[]][] = [
    [0, 1, create(1, A, 1000)],
    [1, 2, create(2, A, 2000)],
    [2, 1, move(B)],
    [2, 3, create(3, A, 3000)],
    [3, 2, move(C)],
    [3, 4, create(4, B, 4000)],
    [4, 3, move(B)],
    [4, 5, create(5, A, 5000, 'sue')],
    [5, 1, move(C)],
    [5, 4, () => [{ type: 'DisqualifyDeal', data: { reason: 'no-budget' } }]],
    [6, 3, move(A)],
    [7, 3, move(B)],
    [8, 2, () => [{ type: 'LoseDeal', data: { reason: 'price', competitor: 'Globex' } }]],
    [9, 1, () => [{ type: 'WinDeal', data: { amount: 1200, currency: 'EUR' } }]],
    [20, 7, create(7, A, 700)],
  ];
  for (const [d, n, commands] of steps) {
    if (d === 6)
      await w.pipeline(P, day(6), () => [
        { type: 'RenameStage', data: { stageId: C, name: 'Proposal sent' } },
        { type: 'ChangeStageProbability', data: { stageId: C, probability: 70 } },
      ]);
    if (d === 20)
      await w.followOn(deal(6), deal(1), day(10), 'upsell', { title: 'D6', amount: 500, currency: 'EUR' }, P);
    await w.deal(deal(n), day(d), commands, P);
  }
  await w.pipeline(P, day(25), () => [{ type: 'RemoveStage', data: { stageId: D, moveOpenDealsTo: C } }]);
}

describe('metrics on a hand-computed dataset (PostgreSQL)', () => {
  let database: TestDatabase;
  let store: EventStore;
  const now = day(30);

  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    await migrateEventStore(database.db);
    store = new SqlEventStore(database.db);
    await writeHistory(store);
    // Live tables projected in batches of 3 (so rows are closed across batch boundaries) …
    await createReadModelSchema(database.db, LIVE_SCHEMA);
    const events = await readAllStored(database.db, store);
    for (let i = 0; i < events.length; i += 3)
      await database.db.transaction().execute((trx) => projectBatch(trx, LIVE_SCHEMA, events.slice(i, i + 3)));
    // … and a second copy in one batch: both must be identical.
    await createReadModelSchema(database.db, 'read_models_one_batch');
    await database.db.transaction().execute((trx) => projectBatch(trx, 'read_models_one_batch', events));
  });
  afterAll(() => database.drop());

  it('projects the same rows whatever the batch boundaries', async () => {
    const parity = await compareReadModels(database.db, LIVE_SCHEMA, 'read_models_one_batch');
    expect(parity.tables.filter((t) => t.onlyInA || t.onlyInB)).toEqual([]);
    expect(parity.tables.find((t) => t.table === 'deals')!.rows).toBe(7);
  });

  const expectedFunnel: Record<
    FunnelPolicy,
    { reached: number[]; conversion: (number | null)[]; dropOff: (number | null)[]; median: (number | null)[] }
  > = {
    any: {
      reached: [4, 3, 2, 0],
      conversion: [0.75, 0.6667, 0, null],
      dropOff: [1, 1, 2, null],
      median: [0, 2, 3.5, null],
    },
    // strict = first entries in time order begin A, B, …: D1 A→B→C; D3 A→B; D2 A then C (B never);
    // D4 began in B (nothing). Here the old reading (every stage entered, first entries non-decreasing)
    // gives the same figures; stage-map-reports.int.spec.ts has deals where the two differ.
    strict: {
      reached: [4, 2, 1, 0],
      conversion: [0.5, 0.5, 0, null],
      dropOff: [2, 1, 1, null],
      median: [0, 2, 5, null],
    },
    implied: {
      reached: [5, 4, 2, 0],
      conversion: [0.8, 0.5, 0, null],
      dropOff: [1, 2, 2, null],
      median: [0, 2, 3.5, null],
    },
  };

  it.each(Object.keys(expectedFunnel) as FunnelPolicy[])(
    'funnel, policy %s, cohort created in [d0, d10), as of d15',
    async (policy) => {
      const result = (await funnel(database.db, LIVE_SCHEMA, P, {
        from: day(0),
        to: day(10),
        policy,
        asOf: { at: day(15), axis: 'occurred' },
        now,
      }))!;
      const expected = expectedFunnel[policy];
      expect(result.stages.map((s) => s.name)).toEqual(['A', 'B', 'Proposal sent', 'D']); // definition in force at d15
      expect(result.stages.map((s) => s.reached)).toEqual(expected.reached);
      expect(result.stages.map((s) => s.conversionToNext)).toEqual(expected.conversion);
      expect(result.stages.map((s) => s.dropOff)).toEqual(expected.dropOff);
      expect(result.stages.map((s) => s.medianDaysToReach)).toEqual(expected.median);
      expect(result.cohort).toEqual({ size: 5, open: 2, won: 1, lost: 1, disqualified: 1 });
      expect(result.winRate).toBe(0.2);
      expect(result.transitions).toEqual([
        { fromStageId: A, toStageId: B, count: 3 },
        { fromStageId: A, toStageId: C, count: 1 },
        { fromStageId: B, toStageId: A, count: 1 },
        { fromStageId: B, toStageId: C, count: 1 },
      ]);
    },
  );

  it('funnel as of d3.5 counts only what had happened by then', async () => {
    const result = (await funnel(database.db, LIVE_SCHEMA, P, {
      from: day(0),
      to: day(10),
      policy: 'any',
      asOf: { at: day(3.5), axis: 'occurred' },
      now,
    }))!;
    // D1 A,B; D2 A,C; D3 A; D4 B — D5 not created yet
    expect(result.stages.map((s) => s.reached)).toEqual([3, 2, 1, 0]);
    expect(result.stages[2].name).toBe('C');
    expect(result.cohort).toEqual({ size: 4, open: 4, won: 0, lost: 0, disqualified: 0 });
  });

  it('velocity for [d0, d10)', async () => {
    const result = await velocity(database.db, LIVE_SCHEMA, P, {
      from: day(0),
      to: day(10),
      asOf: { axis: 'occurred' },
      now,
    });
    expect(result).toEqual({
      opportunities: 5,
      won: 1,
      lost: 1,
      winRatePeriod: 0.5,
      winRateCohort: 0.2,
      averageCycleDays: 9,
      // D2 lost for price (d8), D4 disqualified for no budget (d5).
      disqualified: 1,
      lostReasons: [{ reason: 'price', count: 1 }],
      disqualificationReasons: [{ reason: 'no-budget', count: 1 }],
      // 5 × 1200 × 0.5 ÷ 9 = 333.33…
      // won revenue: D1's 1200; lost value: D2's 2000.
      byCurrency: [
        {
          currency: 'EUR',
          opportunities: 5,
          won: 1,
          wonAmount: 1200,
          lost: 1,
          lostAmount: 2000,
          averageWonAmount: 1200,
          velocityPerDay: 333,
        },
      ],
    });
  });

  it('pipeline metrics as of d10.5: open deals by stage, ages, stalls, weighted forecast', async () => {
    const result = (await pipelineMetrics(
      database.db,
      LIVE_SCHEMA,
      P,
      { at: day(10.5), axis: 'occurred' },
      day(10.5),
    ))!;
    expect(result.stages.map((s) => [s.name, s.count, s.stalledCount, s.averageDaysInStage, s.byCurrency])).toEqual([
      ['A', 2, 1, 3.5, [{ currency: 'EUR', count: 2, value: 5500, weightedValue: 550 }]],
      ['B', 1, 0, 3.5, [{ currency: 'EUR', count: 1, value: 3000, weightedValue: 900 }]],
      ['Proposal sent', 0, 0, null, []],
      ['D', 0, 0, null, []],
    ]);
    expect(result.forecast).toEqual([{ month: null, currency: 'EUR', count: 3, value: 8500, weightedValue: 1450 }]);
  });

  it('pipeline metrics as of d3.5 use the definition in force then (C still 60%)', async () => {
    const result = (await pipelineMetrics(database.db, LIVE_SCHEMA, P, { at: day(3.5), axis: 'occurred' }, day(3.5)))!;
    expect(
      result.stages.map((s) => [s.name, s.count, s.averageDaysInStage, s.byCurrency[0]?.weightedValue ?? 0]),
    ).toEqual([
      ['A', 1, 1.5, 300],
      ['B', 2, 1, 1500],
      ['C', 1, 0.5, 1200],
      ['D', 0, null, 0],
    ]);
  });

  it('the board now: stage D removed, filters and keyset paging', async () => {
    const current = (await board(database.db, LIVE_SCHEMA, P, {
      asOf: { axis: 'occurred' },
      now,
      filters: {},
      limit: 1,
    }))!;
    expect(current.stages.map((s) => [s.name, s.count, s.stalledCount, s.totals])).toEqual([
      ['A', 3, 3, [{ currency: 'EUR', count: 3, amount: 6200, weightedAmount: 620 }]],
      ['B', 1, 1, [{ currency: 'EUR', count: 1, amount: 3000, weightedAmount: 900 }]],
      ['Proposal sent', 0, 0, []],
    ]);
    // The whole live board reads the projection's stage_totals; a filter that keeps every deal computes
    // the same figures from the deals themselves.
    const everyDeal = (await board(database.db, LIVE_SCHEMA, P, {
      asOf: { axis: 'occurred' },
      now,
      filters: { minAmount: 0 },
      limit: 1,
    }))!;
    expect(everyDeal.stages.map((s) => [s.name, s.count, s.stalledCount, s.totals])).toEqual(
      current.stages.map((s) => [s.name, s.count, s.stalledCount, s.totals]),
    );
    const a = current.stages[0];
    expect(a.deals.map((d) => d.title)).toEqual(['D5']);
    expect(a.nextCursor).toEqual({ amount: 5000, dealId: deal(5) });
    const page2 = (await board(database.db, LIVE_SCHEMA, P, {
      asOf: { axis: 'occurred' },
      now,
      filters: {},
      limit: 1,
      stageId: A,
      cursor: a.nextCursor!,
    }))!;
    expect(page2.stages.map((s) => s.deals.map((d) => d.title))).toEqual([['D7']]);
    const page3 = (await board(database.db, LIVE_SCHEMA, P, {
      asOf: { axis: 'occurred' },
      now,
      filters: {},
      limit: 1,
      stageId: A,
      cursor: page2.stages[0].nextCursor!,
    }))!;
    expect(page3.stages[0].deals.map((d) => d.title)).toEqual(['D6']);
    expect(page3.stages[0].nextCursor).toBeNull();

    const sue = (await board(database.db, LIVE_SCHEMA, P, {
      asOf: { axis: 'occurred' },
      now,
      filters: { ownerId: 'sue' },
      limit: 10,
    }))!;
    expect(sue.stages.map((s) => s.count)).toEqual([1, 0, 0]);
    const midRange = (await board(database.db, LIVE_SCHEMA, P, {
      asOf: { axis: 'occurred' },
      now,
      filters: { minAmount: 600, maxAmount: 3000 },
      limit: 10,
    }))!;
    expect(midRange.stages.map((s) => s.deals.map((d) => d.title))).toEqual([['D7'], ['D3'], []]);
  });

  it('the live board measured at d22 counts stalls by hand: D7 entered A 2 days before (fresh), D5 and D6 did not', async () => {
    const at22 = (filters: Parameters<typeof board>[3]['filters']) =>
      board(database.db, LIVE_SCHEMA, P, { asOf: { axis: 'occurred' }, now: day(22), filters, limit: 10 });
    // A (goal 5 days): D5 since d4, D6 since d10, D7 since d20; B (goal 10): D3 since d7.
    const whole = (await at22({}))!;
    expect(whole.stages.map((s) => [s.name, s.count, s.stalledCount])).toEqual([
      ['A', 3, 2],
      ['B', 1, 1],
      ['Proposal sent', 0, 0],
    ]);
    // The maintained totals (no filter) and the index scan per stage (a filter keeping every deal) agree.
    const everyDeal = (await at22({ minAmount: 0 }))!;
    expect(everyDeal.stages.map((s) => [s.count, s.stalledCount, s.totals])).toEqual(
      whole.stages.map((s) => [s.count, s.stalledCount, s.totals]),
    );
    // A currency filter alone reads the maintained totals of that currency.
    const euros = (await at22({ currencies: ['EUR'] }))!;
    expect(euros.stages.map((s) => [s.count, s.stalledCount, s.totals])).toEqual(
      whole.stages.map((s) => [s.count, s.stalledCount, s.totals]),
    );
    const dollars = (await at22({ currencies: ['USD'] }))!;
    expect(dollars.stages.map((s) => [s.count, s.stalledCount, s.totals, s.deals])).toEqual([
      [0, 0, [], []],
      [0, 0, [], []],
      [0, 0, [], []],
    ]);
    const fresh = (await at22({ stalled: false }))!;
    expect(fresh.stages.map((s) => [s.count, s.stalledCount, s.deals.map((d) => d.title)])).toEqual([
      [1, 0, ['D7']],
      [0, 0, []],
      [0, 0, []],
    ]);
    // Stalled only: the maintained totals less the fresh deals (D5 5,000 + D6 500 in A; D3 3,000 in B).
    const stalledOnly = (await at22({ stalled: true }))!;
    expect(stalledOnly.stages.map((s) => [s.count, s.stalledCount, s.totals])).toEqual([
      [2, 2, [{ currency: 'EUR', count: 2, amount: 5500, weightedAmount: 550 }]],
      [1, 1, [{ currency: 'EUR', count: 1, amount: 3000, weightedAmount: 900 }]],
      [0, 0, []],
    ]);
    expect(stalledOnly.stages[0].deals.map((d) => d.title)).toEqual(['D5', 'D6']);
    const stalledOver1000 = (await at22({ stalled: true, minAmount: 1000 }))!;
    expect(stalledOver1000.stages.map((s) => [s.count, s.stalledCount, s.totals.map((t) => t.amount)])).toEqual([
      [1, 1, [5000]],
      [1, 1, [3000]],
      [0, 0, []],
    ]);
  });

  it('the maintained stall count is exact to the millisecond at a goal edge inside a day (stage_entry_days + that day off the index)', async () => {
    // A's goal is 5 days and D7 entered A at d20 00:00: measured at d25 − 1 ms, d25 and d25 + 1 ms the edge
    // (now − 5 days) falls the day before d20 (D7 counted from its day row), at d20's first instant (D7 read
    // off the index: entered ≥ the edge) and inside d20 (D7 entered before it: stalled). D5 (d4) and D6
    // (d10) are stalled throughout.
    for (const [now, stalledInA] of [
      [new Date(day(25).getTime() - 1), 2],
      [day(25), 2],
      [new Date(day(25).getTime() + 1), 3],
    ] as const) {
      const at = (filters: Parameters<typeof board>[3]['filters']) =>
        board(database.db, LIVE_SCHEMA, P, { asOf: { axis: 'occurred' }, now, filters, limit: 10 });
      const whole = (await at({}))!;
      expect([now.toISOString(), whole.stages[0].count, whole.stages[0].stalledCount]).toEqual([
        now.toISOString(),
        3,
        stalledInA,
      ]);
      // The index scan per deal (a filter keeping every deal) agrees, and so do both stall filters.
      const everyDeal = (await at({ minAmount: 0 }))!;
      expect(everyDeal.stages.map((s) => [s.count, s.stalledCount, s.totals])).toEqual(
        whole.stages.map((s) => [s.count, s.stalledCount, s.totals]),
      );
      const stalledOnly = (await at({ stalled: true }))!;
      const stalledAmount = stalledInA === 3 ? 6200 : 5500;
      expect(stalledOnly.stages[0].totals).toEqual([
        { currency: 'EUR', count: stalledInA, amount: stalledAmount, weightedAmount: stalledAmount / 10 },
      ]);
      const freshOnly = (await at({ stalled: false }))!;
      expect(freshOnly.stages[0].deals.map((d) => d.title)).toEqual(stalledInA === 3 ? [] : ['D7']);
    }
  });

  it('the board as of d10.5 shows the four stages of then and flags the stalled deal', async () => {
    const then = (await board(database.db, LIVE_SCHEMA, P, {
      asOf: { at: day(10.5), axis: 'occurred' },
      now: day(10.5),
      filters: { stalled: true },
      limit: 10,
    }))!;
    expect(then.stages.map((s) => s.name)).toEqual(['A', 'B', 'Proposal sent', 'D']);
    expect(then.stages[0].deals.map((d) => [d.title, d.daysInStage, d.stalled])).toEqual([['D5', 6.5, true]]);
  });

  it('funnel on the recorded axis, everything known: all seven deals under the current definition', async () => {
    const later = new Date(Date.now() + 86_400_000);
    const request = (policy: FunnelPolicy) => ({
      from: new Date(0),
      to: later,
      policy,
      asOf: { at: later, axis: 'recorded' as const },
      now: later,
    });
    // entries: D1 A,B,C · D2 A,C · D3 A,B · D4 B · D5 A · D6 A · D7 A (stage D removed, so three stages)
    const reached = async (policy: FunnelPolicy) =>
      (await funnel(database.db, LIVE_SCHEMA, P, request(policy)))!.stages.map((st) => st.reached);
    expect(await reached('any')).toEqual([6, 3, 2]);
    expect(await reached('strict')).toEqual([6, 2, 1]); // B in order: D1, D3; C after A and B: D1
    expect(await reached('implied')).toEqual([7, 4, 2]); // furthest C: D1, D2; B: D3, D4
  });

  it.each([
    ['D5 was created', 5, 'DealCreated', 4, { size: 5, open: 5, won: 0, lost: 0, disqualified: 0 }],
    ['D2 was lost', 2, 'DealLost', 8, { size: 5, open: 3, won: 0, lost: 1, disqualified: 1 }],
  ] as const)(
    'funnel on the recorded axis as of the instant %s equals the occurred axis as of that day',
    async (_, n, type, d, cohort) => {
      // The fixture records events in the order they happened, so both axes cut the history at the
      // same event; D1 enters C after d4, so reading the wrong axis' first entries changes "reached".
      const [at] = (await store.readStream(`deal-${deal(n)}`)).filter((e) => e.type === type).map((e) => e.recordedAt);
      for (const policy of ['any', 'strict', 'implied'] as FunnelPolicy[]) {
        const recorded = (await funnel(database.db, LIVE_SCHEMA, P, {
          from: new Date(0),
          to: new Date(at.getTime() + 1),
          policy,
          asOf: { at: at, axis: 'recorded' },
          now,
        }))!;
        const occurred = (await funnel(database.db, LIVE_SCHEMA, P, {
          from: day(0),
          to: day(100),
          policy,
          asOf: { at: day(d), axis: 'occurred' },
          now,
        }))!;
        expect(recorded.stages.map((st) => st.reached)).toEqual(occurred.stages.map((st) => st.reached));
        expect(recorded.cohort).toEqual(cohort);
        expect(occurred.cohort).toEqual(cohort);
      }
    },
  );

  it('on the recorded axis, an instant before anything was recorded knows no pipeline', async () => {
    expect(
      await board(database.db, LIVE_SCHEMA, P, {
        asOf: { at: day(30), axis: 'recorded' },
        now,
        filters: {},
        limit: 10,
      }),
    ).toBeUndefined();
  });
});
