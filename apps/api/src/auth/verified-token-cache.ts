import { createHash } from 'node:crypto';
import type { Principal } from './auth.decorators.js';

/** Default bound: a principal is a few hundred bytes, so this holds at most a few MB. */
const DEFAULT_VERIFIED_TOKEN_CACHE_SIZE = 10_000;

/**
 * Tokens whose signature and claims were verified, so a client sending the same token on every
 * request pays for one signature check, not one per request. Keyed by the token's SHA-256 (the
 * token itself is never kept), bounded (least recently used evicted), and an entry is never used
 * at or after the token's `exp`: past it the token is verified again in full, which decides with
 * the configured clock skew as before. Only successful verifications are kept; every check they
 * passed (signature, issuer, audience, lifetime, `nbf`/`iat` not in the future, usable `sub`) stays
 * passed until `exp`, and the roles are the token's own, so the guard answers as it would have.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, { principal: Principal; exp: number }>();

  constructor(readonly maxEntries: number = DEFAULT_VERIFIED_TOKEN_CACHE_SIZE) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be at least 1');
  }

  get size(): number {
    return this.entries.size;
  }

  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  /** The principal of a token verified before, if its `exp` (seconds) is still ahead of `nowSeconds`. */
  get(key: string, nowSeconds: number): Principal | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (nowSeconds >= entry.exp) return undefined;
    this.entries.set(key, entry); // most recently used
    return entry.principal;
  }

  set(key: string, principal: Principal, exp: number): void {
    this.entries.delete(key);
    this.entries.set(key, {
      principal: Object.freeze({ ...principal, roles: Object.freeze([...principal.roles]) }),
      exp,
    });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
