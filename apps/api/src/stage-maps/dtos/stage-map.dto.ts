import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsString, IsUUID, Length, ValidateNested } from 'class-validator';
import { MAX_TARGETS } from '@dealstream/stage-maps-domain';
import { Optional } from '../../controller-kit/optional.decorator.js';

/*
 * Shapes only (types, lengths, array sizes): whether a map fits its pipeline — unknown stages, a
 * target missing, duplicates, a stage left unmapped — is the decider's, answered as one 422
 * `invalid-stage-map` naming every offending entry.
 */

/** The most stage entries a map may list: 30 live stages plus the removed ones of a long history. */
const MAX_ASSIGNMENTS = 500;

export class TargetStageDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 64,
    example: 'qualify',
    description:
      'Slug `[a-z0-9][a-z0-9-]*`, unique in the map, not `ignore` (else 422 `invalid-stage-map`); reports name the stage by it',
  })
  @IsString()
  @Length(1, 64)
  targetId!: string;

  @ApiProperty({ minLength: 1, maxLength: 120, example: 'Qualify', description: 'Trimmed; unique in the map' })
  @IsString()
  @Length(1, 120)
  name!: string;
}

export class StageAssignmentDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 200,
    description: 'A stage the pipeline has or ever had (renamed and removed ones included)',
  })
  @IsString()
  @Length(1, 200)
  stageId!: string;

  @ApiProperty({
    minLength: 1,
    maxLength: 64,
    example: 'qualify',
    description: 'The targetId this stage counts as, or `ignore`: its deals count in no target stage',
  })
  @IsString()
  @Length(1, 64)
  countsAs!: string;
}

export class StageMapContentDto {
  @ApiProperty({ minLength: 1, maxLength: 120, example: 'Five-stage view (2026)' })
  @IsString()
  @Length(1, 120)
  name!: string;

  @ApiProperty({
    type: [TargetStageDto],
    maxItems: MAX_TARGETS,
    description: `The report's stages, in board order: 1–${MAX_TARGETS}, each counted by at least one stage`,
  })
  @IsArray()
  @ArrayMaxSize(MAX_TARGETS)
  @ValidateNested({ each: true })
  @Type(() => TargetStageDto)
  targets!: TargetStageDto[];

  @ApiProperty({
    type: [StageAssignmentDto],
    maxItems: MAX_ASSIGNMENTS,
    description: 'Every stage the pipeline ever had, each exactly once, with what it counts as',
  })
  @IsArray()
  @ArrayMaxSize(MAX_ASSIGNMENTS)
  @ValidateNested({ each: true })
  @Type(() => StageAssignmentDto)
  stages!: StageAssignmentDto[];
}

export class DefineStageMapDto extends StageMapContentDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Client-chosen id; otherwise derived from Idempotency-Key, or random',
  })
  @Optional()
  @IsUUID()
  id?: string;
}

export class StageMapViewDto {
  @ApiProperty({ format: 'uuid' })
  stageMapId!: string;

  @ApiProperty({ format: 'uuid' })
  pipelineId!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ type: [TargetStageDto] })
  targets!: TargetStageDto[];

  @ApiProperty({ type: [StageAssignmentDto] })
  stages!: StageAssignmentDto[];

  @ApiProperty({ description: 'Revision of the map’s stream (64-bit, as a string; also the ETag)' })
  revision!: string;
}
