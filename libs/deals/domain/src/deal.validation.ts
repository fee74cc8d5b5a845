import { isCurrencyCode } from '@dealstream/pipelines-domain';
import { textFault, textRule, type TextKind } from '@dealstream/decider';
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

/** Free text that may span lines (tab, line feed, carriage return allowed); the rest is single-line. */
const MULTI_LINE_FIELDS: ReadonlySet<string> = new Set(['reason', 'outcome', 'note']);

/** Ids (deal, stage, activity, owner) are text too: at most this long, single-line. */
export const MAX_ID_LENGTH = 200;

type TextCode = Extract<DealErrorCode, `invalid-${string}`>;

/**
 * Trimmed, non-empty, within `max`, and storable (see `textFault` in the decider library: no NUL or other
 * control characters, no lone surrogates); the stored value is the trimmed one.
 */
export function requireText(value: unknown, code: TextCode, field: string, max: number): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text.length === 0 || text.length > max) {
    throw dealError(code, `${field} must be 1..${max} characters`, { field });
  }
  return requireStorable(text, code, field, MULTI_LINE_FIELDS.has(field) ? 'multi-line' : 'single-line');
}

/** As `requireText`, for fields that may be left out; `undefined` stays `undefined`. */
export function optionalText(value: unknown, code: TextCode, field: string, max: number): string | undefined {
  return value === undefined ? undefined : requireText(value, code, field, max);
}

/** Refuses text a PostgreSQL `text`/`jsonb` column could not hold or a person would not type. */
export function requireStorable(text: string, code: TextCode, field: string, kind: TextKind): string {
  const fault = textFault(text, kind);
  if (fault) throw dealError(code, `${field} must contain ${textRule(kind)}`, { field, rule: fault });
  return text;
}

export function requireId(value: unknown, code: TextCode, field: string): string {
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > MAX_ID_LENGTH) {
    throw dealError(code, `${field} must be a non-empty id of at most ${MAX_ID_LENGTH} characters`, { field });
  }
  return requireStorable(value, code, field, 'single-line');
}

/**
 * The largest amount, in minor units: 10^12 (ten billion in a two-decimal currency). The read models
 * sum open amounts per (pipeline, stage, currency) into a PostgreSQL `bigint` (stage_totals) whose
 * largest value, 2^63 − 1, holds 9,223,372 deals at this maximum; board and metric totals are exact
 * JSON numbers up to 2^53, i.e. 9,007 deals at this maximum (beyond that they are rounded, never
 * refused). `Number.MAX_SAFE_INTEGER` per deal would overflow `bigint` with 1,025 deals.
 */
export const MAX_AMOUNT = 1_000_000_000_000;

/** Money is integer minor units (cents), so sums on the read side are exact. */
export function requireAmount(value: unknown, field = 'amount'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > MAX_AMOUNT) {
    throw dealError('invalid-amount', `${field} must be an integer in minor units from 0 to ${MAX_AMOUNT}`, {
      field,
      value,
      max: MAX_AMOUNT,
    });
  }
  return value === 0 ? 0 : value; // -0 passes the checks; stored JSON has no -0
}

export function requireCurrency(value: unknown): string {
  if (!isCurrencyCode(value)) {
    throw dealError('invalid-currency', 'currency must be an active ISO 4217 code such as EUR', { value });
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
 * Calendar dates are years 1900..9999. The top keeps the four-digit `YYYY-MM-DD` form every reader
 * parses; the bottom is far below any real close date (a CRM opened after 1900) and well inside
 * what PostgreSQL `date` holds — unlike year 0000, which it refuses ("date/time field value out of
 * range"), the poison that froze the projections before this rule.
 */
export const CALENDAR_DATE_RANGE = { min: '1900-01-01', max: '9999-12-31' } as const;

/**
 * A calendar date, not an instant: "closes on 2026-03-31" means that day wherever the team is.
 * A date in the past is allowed; an overdue deal is a fact the board should show, not hide.
 */
export function requireExpectedCloseDate(value: unknown): string {
  if (
    typeof value !== 'string' ||
    !isCalendarDate(value) ||
    value < CALENDAR_DATE_RANGE.min ||
    value > CALENDAR_DATE_RANGE.max
  ) {
    throw dealError(
      'invalid-expected-close-date',
      `expectedCloseDate must be a calendar date YYYY-MM-DD from ${CALENDAR_DATE_RANGE.min} to ${CALENDAR_DATE_RANGE.max}`,
      { value },
    );
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
