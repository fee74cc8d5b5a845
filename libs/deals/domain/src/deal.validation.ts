import { isCurrencyCode } from '@dealstream/pipelines-domain';
import { dealError, type DealErrorCode } from './deal.errors.js';

/** Lengths are generous on purpose: they stop abuse, not legitimate CRM data. */
export const TEXT_LIMITS = {
  title: 200,
  account: 200,
  contact: 200,
  source: 120,
  reason: 500,
  competitor: 200,
  outcome: 500,
  note: 2000,
} as const;

type TextCode = Extract<DealErrorCode, `invalid-${string}`>;

/** Trimmed, non-empty, within `max`; the stored value is the trimmed one. */
export function requireText(value: unknown, code: TextCode, field: string, max: number): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text.length === 0 || text.length > max) {
    throw dealError(code, `${field} must be 1..${max} characters`, { field });
  }
  return text;
}

/** As `requireText`, for fields that may be left out; `undefined` stays `undefined`. */
export function optionalText(value: unknown, code: TextCode, field: string, max: number): string | undefined {
  return value === undefined ? undefined : requireText(value, code, field, max);
}

export function requireId(value: unknown, code: TextCode, field: string): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw dealError(code, `${field} must be a non-empty id`, { field });
  }
  return value;
}

/** Money is integer minor units (cents), so sums on the read side are exact. */
export function requireAmount(value: unknown, field = 'amount'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw dealError('invalid-amount', `${field} must be a non-negative integer in minor units`, { field, value });
  }
  return value === 0 ? 0 : value; // -0 passes the checks; stored JSON has no -0
}

export function requireCurrency(value: unknown): string {
  if (!isCurrencyCode(value)) {
    throw dealError('invalid-currency', 'currency must be an ISO 4217 code (3 uppercase letters)', { value });
  }
  return value;
}

function isCalendarDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return daysInMonth !== undefined && day >= 1 && day <= daysInMonth;
}

/**
 * A calendar date, not an instant: "closes on 2026-03-31" means that day wherever the team is.
 * A date in the past is allowed; an overdue deal is a fact the board should show, not hide.
 */
export function requireExpectedCloseDate(value: unknown): string {
  if (typeof value !== 'string' || !isCalendarDate(value)) {
    throw dealError('invalid-expected-close-date', 'expectedCloseDate must be a calendar date YYYY-MM-DD', { value });
  }
  return value;
}

export function oneOf<T extends string>(allowed: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value);
}

/** Builds `{ [key]: value }` only when the value is present, so events never carry `undefined` keys. */
export function optionalField<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
