import { fileURLToPath } from 'node:url';
import { DEAL_AUDIT, readHistory, toEventView, verifyHashChains } from '@dealstream/audit';
import { SqlEventStore, migrateEventStore, type EventStore } from '@dealstream/event-store';
import { board, funnel, pipelineMetrics, velocity, type FunnelPolicy } from '@dealstream/read-models';
import {
  createPGliteTestDatabase,
  createPostgresTestDatabase,
  type TestDatabase,
} from '../../../test/support/test-database.js';
import { readCanonicalFiles } from './canonical/canonical-reader.js';
import { runHistoricImport } from './historic-import.js';
import { importIds } from './import-ids.js';
import { projectCommitted } from './testing/project-store.js';

/*
 * The fixture (testing/acme-crm.canonical.ndjson) is the history of libs/read-models' metrics spec,
 * written as a CRM export: day n = 2025-01-01 + n days, some instants in other zones, some changes
 * listed out of time order.
 *
 *   D1 created d0 in A 1000 → B d2 → C d5 → won d9 at 1200
 *   D2 created d1 in A 2000 → C d3 (skips B) → lost d8
 *   D3 created d2 in A 3000 → B d4 → back to A d6 → B again d7; open
 *   D4 created d3 directly in B 4000 → disqualified d5
 *   D5 created d4 in A 5000, owner sue; open
 *   D6 up-sell of D1, created d10 in A 500; open
 *   D7 created d20 in A 700; open
 *   Pipeline: stages A(10%, ≤5 d) B(30%, ≤10 d) C(60%) D(90%); d6 C renamed "Proposal sent", 60% → 70%;
 *   d25 D removed (deals to C).
 *
 * Every figure below is computed by hand from that table (definitions: docs/metrics.md), at three
 * instants inside the imported period: d3.5, d10.5 and d22.
 */
const FIXTURE = fileURLToPath(new URL('./testing/acme-crm.canonical.ndjson', import.meta.url));
const day = (n: number) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);
const SYSTEM = 'acme-crm';
const P = importIds.pipeline(SYSTEM, 'P1');
const stageName = new Map(['A', 'B', 'C', 'D'].map((s) => [importIds.stage(SYSTEM, 'P1', s), s]));
const dealId = (n: number) => importIds.deal(SYSTEM, `OPP-${n}`);

describe.each([
  ['PostgreSQL', createPostgresTestDatabase],
  ['PGlite', createPGliteTestDatabase],
] as const)('historic import of the canonical fixture (%s)', (_, createDatabase) => {
  let database: TestDatabase;
  let store: EventStore;
  let importedAt: Date;
  const schema = 'imported_rm';

  beforeAll(async () => {
    database = await createDatabase();
    await migrateEventStore(database.db);
    store = new SqlEventStore(database.db);
    importedAt = new Date();
    const report = await runHistoricImport(readCanonicalFiles([FIXTURE]), {
      store,
      actorId: 'importer-alice',
      importId: 'imp-1',
    });
    expect(report.refusals).toEqual([]);
    expect(report).toMatchObject({
      sourceSystem: SYSTEM,
      records: 21,
      pipelines: { imported: 1, unchanged: 0, refused: 0 },
      deals: { imported: 7, unchanged: 0, refused: 0 },
    });
    // 1 definition + 3 pipeline changes; 7 creations, 6 moves (D1 2, D2 1, D3 3), 1 win, 1 loss, 1 disqualification
    expect(report.events).toEqual({
      appended: 20,
      byType: {
        PipelineDefined: 1,
        StageRenamed: 1,
        StageProbabilityChanged: 1,
        StageRemoved: 1,
        DealCreated: 7,
        StageAdvanced: 6,
        DealWon: 1,
        DealLost: 1,
        DealDisqualified: 1,
      },
    });
    expect(await projectCommitted(database.db, store, schema)).toBe(20);
  });
  afterAll(() => database.drop());

  const occurred = (n: number) => ({ at: day(n), axis: 'occurred' as const });
  const names = (transitions: { fromStageId: string; toStageId: string; count: number }[]) =>
    transitions.map((t) => `${stageName.get(t.fromStageId)}→${stageName.get(t.toStageId)}:${t.count}`).sort();

  type Expected = {
    reached: number[];
    conversion: (number | null)[];
    dropOff: (number | null)[];
    median: (number | null)[];
  };
  const funnels: [number, number, string[], Record<FunnelPolicy, Expected>, object, number, string[]][] = [
    [
      3.5,
      10,
      ['A', 'B', 'C', 'D'],
      {
        // entries by d3.5: D1 A0 B2 · D2 A1 C3 · D3 A2 · D4 B3 (D5 not yet created)
        any: {
          reached: [3, 2, 1, 0],
          conversion: [0.6667, 0.5, 0, null],
          dropOff: [1, 1, 1, null],
          median: [0, 1, 2, null],
        },
        strict: {
          reached: [3, 1, 0, 0],
          conversion: [0.3333, 0, null, null],
          dropOff: [2, 1, 0, null],
          median: [0, 2, null, null],
        },
        implied: {
          reached: [4, 3, 1, 0],
          conversion: [0.75, 0.3333, 0, null],
          dropOff: [1, 2, 1, null],
          median: [0, 1, 2, null],
        },
      },
      { size: 4, open: 4, won: 0, lost: 0, disqualified: 0 },
      0,
      ['A→B:1', 'A→C:1'],
    ],
    [
      10.5,
      10,
      ['A', 'B', 'Proposal sent', 'D'],
      {
        any: {
          reached: [4, 3, 2, 0],
          conversion: [0.75, 0.6667, 0, null],
          dropOff: [1, 1, 2, null],
          median: [0, 2, 3.5, null],
        },
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
      },
      { size: 5, open: 2, won: 1, lost: 1, disqualified: 1 },
      0.2,
      ['A→B:3', 'A→C:1', 'B→A:1', 'B→C:1'],
    ],
    [
      22,
      21,
      ['A', 'B', 'Proposal sent', 'D'],
      {
        // cohort adds D6 (A d10) and D7 (A d20)
        any: {
          reached: [6, 3, 2, 0],
          conversion: [0.5, 0.6667, 0, null],
          dropOff: [3, 1, 2, null],
          median: [0, 2, 3.5, null],
        },
        strict: {
          reached: [6, 2, 1, 0],
          conversion: [0.3333, 0.5, 0, null],
          dropOff: [4, 1, 1, null],
          median: [0, 2, 5, null],
        },
        implied: {
          reached: [7, 4, 2, 0],
          conversion: [0.5714, 0.5, 0, null],
          dropOff: [3, 2, 2, null],
          median: [0, 2, 3.5, null],
        },
      },
      { size: 7, open: 4, won: 1, lost: 1, disqualified: 1 },
      0.1429,
      ['A→B:3', 'A→C:1', 'B→A:1', 'B→C:1'],
    ],
  ];

  it.each(funnels)(
    'funnel as of d%s, cohort [d0, d%s), all three policies',
    async (at, to, stageNames, byPolicy, cohort, winRate, transitions) => {
      for (const policy of ['any', 'strict', 'implied'] as FunnelPolicy[]) {
        const result = (await funnel(database.db, schema, P, {
          from: day(0),
          to: day(to),
          policy,
          asOf: occurred(at),
          now: day(at),
        }))!;
        const expected = byPolicy[policy];
        expect([policy, result.stages.map((s) => s.name)]).toEqual([policy, stageNames]);
        expect([policy, result.stages.map((s) => s.reached)]).toEqual([policy, expected.reached]);
        expect([policy, result.stages.map((s) => s.conversionToNext)]).toEqual([policy, expected.conversion]);
        expect([policy, result.stages.map((s) => s.dropOff)]).toEqual([policy, expected.dropOff]);
        expect([policy, result.stages.map((s) => s.medianDaysToReach)]).toEqual([policy, expected.median]);
        expect(result.cohort).toEqual(cohort);
        expect(result.winRate).toBe(winRate);
        expect(names(result.transitions)).toEqual(transitions);
      }
    },
  );

  it.each([
    [
      3.5,
      10,
      {
        opportunities: 4,
        won: 0,
        lost: 0,
        winRatePeriod: null,
        winRateCohort: 0,
        averageCycleDays: null,
        disqualified: 0,
        lostReasons: [],
        disqualificationReasons: [],
      },
      null,
      null,
    ],
    // 5 × 1200 × 0.5 ÷ 9 = 333.33…
    [
      10.5,
      10,
      {
        opportunities: 5,
        won: 1,
        lost: 1,
        winRatePeriod: 0.5,
        winRateCohort: 0.2,
        averageCycleDays: 9,
        disqualified: 1,
        lostReasons: [{ reason: 'price', count: 1 }],
        disqualificationReasons: [{ reason: 'no-budget', count: 1 }],
      },
      1200,
      333,
    ],
    // 7 × 1200 × 0.5 ÷ 9 = 466.67
    [
      22,
      21,
      {
        opportunities: 7,
        won: 1,
        lost: 1,
        winRatePeriod: 0.5,
        winRateCohort: 0.1429,
        averageCycleDays: 9,
        disqualified: 1,
        lostReasons: [{ reason: 'price', count: 1 }],
        disqualificationReasons: [{ reason: 'no-budget', count: 1 }],
      },
      1200,
      467,
    ],
  ] as const)('velocity as of d%s for [d0, d%s)', async (at, to, figures, averageWonAmount, velocityPerDay) => {
    const result = await velocity(database.db, schema, P, {
      from: day(0),
      to: day(to),
      asOf: occurred(at),
      now: day(at),
    });
    expect(result).toEqual({
      ...figures,
      byCurrency: [
        {
          currency: 'EUR',
          opportunities: figures.opportunities,
          won: figures.won,
          // The only win is D1 at 1200, the only loss D2 at 2000.
          wonAmount: figures.won * 1200,
          lost: figures.lost,
          lostAmount: figures.lost * 2000,
          averageWonAmount,
          velocityPerDay,
        },
      ],
    });
  });

  it.each([
    [
      3.5,
      // D3 in A since d2; D1 in B since d2, D4 since d3; D2 in C since d3 — C still 60%
      [
        ['A', 1, 0, 1.5, [{ currency: 'EUR', count: 1, value: 3000, weightedValue: 300 }]],
        ['B', 2, 0, 1, [{ currency: 'EUR', count: 2, value: 5000, weightedValue: 1500 }]],
        ['C', 1, 0, 0.5, [{ currency: 'EUR', count: 1, value: 2000, weightedValue: 1200 }]],
        ['D', 0, 0, null, []],
      ],
      [{ month: null, currency: 'EUR', count: 4, value: 10000, weightedValue: 3000 }],
    ],
    [
      10.5,
      // D5 in A since d4 (6.5 days > 5: stalled), D6 since d10; D3 in B since d7
      [
        ['A', 2, 1, 3.5, [{ currency: 'EUR', count: 2, value: 5500, weightedValue: 550 }]],
        ['B', 1, 0, 3.5, [{ currency: 'EUR', count: 1, value: 3000, weightedValue: 900 }]],
        ['Proposal sent', 0, 0, null, []],
        ['D', 0, 0, null, []],
      ],
      [{ month: null, currency: 'EUR', count: 3, value: 8500, weightedValue: 1450 }],
    ],
    [
      22,
      // A: D5 18 d, D6 12 d (both stalled), D7 2 d → mean 10.67; B: D3 15 d (> 10: stalled)
      [
        ['A', 3, 2, 10.67, [{ currency: 'EUR', count: 3, value: 6200, weightedValue: 620 }]],
        ['B', 1, 1, 15, [{ currency: 'EUR', count: 1, value: 3000, weightedValue: 900 }]],
        ['Proposal sent', 0, 0, null, []],
        ['D', 0, 0, null, []],
      ],
      [{ month: null, currency: 'EUR', count: 4, value: 9200, weightedValue: 1520 }],
    ],
  ] as const)('pipeline snapshot as of d%s', async (at, stages, forecast) => {
    const result = (await pipelineMetrics(database.db, schema, P, occurred(at), day(at)))!;
    expect(result.stages.map((s) => [s.name, s.count, s.stalledCount, s.averageDaysInStage, s.byCurrency])).toEqual(
      stages,
    );
    expect(result.forecast).toEqual(forecast);
  });

  it.each([
    [3.5, [['D3'], ['D4', 'D1'], ['D2'], []], [0, 0, 0, 0]],
    [10.5, [['D5', 'D6'], ['D3'], [], []], [1, 0, 0, 0]],
    [22, [['D5', 'D7', 'D6'], ['D3'], [], []], [2, 1, 0, 0]],
  ] as const)('board as of d%s', async (at, deals, stalled) => {
    const result = (await board(database.db, schema, P, { asOf: occurred(at), now: day(at), filters: {}, limit: 10 }))!;
    expect(result.stages.map((s) => s.deals.map((d) => d.title))).toEqual(deals);
    expect(result.stages.map((s) => s.stalledCount)).toEqual(stalled);
    expect(result.stages.map((s) => s.count)).toEqual(deals.map((d) => d.length));
  });

  it('the recorded axis before the import knows nothing; after it, everything', async () => {
    const before = new Date(importedAt.getTime() - 1000);
    expect(
      await board(database.db, schema, P, {
        asOf: { at: before, axis: 'recorded' },
        now: before,
        filters: {},
        limit: 10,
      }),
    ).toBeUndefined();
    const later = new Date(Date.now() + 60_000);
    const after = (await board(database.db, schema, P, {
      asOf: { at: later, axis: 'recorded' },
      now: later,
      filters: {},
      limit: 10,
    }))!;
    // as known now: D removed (its stage gone), open D3 (B), D5, D6, D7 (A)
    expect(after.stages.map((s) => [s.name, s.count])).toEqual([
      ['A', 3],
      ['B', 1],
      ['Proposal sent', 0],
    ]);
  });

  it('audit history shows the importing user beside the source actor and record id; chains verify', async () => {
    const { events } = await readHistory(store, DEAL_AUDIT, dealId(2), { limit: 100 });
    expect(
      events.map((event) => {
        const view = toEventView(event);
        return [view.type, view.actorId, view.occurredAt, view.correlationId, view.provenance];
      }),
    ).toEqual([
      [
        'DealCreated',
        'importer-alice',
        '2025-01-02T00:00:00.000Z',
        'imp-1',
        { importId: 'imp-1', sourceSystem: SYSTEM, sourceRecordId: 'OPP-2', sourceActor: 'sam@acme' },
      ],
      [
        'StageAdvanced',
        'importer-alice',
        '2025-01-04T00:00:00.000Z',
        'imp-1',
        { importId: 'imp-1', sourceSystem: SYSTEM, sourceRecordId: 'OH-2-1', sourceActor: 'sam@acme' },
      ],
      [
        'DealLost',
        'importer-alice',
        '2025-01-09T00:00:00.000Z',
        'imp-1',
        { importId: 'imp-1', sourceSystem: SYSTEM, sourceRecordId: 'OH-2-2', sourceActor: 'kim@acme' },
      ],
    ]);
    for (const event of events) expect(event.recordedAt.getTime()).toBeGreaterThanOrEqual(importedAt.getTime() - 1000);
    const verification = (await verifyHashChains(database.db))!;
    expect(verification).toMatchObject({ ok: true, streamsChecked: 8, eventsChecked: 20, brokenStreams: 0 });
  });

  it('the up-sell names its imported parent, with account and owner as given', async () => {
    const [created] = await store.readStream(`deal-${dealId(6)}`);
    expect(created.data).toMatchObject({
      parentDealId: dealId(1),
      kind: 'upsell',
      account: 'Account 1',
      ownerId: 'sam',
    });
  });

  it('importing the same file again appends nothing', async () => {
    const before = (await store.readAll({ limit: 1000 })).events.length;
    const again = await runHistoricImport(readCanonicalFiles([FIXTURE]), { store, actorId: 'importer-bob' });
    expect(again.refusals).toEqual([]);
    expect(again.deals).toEqual({ imported: 0, unchanged: 7, refused: 0 });
    expect(again.pipelines).toEqual({ imported: 0, unchanged: 1, refused: 0 });
    expect(again.events).toEqual({ appended: 0, byType: {} });
    expect((await store.readAll({ limit: 1000 })).events).toHaveLength(before);
  });
});
