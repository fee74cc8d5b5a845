import fc from 'fast-check';
import { realDateTime } from './calendar.js';

/** realDateTime as it was written first (a regular expression and a Date): the reference. */
function byExpression(text: string): boolean {
  const [, y, m, d, hh = '0', mm = '0', ss = '0'] =
    /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(text) ?? [];
  if (y === undefined) return false;
  const days = new Date(Date.UTC(Number(y), Number(m), 0)).getUTCDate();
  return (
    Number(m) >= 1 &&
    Number(m) <= 12 &&
    Number(d) >= 1 &&
    Number(d) <= days &&
    Number(hh) <= 23 &&
    Number(mm) <= 59 &&
    Number(ss) <= 59
  );
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

describe('realDateTime', () => {
  it.each([
    ['2024-02-29T10:00:00Z', true],
    ['2025-02-29T10:00:00Z', false],
    ['2025-02-30', false],
    ['2025-04-31T00:00:00Z', false],
    ['2025-12-31T23:59:59.999+01:00', true],
    ['2025-12-31T24:00:00Z', false],
    ['2025-12-31T23:60:00Z', false],
    ['2025-12-31T23:59:60Z', false],
    ['2000-02-29', true], // divisible by 400
    ['2100-02-29', false], // by 100, not by 400
    ['0000-02-29', false], // Date.UTC reads year 0 as 1900
    ['2025-13-01', false],
    ['2025-00-10', false],
    ['2025-01-00', false],
    ['2025-1-10', false],
    ['20250110', false],
    ['', false],
    ['2025-01-10T7:00:00Z', true], // no whole `Thh:mm`: only the date is checked (the schema refuses the form)
  ])('%j → %s', (text, real) => {
    expect(realDateTime(text)).toBe(real);
    expect(byExpression(text)).toBe(real);
  });

  it('answers as the regular expression did for every day of the months around leap years', () => {
    for (const year of [0, 4, 99, 100, 400, 1900, 1999, 2000, 2023, 2024, 2100, 9999]) {
      for (let month = 0; month <= 13; month++) {
        for (let day = 0; day <= 32; day++) {
          const date = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
          expect([date, realDateTime(date)]).toEqual([date, byExpression(date)]);
        }
      }
    }
  });

  it('answers as the regular expression did for arbitrary times and near-misses', () => {
    const field = (width: number, max: number) =>
      fc.oneof(
        fc.integer({ min: 0, max }).map((n) => pad(n, width)),
        fc.string({ maxLength: width + 1, unit: fc.constantFrom('0', '1', '9', 'a', ':', '-', 'T', ' ') }),
      );
    const text = fc
      .tuple(
        field(4, 9999),
        fc.constantFrom('-', '/'),
        field(2, 19),
        fc.constantFrom('-', ''),
        field(2, 39),
        fc.constantFrom('T', 't', ' ', ''),
        field(2, 29),
        fc.constantFrom(':', ''),
        field(2, 69),
        fc.constantFrom(':', '', '.'),
        field(2, 69),
        fc.constantFrom('Z', '+01:00', '', '.123Z'),
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (value) => realDateTime(value) === byExpression(value)),
      { numRuns: 20_000 },
    );
  });
});
