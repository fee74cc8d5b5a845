import { nameList, parseInstant } from './query-fields.js';

describe('parseInstant', () => {
  it('reads Z and offset instants, to the millisecond', () => {
    expect(parseInstant('2026-03-01T10:00:00Z')?.toISOString()).toBe('2026-03-01T10:00:00.000Z');
    expect(parseInstant('2026-03-01T11:00:00.250+01:00')?.toISOString()).toBe('2026-03-01T10:00:00.250Z');
    expect(parseInstant('2026-03-01T04:30-05:30')?.toISOString()).toBe('2026-03-01T10:00:00.000Z');
    expect(parseInstant('2026-03-01T10:00:00.123999Z')?.toISOString()).toBe('2026-03-01T10:00:00.123Z');
    expect(parseInstant('2024-02-29T00:00:00Z')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
  });

  it('refuses dates that do not exist, missing zones and out-of-range times', () => {
    for (const bad of [
      '2026-02-29T00:00:00Z',
      '2026-02-31T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-03-01T24:00:00Z',
      '2026-03-01T10:60:00Z',
      '2026-03-01T10:00:60Z',
      '2026-03-01T10:00:00',
      '2026-03-01',
      '2026-03-01T10:00:00+24:00',
      'yesterday',
    ]) {
      expect([bad, parseInstant(bad)]).toEqual([bad, undefined]);
    }
  });
});

describe('parseInstant: the documented range 1900-01-01T00:00:00Z..9999-12-31T23:59:59.999Z', () => {
  it.each([
    '1900-01-01T00:00:00Z',
    '1900-01-01T01:00:00+01:00',
    '9999-12-31T23:59:59.999Z',
    '9999-12-31T23:59:59.999+14:00',
  ])('accepts %s', (value) => {
    expect(parseInstant(value)).toBeInstanceOf(Date);
  });

  it.each([
    '0000-01-01T00:00:00Z', // PostgreSQL has no year 0; Date.UTC would read it as 1900
    '0099-01-01T00:00:00Z',
    '1899-12-31T23:59:59.999Z',
    '1900-01-01T00:00:00+00:01', // 1899 in UTC
    '9999-12-31T23:59:59.999-00:01', // year 10000 in UTC
    '2026-01-01T00:00:00', // no zone
    '2026-01-01T00:00:00.0000000000000000000000000000001Z', // absurdly long
  ])('refuses %s', (value) => {
    expect(parseInstant(value)).toBeUndefined();
  });
});

describe('nameList', () => {
  it('splits and de-duplicates', () => {
    expect(nameList('DealWon,DealLost,DealWon')).toEqual(['DealWon', 'DealLost']);
    expect(nameList(undefined)).toBeUndefined();
  });
});
