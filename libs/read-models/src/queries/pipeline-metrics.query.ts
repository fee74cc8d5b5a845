import { sql } from 'kysely';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { openDealsAt } from './open-deals.js';
import { pipelineDefinition } from './pipeline-definition.query.js';
import { columnEnteredAt, layoutSql, stageLayout, type ReportStageMap } from './stage-layout.js';
import { fixedConditions, isWholePopulation, versionedConditions, type Segment } from './segment.js';
import { timestamp, type AsOf } from './time-axis.js';

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
  // Raw: grouped aggregates joined to a VALUES stage map, with a month forecast — beyond the builder's reach.
  const definition = await pipelineDefinition(db, schema, pipelineId, asOf);
  if (!definition) return undefined;
  const layout = stageLayout(definition, map);
  const at = timestamp(now);
  const entered = columnEnteredAt(layout, schema, asOf, now);
  const open = sql`(
    select o.*, def.live_stage_id, def.probability,
           extract(epoch from (${at} - ${entered})) / 86400 as days_in_stage,
           coalesce(${entered} < ${at} - make_interval(days => def.max_days), false) as stalled
    from ${openDealsAt(schema, pipelineId, asOf)} o join ${layoutSql(layout)} on def.stage_id = o.stage_id
    ${segment && !isWholePopulation(segment) ? openDealsInSegment(schema, segment) : sql``})`;

  // One pass over the open deals for all three groupings (grouping sets) instead of one per grouping.
  const { rows } = await sql<{
    grouping: number;
    live_stage_id: string | null;
    currency: string | null;
    month: string | null;
    count: string;
    stalled: string;
    avg_days: string | null;
    value: string;
    weighted: string;
  }>`
    with o as ${open}
    select grouping(live_stage_id, currency, to_char(expected_close_date, 'YYYY-MM')) as grouping,
           live_stage_id, currency, to_char(expected_close_date, 'YYYY-MM') as month, count(*)::text as count,
           count(*) filter (where stalled)::text as stalled, avg(days_in_stage)::text as avg_days,
           sum(amount)::text as value, round(sum(amount::numeric * probability) / 100)::text as weighted
    from o
    group by grouping sets ((live_stage_id), (live_stage_id, currency), (currency, to_char(expected_close_date, 'YYYY-MM')))`.execute(
    db,
  );
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
