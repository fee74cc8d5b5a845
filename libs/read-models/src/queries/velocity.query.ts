import { sql, type RawBuilder } from 'kysely';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { ratio } from './funnel.query.js';
import { round2 } from './pipeline-metrics.query.js';
import { dealInSegment, dealOnRowInSegment, type Segment } from './segment.js';
import { axisColumns, timestamp, type AsOf } from './time-axis.js';

export interface VelocityRequest {
  readonly from: Date;
  readonly to: Date;
  readonly asOf: AsOf;
  readonly now: Date;
  /** Only the deals of this segment: opportunities and closings alike (docs/metrics.md, "Segments"). */
  readonly segment?: Segment;
}

export interface Velocity {
  /** Deals created in [from, to). */
  readonly opportunities: number;
  /** Deals won / lost (closings) in [from, to). */
  readonly won: number;
  readonly lost: number;
  /** won ÷ (won + lost), both closed in the period. */
  readonly winRatePeriod: number | null;
  /** Share of the period's created deals won by the instant. */
  readonly winRateCohort: number | null;
  /** Mean of (won − created) in days over deals won in the period. */
  readonly averageCycleDays: number | null;
  /** Deals disqualified in the period (closings; not losses). */
  readonly disqualified: number;
  /** The period's losses by reason, most first (then by reason); a loss without one under null. */
  readonly lostReasons: { reason: string | null; count: number }[];
  /** The period's disqualifications by reason, most first (then by reason). */
  readonly disqualificationReasons: { reason: string | null; count: number }[];
  readonly byCurrency: {
    currency: string;
    opportunities: number;
    won: number;
    /** Σ won amount (minor units) of the deals won in the period: the won revenue. */
    wonAmount: number;
    /** Deals lost in the period (closings, as `lost`). */
    lost: number;
    /** Σ amount (minor units) of the deals lost in the period, as it stood at the loss: the lost value. */
    lostAmount: number;
    /** Mean won amount (minor units) of the deals won in the period. */
    averageWonAmount: number | null;
    /** opportunities × averageWonAmount × winRatePeriod ÷ averageCycleDays: expected won value per day. */
    velocityPerDay: number | null;
  }[];
}

/** Sales velocity and its inputs for a period, as known at the instant. Definitions: docs/metrics.md. */
export async function velocity(
  db: ReadModelDb,
  schema: string,
  pipelineId: string,
  request: VelocityRequest,
): Promise<Velocity> {
  // Raw: cohort and closing aggregates joined across tables on an axis chosen per request — beyond the builder's reach.
  const s = sql.id(schema);
  const { transitionAt, exitedAt } = axisColumns(request.asOf.axis);
  const instant = timestamp(request.asOf.at ?? request.now);
  const from = timestamp(request.from);
  const to = timestamp(request.to);
  const inSegment = (dealId: RawBuilder<unknown>) =>
    dealInSegment(schema, request.segment, dealId, request.asOf, request.now);

  const { rows: cohort } = await sql<{ currency: string; opportunities: string; won: string }>`
    with cohort as (
      select deal_id from ${s}.stage_transitions t
      where pipeline_id = ${pipelineId}::uuid and kind = 'created' and ${transitionAt} >= ${from} and ${transitionAt} < ${to} and ${transitionAt} <= ${instant}
        ${dealOnRowInSegment(schema, request.segment, sql`t.deal_kind`, sql`t.deal_id`, request.asOf, request.now)}
    )
    select v.currency, count(*)::text as opportunities,
           count(*) filter (where exists (select 1 from ${s}.stage_intervals i where i.deal_id = c.deal_id and i.exit_kind = 'won' and i.${exitedAt} <= ${instant}))::text as won
    from cohort c join ${s}.deal_versions v on v.deal_id = c.deal_id and v.revision = 0
    group by v.currency order by v.currency`.execute(db);

  const { rows: closings } = await sql<{
    deal_id: string;
    exit_kind: string;
    days: string;
    currency: string;
    amount: string;
  }>`
    select i.deal_id, i.exit_kind, (extract(epoch from i.${exitedAt} - w.created_at) / 86400)::text as days, w.currency,
           w.amount::text as amount
    from ${s}.stage_intervals i
    join lateral (select created_at, currency, amount from ${s}.deal_versions v
                  where v.deal_id = i.deal_id and v.revision >= i.entered_revision and v.status = i.exit_kind
                  order by v.revision limit 1) w on true
    where i.pipeline_id = ${pipelineId}::uuid and i.exit_kind in ('won', 'lost')
      and i.${exitedAt} >= ${from} and i.${exitedAt} < ${to} and i.${exitedAt} <= ${instant}
      ${inSegment(sql`i.deal_id`)}`.execute(db);

  const { rows: reasons } = await sql<{ exit_kind: string; reason: string | null; count: string }>`
    select i.exit_kind, i.exit_reason as reason, count(*)::text as count from ${s}.stage_intervals i
    where i.pipeline_id = ${pipelineId}::uuid and i.exit_kind in ('lost', 'disqualified')
      and i.${exitedAt} >= ${from} and i.${exitedAt} < ${to} and i.${exitedAt} <= ${instant}
      ${inSegment(sql`i.deal_id`)}
    group by 1, 2 order by count(*) desc, 2 nulls last`.execute(db);
  const byReason = (kind: string) =>
    reasons.filter((r) => r.exit_kind === kind).map((r) => ({ reason: r.reason, count: Number(r.count) }));

  const won = closings.filter((c) => c.exit_kind === 'won');
  const lost = closings.filter((c) => c.exit_kind === 'lost');
  const opportunities = cohort.reduce((n, c) => n + Number(c.opportunities), 0);
  const cohortWon = cohort.reduce((n, c) => n + Number(c.won), 0);
  const winRatePeriod = won.length + lost.length === 0 ? null : ratio(won.length, won.length + lost.length);
  const averageCycleDays = won.length === 0 ? null : round2(won.reduce((n, c) => n + Number(c.days), 0) / won.length);
  const currencies = [...new Set([...cohort.map((c) => c.currency), ...closings.map((c) => c.currency)])].sort();
  const sum = (rows: typeof closings) => rows.reduce((n, r) => n + Number(r.amount), 0);

  return {
    opportunities,
    won: won.length,
    lost: lost.length,
    winRatePeriod,
    winRateCohort: opportunities === 0 ? null : ratio(cohortWon, opportunities),
    averageCycleDays,
    disqualified: byReason('disqualified').reduce((n, r) => n + r.count, 0),
    lostReasons: byReason('lost'),
    disqualificationReasons: byReason('disqualified'),
    byCurrency: currencies.map((currency) => {
      const opps = Number(cohort.find((c) => c.currency === currency)?.opportunities ?? 0);
      const wonHere = won.filter((w) => w.currency === currency);
      const lostHere = lost.filter((l) => l.currency === currency);
      const averageWonAmount = wonHere.length === 0 ? null : Math.round(sum(wonHere) / wonHere.length);
      const velocityPerDay =
        averageWonAmount === null || winRatePeriod === null || !averageCycleDays
          ? null
          : Math.round((opps * averageWonAmount * winRatePeriod) / averageCycleDays);
      return {
        currency,
        opportunities: opps,
        won: wonHere.length,
        wonAmount: sum(wonHere),
        lost: lostHere.length,
        lostAmount: sum(lostHere),
        averageWonAmount,
        velocityPerDay,
      };
    }),
  };
}
