import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';

// What the read-model routes answer, field by field (libs/read-models' query types plus the route's
// own fields). The e2e suites validate every answer against these schemas.

const IDENTITIES = {
  enum: ['visible', 'pseudonymous'],
  description: 'pseudonymous: every ownerId is its pseudonym (anon-…); callers without identities:clear',
};
const READ_POSITION = { description: 'The global position the answer reflects (also the X-Read-Position header)' };
const AS_OF = {
  type: 'string',
  format: 'date-time',
  nullable: true,
  description: 'The instant the answer is as of; null for now',
} as const;
const AXIS = { enum: ['occurred', 'recorded'], description: 'Which time asOf and periods are read on' };
/** A report column: a live stage's uuid, or a stage map's targetId under stageMap=. */
const COLUMN_ID = { description: 'The stage’s uuid; under stageMap=, the target stage’s targetId' } as const;
const COLUMN_PROBABILITY = {
  type: 'integer',
  minimum: 0,
  maximum: 100,
  nullable: true,
  description:
    'The stage’s probability (percent); null for a stage map’s target (each deal is weighted by its own stage’s)',
} as const;

export class StageMapRefDto {
  @ApiProperty({ format: 'uuid' })
  stageMapId!: string;
  @ApiProperty()
  name!: string;
  @ApiProperty({ description: 'Revision of the map’s stream the answer used (64-bit, as a string)' })
  revision!: string;
}
const STAGE_MAP_REF = {
  type: StageMapRefDto,
  nullable: true,
  description: 'The stage map the report is computed in (stageMap=); null: the pipeline’s own stages',
} as const;

const MINOR_UNITS = { type: 'integer', description: 'Minor units of the currency' } as const;
const DAYS = { type: 'number', nullable: true } as const;

export class SegmentDto {
  @ApiProperty({
    type: [String],
    enum: ['new', 'upsell', 'cross-sell'],
    description:
      'The deal kinds counted. Default (no kind=): all three — the funnel’s default cohort is every deal created in the period, new business, up-sells and cross-sells alike',
  })
  kinds!: string[];
  @ApiProperty({
    type: [String],
    nullable: true,
    description: 'Owners counted (as given: pseudonyms for callers without identities:clear); null: all',
  })
  owners!: string[] | null;
  @ApiProperty({ type: [String], nullable: true, description: 'Currencies counted; null: all' })
  currencies!: string[] | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'Amount band: lowest amount counted, minor units' })
  minAmount!: number | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'Amount band: highest amount counted, minor units' })
  maxAmount!: number | null;
  @ApiProperty({
    description: '`all` (default), `live` (created in dealstream), `imported` (by any import) or `import:<importId>`',
    example: 'all',
  })
  source!: string;
}
const SEGMENT = {
  type: SegmentDto,
  description: 'The segment the figures count (docs/metrics.md, "Segments"): every count, sum and rate follows it',
};

class BantCriterionViewDto {
  @ApiProperty()
  confirmed!: boolean;
  @ApiProperty({ required: false })
  note?: string;
}

class BantViewDto {
  @ApiProperty({ type: BantCriterionViewDto })
  budget!: BantCriterionViewDto;
  @ApiProperty({ type: BantCriterionViewDto })
  authority!: BantCriterionViewDto;
  @ApiProperty({ type: BantCriterionViewDto })
  need!: BantCriterionViewDto;
  @ApiProperty({ type: BantCriterionViewDto })
  timeline!: BantCriterionViewDto;
}

class QualificationViewDto {
  @ApiProperty({ type: BantViewDto })
  bant!: BantViewDto;
  @ApiProperty({ type: 'integer', description: '25 points per confirmed criterion' })
  score!: number;
}

export class DealViewDto {
  @ApiProperty({ format: 'uuid' })
  dealId!: string;
  @ApiProperty({ format: 'uuid' })
  pipelineId!: string;
  @ApiProperty({ format: 'uuid' })
  stageId!: string;
  @ApiProperty({ enum: ['open', 'won', 'lost', 'disqualified'] })
  status!: string;
  @ApiProperty()
  title!: string;
  @ApiProperty()
  account!: string;
  @ApiProperty({ type: 'string', nullable: true })
  contact!: string | null;
  @ApiProperty({ description: 'The owner (a pseudonym for callers without identities:clear)' })
  ownerId!: string;
  @ApiProperty(MINOR_UNITS)
  amount!: number;
  @ApiProperty({ example: 'EUR' })
  currency!: string;
  @ApiProperty({ type: 'string', format: 'date', nullable: true })
  expectedCloseDate!: string | null;
  @ApiProperty({ enum: ['new', 'upsell', 'cross-sell'] })
  kind!: string;
  @ApiProperty({ type: 'string', format: 'uuid', nullable: true })
  parentDealId!: string | null;
  @ApiProperty({ type: QualificationViewDto, nullable: true })
  qualification!: QualificationViewDto | null;
  @ApiProperty({ type: 'string', nullable: true, description: 'Why it was lost or disqualified' })
  closedReason!: string | null;
  @ApiProperty({ type: 'string', nullable: true })
  competitor!: string | null;
  @ApiProperty({ ...MINOR_UNITS, nullable: true })
  wonAmount!: number | null;
  @ApiProperty({ type: 'integer' })
  activityCount!: number;
  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
  @ApiProperty({ format: 'date-time', description: 'When it entered the column (under stageMap=: the target stage)' })
  stageEnteredAt!: string;
  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  closedAt!: string | null;
  @ApiProperty({ type: 'string', format: 'date-time', nullable: true })
  lastActivityAt!: string | null;
  @ApiProperty({ description: 'Stream revision this view reflects (64-bit, as a string; also the ETag)' })
  revision!: string;
  @ApiProperty(IDENTITIES)
  identities!: string;
  @ApiProperty(READ_POSITION)
  readPosition!: string;
}

class MoneyTotalsDto {
  @ApiProperty()
  currency!: string;
  @ApiProperty({ type: 'integer' })
  count!: number;
  @ApiProperty({ ...MINOR_UNITS, description: 'Σ amount, minor units' })
  amount!: number;
  @ApiProperty({ ...MINOR_UNITS, description: 'round(Σ amount × stage probability / 100), minor units' })
  weightedAmount!: number;
}

class BoardDealDto {
  @ApiProperty({ format: 'uuid' })
  dealId!: string;
  @ApiProperty()
  title!: string;
  @ApiProperty()
  account!: string;
  @ApiProperty()
  ownerId!: string;
  @ApiProperty(MINOR_UNITS)
  amount!: number;
  @ApiProperty()
  currency!: string;
  @ApiProperty({ type: 'string', format: 'date', nullable: true })
  expectedCloseDate!: string | null;
  @ApiProperty({ format: 'date-time' })
  stageEnteredAt!: string;
  @ApiProperty({ type: 'number' })
  daysInStage!: number;
  @ApiProperty({ description: "Longer in the stage than its goal's maxDaysInStage" })
  stalled!: boolean;
  @ApiProperty({
    example: '3',
    description:
      "The deal stream's current revision (64-bit, as a string): send it as If-Match to move the card. On a board as of an earlier instant, still the current revision",
  })
  revision!: string;
}

class BoardStageDto {
  @ApiProperty(COLUMN_ID)
  stageId!: string;
  @ApiProperty()
  name!: string;
  @ApiProperty(COLUMN_PROBABILITY)
  probability!: number | null;
  @ApiProperty({ type: 'integer', nullable: true })
  maxDaysInStage!: number | null;
  @ApiProperty({ type: 'integer' })
  count!: number;
  @ApiProperty({ type: 'integer' })
  stalledCount!: number;
  @ApiProperty({ type: [MoneyTotalsDto], description: 'Per currency' })
  totals!: MoneyTotalsDto[];
  @ApiProperty({ type: [BoardDealDto], description: 'Largest first, then by deal id' })
  deals!: BoardDealDto[];
  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'Pass as cursor= (with stageId=) for the next page; null on the last page',
  })
  nextCursor!: string | null;
}

class BoardPipelineDto {
  @ApiProperty({ format: 'uuid' })
  pipelineId!: string;
  @ApiProperty()
  name!: string;
  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'The currency every deal must use, if the pipeline has one',
  })
  currency!: string | null;
  @ApiProperty({ enum: ['active', 'archived'] })
  status!: string;
  @ApiProperty({ type: 'integer', description: 'Revision of the pipeline stream the definition comes from' })
  revision!: number;
}

export class BoardDto {
  @ApiProperty({ type: BoardPipelineDto })
  pipeline!: BoardPipelineDto;
  @ApiProperty({ type: [BoardStageDto], description: 'In board order' })
  stages!: BoardStageDto[];
  @ApiProperty(AS_OF)
  asOf!: string | null;
  @ApiProperty(AXIS)
  axis!: string;
  @ApiProperty(STAGE_MAP_REF)
  stageMap!: StageMapRefDto | null;
  @ApiProperty(SEGMENT)
  segment!: SegmentDto;
  @ApiProperty(READ_POSITION)
  readPosition!: string;
  @ApiProperty(IDENTITIES)
  identities!: string;
}

class StageValueDto {
  @ApiProperty()
  currency!: string;
  @ApiProperty({ type: 'integer' })
  count!: number;
  @ApiProperty(MINOR_UNITS)
  value!: number;
  @ApiProperty(MINOR_UNITS)
  weightedValue!: number;
}

class StageMetricsDto {
  @ApiProperty(COLUMN_ID)
  stageId!: string;
  @ApiProperty()
  name!: string;
  @ApiProperty(COLUMN_PROBABILITY)
  probability!: number | null;
  @ApiProperty({ type: 'integer', description: 'Open deals in the stage at the instant' })
  count!: number;
  @ApiProperty({ type: 'integer' })
  stalledCount!: number;
  @ApiProperty({ ...DAYS, description: 'Mean days in the stage over its open deals; null when empty' })
  averageDaysInStage!: number | null;
  @ApiProperty({ type: [StageValueDto] })
  byCurrency!: StageValueDto[];
}

class ForecastMonthDto {
  @ApiProperty({ type: 'string', nullable: true, example: '2026-12', description: 'YYYY-MM; null: no close date' })
  month!: string | null;
  @ApiProperty()
  currency!: string;
  @ApiProperty({ type: 'integer' })
  count!: number;
  @ApiProperty(MINOR_UNITS)
  value!: number;
  @ApiProperty(MINOR_UNITS)
  weightedValue!: number;
}

export class PipelineMetricsDto {
  @ApiProperty({ type: [StageMetricsDto] })
  stages!: StageMetricsDto[];
  @ApiProperty({ type: [ForecastMonthDto] })
  forecast!: ForecastMonthDto[];
  @ApiProperty(AS_OF)
  asOf!: string | null;
  @ApiProperty(AXIS)
  axis!: string;
  @ApiProperty(STAGE_MAP_REF)
  stageMap!: StageMapRefDto | null;
  @ApiProperty(SEGMENT)
  segment!: SegmentDto;
  @ApiProperty(READ_POSITION)
  readPosition!: string;
}

class FunnelCohortDto {
  @ApiProperty({ type: 'integer', description: 'Deals created in the period' })
  size!: number;
  @ApiProperty({ type: 'integer' })
  open!: number;
  @ApiProperty({ type: 'integer' })
  won!: number;
  @ApiProperty({ type: 'integer' })
  lost!: number;
  @ApiProperty({ type: 'integer' })
  disqualified!: number;
}

class FunnelStageDto {
  @ApiProperty(COLUMN_ID)
  stageId!: string;
  @ApiProperty()
  name!: string;
  @ApiProperty({ type: 'integer' })
  reached!: number;
  @ApiProperty({ type: 'number', nullable: true, description: 'reached(next) ÷ reached(this)' })
  conversionToNext!: number | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'reached(this) − reached(next)' })
  dropOff!: number | null;
  @ApiProperty(DAYS)
  medianDaysToReach!: number | null;
  @ApiProperty({
    ...DAYS,
    description:
      'Time in stage over the cohort: median of each deal’s total days in the stage (every visit, an open one up to the instant), over the cohort deals that entered it; null when none',
  })
  daysInStageP50!: number | null;
  @ApiProperty({ ...DAYS, description: 'The same distribution’s 90th percentile' })
  daysInStageP90!: number | null;
}

class TransitionCountDto {
  @ApiProperty(COLUMN_ID)
  fromStageId!: string;
  @ApiProperty(COLUMN_ID)
  toStageId!: string;
  @ApiProperty({ type: 'integer' })
  count!: number;
}

class FunnelStageDeltaDto {
  @ApiProperty(COLUMN_ID)
  stageId!: string;
  @ApiProperty({ type: 'integer', description: 'reached − the other period’s (0 when it lacks the column)' })
  reached!: number;
  @ApiProperty({ type: 'number', nullable: true })
  conversionToNext!: number | null;
}

class FunnelDeltasDto {
  @ApiProperty({ type: 'integer' })
  cohortSize!: number;
  @ApiProperty({ type: 'integer' })
  won!: number;
  @ApiProperty({ type: 'number', nullable: true, description: 'Null when either win rate is' })
  winRate!: number | null;
  @ApiProperty({ type: [FunnelStageDeltaDto], description: 'Per column of this answer' })
  stages!: FunnelStageDeltaDto[];
}

class FunnelFiguresDto {
  @ApiProperty({ format: 'date-time' })
  from!: string;
  @ApiProperty({ format: 'date-time' })
  to!: string;
  @ApiProperty({ enum: ['any', 'implied', 'strict'] })
  policy!: string;
  @ApiProperty({ type: FunnelCohortDto })
  cohort!: FunnelCohortDto;
  @ApiProperty({ type: 'number', nullable: true })
  winRate!: number | null;
  @ApiProperty({ type: [FunnelStageDto] })
  stages!: FunnelStageDto[];
  @ApiProperty({ type: [TransitionCountDto] })
  transitions!: TransitionCountDto[];
}

export class FunnelComparisonDto {
  @ApiProperty({ enum: ['previous-period', 'previous-year'] })
  compare!: string;
  @ApiProperty({
    type: FunnelFiguresDto,
    description: 'The funnel of the other period (same instant, axis, map, segment)',
  })
  previous!: FunnelFiguresDto;
  @ApiProperty({ type: FunnelDeltasDto, description: 'This period − the other' })
  deltas!: FunnelDeltasDto;
}

export class FunnelDto extends FunnelFiguresDto {
  @ApiPropertyOptional({ type: FunnelComparisonDto, description: 'Only with compare=' })
  comparison?: FunnelComparisonDto;
  @ApiProperty(AS_OF)
  asOf!: string | null;
  @ApiProperty(AXIS)
  axis!: string;
  @ApiProperty(STAGE_MAP_REF)
  stageMap!: StageMapRefDto | null;
  @ApiProperty(SEGMENT)
  segment!: SegmentDto;
  @ApiProperty(READ_POSITION)
  readPosition!: string;
}

/** What a series answers beside its points (the same envelope as every report). */
class SeriesEnvelopeDto {
  @ApiProperty({ enum: ['week', 'month', 'quarter'] })
  interval!: string;
  @ApiProperty({ format: 'date-time' })
  from!: string;
  @ApiProperty({ format: 'date-time' })
  to!: string;
  @ApiProperty(AS_OF)
  asOf!: string | null;
  @ApiProperty(AXIS)
  axis!: string;
  @ApiProperty(STAGE_MAP_REF)
  stageMap!: StageMapRefDto | null;
  @ApiProperty(SEGMENT)
  segment!: SegmentDto;
  @ApiProperty(READ_POSITION)
  readPosition!: string;
}

export class FunnelSeriesDto extends SeriesEnvelopeDto {
  @ApiProperty({
    type: [FunnelFiguresDto],
    description: 'One funnel per bucket, in time order: each equals GET …/metrics/funnel asked for the bucket alone',
  })
  points!: FunnelFiguresDto[];
}

class VelocityByCurrencyDto {
  @ApiProperty()
  currency!: string;
  @ApiProperty({ type: 'integer' })
  opportunities!: number;
  @ApiProperty({ type: 'integer' })
  won!: number;
  @ApiProperty({
    ...MINOR_UNITS,
    description: 'Σ won amount of the deals won in the period (won revenue), minor units',
  })
  wonAmount!: number;
  @ApiProperty({ type: 'integer', description: 'Deals lost in the period' })
  lost!: number;
  @ApiProperty({ ...MINOR_UNITS, description: 'Σ amount of the deals lost in the period (lost value), minor units' })
  lostAmount!: number;
  @ApiProperty({ type: 'number', nullable: true, description: 'Mean won amount, minor units' })
  averageWonAmount!: number | null;
  @ApiProperty({ type: 'number', nullable: true, description: 'Expected won value per day, minor units' })
  velocityPerDay!: number | null;
}

class VelocityByCurrencyDeltaDto {
  @ApiProperty()
  currency!: string;
  @ApiProperty({ type: 'integer' })
  opportunities!: number;
  @ApiProperty({ type: 'integer' })
  won!: number;
  @ApiProperty({ type: 'integer' })
  wonAmount!: number;
  @ApiProperty({ type: 'integer' })
  lost!: number;
  @ApiProperty({ type: 'integer' })
  lostAmount!: number;
  @ApiProperty({ type: 'number', nullable: true })
  averageWonAmount!: number | null;
  @ApiProperty({ type: 'number', nullable: true })
  velocityPerDay!: number | null;
}

class VelocityDeltasDto {
  @ApiProperty({ type: 'integer' })
  opportunities!: number;
  @ApiProperty({ type: 'integer' })
  won!: number;
  @ApiProperty({ type: 'integer' })
  lost!: number;
  @ApiProperty({ type: 'number', nullable: true })
  winRatePeriod!: number | null;
  @ApiProperty({ type: 'number', nullable: true })
  winRateCohort!: number | null;
  @ApiProperty({ type: 'number', nullable: true })
  averageCycleDays!: number | null;
  @ApiProperty({ type: [VelocityByCurrencyDeltaDto], description: 'Every currency of either period' })
  byCurrency!: VelocityByCurrencyDeltaDto[];
}

class ReasonCountDto {
  @ApiProperty({ type: 'string', nullable: true, description: 'As the closing gave it; null: none given' })
  reason!: string | null;
  @ApiProperty({ type: 'integer' })
  count!: number;
}

class VelocityFiguresDto {
  @ApiProperty({ format: 'date-time' })
  from!: string;
  @ApiProperty({ format: 'date-time' })
  to!: string;
  @ApiProperty({ type: 'integer' })
  opportunities!: number;
  @ApiProperty({ type: 'integer' })
  won!: number;
  @ApiProperty({ type: 'integer' })
  lost!: number;
  @ApiProperty({ type: 'number', nullable: true })
  winRatePeriod!: number | null;
  @ApiProperty({ type: 'number', nullable: true })
  winRateCohort!: number | null;
  @ApiProperty(DAYS)
  averageCycleDays!: number | null;
  @ApiProperty({ type: 'integer', description: 'Deals disqualified in the period (not losses)' })
  disqualified!: number;
  @ApiProperty({ type: [ReasonCountDto], description: 'The period’s losses by reason, most first, then by reason' })
  lostReasons!: ReasonCountDto[];
  @ApiProperty({
    type: [ReasonCountDto],
    description: 'The period’s disqualifications by reason, most first, then by reason',
  })
  disqualificationReasons!: ReasonCountDto[];
  @ApiProperty({ type: [VelocityByCurrencyDto] })
  byCurrency!: VelocityByCurrencyDto[];
}

export class VelocityComparisonDto {
  @ApiProperty({ enum: ['previous-period', 'previous-year'] })
  compare!: string;
  @ApiProperty({ type: VelocityFiguresDto, description: 'Velocity of the other period (same instant, axis, segment)' })
  previous!: VelocityFiguresDto;
  @ApiProperty({ type: VelocityDeltasDto, description: 'This period − the other' })
  deltas!: VelocityDeltasDto;
}

export class VelocityDto extends VelocityFiguresDto {
  @ApiPropertyOptional({ type: VelocityComparisonDto, description: 'Only with compare=' })
  comparison?: VelocityComparisonDto;
  @ApiProperty(AS_OF)
  asOf!: string | null;
  @ApiProperty(AXIS)
  axis!: string;
  @ApiProperty(STAGE_MAP_REF)
  stageMap!: StageMapRefDto | null;
  @ApiProperty(SEGMENT)
  segment!: SegmentDto;
  @ApiProperty(READ_POSITION)
  readPosition!: string;
}

export class VelocitySeriesDto extends SeriesEnvelopeDto {
  @ApiProperty({
    type: [VelocityFiguresDto],
    description: 'Velocity per bucket, in time order: each equals GET …/metrics/velocity asked for the bucket alone',
  })
  points!: VelocityFiguresDto[];
}

class PipelinePointDto extends PickType(PipelineMetricsDto, ['stages', 'forecast'] as const) {
  @ApiProperty({ format: 'date-time', description: 'The bucket’s end: the instant of this snapshot' })
  at!: string;
}

export class PipelineSeriesDto extends SeriesEnvelopeDto {
  @ApiProperty({
    type: [PipelinePointDto],
    description:
      'The pipeline at each bucket’s end, in time order: each equals GET …/metrics/pipeline asked asOf that instant',
  })
  points!: PipelinePointDto[];
}

class PipelineListStageDto {
  @ApiProperty({ format: 'uuid' })
  stageId!: string;
  @ApiProperty()
  name!: string;
  @ApiProperty({ type: 'integer', description: 'Percent (0–100) for the weighted pipeline' })
  probability!: number;
}

class PipelineSummaryDto {
  @ApiProperty({ format: 'uuid' })
  pipelineId!: string;
  @ApiProperty()
  name!: string;
  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'ISO 4217 code every deal of the pipeline uses, when fixed',
  })
  currency!: string | null;
  @ApiProperty({ enum: ['active', 'archived'] })
  status!: string;
  @ApiProperty({ type: [PipelineListStageDto], description: 'Live stages in board order' })
  stages!: PipelineListStageDto[];
  @ApiProperty({ type: 'integer', description: 'Open deals in the pipeline now' })
  openDeals!: number;
  @ApiProperty({ type: 'string', description: 'Revision of the pipeline stream (ETag of its writes)' })
  revision!: string;
  @ApiProperty({ format: 'date-time', description: 'When the definition last changed (as recorded)' })
  updatedAt!: string;
}

export class PipelineListDto {
  @ApiProperty({ type: [PipelineSummaryDto], description: 'In (name, id) order' })
  pipelines!: PipelineSummaryDto[];
  @ApiProperty({ type: 'string', nullable: true, description: 'Pass as cursor= for the next page; null on the last' })
  nextCursor!: string | null;
  @ApiProperty(READ_POSITION)
  readPosition!: string;
}
