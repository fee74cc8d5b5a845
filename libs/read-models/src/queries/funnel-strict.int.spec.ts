import { sql } from 'kysely';
import type { RecordedEvent } from '@dealstream/event-store';
import { event, recorded, type SpecEvent } from '../../../../test/support/projection-spec.js';
import { createPostgresTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { projectBatch } from '../projections/project-batch.js';
import { compareReadModels } from '../rebuild/parity.js';
import { createReadModelSchema } from '../schema/read-model.schema.js';
import { funnel, type Funnel } from './funnel.query.js';
import type { ReportStageMap } from './stage-layout.js';

/*
 * The funnel's `strict` from the projection's in-order flags (projections/funnel-order.ts), against
 * figures computed by hand, before and after a reorder. Stages A, B, C; day n = 2025-01-01 + n days.
 *
 *   D1 created d1 in A → B d2 → C d3
 *   D2 created d1 in A → C d2 → B d3
 *   D3 created d1 in B → C d2
 *   D4 created d1 in A → C d2 → B d2 (the same instant: ties go by board position)
 *   d5: stages reordered to A, C, B
 *   D5 created d6 in A → C d7 → B d8
 *
 * Strict as of d4 (A, B, C in force; the flags were judged in A, C, B, so the funnel ranks by itself):
 *   D1 A B C: all three. D2 A C B: A only. D3 starts in B: nothing. D4 A, then B and C tied → A B C: all.
 *   reached A 3 (D1 D2 D4), B 2 (D1 D4), C 2 (D1 D4); median days to reach A 0, B 1 (1, 1), C 1.5 (2, 1).
 * Strict now (A, C, B in force: the flags):
 *   D1 A B C → A, then B (position 2): A only. D2 A C B: all. D3: nothing. D4 A, then C and B tied → A C B:
 *   all. D5: all. reached A 4, C 3 (D2 D4 D5), B 3 (D2 D4 D5); medians A 0, C 1 (1, 1, 1), B 2 (2, 1, 2).
 */
const P = '0f0e0000-0000-4000-8000-000000000001';
const [A, B, C] = ['a', 'b', 'c'].map((x) => `0f0e0000-0000-4000-8000-00000000000${x}`) as [string, string, string];
const dealId = (n: number) => `0f0e0000-0000-4000-8000-0000000001${String(n).padStart(2, '0')}`;
const day = (n: number) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000).toISOString();

const created = (n: number, stageId: string, d: number) =>
  event(
    `deal-${dealId(n)}`,
    'DealCreated',
    {
      dealId: dealId(n),
      pipelineId: P,
      stageId,
      title: `D${n}`,
      account: `Account ${n}`,
      amount: 1000,
      currency: 'EUR',
      ownerId: 'sam',
      kind: 'new',
    },
    day(d),
  );
const moved = (n: number, fromStageId: string, toStageId: string, d: number) =>
  event(`deal-${dealId(n)}`, 'StageAdvanced', { fromStageId, toStageId }, day(d));

const history: SpecEvent[] = [
  event(
    `pipeline-${P}`,
    'PipelineDefined',
    {
      pipelineId: P,
      name: 'Order',
      currency: 'EUR',
      stages: [
        { stageId: A, name: 'A', probability: 10 },
        { stageId: B, name: 'B', probability: 40 },
        { stageId: C, name: 'C', probability: 80 },
      ],
    },
    day(0),
  ),
  created(1, A, 1),
  created(2, A, 1),
  created(3, B, 1),
  created(4, A, 1),
  moved(1, A, B, 2),
  moved(2, A, C, 2),
  moved(3, B, C, 2),
  moved(4, A, C, 2),
  moved(4, C, B, 2),
  moved(1, B, C, 3),
  moved(2, C, B, 3),
  event(`pipeline-${P}`, 'StagesReordered', { stageIds: [A, C, B] }, day(5)),
  created(5, A, 6),
  moved(5, A, C, 7),
  moved(5, C, B, 8),
];
const [stored] = recorded(history);
const beforeReorder = stored.findIndex((e) => e.type === 'StagesReordered');

/** The figures the strict policy reports, per column. */
const strictFigures = (f: Funnel | undefined) =>
  f!.stages.map((s) => ({ stageId: s.stageId, reached: s.reached, median: s.medianDaysToReach }));

describe('strict funnel from the in-order flags the projection keeps (PostgreSQL)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPostgresTestDatabase({ poolSize: 4 });
  });
  afterAll(() => database.drop());

  const project = async (schema: string, events: readonly RecordedEvent[], batchSize: number) => {
    await createReadModelSchema(database.db, schema);
    for (let i = 0; i < events.length; i += batchSize) {
      await database.db.transaction().execute((trx) => projectBatch(trx, schema, events.slice(i, i + batchSize)));
    }
  };
  const flags = async (schema: string) => {
    const { rows } = await sql<{ deal: string; stage: string; in_order: boolean; in_order_recorded: boolean }>`
      select right(deal_id::text, 1) as deal, stage_id::text as stage, in_order, in_order_recorded
      from ${sql.id(schema)}.stage_first_entries order by deal_id, stage_id`.execute(database.db);
    const name = new Map([
      [A, 'A'],
      [B, 'B'],
      [C, 'C'],
    ]);
    return rows.map((r) => `D${r.deal} ${name.get(r.stage)} ${r.in_order ? 'in order' : '-'}/${r.in_order_recorded}`);
  };
  const ask = (schema: string, at: string | undefined, stageMap?: ReportStageMap) =>
    funnel(database.db, schema, P, {
      from: new Date(day(0)),
      to: new Date(day(10)),
      policy: 'strict',
      asOf: { axis: 'occurred', ...(at ? { at: new Date(at) } : {}) },
      now: new Date(day(30)),
      ...(stageMap ? { stageMap } : {}),
    });

  it('judges each first entry in the board order the projection last saw, and again after a reorder', async () => {
    await project('order_before', stored.slice(0, beforeReorder), 1);
    // Under A, B, C: D1 A B C all in order; D2 A then C (B skipped): A only; D3 none; D4's C is in order
    // once B arrives at the same instant (a stored row's flag changed by a later batch).
    expect(await flags('order_before')).toEqual([
      'D1 A in order/true',
      'D1 B in order/true',
      'D1 C in order/true',
      'D2 A in order/true',
      'D2 B -/false',
      'D2 C -/false',
      'D3 B -/false',
      'D3 C -/false',
      'D4 A in order/true',
      'D4 B in order/true',
      'D4 C in order/true',
    ]);
    await project('order_after', stored, 1);
    // Under A, C, B: D1 A only; D2 and D4 all; D5 all.
    expect(await flags('order_after')).toEqual([
      'D1 A in order/true',
      'D1 B -/false',
      'D1 C -/false',
      'D2 A in order/true',
      'D2 B in order/true',
      'D2 C in order/true',
      'D3 B -/false',
      'D3 C -/false',
      'D4 A in order/true',
      'D4 B in order/true',
      'D4 C in order/true',
      'D5 A in order/true',
      'D5 B in order/true',
      'D5 C in order/true',
    ]);
    const { rows } = await sql<{
      positions: Record<string, number>;
    }>`select positions from order_after.funnel_orders`.execute(database.db);
    expect(rows).toEqual([{ positions: { [A]: 0, [C]: 1, [B]: 2 } }]);
  });

  it('keeps the same flags however the events fall into batches (incremental = rebuild)', async () => {
    await project('order_one_batch', stored, stored.length);
    await project('order_pairs', stored, 2);
    for (const schema of ['order_one_batch', 'order_pairs']) {
      const parity = await compareReadModels(database.db, 'order_after', schema);
      expect(parity.tables.filter((t) => t.onlyInA || t.onlyInB)).toEqual([]);
    }
  });

  it('now: the flags, in the reordered board', async () => {
    expect(strictFigures(await ask('order_after', undefined))).toEqual([
      { stageId: A, reached: 4, median: 0 },
      { stageId: C, reached: 3, median: 1 },
      { stageId: B, reached: 3, median: 2 },
    ]);
  });

  it('as of d4, before the reorder: the board in force then, ranked at query time', async () => {
    expect(strictFigures(await ask('order_after', day(4)))).toEqual([
      { stageId: A, reached: 3, median: 0 },
      { stageId: B, reached: 2, median: 1 },
      { stageId: C, reached: 2, median: 1.5 },
    ]);
  });

  it('reads the flags only while the stored positions are the layout in force', async () => {
    // Flags cleared by hand: the funnel reads them (nothing strictly reached) …
    await sql`update order_pairs.stage_first_entries set in_order = false`.execute(database.db);
    expect(strictFigures(await ask('order_pairs', undefined)).map((s) => s.reached)).toEqual([0, 0, 0]);
    // … until the positions they were judged in are not those in force: then it ranks by itself.
    await sql`update order_pairs.funnel_orders set positions = '{}'`.execute(database.db);
    expect(strictFigures(await ask('order_pairs', undefined))).toEqual(
      strictFigures(await ask('order_after', undefined)),
    );
  });

  it('the flags give what ranking at query time gives (an identity stage map ranks at query time)', async () => {
    const identity: ReportStageMap = {
      targets: [A, C, B].map((id) => ({ targetId: id, name: id })),
      assignments: [A, B, C].map((id) => ({ stageId: id, countsAs: id })),
    };
    const byFlags = await ask('order_after', undefined);
    const byWindow = await ask('order_after', undefined, identity);
    expect(strictFigures(byWindow)).toEqual(strictFigures(byFlags));
    expect(byWindow!.stages.map((s) => [s.daysInStageP50, s.daysInStageP90])).toEqual(
      byFlags!.stages.map((s) => [s.daysInStageP50, s.daysInStageP90]),
    );
  });
});
