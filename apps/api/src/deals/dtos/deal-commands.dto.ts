import { Optional } from '../../controller-kit/optional.decorator.js';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsString, IsUUID, Length, ValidateNested } from 'class-validator';
import {
  ACTIVITY_KINDS,
  DISQUALIFICATION_REASONS,
  type ActivityKind,
  type DisqualificationReason,
} from '@dealstream/deals-domain';
import { AmountField, CalendarDateField, CurrencyField, TextField } from './deal-fields.js';

export class CreateDealDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Client-chosen id; otherwise derived from Idempotency-Key, or random',
  })
  @Optional()
  @IsUUID()
  id?: string;

  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  pipelineId!: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Defaults to the pipeline’s first stage' })
  @Optional()
  @IsUUID()
  stageId?: string;

  @TextField(true, 200, 'ACME — 500 seats')
  title!: string;

  @TextField(true, 200, 'ACME Corp')
  account!: string;

  @TextField(false, 200, 'jane.doe@acme.example')
  contact?: string;

  @AmountField(true)
  amount!: number;

  @CurrencyField(true)
  currency!: string;

  @TextField(false, 200)
  @ApiPropertyOptional({ description: 'Defaults to the caller (token sub)' })
  ownerId?: string;

  @TextField(false, 200, 'webinar')
  source?: string;

  @CalendarDateField()
  expectedCloseDate?: string;
}

export class UpdateDealDto {
  @AmountField(false)
  amount?: number;

  @CurrencyField(false)
  currency?: string;

  @TextField(false, 200)
  ownerId?: string;

  @CalendarDateField(true)
  expectedCloseDate?: string | null;
}

export class BantCriterionDto {
  @ApiProperty()
  @IsBoolean()
  confirmed!: boolean;

  @TextField(false, 2000)
  note?: string;
}

export class QualifyDealDto {
  @ApiProperty({ type: BantCriterionDto, description: 'Must be confirmed to qualify' })
  @ValidateNested()
  @Type(() => BantCriterionDto)
  budget!: BantCriterionDto;

  @ApiProperty({ type: BantCriterionDto, description: 'Must be confirmed to qualify' })
  @ValidateNested()
  @Type(() => BantCriterionDto)
  authority!: BantCriterionDto;

  @ApiProperty({ type: BantCriterionDto, description: 'Must be confirmed to qualify' })
  @ValidateNested()
  @Type(() => BantCriterionDto)
  need!: BantCriterionDto;

  @ApiProperty({ type: BantCriterionDto, description: 'May be unconfirmed (lowers the score)' })
  @ValidateNested()
  @Type(() => BantCriterionDto)
  timeline!: BantCriterionDto;
}

export class DisqualifyDealDto {
  @ApiProperty({ enum: DISQUALIFICATION_REASONS })
  @IsIn(DISQUALIFICATION_REASONS)
  reason!: DisqualificationReason;

  @TextField(false, 2000)
  note?: string;
}

export class MoveDealDto {
  @ApiProperty({ format: 'uuid', description: 'Any live stage of the deal’s pipeline, forward or back' })
  @IsUUID()
  toStageId!: string;
}

export class LogActivityDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Generated when absent' })
  @Optional()
  @IsUUID()
  id?: string;

  @ApiProperty({ enum: ACTIVITY_KINDS })
  @IsIn(ACTIVITY_KINDS)
  kind!: ActivityKind;

  @TextField(false, 500, 'left voicemail')
  outcome?: string;

  @TextField(false, 2000)
  note?: string;
}

export class WinDealDto {
  @AmountField(false)
  @ApiPropertyOptional({ description: 'Final amount; the current amount when absent' })
  amount?: number;

  @CurrencyField(false)
  currency?: string;

  @TextField(false, 500)
  reason?: string;
}

export class LoseDealDto {
  @TextField(true, 500, 'price')
  reason!: string;

  @TextField(false, 200, 'Globex')
  competitor?: string;
}

export class ReopenDealDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Defaults to the stage the deal closed in' })
  @Optional()
  @IsUUID()
  toStageId?: string;
}

export class FollowOnDealDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Id of the new deal; otherwise derived from Idempotency-Key, or random',
  })
  @Optional()
  @IsUUID()
  id?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Defaults to the won deal’s pipeline' })
  @Optional()
  @IsUUID()
  pipelineId?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsUUID()
  stageId?: string;

  @TextField(true, 200, 'ACME — 200 more seats')
  title!: string;

  @TextField(false, 200)
  @ApiPropertyOptional({ description: 'Defaults to the won deal’s account' })
  account?: string;

  @TextField(false, 200)
  contact?: string;

  @AmountField(true)
  amount!: number;

  @CurrencyField(true)
  currency!: string;

  @TextField(false, 200)
  ownerId?: string;

  @Optional()
  @IsString()
  @Length(1, 200)
  source?: string;

  @CalendarDateField()
  expectedCloseDate?: string;
}
