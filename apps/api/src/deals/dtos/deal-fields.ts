import { Optional } from '../../http/optional.decorator.js';
import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsString, Length, Matches, Max, Min, ValidateIf } from 'class-validator';

/*
 * Field decorators shared by the deal DTOs, so each rule is written once: money is integer minor
 * units with an ISO 4217 code, dates are calendar dates, free text is bounded.
 */

export const AmountField = (required: boolean) =>
  applyDecorators(
    required
      ? ApiProperty({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, example: 125000, description: 'Integer minor units (cents)' })
      : ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, example: 125000, description: 'Integer minor units (cents)' }),
    ...(required ? [] : [Optional()]),
    IsInt({ message: '$property must be an integer amount in minor units' }),
    Min(0),
    Max(Number.MAX_SAFE_INTEGER),
  );

export const CurrencyField = (required: boolean) =>
  applyDecorators(
    required ? ApiProperty({ example: 'EUR', description: 'ISO 4217' }) : ApiPropertyOptional({ example: 'EUR', description: 'ISO 4217' }),
    ...(required ? [] : [Optional()]),
    Matches(/^[A-Z]{3}$/, { message: '$property must be an ISO 4217 code such as EUR' }),
  );

export const TextField = (required: boolean, max: number, example?: string) =>
  applyDecorators(
    required ? ApiProperty({ minLength: 1, maxLength: max, example }) : ApiPropertyOptional({ minLength: 1, maxLength: max, example }),
    ...(required ? [] : [Optional()]),
    IsString(),
    Length(1, max),
  );

/** YYYY-MM-DD; `nullable` lets a PATCH clear it with null. */
export const CalendarDateField = (nullable = false) =>
  applyDecorators(
    ApiPropertyOptional({ format: 'date', example: '2026-12-31', nullable }),
    nullable ? ValidateIf((_, value) => value !== undefined && value !== null) : Optional(),
    Matches(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, { message: '$property must be a date as YYYY-MM-DD' }),
  );
