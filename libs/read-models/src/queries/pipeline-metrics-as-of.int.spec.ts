import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '@dealstream/event-store';
import { createPostgresTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { projectBatch } from '../projections/project-batch.js';
import { compareReadModels } from '../rebuild/parity.js';
import { createReadModelSchema } from '../schema/read-model.schema.js';
import { pipelineMetrics } from './pipeline-metrics.query.js';
import type { TimeAxis } from './time-axis.js';

/*
 * Pipeline metrics as of a past instant are read from open_deal_deltas (per year, month and day
 * bucket, kept by the projection) plus the versions of the instant's own day up to the instant. This
 * history has several changes inside one day, a deal open across a year boundary, two currencies
 * and close months. Stages A (10%, stalled after 2 days) and B (50%, no goal).
 *
 *   W  created 2024-12-30 08:00 in A, 100 EUR; stays open
 *   X  created 2025-03-10 09:00 in A, 1,000 EUR, close 2025-04-30 → B 03-11 08:00 → 1,500 EUR 03-11 11:00
 *   Y  created 2025-03-10 10:00 in A, 2,000 USD → won 03-11 13:00
 *   Z  created 2025-03-11 12:00 in A, 300 EUR, → B at the same instant → close date 2025-05-15 at 14:00
 *
 * Recorded: each event 36 hours after it occurred (another day, sometimes another month), so the two
 * axes cut the history differently.
 */
const P = '0a5f0000-0000-4000-8000-000000000001';
const A = '0a5f0000-0000-4000-8000-0000000000a1';
const B = '0a5f0000-0000-4000-8000-0000000000b1';
const [W, X, Y, Z] = [1, 2, 3, 4].map((n) => `0a5f0000-0000-4000-8000-00000000010${n}`) as [
  string,
  string,
  string,
  string,
];
const RECORDED_LAG = 36 * 3_600_000;

const created = (dealId: string, amount: number, currency: string, expectedCloseDate?: string) => ({
  type: 'DealCreated',
  data: {
    dealId,
    pipelineId: P,
    stageId: A,
    title: 'T',
    account: 'Acc',
    amount,
    currency,
    ownerId: 'sam',
    kind: 'new',
    ...(expectedCloseDate ? { expectedCloseDate } : {}),
  },
});
const HISTORY: [string, string, { type: string; data: object }][] = [
  [
    `pipeline-${P}`,
    '2024-12-01T00:00:00Z',
    {
      type: 'PipelineDefined',
      data: {
        pipelineId: P,
        name: 'As of',
        currency: 'EUR',
        stages: [
          { stageId: A, name: 'A', probability: 10, goal: { maxDaysInStage: 2 } },
          { stageId: B, name: 'B', probability: 50 },
        ],
      },
    },
  ],
  [`deal-${W}`, '2024-12-30T08:00:00Z', created(W, 100, 'EUR')],
  [`deal-${X}`, '2025-03-10T09:00:00Z', created(X, 1000, 'EUR', '2025-04-30')],
  [`deal-${Y}`, '2025-03-10T10:00:00Z', created(Y, 2000, 'USD')],
  [`deal-${X}`, '2025-03-11T08:00:00Z', { type: 'StageAdvanced', data: { fromStageId: A, toStageId: B } }],
  [
    `deal-${X}`,
    '2025-03-11T11:00:00Z',
    { type: 'DealValueChanged', data: { amount: 1500, currency: 'EUR', previousAmount: 1000 } },
  ],
  [`deal-${Z}`, '2025-03-11T12:00:00Z', created(Z, 300, 'EUR')],
  [`deal-${Z}`, '2025-03-11T12:00:00Z', { type: 'StageAdvanced', data: { fromStageId: A, toStageId: B } }],
  [`deal-${Y}`, '2025-03-11T13:00:00Z', { type: 'DealWon', data: { amount: 2000 } }],
  [
    `deal-${Z}`,
    '2025-03-11T14:00:00Z',
    { type: 'ExpectedCloseDateChanged', data: { expectedCloseDate: '2025-05-15', previous: null } },
  ],
];

function recordedEvents(): RecordedEvent[] {
  const revisions = new Map<string, bigint>();
  return HISTORY.map(([streamId, occurredAt, { type, data }], i) => {
    const revision = revisions.get(streamId) ?? 0n;
    revisions.set(streamId, revision + 1n);
    const at = new Date(occurredAt);
    return {
      eventId: randomUUID(),
      streamId,
      revision,
      type,
      data,
      metadata: { actorId: 'sam', occurredAt: at },
      recordedAt: new Date(at.getTime() + RECORDED_LAG),
      position: { major: BigInt(i + 1), minor: 0n },
    };
  });
}

describe('pipeline metrics as of a past instant, from the deltas kept at write time (PostgreSQL)', () => {
  let database: TestDatabase;
  const schema = 'as_of_in_pairs';

  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    const events = recordedEvents();
    // Projected two events at a time (versions closed across batches) and in one batch: the same rows.
    await createReadModelSchema(database.db, schema);
    for (let i = 0; i < events.length; i += 2)
      await database.db.transaction().execute((trx) => projectBatch(trx, schema, events.slice(i, i + 2)));
    await createReadModelSchema(database.db, 'as_of_one_batch');
    await database.db.transaction().execute((trx) => projectBatch(trx, 'as_of_one_batch', events));
  });
  afterAll(() => database.drop());

  const metricsAt = (iso: string, axis: TimeAxis = 'occurred') =>
    pipelineMetrics(database.db, schema, P, { at: new Date(iso), axis }, new Date(iso));

  it('keeps the same deltas whatever the batch boundaries', async () => {
    const parity = await compareReadModels(database.db, schema, 'as_of_one_batch');
    expect(parity.tables.find((t) => t.table === 'open_deal_deltas')).toMatchObject({ onlyInA: 0, onlyInB: 0 });
    expect(parity.equal).toBe(true);
  });

  it('as of 2025-03-11 12:30, inside a day of several changes: counts, values, ages, stalls, forecast by hand', async () => {
    const result = (await metricsAt('2025-03-11T12:30:00Z'))!;
    // A: W (71.1875 days, stalled) and Y (1.1042 days); B: X since 08:00 (1,500 since 11:00) and Z since 12:00.
    expect(result.stages.map((s) => [s.name, s.count, s.stalledCount, s.averageDaysInStage, s.byCurrency])).toEqual([
      [
        'A',
        2,
        1,
        36.15,
        [
          { currency: 'EUR', count: 1, value: 100, weightedValue: 10 },
          { currency: 'USD', count: 1, value: 2000, weightedValue: 200 },
        ],
      ],
      ['B', 2, 0, 0.1, [{ currency: 'EUR', count: 2, value: 1800, weightedValue: 900 }]],
    ]);
    expect(result.forecast).toEqual([
      { month: '2025-04', currency: 'EUR', count: 1, value: 1500, weightedValue: 750 },
      { month: null, currency: 'EUR', count: 2, value: 400, weightedValue: 160 },
      { month: null, currency: 'USD', count: 1, value: 2000, weightedValue: 200 },
    ]);
  });

  it('a change at the very instant counts (valid from it), the next millisecond before it does not', async () => {
    const at = (await metricsAt('2025-03-11T11:00:00Z'))!;
    expect(at.stages.map((s) => [s.name, s.count, s.stalledCount, s.averageDaysInStage])).toEqual([
      ['A', 2, 1, 36.08],
      ['B', 1, 0, 0.13],
    ]);
    expect(at.stages[1].byCurrency).toEqual([{ currency: 'EUR', count: 1, value: 1500, weightedValue: 750 }]);
    const before = (await metricsAt('2025-03-11T10:59:59.999Z'))!;
    expect(before.stages[1].byCurrency).toEqual([{ currency: 'EUR', count: 1, value: 1000, weightedValue: 500 }]);
    // Y won at 13:00: gone from A at that instant; Z's close date counts from 14:00.
    const won = (await metricsAt('2025-03-11T13:00:00Z'))!;
    expect(won.stages[0].byCurrency).toEqual([{ currency: 'EUR', count: 1, value: 100, weightedValue: 10 }]);
    const dated = (await metricsAt('2025-03-11T14:00:00Z'))!;
    expect(dated.forecast.map((f) => [f.month, f.count, f.value])).toEqual([
      ['2025-04', 1, 1500],
      ['2025-05', 1, 300],
      [null, 1, 100],
    ]);
  });

  it('on the recorded axis the same history is known 36 hours later', async () => {
    // Recorded 2025-03-13 00:30 = occurred 2025-03-11 12:30.
    const recorded = (await metricsAt('2025-03-13T00:30:00Z', 'recorded'))!;
    expect(recorded.stages.map((s) => [s.name, s.count, s.byCurrency.map((c) => c.value)])).toEqual([
      ['A', 2, [100, 2000]],
      ['B', 2, [1800]],
    ]);
    // Ages and stalls run from when the deals entered their stages (business time) to the instant:
    // Y entered A on 03-10 10:00, 2.6 days before 03-13 00:30, so it is stalled too.
    expect(recorded.stages[0].stalledCount).toBe(2);
    // Before anything of 2025 was recorded: W only (recorded 2024-12-31 20:00).
    const early = (await metricsAt('2025-01-01T00:00:00Z', 'recorded'))!;
    expect(early.stages.map((s) => s.count)).toEqual([1, 0]);
  });

  it('equals the pipeline computed from the deal versions at every instant around every change, on both axes', async () => {
    const instants = HISTORY.flatMap(([, occurredAt]) => {
      const t = new Date(occurredAt).getTime();
      return [t - 1, t, t + 1, t + RECORDED_LAG - 1, t + RECORDED_LAG, t + RECORDED_LAG + 1, t + 7 * 86_400_000];
    });
    // Every kind: the same deals, but a segment makes the report scan the versions valid at the instant.
    const everyKind = { kinds: ['new', 'upsell', 'cross-sell'] } as const;
    for (const axis of ['occurred', 'recorded'] as const)
      for (const t of instants) {
        const at = new Date(t);
        const fromDeltas = await pipelineMetrics(database.db, schema, P, { at, axis }, at);
        const fromVersions = await pipelineMetrics(database.db, schema, P, { at, axis }, at, undefined, everyKind);
        expect({ axis, at, metrics: fromDeltas }).toEqual({ axis, at, metrics: fromVersions });
      }
  });
});
