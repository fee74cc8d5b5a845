import { ISO_4217_CODES } from './iso-4217.codes.js';

/**
 * A currency is an active ISO 4217 alphabetic code (the list generated from the `currency-codes`
 * package into iso-4217.codes.ts), so `ZZZ` or `QQQ` never reaches an event. A code ISO withdraws
 * stays valid in events already written: only new commands are checked.
 */
export function isCurrencyCode(value: unknown): value is string {
  return typeof value === 'string' && ISO_4217_CODES.has(value);
}
