/**
 * What the API demands of a bearer token beyond its signature: a bounded lifetime, believable
 * timestamps and a subject that can be recorded as an actor. Pure, so the guard, the CLI and the
 * tests share one rule (README "Configuration": AUTH_MAX_TOKEN_LIFETIME, AUTH_CLOCK_SKEW).
 */
export interface TokenPolicy {
  /** Longest accepted `exp − iat` (or `exp − now` without `iat`), in seconds. */
  readonly maxLifetimeSeconds: number;
  /** Slack for clocks that disagree, applied to `exp`, `nbf` and `iat`, in seconds. */
  readonly clockSkewSeconds: number;
}

/** 24 hours: a working day with margin; the CLI mints 12 h tokens by default. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;
/** 30 seconds: NTP-synchronised hosts are well within it. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;

export const DEFAULT_TOKEN_POLICY: TokenPolicy = {
  maxLifetimeSeconds: DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  clockSkewSeconds: DEFAULT_CLOCK_SKEW_SECONDS,
};

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * A duration such as `90`, `90s`, `30m`, `12h` or `7d`, in whole seconds; throws on anything else.
 *
 * @example parseDurationSeconds('12h', 'AUTH_MAX_TOKEN_LIFETIME') // 43200
 */
export function parseDurationSeconds(value: string, name: string): number {
  const match = /^(\d{1,9})([smhd]?)$/.exec(value.trim());
  if (!match)
    throw new RangeError(
      `${name} must be a whole number of seconds or a duration such as 30m, 12h, 7d (got ${JSON.stringify(value)})`,
    );
  return Number(match[1]) * UNITS[match[2] || 's'];
}

/**
 * The reason a verified token's time claims are not acceptable, or undefined when they are.
 * `exp`, `iat` and `nbf` are seconds since the epoch; `nowSeconds` likewise. The signature library
 * has already checked `exp` and `nbf` against the clock; this adds the lifetime bound and refuses
 * an `iat` in the future.
 */
export function tokenTimeProblem(
  claims: { exp?: unknown; iat?: unknown; nbf?: unknown },
  nowSeconds: number,
  policy: TokenPolicy,
): string | undefined {
  const { exp, iat, nbf } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'The token has no usable exp';
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) return 'The token has an unusable iat';
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf))) return 'The token has an unusable nbf';
  if (exp <= nowSeconds - policy.clockSkewSeconds) return 'The token has expired';
  if (typeof nbf === 'number' && nbf > nowSeconds + policy.clockSkewSeconds) return 'The token is not valid yet (nbf)';
  if (typeof iat === 'number' && iat > nowSeconds + policy.clockSkewSeconds)
    return 'The token is issued in the future (iat)';
  // Without iat, the lifetime left is what counts; the issuer's clock may run ahead by the skew.
  const lifetime = typeof iat === 'number' ? exp - iat : exp - nowSeconds - policy.clockSkewSeconds;
  if (lifetime > policy.maxLifetimeSeconds)
    return `The token lives longer than the accepted maximum of ${policy.maxLifetimeSeconds} s`;
  return undefined;
}

/**
 * Whether a `sub` can be recorded as an actor: 1..200 characters, well-formed UTF-16 (no lone
 * surrogates), no control characters (C0, DEL, C1, which includes NUL), no line or paragraph
 * separators and no bidirectional overrides (they make one id display as another).
 */
export function isUsableSubject(sub: unknown): sub is string {
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 200) return false;
  // In a `u` regex a lone surrogate is a code point of category Cs; a well-formed pair is not.
  return !/[\p{Cc}\p{Cs}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u.test(sub);
}
