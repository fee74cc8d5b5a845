import { DEFAULT_TOKEN_POLICY, isUsableSubject, parseDurationSeconds, tokenTimeProblem } from './token-policy.js';

describe('token policy', () => {
  it('parses durations in seconds, minutes, hours and days, and nothing else', () => {
    expect([
      parseDurationSeconds('90', 'X'),
      parseDurationSeconds('90s', 'X'),
      parseDurationSeconds('30m', 'X'),
      parseDurationSeconds('12h', 'X'),
      parseDurationSeconds('7d', 'X'),
    ]).toEqual([90, 90, 1800, 43200, 604800]);
    for (const bad of ['', '12 hours', '1.5h', '-1h', '1e9', '12H', '1w', '9999999999'])
      expect(() => parseDurationSeconds(bad, 'AUTH_MAX_TOKEN_LIFETIME')).toThrow(/AUTH_MAX_TOKEN_LIFETIME/);
  });

  it('bounds exp − iat, or exp − now without iat, and refuses times ahead of the clock beyond the skew', () => {
    const now = 1_800_000_000;
    const p = { maxLifetimeSeconds: 3600, clockSkewSeconds: 30 };
    expect(tokenTimeProblem({ iat: now, exp: now + 3600 }, now, p)).toBeUndefined();
    expect(tokenTimeProblem({ iat: now - 3000, exp: now + 600 }, now, p)).toBeUndefined();
    expect(tokenTimeProblem({ iat: now, exp: now + 3601 }, now, p)).toMatch(/longer/);
    expect(tokenTimeProblem({ iat: now - 7200, exp: now + 60 }, now, p)).toMatch(/longer/);
    expect(tokenTimeProblem({ exp: now + 3600 }, now, p)).toBeUndefined();
    expect(tokenTimeProblem({ exp: now + 3631 }, now, p)).toMatch(/longer/);
    expect(tokenTimeProblem({ iat: now, exp: 1e300 }, now, p)).toMatch(/longer/);
    expect(tokenTimeProblem({ iat: now + 30, exp: now + 60 }, now, p)).toBeUndefined();
    expect(tokenTimeProblem({ iat: now + 31, exp: now + 60 }, now, p)).toMatch(/future/);
    expect(tokenTimeProblem({ iat: now, nbf: now + 31, exp: now + 60 }, now, p)).toMatch(/nbf/);
    expect(tokenTimeProblem({ iat: now - 100, exp: now - 30 }, now, p)).toMatch(/expired/);
    expect(tokenTimeProblem({ iat: now - 100, exp: now - 29 }, now, p)).toBeUndefined();
    expect(tokenTimeProblem({ iat: 'now', exp: now + 10 }, now, p)).toMatch(/iat/);
    expect(tokenTimeProblem({ iat: now }, now, p)).toMatch(/exp/);
    expect(DEFAULT_TOKEN_POLICY).toEqual({ maxLifetimeSeconds: 86400, clockSkewSeconds: 30 });
  });

  it('takes a sub of printable characters, astral ones included, and refuses controls, lone surrogates, separators and bidi overrides', () => {
    for (const good of ['alice', 'zoë', 'user-😀', 'idp|1234', 'x'.repeat(200)])
      expect([good, isUsableSubject(good)]).toEqual([good, true]);
    for (const bad of [
      '',
      'x'.repeat(201),
      '\u0000',
      'a\tb',
      'a\u009fb',
      '\uD83D',
      'a\uDE00',
      'a\u2029b',
      'a\u2066b',
      42,
      undefined,
    ]) {
      expect([bad, isUsableSubject(bad)]).toEqual([bad, false]);
    }
  });
});
