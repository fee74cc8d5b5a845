import { minorUnits, vendorDate, vendorInstant } from './vendor-values.js';

describe('vendorInstant', () => {
  it.each([
    ['2025-01-05T19:00:00-05:00', '2025-01-06T00:00:00.000Z'],
    ['2025-01-01T00:00:00.000+0000', '2025-01-01T00:00:00.000Z'], // Salesforce's zone has no colon
    ['2025-01-01T00:00:00.012Z', '2025-01-01T00:00:00.012Z'],
    ['1735689600000', '2025-01-01T00:00:00.000Z'], // epoch milliseconds (HubSpot's legacy API)
  ])('%s is %s', (text, iso) => expect(vendorInstant(text)).toBe(iso));

  it.each(['2025-01-01 00:00:00', '2025-01-01', '1/5/2025 7:00 PM', '2025-02-30T00:00:00Z', '', 'soon'])(
    'refuses %j: no zone, or no instant',
    (text) => expect(vendorInstant(text)).toBeUndefined(),
  );

  it("reads Pipedrive's zone-less times as UTC, as its API documents, and only when told", () => {
    expect(vendorInstant('2025-01-10 00:00:00', { utcWithoutZone: true })).toBe('2025-01-10T00:00:00.000Z');
    expect(vendorInstant('2025-01-10 00:00:00')).toBeUndefined();
    expect(vendorInstant('05/01/2025 00:00', { utcWithoutZone: true })).toBeUndefined();
  });
});

describe('vendorDate', () => {
  it('takes a date, the UTC date of a datetime, and empty as none', () => {
    expect(vendorDate('2025-03-31')).toBe('2025-03-31');
    expect(vendorDate('2025-03-31T23:30:00-02:00')).toBe('2025-04-01');
    expect(vendorDate('')).toBeNull();
    expect(vendorDate('31/03/2025')).toBeUndefined();
    expect(vendorDate('2025-02-29')).toBeUndefined(); // not a leap year
    expect(vendorDate('2024-02-29')).toBe('2024-02-29');
  });
});

describe('minorUnits', () => {
  it.each([
    ['1234.50', 'EUR', 123450],
    [1234.5, 'EUR', 123450],
    ['1000', 'JPY', 1000], // no minor unit
    ['1.005', 'BHD', 1005], // three
    ['12.30', 'JPY', undefined],
    ['', 'EUR', 0],
  ])('%j %s → %s', (value, currency, amount) => {
    const result = minorUnits(value, currency);
    if (amount === undefined)
      expect(result).toEqual({ error: "amount 12.30 has more decimals than JPY's 0 minor-unit digits" });
    else expect(result).toEqual({ amount });
  });

  it('refuses sub-minor units, negatives and words', () => {
    expect(minorUnits('3000.005', 'EUR')).toEqual({
      error: "amount 3000.005 has more decimals than EUR's 2 minor-unit digits",
    });
    expect(minorUnits('-5', 'EUR')).toEqual({ error: 'amount "-5" is not a non-negative decimal number' });
    expect(minorUnits('1,000.00', 'EUR')).toEqual({ error: 'amount "1,000.00" is not a non-negative decimal number' });
  });
});
