import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, Matches, ValidateBy } from 'class-validator';
import { Optional } from '../../controller-kit/optional.decorator.js';
import { MAX_CLIENT_POSITION_PART, parseClientPosition } from '@dealstream/event-store';

/*
 * Query-string fields of the audit routes. Query values arrive as strings and are kept as strings
 * here, checked strictly (no "1e3", " 5" or "0x10" as numbers), and parsed by the routes.
 */

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** A decimal integer in [min, max], given as a string (64-bit revisions do not fit a JS number). */
export const IntegerQueryField = (options: {
  min: bigint;
  max: bigint;
  required: boolean;
  description: string;
  example?: string;
}) =>
  applyDecorators(
    (options.required ? ApiProperty : ApiPropertyOptional)({
      // A number to clients; the server reads the digits as a bigint. A bound beyond 2^53 is stated
      // in the description only (a JSON number that large would be rounded).
      type: 'integer',
      format: 'int64',
      minimum: Number(options.min),
      ...(options.max <= BigInt(Number.MAX_SAFE_INTEGER) ? { maximum: Number(options.max) } : {}),
      description: `${options.description} (${options.min}..${options.max})`,
      ...(options.example !== undefined ? { example: Number(options.example) } : {}),
    }),
    ...(options.required ? [] : [Optional()]),
    IsString(),
    ValidateBy({
      name: 'isIntegerInRange',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' &&
          value.length <= 20 &&
          DECIMAL.test(value) &&
          BigInt(value) >= options.min &&
          BigInt(value) <= options.max,
        defaultMessage: (args) => `${args?.property} must be a whole number from ${options.min} to ${options.max}`,
      },
    }),
  );

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Instants a client may name: 1900-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z (UTC, after the
 * zone offset is applied). The same years as calendar dates on the write side: every bound is a
 * four-digit year PostgreSQL `timestamptz` holds and `toISOString` writes as such (year 0000 is
 * refused by PostgreSQL, and `Date.UTC` reads years 0–99 as 1900–1999).
 */
const INSTANT_RANGE = {
  min: new Date('1900-01-01T00:00:00.000Z'),
  max: new Date('9999-12-31T23:59:59.999Z'),
} as const;

/**
 * Parses an ISO 8601 instant with a time zone strictly: a calendar date that exists, 00–23 h,
 * no leap seconds (Date.parse would roll 2026-02-31 over to March), within INSTANT_RANGE. Digits
 * below milliseconds are dropped, as event timestamps carry milliseconds.
 *
 * @example parseInstant('2026-03-01T11:00:00.250+01:00') // 2026-03-01T10:00:00.250Z
 */
export function parseInstant(value: string): Date | undefined {
  const m = typeof value === 'string' && value.length <= 40 ? INSTANT.exec(value) : null;
  if (!m || Number(m[1]) < 1900) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number);
  const millis = Number((m[7] ?? '.0').slice(1, 4).padEnd(3, '0'));
  const offset = m[8] === 'Z' ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59)
    return undefined;
  if (m[8] !== 'Z' && (Number(m[10]) > 23 || Number(m[11]) > 59)) return undefined;
  const instant = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset * 60_000);
  return instant >= INSTANT_RANGE.min && instant <= INSTANT_RANGE.max ? instant : undefined;
}

/**
 * An instant with a time zone, e.g. 2026-03-01T10:00:00Z or 2026-03-01T11:00:00.250+01:00, in
 * INSTANT_RANGE. Used by every route that takes an instant (asOf, from, to), read models and audit alike.
 */
export const InstantQueryField = (description: string, options: { required?: boolean } = {}) =>
  applyDecorators(
    (options.required ? ApiProperty : ApiPropertyOptional)({
      type: 'string',
      format: 'date-time',
      description: `${description}. ISO 8601 with a zone (Z or ±hh:mm), ${INSTANT_RANGE.min.toISOString()} to ${INSTANT_RANGE.max.toISOString()}`,
      example: '2026-03-31T23:59:59.999Z',
    }),
    ...(options.required ? [] : [Optional()]),
    IsString(),
    ValidateBy({
      name: 'isInstant',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && parseInstant(value) !== undefined,
        defaultMessage: (args) =>
          `${args?.property} must be an ISO 8601 instant with a time zone from year 1900 to 9999, e.g. 2026-03-31T23:59:59Z`,
      },
    }),
  );

/** A comma-separated list of names (event types, stream categories). */
const NameListQueryField = (options: { description: string; example: string; pattern: RegExp }) =>
  applyDecorators(
    ApiPropertyOptional({
      type: 'string',
      description: `${options.description}; comma-separated, up to 50`,
      example: options.example,
    }),
    Optional(),
    IsString(),
    Matches(new RegExp(`^${options.pattern.source}(,${options.pattern.source}){0,49}$`), {
      message: `$property must be a comma-separated list of up to 50 names like ${options.example}`,
    }),
  );

/** One of a fixed set of values. */
export const EnumQueryField = (values: readonly string[], description: string) =>
  applyDecorators(ApiPropertyOptional({ enum: values, description }), Optional(), IsString(), IsIn([...values]));

/** Parses a list field validated by NameListQueryField. */
export function nameList(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : [...new Set(value.split(','))];
}

/**
 * `after`: a global position cursor (`next` of the feed, an SSE `id:`, a write's `position`).
 * `description` says where the route's cursors come from; the bound is appended.
 */
export const PositionCursorQueryField = (options: { description: string; accepted: string }) =>
  applyDecorators(
    ApiPropertyOptional({
      description: `${options.description} Two 16-digit hex parts, each at most ${MAX_CLIENT_POSITION_PART.toString(16)} (2^63 − 1)`,
      example: '00000000000002f1-0000000000000017',
      pattern: '^[0-7][0-9a-f]{15}-[0-7][0-9a-f]{15}$',
    }),
    Optional(),
    IsString(),
    ValidateBy({
      name: 'isPositionCursor',
      validator: {
        validate: (value: unknown) => parseClientPosition(value) !== undefined,
        defaultMessage: () =>
          `after must be a cursor as returned in ${options.accepted} (two hex parts, each below 2^63)`,
      },
    }),
  );

/** `type`: only these event types (comma-separated), as the feed and the stream filter them. */
export const EventTypesQueryField = () =>
  NameListQueryField({ description: 'Only these event types', example: 'DealWon,DealLost', pattern: EVENT_NAME });

/** `category`: only streams of these categories (comma-separated). */
export const StreamCategoriesQueryField = () =>
  NameListQueryField({
    description: 'Only streams of these categories (the stream id before its first -)',
    example: 'deal',
    pattern: EVENT_NAME,
  });

const EVENT_NAME = /[A-Za-z0-9_.:]{1,100}/;
