import { seriesBuckets } from './series.js';

const iso = (buckets: { from: Date; to: Date }[] | undefined) =>
  buckets?.map((b) => `${b.from.toISOString().slice(0, 10)}→${b.to.toISOString().slice(0, 10)}`);

describe('seriesBuckets', () => {
  it('months: clipped first and last bucket, calendar months between', () => {
    expect(iso(seriesBuckets(new Date('2025-01-15T00:00:00Z'), new Date('2025-04-10T00:00:00Z'), 'month'))).toEqual([
      '2025-01-15→2025-02-01',
      '2025-02-01→2025-03-01',
      '2025-03-01→2025-04-01',
      '2025-04-01→2025-04-10',
    ]);
  });

  it('quarters start in January, April, July, October; a year of months is 12 buckets', () => {
    expect(iso(seriesBuckets(new Date('2024-11-01T00:00:00Z'), new Date('2025-08-01T00:00:00Z'), 'quarter'))).toEqual([
      '2024-11-01→2025-01-01',
      '2025-01-01→2025-04-01',
      '2025-04-01→2025-07-01',
      '2025-07-01→2025-08-01',
    ]);
    expect(seriesBuckets(new Date('2025-01-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z'), 'month')).toHaveLength(12);
  });

  it('weeks are ISO weeks (Monday 00:00 UTC); a Monday start is not cut', () => {
    // 2025-01-01 is a Wednesday; 2025-01-06 and 2025-01-13 are Mondays.
    expect(iso(seriesBuckets(new Date('2025-01-01T12:00:00Z'), new Date('2025-01-15T00:00:00Z'), 'week'))).toEqual([
      '2025-01-01→2025-01-06',
      '2025-01-06→2025-01-13',
      '2025-01-13→2025-01-15',
    ]);
    expect(iso(seriesBuckets(new Date('2025-01-06T00:00:00Z'), new Date('2025-01-13T00:00:00Z'), 'week'))).toEqual([
      '2025-01-06→2025-01-13',
    ]);
    // A Sunday goes to the next day's Monday.
    expect(iso(seriesBuckets(new Date('2025-01-05T23:00:00Z'), new Date('2025-01-07T00:00:00Z'), 'week'))).toEqual([
      '2025-01-05→2025-01-06',
      '2025-01-06→2025-01-07',
    ]);
  });

  it('5 years of weeks fit; beyond the bound it is undefined', () => {
    expect(seriesBuckets(new Date('2020-01-06T00:00:00Z'), new Date('2025-01-06T00:00:00Z'), 'week')).toHaveLength(261);
    expect(seriesBuckets(new Date('2000-01-01T00:00:00Z'), new Date('2025-01-01T00:00:00Z'), 'week')).toBeUndefined();
  });
});
