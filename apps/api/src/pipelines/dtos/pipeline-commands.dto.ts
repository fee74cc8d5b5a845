import { Optional } from '../../controller-kit/optional.decorator.js';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsObject,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { StageDto, StageGoalDto } from './stage.dto.js';

export class DefinePipelineDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Client-chosen id; otherwise derived from Idempotency-Key, or random',
  })
  @Optional()
  @IsUUID()
  id?: string;

  @ApiProperty({
    minLength: 1,
    maxLength: 120,
    example: 'New business',
    description: 'Trimmed; unique; no control characters, no lone surrogates',
  })
  @IsString()
  @Length(1, 120)
  name!: string;

  @ApiPropertyOptional({
    example: 'EUR',
    description:
      'Active ISO 4217 code (not in ISO 4217, e.g. QQQ: 422 invalid-currency); when set, every deal must use it',
  })
  @Optional()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code such as EUR' })
  currency?: string;

  @ApiProperty({ type: [StageDto], minItems: 1, maxItems: 30, description: 'In board order' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(30)
  @ValidateNested({ each: true })
  @Type(() => StageDto)
  stages!: StageDto[];
}

export class AddStageDto extends StageDto {
  @ApiPropertyOptional({ minimum: 0, description: 'Board position; appended last when absent' })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(29)
  index?: number;
}

export class UpdateStageDto {
  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 120,
    description: 'Trimmed; unique within the pipeline; no control characters, no lone surrogates',
  })
  @Optional()
  @IsString()
  @Length(1, 120)
  name?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: 100 })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(100)
  probability?: number;

  @ApiPropertyOptional({ type: StageGoalDto })
  @Optional()
  @IsObject() // @ValidateNested alone accepts an array (it validates each element of none)
  @ValidateNested()
  @Type(() => StageGoalDto)
  goal?: StageGoalDto;
}

export class ReorderStagesDto {
  @ApiProperty({ type: [String], format: 'uuid', description: 'Every current stage id, in the new order' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(30)
  @IsUUID('all', { each: true })
  stageIds!: string[];
}

export class RemoveStageQueryDto {
  @ApiProperty({ format: 'uuid', description: 'The stage that receives the removed stage’s open deals' })
  @IsUUID()
  moveOpenDealsTo!: string;
}
