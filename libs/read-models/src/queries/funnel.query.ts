import { sql, type RawBuilder } from 'kysely';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { pipelineDefinition } from './pipeline-definition.query.js';
import { layoutSql, stageLayout, type ReportStageMap } from './stage-layout.js';
import { dealInSegment, type Segment } from './segment.js';
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
  const { transitionAt, validFrom, validTo, firstAt, createdAt, enteredAt, exitedAt, visitsMs, openSince, settledAt } =
    axisColumns(request.asOf.axis);
  const instant = timestamp(request.asOf.at ?? request.now);
  const from = timestamp(request.from);
  const to = timestamp(request.to);
  const inSegment = (dealId: RawBuilder<unknown>) =>
    dealInSegment(schema, request.segment, dealId, request.asOf, request.now);
  const cohort = sql`(select deal_id, ${transitionAt} as created_at from ${s}.stage_transitions t
      where pipeline_id = ${pipelineId}::uuid and kind = 'created' and ${transitionAt} >= ${from} and ${transitionAt} < ${to} and ${transitionAt} <= ${instant}
      ${inSegment(sql`t.deal_id`)})`;

  // The cohort's first entries per column position (live stage or map target), by the instant (first entries only grow
  // later, so the earliest one is the first one as of any instant after it).
  const entries = sql`
    select e.deal_id, def.position, min(e.${firstAt}) as first_at, min(e.${createdAt}) as created_at
    from ${s}.stage_first_entries e join def on def.stage_id = e.stage_id
    where e.pipeline_id = ${pipelineId}::uuid and e.${createdAt} >= ${from} and e.${createdAt} < ${to} and e.${createdAt} <= ${instant}
      and e.${firstAt} <= ${instant} ${inSegment(sql`e.deal_id`)}
    group by e.deal_id, def.position`;
  // A deal's total days in a stage as of the instant (every visit; an open one up to the instant): the
  // visits' lengths the projection keeps, when no visit began or ended after the instant; otherwise
  // summed from its intervals.
  const daysInStageAsOf = sql`case when e.${settledAt} <= ${instant}
      then (e.${visitsMs} + coalesce(extract(epoch from ${instant} - e.${openSince}) * 1000, 0)) / 86400000.0
      else (select sum(extract(epoch from least(coalesce(i.${exitedAt}, ${instant}), ${instant}) - i.${enteredAt}) / 86400)
            from ${s}.stage_intervals i where i.deal_id = e.deal_id and i.stage_id = e.stage_id and i.${enteredAt} <= ${instant})
    end`;
  // The four parts are independent: asked at once (on a pool, four connections).
  const [reached, { rows: outcomes }, { rows: matrix }, { rows: timeInStage }] = await Promise.all([
    reachedPerPosition(db, request.policy, sql`def as (select * from ${layoutSql(layout)}), entries as (${entries})`),
    sql<{ status: string; count: string }>`
    with cohort as ${cohort}
    select v.status, count(*)::text as count from ${s}.deal_versions v join cohort c on c.deal_id = v.deal_id
    where v.${validFrom} <= ${instant} and v.${validTo} > ${instant} group by v.status`.execute(db),
    sql<{ from_stage: string; to_stage: string; count: string }>`
    with def as (select * from ${layoutSql(layout)})
    select f.live_stage_id as from_stage, d.live_stage_id as to_stage, count(*)::text as count
    from ${s}.stage_transitions t join def f on f.stage_id = t.from_stage_id join def d on d.stage_id = t.to_stage_id
    where t.pipeline_id = ${pipelineId}::uuid and t.kind in ('moved', 'reopened')
      and t.${transitionAt} >= ${from} and t.${transitionAt} < ${to} and t.${transitionAt} <= ${instant}
      ${layout.mapped ? sql`and f.live_stage_id <> d.live_stage_id` : sql``} ${inSegment(sql`t.deal_id`)}
    group by f.position, d.position, 1, 2 order by f.position, d.position, 1, 2`.execute(db),
    sql<{ position: number; p50: string; p90: string }>`
    with def as (select * from ${layoutSql(layout)}),
    per_deal as (
      select def.position, e.deal_id, sum(${daysInStageAsOf}) as days
      from ${s}.stage_first_entries e join def on def.stage_id = e.stage_id
      where e.pipeline_id = ${pipelineId}::uuid and e.${createdAt} >= ${from} and e.${createdAt} < ${to} and e.${createdAt} <= ${instant}
        and e.${firstAt} <= ${instant} ${inSegment(sql`e.deal_id`)}
      group by def.position, e.deal_id
    )
    select position, (percentile_cont(0.5) within group (order by days))::text as p50,
           (percentile_cont(0.9) within group (order by days))::text as p90
    from per_deal group by position`.execute(db),
  ]);

  const countOf = (status: string) => Number(outcomes.find((o) => o.status === status)?.count ?? 0);
  const size = outcomes.reduce((n, o) => n + Number(o.count), 0);
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
      ...daysInStage(timeInStage.find((t) => t.position === position)),
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
    transitions: matrix.map((m) => ({ fromStageId: m.from_stage, toStageId: m.to_stage, count: Number(m.count) })),
  };
}

/**
 * Per column position: how many cohort deals reached it under the policy, and the median days
 * from creation to first entry over those that actually entered it. Each policy computes only what
 * it reports (the window passes that judge time order are `strict`'s alone).
 */
async function reachedPerPosition(
  db: ReadModelDb,
  policy: FunnelPolicy,
  ctes: RawBuilder<unknown>,
): Promise<Map<number, { reached: number; medianDays: number | null }>> {
  const days = sql`extract(epoch from first_at - created_at) / 86400`;
  const result = new Map<number, { reached: number; medianDays: number | null }>();
  if (policy === 'strict') {
    // A deal's first entries ranked in time order (ties by board position): it strictly reached the
    // stage at rank k when ranks 0…k are positions 0…k — a skipped stage entered later repairs nothing.
    // Both windows order the same way (rank follows from first_at, position), so one sort serves both.
    const { rows } = await sql<{ position: number; reached: string; median: string | null }>`
      with ${ctes},
      ranked as (
        select *, row_number() over (partition by deal_id order by first_at, position) - 1 as rank from entries
      ),
      judged as (
        select *, bool_and(rank = position) over (partition by deal_id order by first_at, position rows between unbounded preceding and current row) as strict_ok
        from ranked
      )
      select position, count(*)::text as reached, (percentile_cont(0.5) within group (order by ${days}))::text as median
      from judged where strict_ok group by position`.execute(db);
    for (const r of rows) result.set(r.position, { reached: Number(r.reached), medianDays: numberOrNull(r.median) });
    return result;
  }
  // any: entries per position. implied: the same medians (an implied pass has no time), and a deal
  // whose furthest stage is f counts as having reached every stage up to f — from the same scan.
  const { rows } = await sql<{
    position: number | null;
    furthest: number | null;
    deals: string;
    median: string | null;
  }>`
    with ${ctes}
    select position, null::int as furthest, count(*)::text as deals, (percentile_cont(0.5) within group (order by ${days}))::text as median
    from entries group by position
    ${
      policy === 'implied'
        ? sql`union all
    select null, furthest, count(*)::text, null from (select max(position) as furthest from entries group by deal_id) f group by furthest`
        : sql``
    }`.execute(db);
  for (const r of rows) {
    if (r.position !== null) result.set(r.position, { reached: Number(r.deals), medianDays: numberOrNull(r.median) });
  }
  if (policy === 'any') return result;
  const furthest = rows
    .filter((r) => r.furthest !== null)
    .map((r) => ({ furthest: r.furthest!, deals: Number(r.deals) }));
  const top = Math.max(-1, ...furthest.map((f) => f.furthest));
  for (let position = 0; position <= top; position++) {
    const implied = furthest.filter((f) => f.furthest >= position).reduce((n, f) => n + f.deals, 0);
    result.set(position, { reached: implied, medianDays: result.get(position)?.medianDays ?? null });
  }
  return result;
}

const numberOrNull = (text: string | null): number | null => (text === null ? null : Number(text));

function daysInStage(row: { p50: string; p90: string } | undefined) {
  const days = (text: string | undefined) => (text === undefined ? null : Math.round(Number(text) * 100) / 100);
  return { daysInStageP50: days(row?.p50), daysInStageP90: days(row?.p90) };
}

/** Ratios are reported to 4 decimals. */
export function ratio(numerator: number, denominator: number): number {
  return Math.round((numerator / denominator) * 10_000) / 10_000;
}
