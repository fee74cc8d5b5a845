/**
 * ISO 4217 codes are checked by shape only: the list changes over time and a stale copy would
 * refuse legitimate money, while a typo still fails the uppercase three-letter rule.
 */
export function isCurrencyCode(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Z]{3}$/.test(value);
}
