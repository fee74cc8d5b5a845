import { fileURLToPath } from 'node:url';
import { DEAL_AUDIT, readHistory, toEventView, verifyHashChains } from '@dealstream/audit';
import { SqlEventStore, migrateEventStore, type EventStore } from '@dealstream/event-store';
import { board, funnel, pipelineMetrics, velocity, type FunnelPolicy } from '@dealstream/read-models';
import {
  createPGliteTestDatabase,
  createPostgresTestDatabase,
  type TestDatabase,
} from '../../../../test/support/test-database.js';
import { runHistoricImport } from '../historic-import.js';
import { importIds } from '../import-ids.js';
import { projectCommitted } from '../testing/project-store.js';
import { readVendorExport, type VendorFormat } from './vendor-export.js';

/*
 * One history, exported three ways (testing/vendors/: a Salesforce Opportunity + OpportunityHistory
 * CSV pair, a HubSpot deals page with propertiesWithHistory, Pipedrive deals + deal flow), each with
 * its stage map. Day n = 2025-01-01 + n days; amounts in EUR, so 1000.00 = 100000 minor units.
 *
 *   Stages: Prospecting (10 %, stalls after 5 d), Qualification (30 %, 10 d), Proposal (60 %), Negotiation (90 %)
 *   D1 created d0 in Prospecting 100000, close 2025-03-31 → Qualification d2 → Proposal d5
 *      → d9 amount 120000 and won (one Salesforce history row, two HubSpot versions, two Pipedrive flow entries)
 *   D2 created d1 in Prospecting 200000 → Proposal d3 (skips Qualification) → lost d8
 *   D3 created d2 in Prospecting 300000 → Qualification d4 → back to Prospecting d6, close date → 2025-04-30
 *      → Qualification d7 (Salesforce: "Needs Analysis", mapped to Qualification); open
 *   D4 created d3 directly in Qualification 400000 → lost d5 (Pipedrive: only its lost_time says when)
 *   D5 created d4 in Prospecting 500000, another owner; open
 *   D6 created d20 in Prospecting 70000; open
 * Left out by the adapters on purpose: a deleted opportunity / deleted Pipedrive deal, a Pipedrive
 * title change and a call in the flow.
 *
 * Every figure below is computed by hand from that table (definitions: docs/metrics.md) at three
 * instants inside the imported period, d3.5, d10.5 and d22; the same figures must come out of all
 * three exports, on PostgreSQL and on PGlite.
 */
const vendors = (name: string) => fileURLToPath(new URL(`../testing/vendors/${name}`, import.meta.url));
const day = (n: number) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000);

interface Vendor {
  readonly format: VendorFormat;
  readonly files: string[];
  readonly stageMap: string;
  readonly sourceSystem: string;
  readonly pipeline: string;
  /** Source id of D1…D6. */
  readonly deals: string[];
  /** D2's events: source record id and source actor of each. */
  readonly d2: [string, string][];
}

const VENDORS: Vendor[] = [
  {
    format: 'salesforce',
    files: [vendors('salesforce.OpportunityHistory.csv'), vendors('salesforce.Opportunity.csv')],
    stageMap: vendors('salesforce.stage-map.json'),
    sourceSystem: 'acme-salesforce',
    pipeline: 'new-business',
    deals: [1, 2, 3, 4, 5, 6].map((n) => `0065g00000Opp0${n}AAA`),
    d2: [
      ['0065g00000Opp02AAA', '0055g00000SamAAA'],
      ['0085g00000Hst06AAA:stage', '0055g00000SamAAA'],
      ['0085g00000Hst07AAA:lost', '0055g00000KimAAA'],
    ],
  },
  {
    format: 'hubspot',
    files: [vendors('hubspot.deals.json')],
    stageMap: vendors('hubspot.stage-map.json'),
    sourceSystem: 'acme-hubspot',
    pipeline: 'default',
    deals: [1, 2, 3, 4, 5, 6].map((n) => `100${n}`),
    // HubSpot versions have no id: deal, property and timestamp (2025-01-04, 2025-01-09 in epoch ms).
    d2: [
      ['1002', '501'],
      ['1002:dealstage:1735948800000:stage', '501'],
      ['1002:dealstage:1736380800000:lost', '503'],
    ],
  },
  {
    format: 'pipedrive',
    files: [vendors('pipedrive.flow.json'), vendors('pipedrive.deals.json')],
    stageMap: vendors('pipedrive.stage-map.json'),
    sourceSystem: 'acme-pipedrive',
    pipeline: 'pipeline-1',
    deals: [1, 2, 3, 4, 5, 6].map(String),
    d2: [
      ['2', '11'],
      ['9005:stage', '11'],
      ['9007:lost', '13'],
    ],
  },
];

const STAGES = ['Prospecting', 'Qualification', 'Proposal', 'Negotiation'];

describe.each(
  VENDORS.flatMap((vendor) =>
    [
      ['PostgreSQL', createPostgresTestDatabase],
      ['PGlite', createPGliteTestDatabase],
    ].map(
      ([name, create]) => [vendor.format, name as string, vendor, create as typeof createPGliteTestDatabase] as const,
    ),
  ),
)('import of the %s export (%s)', (_format, _db, vendor, createDatabase) => {
  let database: TestDatabase;
  let store: EventStore;
  let importedAt: Date;
  const schema = `vendor_rm_${vendor.format}`;
  const P = importIds.pipeline(vendor.sourceSystem, vendor.pipeline);
  const stageName = new Map(STAGES.map((s) => [importIds.stage(vendor.sourceSystem, vendor.pipeline, s), s]));
  const dealId = (n: number) => importIds.deal(vendor.sourceSystem, vendor.deals[n - 1]);
  const read = () => readVendorExport(vendor.format, vendor.files, vendor.stageMap);

  beforeAll(async () => {
    database = await createDatabase();
    await migrateEventStore(database.db);
    store = new SqlEventStore(database.db);
    importedAt = new Date();
    const report = await runHistoricImport(read(), { store, actorId: 'importer-alice', importId: 'imp-v' });
    expect(report.refusals).toEqual([]);
    // header + pipeline + 6 deals + changes (D1 4, D2 2, D3 4, D4 1)
    expect(report).toMatchObject({
      sourceSystem: vendor.sourceSystem,
      records: 19,
      pipelines: { imported: 1, unchanged: 0, refused: 0 },
      deals: { imported: 6, unchanged: 0, refused: 0 },
    });
    // moves: D1 2, D2 1, D3 3; D1's amount; D3's close date; D1 won; D2, D4 lost
    expect(report.events).toEqual({
      appended: 18,
      byType: {
        PipelineDefined: 1,
        DealCreated: 6,
        StageAdvanced: 6,
        DealValueChanged: 1,
        ExpectedCloseDateChanged: 1,
        DealWon: 1,
        DealLost: 2,
      },
    });
    expect(await projectCommitted(database.db, store, schema)).toBe(18);
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
  const early = ['Prospecting→Proposal:1', 'Prospecting→Qualification:1'];
  const later = [
    'Prospecting→Proposal:1',
    'Prospecting→Qualification:3',
    'Qualification→Proposal:1',
    'Qualification→Prospecting:1',
  ];
  const funnels: [number, number, Record<FunnelPolicy, Expected>, object, number, string[]][] = [
    [
      3.5,
      10,
      {
        // entries by d3.5: D1 Pr d0, Qu d2 · D2 Pr d1, Proposal d3 · D3 Pr d2 · D4 Qu d3 (D5 not yet created)
        // any: stages entered; conversion = next ÷ this (2/3, 1/2, 0/1); drop-off = this − next;
        // median days from creation: Qu D1 2, D4 0 → 1; Proposal D2 2
        any: {
          reached: [3, 2, 1, 0],
          conversion: [0.6667, 0.5, 0, null],
          dropOff: [1, 1, 1, null],
          median: [0, 1, 2, null],
        },
        // strict: only through the stage before (D4 created in Qualification, D2 skipped it)
        strict: {
          reached: [3, 1, 0, 0],
          conversion: [0.3333, 0, null, null],
          dropOff: [2, 1, 0, null],
          median: [0, 2, null, null],
        },
        // implied: a later stage implies the earlier ones (D4 → Pr, D2 → Qu at d3)
        implied: {
          reached: [4, 3, 1, 0],
          conversion: [0.75, 0.3333, 0, null],
          dropOff: [1, 2, 1, null],
          median: [0, 1, 2, null],
        },
      },
      { size: 4, open: 4, won: 0, lost: 0, disqualified: 0 },
      0,
      early,
    ],
    [
      10.5,
      10,
      {
        // cohort D1…D5; Pr: D1 D2 D3 D5; Qu: D1 D3 D4; Proposal: D1 (d5) D2 (d3)
        // any: 3/4, 2/3; medians Qu (2, 2, 0) → 2, Proposal (5, 2) → 3.5
        any: {
          reached: [4, 3, 2, 0],
          conversion: [0.75, 0.6667, 0, null],
          dropOff: [1, 1, 2, null],
          median: [0, 2, 3.5, null],
        },
        // strict: Qu D1 D3, Proposal D1 → 2/4, 1/2; Proposal median D1 5
        strict: {
          reached: [4, 2, 1, 0],
          conversion: [0.5, 0.5, 0, null],
          dropOff: [2, 1, 1, null],
          median: [0, 2, 5, null],
        },
        // implied: Pr all 5; Qu D1 D2 D3 D4 → 4/5, 2/4
        implied: {
          reached: [5, 4, 2, 0],
          conversion: [0.8, 0.5, 0, null],
          dropOff: [1, 2, 2, null],
          median: [0, 2, 3.5, null],
        },
      },
      // D1 won d9; D2 lost d8, D4 lost d5; D3 D5 open; win rate 1/5
      { size: 5, open: 2, won: 1, lost: 2, disqualified: 0 },
      0.2,
      later,
    ],
    [
      22,
      21,
      {
        // cohort adds D6 (Prospecting d20): any Pr 5 → 3/5 = 0.6, drop-off 5 − 3
        any: {
          reached: [5, 3, 2, 0],
          conversion: [0.6, 0.6667, 0, null],
          dropOff: [2, 1, 2, null],
          median: [0, 2, 3.5, null],
        },
        // strict 2/5 = 0.4
        strict: {
          reached: [5, 2, 1, 0],
          conversion: [0.4, 0.5, 0, null],
          dropOff: [3, 1, 1, null],
          median: [0, 2, 5, null],
        },
        // implied Pr 6 → 4/6 = 0.6667
        implied: {
          reached: [6, 4, 2, 0],
          conversion: [0.6667, 0.5, 0, null],
          dropOff: [2, 2, 2, null],
          median: [0, 2, 3.5, null],
        },
      },
      // win rate 1/6
      { size: 6, open: 3, won: 1, lost: 2, disqualified: 0 },
      0.1667,
      later,
    ],
  ];

  it.each(funnels)(
    'funnel as of d%s, cohort [d0, d%s), all three policies',
    async (at, to, byPolicy, cohort, winRate, transitions) => {
      for (const policy of ['any', 'strict', 'implied'] as FunnelPolicy[]) {
        const result = (await funnel(database.db, schema, P, {
          from: day(0),
          to: day(to),
          policy,
          asOf: occurred(at),
          now: day(at),
        }))!;
        const expected = byPolicy[policy];
        expect([policy, result.stages.map((s) => s.name)]).toEqual([policy, STAGES]);
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
      { opportunities: 4, won: 0, lost: 0, winRatePeriod: null, winRateCohort: 0, averageCycleDays: null },
      null,
      null,
    ],
    // won D1 (120000, 9 days d0→d9), lost D2 and D4 → win rate 1/3 = 0.3333 (as rounded by the report);
    // 5 × 120000 × 0.3333 ÷ 9 = 22220
    [
      10.5,
      10,
      { opportunities: 5, won: 1, lost: 2, winRatePeriod: 0.3333, winRateCohort: 0.2, averageCycleDays: 9 },
      120000,
      22220,
    ],
    // 6 × 120000 × 0.3333 ÷ 9 = 26664; cohort win rate 1/6
    [
      22,
      21,
      { opportunities: 6, won: 1, lost: 2, winRatePeriod: 0.3333, winRateCohort: 0.1667, averageCycleDays: 9 },
      120000,
      26664,
    ],
  ] as const)('velocity as of d%s for [d0, d%s)', async (at, to, figures, averageWonAmount, velocityPerDay) => {
    const result = await velocity(database.db, schema, P, {
      from: day(0),
      to: day(to),
      asOf: occurred(at),
      now: day(at),
    });
    // Won and lost amounts (minor units): D1 won at 1200.00; D4 lost at 4000.00 (d5), D2 at 2000.00 (d8).
    const wonAmount = figures.won === 1 ? 120000 : 0;
    const lostAmount = figures.lost === 2 ? 400000 + 200000 : 0;
    expect(result).toEqual({
      ...figures,
      disqualified: 0,
      disqualificationReasons: [],
      lostReasons: expect.any(Array),
      byCurrency: [
        {
          currency: 'EUR',
          opportunities: figures.opportunities,
          won: figures.won,
          wonAmount,
          lost: figures.lost,
          lostAmount,
          averageWonAmount,
          velocityPerDay,
        },
      ],
    });
    // Each vendor names its loss reasons its own way (the stage map's, or the stage's name); every loss has one.
    expect(result.lostReasons.reduce((sum, entry) => sum + entry.count, 0)).toBe(figures.lost);
  });

  it.each([
    [
      3.5,
      // Pr: D3 since d2 (1.5 d); Qu: D1 since d2 (1.5 d), D4 since d3 (0.5 d) → 1; Proposal: D2 since d3
      // weighted: 300000 × 10 %; (100000 + 400000) × 30 %; 200000 × 60 %
      [
        ['Prospecting', 1, 0, 1.5, [{ currency: 'EUR', count: 1, value: 300000, weightedValue: 30000 }]],
        ['Qualification', 2, 0, 1, [{ currency: 'EUR', count: 2, value: 500000, weightedValue: 150000 }]],
        ['Proposal', 1, 0, 0.5, [{ currency: 'EUR', count: 1, value: 200000, weightedValue: 120000 }]],
        ['Negotiation', 0, 0, null, []],
      ],
      // every open deal still closes 2025-03-31 (D3's moves to April at d6)
      [{ month: '2025-03', currency: 'EUR', count: 4, value: 1000000, weightedValue: 300000 }],
    ],
    [
      10.5,
      // Pr: D5 since d4 (6.5 d > 5: stalled); Qu: D3 since d7 (3.5 d)
      [
        ['Prospecting', 1, 1, 6.5, [{ currency: 'EUR', count: 1, value: 500000, weightedValue: 50000 }]],
        ['Qualification', 1, 0, 3.5, [{ currency: 'EUR', count: 1, value: 300000, weightedValue: 90000 }]],
        ['Proposal', 0, 0, null, []],
        ['Negotiation', 0, 0, null, []],
      ],
      [
        { month: '2025-03', currency: 'EUR', count: 1, value: 500000, weightedValue: 50000 },
        { month: '2025-04', currency: 'EUR', count: 1, value: 300000, weightedValue: 90000 },
      ],
    ],
    [
      22,
      // Pr: D5 18 d (stalled), D6 2 d → mean 10; Qu: D3 15 d (> 10: stalled)
      [
        ['Prospecting', 2, 1, 10, [{ currency: 'EUR', count: 2, value: 570000, weightedValue: 57000 }]],
        ['Qualification', 1, 1, 15, [{ currency: 'EUR', count: 1, value: 300000, weightedValue: 90000 }]],
        ['Proposal', 0, 0, null, []],
        ['Negotiation', 0, 0, null, []],
      ],
      [
        { month: '2025-03', currency: 'EUR', count: 2, value: 570000, weightedValue: 57000 },
        { month: '2025-04', currency: 'EUR', count: 1, value: 300000, weightedValue: 90000 },
      ],
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
    [10.5, [['D5'], ['D3'], [], []], [1, 0, 0, 0]],
    [22, [['D5', 'D6'], ['D3'], [], []], [1, 1, 0, 0]],
  ] as const)('board as of d%s', async (at, deals, stalled) => {
    const result = (await board(database.db, schema, P, { asOf: occurred(at), now: day(at), filters: {}, limit: 10 }))!;
    expect(result.stages.map((s) => s.deals.map((d) => d.title))).toEqual(deals);
    expect(result.stages.map((s) => s.stalledCount)).toEqual(stalled);
  });

  it('the recorded axis before the import knows nothing', async () => {
    const before = new Date(importedAt.getTime() - 1000);
    expect(
      await board(database.db, schema, P, {
        asOf: { at: before, axis: 'recorded' },
        now: before,
        filters: {},
        limit: 10,
      }),
    ).toBeUndefined();
  });

  it('audit history shows the importing user beside the source actor and record ids; chains verify', async () => {
    const { events } = await readHistory(store, DEAL_AUDIT, dealId(2), { limit: 100 });
    expect(
      events.map((event) => {
        const view = toEventView(event);
        return [view.type, view.actorId, view.occurredAt, view.provenance];
      }),
    ).toEqual(
      [
        ['DealCreated', '2025-01-02T00:00:00.000Z'],
        ['StageAdvanced', '2025-01-04T00:00:00.000Z'],
        ['DealLost', '2025-01-09T00:00:00.000Z'],
      ].map(([type, at], i) => [
        type,
        'importer-alice',
        at,
        {
          importId: 'imp-v',
          sourceSystem: vendor.sourceSystem,
          sourceRecordId: vendor.d2[i][0],
          sourceActor: vendor.d2[i][1],
        },
      ]),
    );
    expect(await verifyHashChains(database.db)).toMatchObject({ ok: true, streamsChecked: 7, eventsChecked: 18 });
  });

  it('importing the same export again appends nothing', async () => {
    const again = await runHistoricImport(read(), { store, actorId: 'importer-bob' });
    expect(again.refusals).toEqual([]);
    expect(again.deals).toEqual({ imported: 0, unchanged: 6, refused: 0 });
    expect(again.events).toEqual({ appended: 0, byType: {} });
    expect((await store.readAll({ limit: 1000 })).events).toHaveLength(18);
  });
});
