import { Optional } from '../../controller-kit/optional.decorator.js';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { MAX_DAYS_IN_STAGE } from '@dealstream/pipelines-domain';
import { IsInt, IsObject, IsString, IsUUID, Length, Max, Min, ValidateNested } from 'class-validator';

export class StageGoalDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_DAYS_IN_STAGE,
    description: 'Longer than this in the stage = stalled',
  })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(MAX_DAYS_IN_STAGE)
  maxDaysInStage?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 100, description: 'Target conversion to the next stage, percent' })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(100)
  targetConversion?: number;
}

export class StageDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Generated when absent' })
  @Optional()
  @IsUUID()
  stageId?: string;

  @ApiProperty({
    minLength: 1,
    maxLength: 120,
    example: 'Proposal',
    description: 'Trimmed; unique within the pipeline; no control characters, no lone surrogates',
  })
  @IsString()
  @Length(1, 120)
  name!: string;

  @ApiProperty({ minimum: 0, maximum: 100, example: 60, description: 'Win probability, integer percent' })
  @IsInt()
  @Min(0)
  @Max(100)
  probability!: number;

  @ApiPropertyOptional({ type: StageGoalDto })
  @Optional()
  @IsObject() // @ValidateNested alone accepts an array (it validates each element of none)
  @ValidateNested()
  @Type(() => StageGoalDto)
  goal?: StageGoalDto;
}
