import { Optional } from '../../controller-kit/optional.decorator.js';
import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, Length, Matches, Max, Min, ValidateIf } from 'class-validator';
import { CALENDAR_DATE_RANGE, MAX_AMOUNT } from '@dealstream/deals-domain';

/*
 * Field decorators shared by the deal DTOs: the *shape* of each field (integer, three letters,
 * YYYY-MM-DD, bounded string → 400 validation-failed). The rules on values — amount range, ISO 4217
 * list, date range, characters — are the domain's (deal.validation.ts, 422), checked once there.
 */

const AMOUNT_DOC = {
  type: 'integer',
  minimum: 0,
  maximum: MAX_AMOUNT,
  example: 125000,
  description: `Integer minor units (cents), 0..${MAX_AMOUNT} (above: 422 invalid-amount; not an integer up to 2^53 − 1: 400)`,
} as const;

export const AmountField = (required: boolean) =>
  applyDecorators(
    required ? ApiProperty(AMOUNT_DOC) : ApiPropertyOptional(AMOUNT_DOC),
    ...(required ? [] : [Optional()]),
    IsInt({ message: '$property must be an integer amount in minor units' }),
    Min(0),
    Max(Number.MAX_SAFE_INTEGER),
  );

export const CurrencyField = (required: boolean) =>
  applyDecorators(
    required
      ? ApiProperty({
          example: 'EUR',
          description:
            'Active ISO 4217 code (three uppercase letters, else 400; not in ISO 4217, e.g. ZZZ: 422 invalid-currency)',
        })
      : ApiPropertyOptional({
          example: 'EUR',
          description:
            'Active ISO 4217 code (three uppercase letters, else 400; not in ISO 4217, e.g. ZZZ: 422 invalid-currency)',
        }),
    ...(required ? [] : [Optional()]),
    Matches(/^[A-Z]{3}$/, { message: '$property must be an ISO 4217 code such as EUR' }),
  );

const TEXT_RULE =
  'Trimmed; no NUL or other control characters (tab and line breaks only in reasons, outcomes and notes), no lone surrogates (else 400 invalid-characters / 422 invalid-<field>)';

export const TextField = (required: boolean, max: number, example?: string) =>
  applyDecorators(
    required
      ? ApiProperty({ minLength: 1, maxLength: max, example, description: TEXT_RULE })
      : ApiPropertyOptional({ minLength: 1, maxLength: max, example, description: TEXT_RULE }),
    ...(required ? [] : [Optional()]),
    IsString(),
    Length(1, max),
  );

/** YYYY-MM-DD; `nullable` lets a PATCH clear it with null. */
export const CalendarDateField = (nullable = false) =>
  applyDecorators(
    ApiPropertyOptional({
      // Explicit: the property's TypeScript type (string | null) reaches Swagger as Object.
      type: 'string',
      format: 'date',
      example: '2026-12-31',
      nullable,
      description: `Calendar date ${CALENDAR_DATE_RANGE.min}..${CALENDAR_DATE_RANGE.max} (outside: 422 invalid-expected-close-date)`,
    }),
    nullable ? ValidateIf((_, value) => value !== undefined && value !== null) : Optional(),
    Matches(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, { message: '$property must be a date as YYYY-MM-DD' }),
  );
