import { createHmac } from 'node:crypto';

/**
 * Replaces a principal's id with a stable pseudonym: `anon-` + 16 hex digits of HMAC-SHA256(key, id).
 * Stable (the same person is the same pseudonym everywhere, so analysts can still count and compare
 * actors) but not reversible without the key: a plain hash of a guessable `sub` such as "alice"
 * would be undone by hashing a staff list.
 */
export class Pseudonymizer {
  constructor(private readonly key: Uint8Array) {
    if (key.length < 16) throw new RangeError('a pseudonym key needs at least 16 bytes');
  }

  /** @example pseudonymizer.pseudonym('alice') // 'anon-3f09c2a1b4d5e6f7' */
  pseudonym(principalId: string): string {
    return `anon-${createHmac('sha256', this.key).update(principalId, 'utf8').digest('hex').slice(0, 16)}`;
  }
}
