/** The buckets of a time series (docs/metrics.md, "Time series"). */
export type SeriesInterval = 'week' | 'month' | 'quarter';
export const SERIES_INTERVALS: readonly SeriesInterval[] = ['week', 'month', 'quarter'];

/** More points than this in one series is refused: 5 years of weeks fit (261). */
export const MAX_SERIES_POINTS = 600;

export interface Bucket {
  readonly from: Date;
  readonly to: Date;
}

/**
 * [from, to) cut at calendar boundaries in UTC: ISO weeks (Monday 00:00), months, quarters (January,
 * April, July, October). The first and last buckets are clipped to the period, so their union is
 * exactly [from, to) and no instant is in two buckets. undefined when there would be more than
 * `max` buckets.
 *
 * @example seriesBuckets(new Date('2025-01-15Z'), new Date('2025-03-01Z'), 'month')
 *   // [Jan 15 → Feb 1), [Feb 1 → Mar 1)
 */
export function seriesBuckets(
  from: Date,
  to: Date,
  interval: SeriesInterval,
  max = MAX_SERIES_POINTS,
): Bucket[] | undefined {
  const buckets: Bucket[] = [];
  let start = from;
  while (start < to) {
    if (buckets.length === max) return undefined;
    const boundary = nextBoundary(start, interval);
    const end = boundary < to ? boundary : to;
    buckets.push({ from: start, to: end });
    start = end;
  }
  return buckets;
}

/** The first calendar boundary of the interval strictly after `t`. */
function nextBoundary(t: Date, interval: SeriesInterval): Date {
  const y = t.getUTCFullYear();
  const m = t.getUTCMonth();
  if (interval === 'month') return new Date(Date.UTC(y, m + 1, 1));
  if (interval === 'quarter') return new Date(Date.UTC(y, Math.floor(m / 3) * 3 + 3, 1));
  const midnight = Date.UTC(y, m, t.getUTCDate());
  const daysToMonday = (8 - t.getUTCDay()) % 7 || 7;
  return new Date(midnight + daysToMonday * 86_400_000);
}
