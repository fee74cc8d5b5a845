import { sql, type RawBuilder } from 'kysely';
import { buckets } from '../projections/batch-writes.js';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { openDealsAt } from './open-deals.js';
import { pipelineDefinition } from './pipeline-definition.query.js';
import { columnEnteredAt, layoutSql, stageLayout, type ReportStageMap, type StageLayout } from './stage-layout.js';
import { fixedConditions, isWholePopulation, versionedConditions, type Segment } from './segment.js';
import { axisColumns, timestamp, type AsOf } from './time-axis.js';

export interface StageMetrics {
  readonly stageId: string;
  readonly name: string;
  /** The stage's probability; null for a stage map's target (each deal is weighted by its own stage's). */
  readonly probability: number | null;
  /** Open deals in the stage at the instant. */
  readonly count: number;
  /** Deals longer in the stage than its goal's maxDaysInStage. */
  readonly stalledCount: number;
  /** Mean of (instant − stage entered) over the stage's open deals, in days; null when empty (under a map: the target entered). */
  readonly averageDaysInStage: number | null;
  readonly byCurrency: { currency: string; count: number; value: number; weightedValue: number }[];
}

export interface ForecastMonth {
  /** YYYY-MM of the expected close date, or null for deals without one. */
  readonly month: string | null;
  readonly currency: string;
  readonly count: number;
  readonly value: number;
  /** round(Σ amount × probability of the deal's stage / 100). */
  readonly weightedValue: number;
}

export interface PipelineMetrics {
  readonly stages: StageMetrics[];
  readonly forecast: ForecastMonth[];
}

/**
 * The pipeline (not the funnel): open deals at an instant by stage — count, value, weighted value,
 * average age in stage, stalled count — and the weighted forecast by expected close month.
 * Definitions: docs/metrics.md.
 */
export async function pipelineMetrics(
  db: ReadModelDb,
  schema: string,
  pipelineId: string,
  asOf: AsOf,
  now: Date,
  map?: ReportStageMap,
  segment?: Segment,
): Promise<PipelineMetrics | undefined> {
  const definition = await pipelineDefinition(db, schema, pipelineId, asOf);
  if (!definition) return undefined;
  const layout = stageLayout(definition, map);
  const whole = !segment || isWholePopulation(segment);
  // As of a past instant, in live stages, over every deal: from the open-deal deltas kept at write time.
  const rows =
    asOf.at && !layout.mapped && whole
      ? await groupedFromDeltas(db, schema, pipelineId, layout, { at: asOf.at, axis: asOf.axis }, now)
      : await groupedFromDeals(db, schema, pipelineId, layout, asOf, now, whole ? undefined : segment);
  // grouping(): a bit per column left out — 0b011 per stage, 0b001 per stage and currency, 0b100 per month and currency.
  const perStage = rows.filter((r) => r.grouping === 3);
  const perCurrency = rows.filter((r) => r.grouping === 1).sort((a, b) => compareText(a.currency, b.currency));
  const forecast = rows
    .filter((r) => r.grouping === 4)
    .sort((a, b) => compareNullsLast(a.month, b.month) || compareText(a.currency, b.currency));

  return {
    stages: layout.columns.map((stage) => {
      const row = perStage.find((r) => r.live_stage_id === stage.stageId);
      return {
        stageId: stage.stageId,
        name: stage.name,
        probability: stage.probability,
        count: Number(row?.count ?? 0),
        stalledCount: Number(row?.stalled ?? 0),
        averageDaysInStage: row?.avg_days ? round2(Number(row.avg_days)) : null,
        byCurrency: perCurrency
          .filter((r) => r.live_stage_id === stage.stageId)
          .map((r) => ({
            currency: r.currency!,
            count: Number(r.count),
            value: Number(r.value),
            weightedValue: Number(r.weighted),
          })),
      };
    }),
    forecast: forecast.map((r) => ({
      month: r.month,
      currency: r.currency!,
      count: Number(r.count),
      value: Number(r.value),
      weightedValue: Number(r.weighted),
    })),
  };
}

/** One row of the three groupings (per stage; per stage and currency; per close month and currency). */
interface GroupedRow {
  grouping: number;
  live_stage_id: string | null;
  currency: string | null;
  month: string | null;
  count: string;
  stalled: string;
  avg_days: string | null;
  value: string;
  weighted: string;
}

/** The groupings computed from the open deals themselves: live rows now, deal versions as of an instant. */
async function groupedFromDeals(
  db: ReadModelDb,
  schema: string,
  pipelineId: string,
  layout: StageLayout,
  asOf: AsOf,
  now: Date,
  segment: Segment | undefined,
): Promise<GroupedRow[]> {
  // Raw: grouped aggregates joined to a VALUES stage map, with a month forecast — beyond the builder's reach.
  const at = timestamp(now);
  const entered = columnEnteredAt(layout, schema, asOf, now);
  const open = sql`(
    select o.*, def.live_stage_id, def.probability,
           extract(epoch from (${at} - ${entered})) / 86400 as days_in_stage,
           coalesce(${entered} < ${at} - make_interval(days => def.max_days), false) as stalled
    from ${openDealsAt(schema, pipelineId, asOf)} o join ${layoutSql(layout)} on def.stage_id = o.stage_id
    ${segment ? openDealsInSegment(schema, segment) : sql``})`;

  // One pass over the open deals for all three groupings (grouping sets) instead of one per grouping.
  const { rows } = await sql<GroupedRow>`
    with o as ${open}
    select grouping(live_stage_id, currency, to_char(expected_close_date, 'YYYY-MM')) as grouping,
           live_stage_id, currency, to_char(expected_close_date, 'YYYY-MM') as month, count(*)::text as count,
           count(*) filter (where stalled)::text as stalled, avg(days_in_stage)::text as avg_days,
           sum(amount)::text as value, round(sum(amount::numeric * probability) / 100)::text as weighted
    from o
    group by grouping sets ((live_stage_id), (live_stage_id, currency), (currency, to_char(expected_close_date, 'YYYY-MM')))`.execute(
    db,
  );
  return rows;
}

/**
 * The same groupings as of a past instant T from open_deal_deltas (kept by the deal projection), in
 * live stages over every deal: per stage, currency and close month, the open deals' count, Σ amount
 * and Σ stage-entered instant are the deltas of the years before T's year, the months of T's year
 * before T's month, the days of T's month before T's day, and — exactly, from the versions — the
 * open versions that start or end on T's day up to T. A bounded number of rows, however long the
 * history. The average age is (count × now − Σ entered) ÷ count; the stall count needs each deal's
 * entry, so it is counted from stage_intervals: the open deals that entered the stage on or after
 * now − its goal (and by T, still there at T) are not stalled, the rest are.
 */
async function groupedFromDeltas(
  db: ReadModelDb,
  schema: string,
  pipelineId: string,
  layout: StageLayout,
  asOf: { at: Date; axis: AsOf['axis'] },
  now: Date,
): Promise<GroupedRow[]> {
  // Raw: sums over a union of bucket ranges and version ranges, grouping sets, a lateral count per stage.
  const s = sql.id(schema);
  const occurred = asOf.axis === 'occurred';
  const axis = sql`${asOf.axis}::text`;
  const { validFrom, validTo } = axisColumns(asOf.axis);
  const [year, month, day] = buckets(asOf.at).map(([, bucket]) => sql`${bucket}::timestamptz`);
  const at = timestamp(asOf.at);
  const deltas = (span: string, from: RawBuilder<unknown> | undefined, to: RawBuilder<unknown>) =>
    sql`select stage_id, currency, close_month, open_count, open_amount, entered_ms from ${s}.open_deal_deltas
      where pipeline_id = ${pipelineId}::uuid and axis = ${axis} and span = ${span}
        ${from ? sql`and bucket >= ${from}` : sql``} and bucket < ${to}`;
  const versions = (edge: RawBuilder<unknown>, sign: number) =>
    sql`select stage_id, currency, coalesce(to_char(expected_close_date, 'YYYY-MM'), ''), ${sign}::bigint, ${sign}::bigint * amount,
        ${sign}::int * extract(epoch from stage_entered_at) * 1000
      from ${s}.deal_versions where pipeline_id = ${pipelineId}::uuid and status = 'open' and ${edge} >= ${day} and ${edge} <= ${at}`;
  const groupedQuery = sql<Omit<GroupedRow, 'stalled'>>`
    with g as (
      select stage_id, currency, close_month, sum(open_count) as n, sum(open_amount) as amount, sum(entered_ms) as entered_ms
      from (${deltas('year', undefined, year)} union all ${deltas('month', year, month)} union all ${deltas('day', month, day)}
        union all ${versions(validFrom, 1)} union all ${versions(validTo, -1)}) x
      group by stage_id, currency, close_month having sum(open_count) <> 0
    ), o as (
      select g.n, g.amount, g.entered_ms, g.currency, nullif(g.close_month, '') as month, def.live_stage_id, def.probability
      from g join ${layoutSql(layout)} on def.stage_id = g.stage_id
    )
    select grouping(live_stage_id, currency, month) as grouping, live_stage_id, currency, month, sum(n)::text as count,
           ((sum(n) * extract(epoch from ${timestamp(now)}) * 1000 - sum(entered_ms)) / sum(n) / 86400000)::text as avg_days,
           sum(amount)::text as value, round(sum(amount::numeric * probability) / 100)::text as weighted
    from o
    group by grouping sets ((live_stage_id), (live_stage_id, currency), (currency, month))`;

  // Not stalled: in the stage at T (on the axis), entered (business time, as the stall rule reads it) on or after now − goal.
  const goals = layout.rows.filter((r) => r.maxDays !== null);
  const entered = occurred ? sql`si.entered_at` : sql`si.entered_recorded_at`;
  const exited = occurred ? sql`si.exited_at` : sql`si.exited_recorded_at`;
  const freshQuery = () => sql<{ live_stage_id: string; n: string }>`
      select def.live_stage_id, count(*)::text as n from ${layoutSql({ ...layout, rows: goals })}
      cross join lateral (
        select 1 from ${s}.stage_intervals si
        where si.pipeline_id = ${pipelineId}::uuid and si.stage_id = def.stage_id
          and si.entered_at >= ${timestamp(now)} - make_interval(days => def.max_days)
          and ${entered} <= ${at} and (${exited} > ${at} or ${exited} is null)
      ) x
      group by def.live_stage_id`;
  // Independent: asked at once (on a pool, two connections).
  const [{ rows: grouped }, { rows: freshRows }] = await Promise.all([
    groupedQuery.execute(db),
    goals.length > 0 ? freshQuery().execute(db) : Promise.resolve({ rows: [] }),
  ]);
  const fresh = new Map(freshRows.map((row) => [row.live_stage_id, Number(row.n)]));
  const hasGoal = new Set(goals.map((r) => r.columnId));
  return grouped.map((row) => ({
    ...row,
    stalled:
      row.grouping === 3 && row.live_stage_id !== null && hasGoal.has(row.live_stage_id)
        ? String(Number(row.count) - (fresh.get(row.live_stage_id) ?? 0))
        : '0',
  }));
}

const compareText = (a: string | null, b: string | null) => (a! < b! ? -1 : a! > b! ? 1 : 0);
const compareNullsLast = (a: string | null, b: string | null) =>
  a === b ? 0 : a === null ? 1 : b === null ? -1 : compareText(a, b);

/** `where` an open deal `o` is in the segment: its fields at the instant, and its kind and source from `deals`. */
export function openDealsInSegment(schema: string, segment: Segment) {
  // Raw: conditions embedded in the reports' raw SQL.
  const fixed = segment.kinds !== undefined || segment.source !== undefined;
  return sql`where ${versionedConditions(segment, 'o')}
    ${fixed ? sql`and exists (select 1 from ${sql.id(schema)}.deals sd where sd.deal_id = o.deal_id and ${fixedConditions(segment, 'sd')})` : sql``}`;
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
