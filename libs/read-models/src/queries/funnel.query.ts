import { sql, type RawBuilder } from 'kysely';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { pipelineDefinition } from './pipeline-definition.query.js';
import { layoutSql, stageLayout, type ReportStageMap } from './stage-layout.js';
import { dealInSegment, dealOnRowInSegment, fixedConditions, type Segment } from './segment.js';
import { axisColumns, timestamp, type AsOf } from './time-axis.js';

/**
 * How "reached a stage" is counted (docs/metrics.md):
 * - `any`: the deal entered the stage at least once;
 * - `strict`: its first entries into stages, in time order, begin with stage 0, 1, …, this one;
 * - `implied`: it entered this stage or any later one (reaching a later stage implies the earlier).
 */
export type FunnelPolicy = 'strict' | 'any' | 'implied';
export const FUNNEL_POLICIES: readonly FunnelPolicy[] = ['strict', 'any', 'implied'];

export interface FunnelRequest {
  readonly from: Date;
  readonly to: Date;
  readonly policy: FunnelPolicy;
  readonly asOf: AsOf;
  readonly now: Date;
  /** Compute in the map's target stages instead of the live ones (docs/metrics.md, "Stage maps"). */
  readonly stageMap?: ReportStageMap;
  /** Only the deals of this segment: cohort, reached, outcomes and transitions alike (docs/metrics.md, "Segments"). */
  readonly segment?: Segment;
}

export interface FunnelStage {
  readonly stageId: string;
  readonly name: string;
  readonly reached: number;
  /** reached(next) ÷ reached(this); null for the last stage or when nobody reached this one. */
  readonly conversionToNext: number | null;
  /** reached(this) − reached(next); null for the last stage. */
  readonly dropOff: number | null;
  /** Median over the cohort deals that actually entered the stage (strict: in order) of (first entry − creation), days. */
  readonly medianDaysToReach: number | null;
  /**
   * Time in stage over the cohort: per deal that entered the stage by the instant, its total days in
   * it (every visit; an open one up to the instant); the median and 90th percentile of those. Null when none.
   */
  readonly daysInStageP50: number | null;
  readonly daysInStageP90: number | null;
}

export interface Funnel {
  readonly policy: FunnelPolicy;
  readonly cohort: { size: number; open: number; won: number; lost: number; disqualified: number };
  /** Cohort win rate: share of the period's created deals won by the instant. */
  readonly winRate: number | null;
  readonly stages: FunnelStage[];
  /**
   * Moves and reopens that happened in the period (all deals of the pipeline), by live stage, in board
   * order. Under a stage map: by target stage, without moves inside one target or from/to an ignored stage.
   */
  readonly transitions: { fromStageId: string; toStageId: string; count: number }[];
}

/**
 * The funnel of the deals created in [from, to): how many reached each stage, stage-to-stage
 * conversion and drop-off, median time to reach, outcomes, and the period's transition matrix —
 * all as known at the instant (`asOf`, default now), with the definition in force then.
 */
export async function funnel(
  db: ReadModelDb,
  schema: string,
  pipelineId: string,
  request: FunnelRequest,
): Promise<Funnel | undefined> {
  // Raw: cohorts, percentiles and a transition matrix over dynamic stage maps — beyond the builder's reach.
  const definition = await pipelineDefinition(db, schema, pipelineId, request.asOf);
  if (!definition) return undefined;
  const layout = stageLayout(definition, request.stageMap);
  const s = sql.id(schema);
  const axis = axisColumns(request.asOf.axis);
  const { transitionAt, validFrom, validTo, firstAt, createdAt, enteredAt, exitedAt } = axis;
  const instant = timestamp(request.asOf.at ?? request.now);
  const from = timestamp(request.from);
  const to = timestamp(request.to);
  const def = sql`def as (select * from ${layoutSql(layout)})`;
  // The rows carry the deal's kind: a kind segment is a condition on them, the rest of the segment as everywhere.
  const segment = request.segment;
  const entriesInSegment = dealOnRowInSegment(schema, segment, sql`e.kind`, sql`e.deal_id`, request.asOf, request.now);

  // One row per cohort deal × column (live stage or map target) it entered by the instant: its first entry
  // (first entries only grow later, so the earliest one is the first one as of any instant after it), its
  // creation, its total days in the column as of the instant, and whether the projection judged it in order.
  // A deal's total days in a stage as of the instant (every visit; an open one up to the instant): the
  // visits' lengths the projection keeps, when no visit began or ended after the instant; otherwise
  // summed from its intervals.
  const daysInStageAsOf = sql`case when e.${axis.settledAt} <= ${instant}
      then (e.${axis.visitsMs} + coalesce(${ms(sql`${instant} - e.${axis.openSince}`)}, 0)) / 86400000
      else (select sum(${ms(sql`least(coalesce(i.${exitedAt}, ${instant}), ${instant}) - i.${enteredAt}`)}) / 86400000
            from ${s}.stage_intervals i where i.deal_id = e.deal_id and i.stage_id = e.stage_id and i.${enteredAt} <= ${instant})
    end`;
  const cohortEntries = sql`from ${s}.stage_first_entries e join def on def.stage_id = e.stage_id
    where e.pipeline_id = ${pipelineId}::uuid and e.${createdAt} >= ${from} and e.${createdAt} < ${to} and e.${createdAt} <= ${instant}
      and e.${firstAt} <= ${instant} ${entriesInSegment}`;
  // Without merged columns (no map, no removed stage) a deal's row per stage is its row per column: no grouping.
  const onePerColumn = new Set(layout.rows.map((r) => r.position)).size === layout.rows.length;
  const cells = onePerColumn
    ? sql`select e.deal_id, def.position, e.${firstAt} as first_at, e.${createdAt} as created_at,
        ${daysInStageAsOf} as days, e.${axis.inOrder} as in_order ${cohortEntries}`
    : sql`select e.deal_id, def.position, min(e.${firstAt}) as first_at, min(e.${createdAt}) as created_at,
        sum(${daysInStageAsOf}) as days, bool_or(e.${axis.inOrder}) as in_order ${cohortEntries}
      group by def.position, e.deal_id`;
  // The projection's in-order flags hold when it judged them in this layout's positions (the definition in
  // force is the one it last saw, or orders the stages alike); never under a map. Checked in the statement
  // that reads them (one snapshot).
  const positions = layout.mapped
    ? undefined
    : JSON.stringify(Object.fromEntries(layout.rows.map((r) => [r.stageId, r.position])));
  const judged =
    positions === undefined
      ? sql`false`
      : sql`exists (select 1 from ${s}.funnel_orders o where o.pipeline_id = ${pipelineId}::uuid and o.positions = ${positions}::jsonb)`;

  const strict = request.policy === 'strict';
  const days = sql`${ms(sql`first_at - created_at`)} / 86400000`;
  // Per column: deals that entered it, their median days to the first entry, their days in it (p50, p90)
  // and, for strict, the same over the in-order ones — one plain aggregate over the cohort's cells, each
  // column's figures under a filter: no sort of the cohort by column (it spilled to disk and took as long
  // as the percentiles), each percentile sorts only its own column's values. For implied, deals per
  // furthest column as well.
  const columnAggregates = layout.columns.map((_, position) => {
    const here = sql`position = ${sql.lit(position)}`;
    const inOrder = sql`${here} and in_order`;
    const as = (name: string) => sql.raw(`${name}_${position}`);
    return sql`count(*) filter (where ${here})::text as ${as('entered')},
      ${
        // strict reports the in-order deals' median (or the window's): the one over every entry is not asked
        strict
          ? sql`null::text`
          : sql`(percentile_cont(0.5) within group (order by ${days}) filter (where ${here}))::text`
      } as ${as('median')},
      (percentile_cont(array[0.5, 0.9]) within group (order by days) filter (where ${here}))::text[] as ${as('days')},
      ${strict ? sql`count(*) filter (where ${inOrder})::text` : sql`null::text`} as ${as('in_order')},
      ${
        strict
          ? sql`(percentile_cont(0.5) within group (order by ${days}) filter (where ${inOrder}))::text`
          : sql`null::text`
      } as ${as('in_order_median')}`;
  });
  const perColumn = sql<Record<string, unknown>>`
    with ${def}, cells as (${cells})
    select ${sql.join(columnAggregates)}, ${strict ? judged : sql`null::boolean`} as judged
    from cells`;
  // Implied: deals per furthest column, a statement of its own (asked beside the others; only the cells'
  // deal and column are read).
  const dealsPerFurthest = sql<{ furthest: number; deals: string }>`
    with ${def}, cells as (${cells})
    select furthest, count(*)::text as deals from (select max(position) as furthest from cells group by deal_id) f
    group by furthest`;
  // Cohort outcomes: each deal's status at the instant — its current row's when its last change is not
  // after the instant (that row is then its version valid at the instant), else the version valid then.
  const { effectiveAt, createdAtOfDeal } = dealColumns(request.asOf.axis);
  // Kind and source are columns of the deals row here; owners, currency and amount are judged at the instant.
  const fixedSegment = segment && (segment.kinds !== undefined || segment.source !== undefined);
  const outcomes = sql<{ status: string; count: string }>`
    select status, count(*)::text as count from (
      select case when d.${effectiveAt} <= ${instant} then d.status
        else (select v.status from ${s}.deal_versions v where v.deal_id = d.deal_id and v.${validFrom} <= ${instant} and v.${validTo} > ${instant})
      end as status
      from ${s}.deals d
      where d.pipeline_id = ${pipelineId}::uuid and d.${createdAtOfDeal} >= ${from} and d.${createdAtOfDeal} < ${to} and d.${createdAtOfDeal} <= ${instant}
        ${fixedSegment ? sql`and ${fixedConditions(request.segment, 'd')}` : sql``}
        ${request.segment ? dealInSegment(schema, { ...request.segment, kinds: undefined, source: undefined }, sql`d.deal_id`, request.asOf, request.now) : sql``}
    ) c where status is not null group by status`;
  // Counted per pair of stages first, then the few pairs joined to the layout (not every transition).
  const matrix = sql<{ from_stage: string; to_stage: string; count: string }>`
    with ${def}, pairs as (
      select t.from_stage_id, t.to_stage_id, count(*) as n from ${s}.stage_transitions t
      where t.pipeline_id = ${pipelineId}::uuid and t.kind in ('moved', 'reopened')
        and t.${transitionAt} >= ${from} and t.${transitionAt} < ${to} and t.${transitionAt} <= ${instant}
        ${dealOnRowInSegment(schema, segment, sql`t.deal_kind`, sql`t.deal_id`, request.asOf, request.now)}
      group by t.from_stage_id, t.to_stage_id)
    select f.live_stage_id as from_stage, d.live_stage_id as to_stage, sum(p.n)::text as count
    from pairs p join def f on f.stage_id = p.from_stage_id join def d on d.stage_id = p.to_stage_id
    ${layout.mapped ? sql`where f.live_stage_id <> d.live_stage_id` : sql``}
    group by f.position, d.position, 1, 2 order by f.position, d.position, 1, 2`;
  // A strict funnel whose flags cannot be used (a map, or a layout the projection did not judge in) ranks
  // the entries itself; asked at once when known in advance.
  const windowed = () =>
    analytic(
      db,
      strictByWindow(
        sql`${def}, entries as (select e.deal_id, def.position, min(e.${firstAt}) as first_at, min(e.${createdAt}) as created_at
          ${cohortEntries} group by e.deal_id, def.position)`,
      ),
    );
  // The parts are independent: asked at once (on a pool, separate connections).
  const [
    {
      rows: [columnRow],
    },
    { rows: outcomeRows },
    { rows: matrixRows },
    { rows: furthestRows },
    early,
  ] = await Promise.all([
    analytic(db, perColumn, { hashed: !onePerColumn }),
    analytic(db, outcomes),
    analytic(db, matrix),
    request.policy === 'implied' ? analytic(db, dealsPerFurthest) : { rows: [] },
    strict && positions === undefined ? windowed() : undefined,
  ]);
  const columns = layout.columns.map((_, position) => columnFigures(columnRow, position));
  const furthest = furthestRows.map((r) => ({ furthest: r.furthest, deals: Number(r.deals) }));
  const byWindow = strict ? (early ?? (columnRow.judged !== false ? undefined : await windowed())) : undefined;
  const reached = reachedPerColumn(request.policy, columns, furthest, byWindow?.rows);

  const countOf = (status: string) => Number(outcomeRows.find((o) => o.status === status)?.count ?? 0);
  const size = outcomeRows.reduce((n, o) => n + Number(o.count), 0);
  const reachedAt = (position: number) => reached.get(position)?.reached ?? 0;
  const stages = layout.columns.map((stage, position): FunnelStage => {
    const here = reachedAt(position);
    const isLast = position === layout.columns.length - 1;
    const next = isLast ? null : reachedAt(position + 1);
    const median = reached.get(position)?.medianDays ?? null;
    return {
      stageId: stage.stageId,
      name: stage.name,
      reached: here,
      conversionToNext: next === null || here === 0 ? null : ratio(next, here),
      dropOff: next === null ? null : here - next,
      medianDaysToReach: median === null ? null : Math.round(median * 100) / 100,
      daysInStageP50: roundedDays(columns[position].p50),
      daysInStageP90: roundedDays(columns[position].p90),
    };
  });
  return {
    policy: request.policy,
    cohort: {
      size,
      open: countOf('open'),
      won: countOf('won'),
      lost: countOf('lost'),
      disqualified: countOf('disqualified'),
    },
    winRate: size === 0 ? null : ratio(countOf('won'), size),
    stages,
    transitions: matrixRows.map((m) => ({ fromStageId: m.from_stage, toStageId: m.to_stage, count: Number(m.count) })),
  };
}

/** A column's figures from the per-column statement (text, as PostgreSQL printed the float8s). */
interface ColumnFigures {
  entered: number;
  median: string | null;
  p50: string | null;
  p90: string | null;
  inOrder: number;
  inOrderMedian: string | null;
}

/** The figures of the column at `position` from the per-column statement's one row. */
function columnFigures(row: Record<string, unknown>, position: number): ColumnFigures {
  const at = <T>(name: string) => row[`${name}_${position}`] as T;
  const days = at<string[] | null>('days');
  return {
    entered: Number(at<string>('entered')),
    median: at<string | null>('median'),
    p50: days?.[0] ?? null,
    p90: days?.[1] ?? null,
    inOrder: Number(at<string | null>('in_order') ?? 0),
    inOrderMedian: at<string | null>('in_order_median'),
  };
}

/** The deals row's columns per axis: when its last change happened, and its creation. */
function dealColumns(axis: AsOf['axis']) {
  return axis === 'occurred'
    ? { effectiveAt: sql.raw('effective_at'), createdAtOfDeal: sql.raw('created_at') }
    : { effectiveAt: sql.raw('recorded_at'), createdAtOfDeal: sql.raw('created_recorded_at') };
}

/**
 * A report statement run with JIT compilation off (`set local`, in a transaction of its own): these are
 * short analytic queries whose estimated cost (percentiles, subplans over the whole cohort) makes
 * PostgreSQL spend longer inlining and optimizing machine code than running them, and with room to sort
 * the cohort in memory. `hashed`: sorts priced out, for a grouping the planner would sort although
 * hashing is cheaper — a map's cells grouped by (column, deal): 435k rows sorted by deal id took twice
 * as long as hashing them at 1M events (the planner overestimates the groups). Inside a caller's
 * transaction, run as it is.
 */
async function analytic<R>(db: ReadModelDb, query: RawBuilder<R>, options: { hashed?: boolean } = {}) {
  if (db.isTransaction) return query.execute(db);
  return db.transaction().execute(async (trx) => {
    await sql`select set_config('jit', 'off', true), set_config('work_mem', '32MB', true),
      set_config('enable_sort', ${options.hashed ? 'off' : 'on'}, true)`.execute(trx);
    return query.execute(trx);
  });
}

/**
 * Strict by ranking the first entries at query time: a deal's first entries ranked in time order (ties
 * by board position); it strictly reached the stage at rank k when ranks 0…k are positions 0…k — a
 * skipped stage entered later repairs nothing. Both windows order the same way, so one sort serves both.
 */
function strictByWindow(ctes: RawBuilder<unknown>) {
  const days = sql`${ms(sql`first_at - created_at`)} / 86400000`;
  return sql<{ position: number; reached: string; median: string | null }>`
      with ${ctes},
      ranked as (
        select *, row_number() over (partition by deal_id order by first_at, position) - 1 as rank from entries
      ),
      judged as (
        select *, bool_and(rank = position) over (partition by deal_id order by first_at, position rows between unbounded preceding and current row) as strict_ok
        from ranked
      )
      select position, count(*)::text as reached, (percentile_cont(0.5) within group (order by ${days}))::text as median
      from judged where strict_ok group by position`;
}

/**
 * Per column position: how many cohort deals reached it under the policy, and the median days from
 * creation to first entry over those that actually entered it. `any`: the deals that entered it;
 * `strict`: the in-order ones (the projection's flags, or the window's ranking); `implied`: a deal whose
 * furthest column is f reached every column up to f (medians over actual entries).
 */
function reachedPerColumn(
  policy: FunnelPolicy,
  columns: readonly ColumnFigures[],
  furthest: readonly { furthest: number; deals: number }[],
  byWindow: readonly { position: number; reached: string; median: string | null }[] | undefined,
): Map<number, { reached: number; medianDays: number | null }> {
  const result = new Map<number, { reached: number; medianDays: number | null }>();
  if (policy === 'strict') {
    if (byWindow) {
      for (const r of byWindow)
        result.set(r.position, { reached: Number(r.reached), medianDays: numberOrNull(r.median) });
    } else {
      columns.forEach((c, position) => {
        if (c.inOrder > 0) result.set(position, { reached: c.inOrder, medianDays: numberOrNull(c.inOrderMedian) });
      });
    }
    return result;
  }
  columns.forEach((c, position) => result.set(position, { reached: c.entered, medianDays: numberOrNull(c.median) }));
  if (policy === 'any') return result;
  const top = Math.max(-1, ...furthest.map((f) => f.furthest));
  for (let position = 0; position <= top; position++) {
    const implied = furthest.filter((f) => f.furthest >= position).reduce((n, f) => n + f.deals, 0);
    result.set(position, { reached: implied, medianDays: result.get(position)?.medianDays ?? null });
  }
  return result;
}

/**
 * An interval in whole milliseconds as float8 (instants are kept to the millisecond): exact, and the
 * days computed from it in float8 — numeric arithmetic over the whole cohort cost a third of the pass.
 */
const ms = (interval: RawBuilder<unknown>) => sql`round(date_part('epoch', ${interval}) * 1000)`;

const numberOrNull = (text: string | null): number | null => (text === null ? null : Number(text));

/** Days in a stage, to two decimals. */
const roundedDays = (text: string | null) => (text === null ? null : Math.round(Number(text) * 100) / 100);

/** Ratios are reported to 4 decimals. */
export function ratio(numerator: number, denominator: number): number {
  return Math.round((numerator / denominator) * 10_000) / 10_000;
}
