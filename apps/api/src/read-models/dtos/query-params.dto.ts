import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  Max,
  Min,
  IsString,
  IsUUID,
  Length,
  Matches,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { MAX_TARGETS } from '@dealstream/stage-maps-domain';
import {
  COMPARE_PERIODS,
  FUNNEL_POLICIES,
  SERIES_INTERVALS,
  type ComparePeriod,
  type FunnelPolicy,
  type SeriesInterval,
  type TimeAxis,
} from '@dealstream/read-models';
import { Optional } from '../../controller-kit/optional.decorator.js';
import { EXPORT_FORMATS, type ExportFormat } from '../report-export.js';
import { InstantQueryField } from '../../audit/dtos/query-fields.js';
import { StageAssignmentDto, TargetStageDto } from '../../stage-maps/dtos/stage-map.dto.js';

const INTEGER = /^(0|[1-9]\d{0,15})$/;
/** 16 digits pass INTEGER; the documented maximum is 2^53 − 1, where a JSON number stays exact. */
const SAFE_INTEGER = {
  name: 'isSafeInteger',
  validator: {
    validate: (value: unknown) => typeof value === 'string' && Number(value) <= Number.MAX_SAFE_INTEGER,
    defaultMessage: (args?: { property: string }) => `${args?.property} must be at most ${Number.MAX_SAFE_INTEGER}`,
  },
};

/** Parameters every read route takes: the instant, its axis and read-your-writes. */
export class ReadParamsDto {
  @InstantQueryField('Answer as at this instant. Default: now')
  asOf?: string;

  @ApiPropertyOptional({
    enum: ['occurred', 'recorded'],
    description: 'Time axis of asOf and periods: business time (default) or as recorded',
  })
  @Optional()
  @IsIn(['occurred', 'recorded'])
  axis?: TimeAxis;

  @ApiPropertyOptional({
    description: 'Wait until the read models reflect this position (from a write response); or header X-Min-Position',
  })
  @Optional()
  @IsString()
  @Length(33, 33)
  minPosition?: string;
}

/** The reports' parameters: ReadParamsDto and the stage map to compute in. */
class ReportParamsDto extends ReadParamsDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'Compute in this stage map’s target stages (docs/metrics.md, "Stage maps"). A map that does not exist or was deleted: 422 `unknown-stage-map`; a map of another pipeline: 422 `stage-map-of-another-pipeline`',
  })
  @Optional()
  @IsUUID()
  stageMap?: string;
}

/**
 * The segment every report counts (docs/metrics.md, "Segments"): lists are comma-separated; every
 * parameter narrows, an absent one does not.
 */
export class SegmentParamsDto extends ReportParamsDto {
  @ApiPropertyOptional({
    description:
      'Deal kinds, comma-separated: new, upsell, cross-sell (e.g. `kind=new` for new business only). Default: all three',
    example: 'new,upsell',
  })
  @Optional()
  @Matches(/^(new|upsell|cross-sell)(,(new|upsell|cross-sell)){0,2}$/, {
    message: 'kind must be a comma-separated list of new, upsell, cross-sell',
  })
  kind?: string;

  @ApiPropertyOptional({
    description:
      'Owners, comma-separated (1–100): only their deals. Callers without identities:clear give pseudonyms (anon-…); a clear id from them is refused (400 owner-filter-needs-pseudonym)',
  })
  @Optional()
  @Matches(/^[^,]{1,200}(,[^,]{1,200}){0,99}$/, { message: 'owners must be 1–100 comma-separated owner ids' })
  owners?: string;

  @ApiPropertyOptional({ description: 'Currencies, comma-separated ISO 4217 codes (e.g. EUR,USD)', example: 'EUR' })
  @Optional()
  @Matches(/^[A-Z]{3}(,[A-Z]{3}){0,19}$/, { message: 'currency must be comma-separated ISO 4217 codes (EUR,USD)' })
  currency?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    description: 'Minimum amount, minor units',
  })
  @Optional()
  @Matches(INTEGER, { message: 'minAmount must be a non-negative integer' })
  @ValidateBy(SAFE_INTEGER)
  minAmount?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    description: 'Maximum amount, minor units',
  })
  @Optional()
  @Matches(INTEGER, { message: 'maxAmount must be a non-negative integer' })
  @ValidateBy(SAFE_INTEGER)
  maxAmount?: string;

  @ApiPropertyOptional({
    description:
      'Where the deals came from: `live` (created in dealstream), `imported` (by any import) or `import:<importId>` (one import run: the importId POST /imports answered or the CLI was given). Default: all',
    example: 'live',
  })
  @Optional()
  @Matches(/^(live|imported|import:[^\s,]{1,200})$/, {
    message: 'source must be live, imported or import:<importId>',
  })
  source?: string;

  @ApiPropertyOptional({
    enum: EXPORT_FORMATS,
    description:
      'json (default), csv (RFC 4180, header row) or ndjson: the same as Accept: text/csv or application/x-ndjson, and wins over it (docs/metrics.md, "Export")',
  })
  @Optional()
  @IsIn(EXPORT_FORMATS)
  format?: ExportFormat;
}

export class BoardQueryDto extends SegmentParamsDto {
  @ApiPropertyOptional({ description: 'Only this owner’s deals' })
  @Optional()
  @IsString()
  @Length(1, 200)
  ownerId?: string;

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description: 'true: only stalled deals (longer in stage than its maxDaysInStage); false: only the others',
  })
  @Optional()
  @IsIn(['true', 'false'])
  stalled?: 'true' | 'false';

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 200,
    description: 'Deals per stage page, 1–200 (default 20)',
  })
  @Optional()
  @Matches(/^([1-9]|[1-9]\d|1\d\d|200)$/, { message: 'limit must be 1–200' })
  limit?: string;

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 64,
    description:
      'Only this stage (use with cursor to page through it): a stage uuid, or under stageMap= a targetId. One the board does not have answers no stages',
  })
  @Optional()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/, { message: 'stageId must be a stage uuid or a targetId' })
  stageId?: string;

  @ApiPropertyOptional({
    description:
      'nextCursor of the stage, to get its next page (requires stageId); anything not made by this route is 400 invalid-cursor',
  })
  @Optional()
  @IsString()
  @Length(1, 200)
  cursor?: string;
}

class PeriodQueryDto extends SegmentParamsDto {
  @InstantQueryField('Period start, inclusive. Default: 90 days before `to`')
  from?: string;

  @InstantQueryField('Period end, exclusive. Default: the report’s instant (asOf, else now)')
  to?: string;
}

/** A period report that can be compared with another period. */
class ComparablePeriodQueryDto extends PeriodQueryDto {
  @ApiPropertyOptional({
    enum: COMPARE_PERIODS,
    description:
      'Also compute the report for the equally long period just before [from, to) (previous-period) or for the same dates a year earlier (previous-year), and the deltas (this − that); docs/metrics.md, "Comparisons"',
  })
  @Optional()
  @IsIn(COMPARE_PERIODS)
  compare?: ComparePeriod;
}

const INTERVAL_FIELD = {
  enum: SERIES_INTERVALS,
  description:
    'Bucket size: ISO weeks (Monday 00:00 UTC), calendar months or quarters in UTC; the first and last buckets are clipped to [from, to). At most 600 points (400 too-many-points)',
} as const;

class SeriesQueryDto extends PeriodQueryDto {
  @ApiProperty(INTERVAL_FIELD)
  @IsIn(SERIES_INTERVALS)
  interval!: SeriesInterval;
}

/** Which table of a report an export (CSV, NDJSON) carries: `part=`; JSON answers carry them all. */
function ExportPart(parts: readonly string[], tables: string) {
  return applyDecorators(
    ApiPropertyOptional({
      enum: parts,
      description: `The table a CSV or NDJSON export carries (docs/metrics.md, "Export"): ${tables}. Default ${parts[0]}; JSON answers carry every table`,
    }),
    Optional(),
    IsIn(parts),
  );
}

export const FUNNEL_PARTS = ['stages', 'transitions'] as const;
export const VELOCITY_PARTS = ['currencies', 'reasons'] as const;
export const PIPELINE_PARTS = ['stages', 'forecast'] as const;
const FUNNEL_PART = () =>
  ExportPart(
    FUNNEL_PARTS,
    '`stages` (one row per stage) or `transitions` (the transition matrix, one row per from → to)',
  );
const VELOCITY_PART = () =>
  ExportPart(
    VELOCITY_PARTS,
    '`currencies` (one row per currency) or `reasons` (losses and disqualifications by reason)',
  );
const PIPELINE_PART = () =>
  ExportPart(
    PIPELINE_PARTS,
    '`stages` (one row per stage × currency) or `forecast` (one row per close month × currency)',
  );

export class VelocityQueryDto extends ComparablePeriodQueryDto {
  @VELOCITY_PART()
  part?: (typeof VELOCITY_PARTS)[number];
}

export class VelocitySeriesQueryDto extends SeriesQueryDto {
  @VELOCITY_PART()
  part?: (typeof VELOCITY_PARTS)[number];
}

export class PipelineQueryDto extends SegmentParamsDto {
  @PIPELINE_PART()
  part?: (typeof PIPELINE_PARTS)[number];
}

/** Pipeline snapshots at each bucket's end: the instants come from the buckets, so asOf is refused. */
export class PipelineSeriesQueryDto extends SeriesQueryDto {
  @PIPELINE_PART()
  part?: (typeof PIPELINE_PARTS)[number];
}

const POLICY_FIELD = () =>
  applyDecorators(
    ApiPropertyOptional({
      enum: FUNNEL_POLICIES,
      description: 'How reaching a stage is counted (default any); see docs/metrics.md',
    }),
    Optional(),
    IsIn(FUNNEL_POLICIES),
  );

export class FunnelQueryDto extends ComparablePeriodQueryDto {
  @POLICY_FIELD()
  policy?: FunnelPolicy;

  @FUNNEL_PART()
  part?: (typeof FUNNEL_PARTS)[number];
}

export class FunnelSeriesQueryDto extends SeriesQueryDto {
  @POLICY_FIELD()
  policy?: FunnelPolicy;

  @FUNNEL_PART()
  part?: (typeof FUNNEL_PARTS)[number];
}

/** A map used for one report only: validated like a stored one (422 `invalid-stage-map`), never written. */
export class OneOffStageMapDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 120, description: 'Default: "one-off"' })
  @Optional()
  @IsString()
  @Length(1, 120)
  name?: string;

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
    maxItems: 500,
    description: 'Every stage the pipeline ever had, each exactly once, with what it counts as',
  })
  @IsArray()
  @ArrayMaxSize(500)
  @ValidateNested({ each: true })
  @Type(() => StageAssignmentDto)
  stages!: StageAssignmentDto[];
}

/** The funnel's parameters as a JSON body, with a one-off stage map instead of a stored one. */
/** A segment in a query body: the same filters as the reports' query parameters, as JSON arrays and numbers. */
export class SegmentBodyDto {
  @ApiPropertyOptional({
    type: [String],
    enum: ['new', 'upsell', 'cross-sell'],
    description: 'Deal kinds (default all three)',
  })
  @Optional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(3)
  @IsIn(['new', 'upsell', 'cross-sell'], { each: true })
  kinds?: ('new' | 'upsell' | 'cross-sell')[];

  @ApiPropertyOptional({
    type: [String],
    description:
      'Owners (1–100): only their deals. Callers without identities:clear give pseudonyms (anon-…); a clear id from them is refused (400 owner-filter-needs-pseudonym)',
  })
  @Optional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 200, { each: true })
  owners?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Currencies, ISO 4217 codes', example: ['EUR'] })
  @Optional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @Matches(/^[A-Z]{3}$/, { each: true, message: 'currencies must be ISO 4217 codes (EUR, USD)' })
  currencies?: string[];

  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Minor units' })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  minAmount?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Minor units' })
  @Optional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  maxAmount?: number;

  @ApiPropertyOptional({ description: '`live`, `imported` or `import:<importId>` (default all)', example: 'live' })
  @Optional()
  @Matches(/^(live|imported|import:[^\s,]{1,200})$/, { message: 'source must be live, imported or import:<importId>' })
  source?: string;
}

export class FunnelQueryBodyDto {
  @InstantQueryField('Answer as at this instant. Default: now')
  asOf?: string;

  @ApiPropertyOptional({ enum: ['occurred', 'recorded'], description: 'Time axis of asOf and the period' })
  @Optional()
  @IsIn(['occurred', 'recorded'])
  axis?: TimeAxis;

  @InstantQueryField('Period start, inclusive', { required: true })
  from!: string;

  @InstantQueryField('Period end, exclusive', { required: true })
  to!: string;

  @ApiPropertyOptional({ enum: FUNNEL_POLICIES, description: 'How reaching a stage is counted (default any)' })
  @Optional()
  @IsIn(FUNNEL_POLICIES)
  policy?: FunnelPolicy;

  @ApiProperty({ type: OneOffStageMapDto })
  @ValidateNested()
  @Type(() => OneOffStageMapDto)
  stageMap!: OneOffStageMapDto;

  @ApiPropertyOptional({
    type: SegmentBodyDto,
    description:
      "Only the deals of this segment (as the GET reports' kind, owners, currency, minAmount, maxAmount, source)",
  })
  @Optional()
  @ValidateNested()
  @Type(() => SegmentBodyDto)
  segment?: SegmentBodyDto;
}

/** GET /pipelines: a keyset page of the pipelines in (name, id) order. */
export class PipelineListQueryDto {
  @ApiPropertyOptional({
    description: 'Wait until the read models reflect this position (from a write response); or header X-Min-Position',
  })
  @Optional()
  @IsString()
  @Length(33, 33)
  minPosition?: string;

  @ApiPropertyOptional({ enum: ['active', 'archived'], description: 'Only pipelines of this status (default: both)' })
  @Optional()
  @IsIn(['active', 'archived'])
  status?: 'active' | 'archived';

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 200,
    description: 'Pipelines per page, 1–200 (default 50)',
  })
  @Optional()
  @Matches(/^([1-9]|[1-9]\d|1\d\d|200)$/, { message: 'limit must be 1–200' })
  limit?: string;

  @ApiPropertyOptional({
    description: 'nextCursor of the previous page; anything not made by this route is 400 invalid-cursor',
  })
  @Optional()
  @IsString()
  @Length(1, 400)
  cursor?: string;
}
