import type { Funnel } from './funnel.query.js';
import type { Velocity } from './velocity.query.js';
import type { Bucket } from './series.js';

/** What a report is compared with (docs/metrics.md, "Comparisons"). */
export type ComparePeriod = 'previous-period' | 'previous-year';
export const COMPARE_PERIODS: readonly ComparePeriod[] = ['previous-period', 'previous-year'];

/**
 * The period a report's [from, to) is compared with: the equally long period just before it
 * (`previous-period`), or the same calendar dates a year earlier (`previous-year`; 29 February
 * becomes 1 March, as JavaScript's calendar arithmetic in UTC does).
 */
export function comparisonPeriod(period: Bucket, compare: ComparePeriod): Bucket {
  if (compare === 'previous-period') {
    const length = period.to.getTime() - period.from.getTime();
    return { from: new Date(period.from.getTime() - length), to: period.from };
  }
  const yearEarlier = (d: Date) => {
    const e = new Date(d);
    e.setUTCFullYear(e.getUTCFullYear() - 1);
    return e;
  };
  return { from: yearEarlier(period.from), to: yearEarlier(period.to) };
}

/** current − previous; null when either is null. Ratios keep 4 decimals, days 2. */
const delta = (current: number | null, previous: number | null, decimals = 0): number | null =>
  current === null || previous === null ? null : Number((current - previous).toFixed(decimals)) + 0;

export interface FunnelDeltas {
  readonly cohortSize: number;
  readonly won: number;
  readonly winRate: number | null;
  /** Per column of the current answer (matched by stageId; a column the other lacks counts 0 reached). */
  readonly stages: { stageId: string; reached: number; conversionToNext: number | null }[];
}

export function funnelDeltas(current: Funnel, previous: Funnel): FunnelDeltas {
  return {
    cohortSize: current.cohort.size - previous.cohort.size,
    won: current.cohort.won - previous.cohort.won,
    winRate: delta(current.winRate, previous.winRate, 4),
    stages: current.stages.map((stage) => {
      const before = previous.stages.find((s) => s.stageId === stage.stageId);
      return {
        stageId: stage.stageId,
        reached: stage.reached - (before?.reached ?? 0),
        conversionToNext: delta(stage.conversionToNext, before?.conversionToNext ?? null, 4),
      };
    }),
  };
}

export interface VelocityDeltas {
  readonly opportunities: number;
  readonly won: number;
  readonly lost: number;
  readonly winRatePeriod: number | null;
  readonly winRateCohort: number | null;
  readonly averageCycleDays: number | null;
  /** Every currency of either period, in code order; a currency absent from one counts 0 opportunities and wins. */
  readonly byCurrency: {
    currency: string;
    opportunities: number;
    won: number;
    wonAmount: number;
    lost: number;
    lostAmount: number;
    averageWonAmount: number | null;
    velocityPerDay: number | null;
  }[];
}

export function velocityDeltas(current: Velocity, previous: Velocity): VelocityDeltas {
  const currencies = [
    ...new Set([...current.byCurrency.map((c) => c.currency), ...previous.byCurrency.map((c) => c.currency)]),
  ].sort();
  return {
    opportunities: current.opportunities - previous.opportunities,
    won: current.won - previous.won,
    lost: current.lost - previous.lost,
    winRatePeriod: delta(current.winRatePeriod, previous.winRatePeriod, 4),
    winRateCohort: delta(current.winRateCohort, previous.winRateCohort, 4),
    averageCycleDays: delta(current.averageCycleDays, previous.averageCycleDays, 2),
    byCurrency: currencies.map((currency) => {
      const now = current.byCurrency.find((c) => c.currency === currency);
      const before = previous.byCurrency.find((c) => c.currency === currency);
      return {
        currency,
        opportunities: (now?.opportunities ?? 0) - (before?.opportunities ?? 0),
        won: (now?.won ?? 0) - (before?.won ?? 0),
        wonAmount: (now?.wonAmount ?? 0) - (before?.wonAmount ?? 0),
        lost: (now?.lost ?? 0) - (before?.lost ?? 0),
        lostAmount: (now?.lostAmount ?? 0) - (before?.lostAmount ?? 0),
        averageWonAmount: delta(now?.averageWonAmount ?? null, before?.averageWonAmount ?? null),
        velocityPerDay: delta(now?.velocityPerDay ?? null, before?.velocityPerDay ?? null),
      };
    }),
  };
}
