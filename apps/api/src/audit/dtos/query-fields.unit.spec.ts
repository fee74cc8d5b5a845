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
    for (const bad of ['2026-02-29T00:00:00Z', '2026-02-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-03-01T24:00:00Z', '2026-03-01T10:60:00Z', '2026-03-01T10:00:60Z', '2026-03-01T10:00:00', '2026-03-01', '2026-03-01T10:00:00+24:00', 'yesterday']) {
      expect([bad, parseInstant(bad)]).toEqual([bad, undefined]);
    }
  });
});

describe('nameList', () => {
  it('splits and de-duplicates', () => {
    expect(nameList('DealWon,DealLost,DealWon')).toEqual(['DealWon', 'DealLost']);
    expect(nameList(undefined)).toBeUndefined();
  });
});
