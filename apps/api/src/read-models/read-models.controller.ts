import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { HttpReply, HttpRequest } from '../controller-kit/http-exchange.js';
import type { Database } from '@dealstream/database';
import { encodePosition, type GlobalPosition } from '@dealstream/event-store';
import {
  LIVE_SCHEMA,
  board,
  boardOwnerIds,
  comparisonPeriod,
  type ComparePeriod,
  funnelDeltas,
  seriesBuckets,
  velocityDeltas,
  MAX_SERIES_POINTS,
  type Bucket,
  dealById,
  funnel,
  listPipelines,
  pipelineDefinition,
  pipelineMetrics,
  type PipelineListCursor,
  pipelineOwnerIds,
  velocity,
  type AsOf,
  type BoardCursor,
  type BoardFilters,
  type ReportStageMap,
  type CheckpointWatch,
  type Segment,
  type SegmentDealKind,
} from '@dealstream/read-models';
import { StageMapReader, type StageMapView } from '@dealstream/stage-maps-application';
import { requireValidContent } from '@dealstream/stage-maps-domain';
import type { Pseudonymizer } from '@dealstream/audit';
import { PSEUDONYMIZER } from '../audit/audit.tokens.js';
import { CurrentPrincipal, type Principal } from '../auth/auth.decorators.js';
import { seesIdentities } from '../auth/identities.js';
import { DATABASE } from '../database.provider.js';
import { CHECKPOINT_WATCH } from '../projections/projections.module.js';
import { ApiRead } from '../controller-kit/api-docs.decorators.js';
import { UUID_PATTERN, UuidParamPipe } from '../controller-kit/uuid-param.pipe.js';
import { parseInstant } from '../audit/dtos/query-fields.js';
import { ApiProblem } from '../problem/api-problem.js';
import { mergeProblems } from '../problem/problem-catalogue.js';
import {
  BoardQueryDto,
  FunnelQueryBodyDto,
  FunnelQueryDto,
  FunnelSeriesQueryDto,
  PipelineListQueryDto,
  PipelineQueryDto,
  PipelineSeriesQueryDto,
  VelocityQueryDto,
  VelocitySeriesQueryDto,
  ReadParamsDto,
  SegmentParamsDto,
} from './dtos/query-params.dto.js';
import {
  BoardDto,
  DealViewDto,
  FunnelDto,
  FunnelSeriesDto,
  PipelineListDto,
  PipelineMetricsDto,
  PipelineSeriesDto,
  VelocityDto,
  VelocitySeriesDto,
} from './dtos/read-responses.dto.js';
import { awaitReadPosition } from './read-position.js';
import {
  BOARD_COLUMNS,
  FUNNEL_TABLES,
  PIPELINE_TABLES,
  VELOCITY_TABLES,
  boardRows,
  exportFile,
  exportFormat,
} from './report-export.js';

/** What every report can answer besides every read's: an unknown pipeline, a stageMap= it cannot use. */
const ANY_REPORT = { 404: ['pipeline-not-found'], 422: ['unknown-stage-map', 'stage-map-of-another-pipeline'] };
/** A report asked with a segment (segmentAsked). */
const REPORT = mergeProblems(ANY_REPORT, { 400: ['owner-filter-needs-pseudonym', 'invalid-amount-band'] });
/** A report over a period [from, to). */
const PERIOD_REPORT = mergeProblems(REPORT, { 400: ['invalid-period'] });
/** A series of a report over the buckets of a period (bucketsOf). */
const SERIES = mergeProblems(PERIOD_REPORT, { 400: ['too-many-points'] });

export const READ_WAIT_MS = Symbol.for('dealstream.ReadWaitMs');

/** The shape of a pseudonym (Pseudonymizer): what a caller without identities:clear filters owners by. */
const PSEUDONYM = /^anon-[0-9a-f]{16}$/;

/**
 * Reads from the read models only (never replaying streams). Every route answers X-Read-Position
 * and honours minPosition; board and metrics take asOf/axis and answer as at that instant. Who may
 * call which route is the role matrix (libs/auth/src/roles.ts). Callers without identities:clear
 * (analysts) see every owner id as its pseudonym (`anon-…`, the same as in the audit routes) and
 * filter the board by owner with a pseudonym.
 */
@ApiTags('read models')
@Controller()
export class ReadModelsController {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(READ_WAIT_MS) private readonly maxWaitMs: number,
    @Inject(PSEUDONYMIZER) private readonly pseudonymizer: Pseudonymizer,
    private readonly stageMaps: StageMapReader,
    @Inject(CHECKPOINT_WATCH) private readonly watch: CheckpointWatch,
  ) {}

  /**
   * What every report starts with: its segment (400 when it cannot be one), its stage map (422 when
   * unknown), the read position (waits for minPosition), the instant.
   */
  private async reportContext(
    pipelineId: string,
    query: SegmentParamsDto,
    principal: Principal,
    request: HttpRequest,
    response: HttpReply,
  ) {
    const asked = segmentAsked(segmentOfQuery(query), seesIdentities(principal));
    const map = await this.stageMapOf(pipelineId, query.stageMap);
    const position = await awaitReadPosition(this.database.db, this.watch, request, response, this.maxWaitMs);
    const segment = await this.resolveOwners(pipelineId, asked, seesIdentities(principal));
    return { map, position, asOf: asOfOf(query), segment, segmentEcho: segmentEcho(segmentOfQuery(query)) };
  }

  /** The segment with owners as clear ids: a caller without identities:clear names them by pseudonym. */
  private async resolveOwners(pipelineId: string, segment: Segment, clear: boolean): Promise<Segment> {
    if (clear || segment.ownerIds === undefined) return segment;
    const wanted = new Set(segment.ownerIds);
    const owners = await pipelineOwnerIds(this.database.db, LIVE_SCHEMA, pipelineId);
    return { ...segment, ownerIds: owners.filter((owner) => wanted.has(this.pseudonymizer.pseudonym(owner))) };
  }

  /**
   * The stage map a report is asked in (stageMap=), from its own stream — a few events, cached; no
   * deal or pipeline event is read. 422 when it does not exist, was deleted or maps another pipeline.
   */
  private async stageMapOf(pipelineId: string, stageMapId: string | undefined): Promise<StageMapView | undefined> {
    if (stageMapId === undefined) return undefined;
    const map = await this.stageMaps.load(stageMapId.toLowerCase());
    if (!map) throw new ApiProblem(422, 'unknown-stage-map', `stage map ${stageMapId} does not exist (or was deleted)`);
    if (map.pipelineId !== pipelineId)
      throw new ApiProblem(
        422,
        'stage-map-of-another-pipeline',
        `stage map ${stageMapId} maps pipeline ${map.pipelineId}, not ${pipelineId}`,
      );
    return map;
  }

  @Get('pipelines')
  @ApiRead({
    summary: 'The pipelines, in (name, id) order, with their live stages and open deals (keyset-paginated)',
    type: PipelineListDto,
    problems: { 400: ['invalid-cursor'] },
  })
  async pipelines(
    @Query() query: PipelineListQueryDto,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const after = query.cursor === undefined ? undefined : decodePipelineCursor(query.cursor);
    const position = await awaitReadPosition(this.database.db, this.watch, request, response, this.maxWaitMs);
    const { pipelines, next } = await listPipelines(this.database.db, LIVE_SCHEMA, {
      limit: query.limit ? Number(query.limit) : 50,
      ...(after ? { after } : {}),
      ...(query.status ? { status: query.status } : {}),
    });
    return {
      pipelines: pipelines.map((pipeline) => ({
        ...pipeline,
        revision: String(pipeline.revision),
        updatedAt: pipeline.updatedAt.toISOString(),
      })),
      nextCursor: next ? Buffer.from(JSON.stringify([next.name, next.pipelineId])).toString('base64url') : null,
      readPosition: encodePosition(position),
    };
  }

  @Get('deals/:id')
  @ApiRead({
    summary: 'Current state of a deal (ETag = stream revision)',
    type: DealViewDto,
    problems: { 400: ['as-of-not-supported'], 404: ['deal-not-found'] },
  })
  async deal(
    @Param('id', UuidParamPipe) id: string,
    @Query() query: ReadParamsDto,
    @CurrentPrincipal() principal: Principal,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    if (query.asOf || query.axis)
      throw new ApiProblem(
        400,
        'as-of-not-supported',
        'GET /deals/:id is current state; use /deals/:id/state?asOf= for the past',
      );
    const position = await awaitReadPosition(this.database.db, this.watch, request, response, this.maxWaitMs);
    const deal = await dealById(this.database.db, LIVE_SCHEMA, id);
    if (!deal)
      throw new ApiProblem(
        404,
        'deal-not-found',
        `deal ${id} does not exist (or is not projected yet: pass minPosition)`,
      );
    response.header('ETag', `"${deal.revision}"`);
    const clear = seesIdentities(principal);
    return {
      ...deal,
      ownerId: clear ? deal.ownerId : this.pseudonymizer.pseudonym(deal.ownerId),
      identities: clear ? 'visible' : 'pseudonymous',
      revision: String(deal.revision),
      readPosition: encodePosition(position),
    };
  }

  @Get('pipelines/:id/board')
  @ApiRead({
    summary:
      'Board: stages in order with counts, Σ amount and Σ weighted amount per currency, and their deals (keyset-paginated)',
    description:
      'Callers without identities:clear (analysts) see every ownerId as its pseudonym (anon-…, the same as in the audit routes) and filter with ownerId=anon-…; a clear id from them is refused (400 owner-filter-needs-pseudonym).',
    type: BoardDto,
    problems: mergeProblems(REPORT, { 400: ['cursor-needs-stage', 'invalid-cursor'] }),
    exports: true,
  })
  async board(
    @Param('id', UuidParamPipe) id: string,
    @Query() query: BoardQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const clear = seesIdentities(principal);
    if (!clear && query.ownerId !== undefined && !PSEUDONYM.test(query.ownerId)) {
      // Filtering by a guessed clear id would confirm who owns what: the pseudonyms would be undone.
      throw new ApiProblem(
        400,
        'owner-filter-needs-pseudonym',
        'Without identities:clear, ownerId filters by a pseudonym (anon-…) as shown on the board, the deal and the audit routes',
      );
    }
    const report = await this.reportContext(id, query, principal, request, response);
    const { map, asOf, segment } = report;
    if (query.cursor && !query.stageId)
      throw new ApiProblem(400, 'cursor-needs-stage', 'cursor pages through one stage: pass its stageId too');
    const owners: BoardFilters =
      query.ownerId === undefined
        ? {}
        : clear
          ? { ownerId: query.ownerId }
          : { ownerIds: await this.ownersWithPseudonym(id, asOf, query.ownerId) };
    const now = asOf.at ?? new Date();
    const result = await board(this.database.db, LIVE_SCHEMA, id, {
      asOf,
      now,
      limit: query.limit ? Number(query.limit) : 20,
      ...(query.stageId ? { stageId: query.stageId.toLowerCase() } : {}),
      ...(query.cursor ? { cursor: decodeCursor(query.cursor) } : {}),
      ...reportMap(map),
      filters: {
        ...segment,
        ...owners,
        ...(segment.ownerIds !== undefined && owners.ownerIds !== undefined
          ? { ownerIds: segment.ownerIds.filter((owner) => owners.ownerIds!.includes(owner)) }
          : {}),
        ...(query.stalled !== undefined ? { stalled: query.stalled === 'true' } : {}),
      },
    });
    if (!result) throw notFound(id, asOf);
    const format = exportFormat(request, query.format);
    if (format !== 'json')
      return exportFile(format, 'board', BOARD_COLUMNS, () => boardRows((asOf.at ?? now).toISOString(), result));
    return {
      ...result,
      ...reportEnvelope(report),
      identities: clear ? 'visible' : 'pseudonymous',
      stages: result.stages.map((stage) => ({
        ...stage,
        deals: clear
          ? stage.deals
          : stage.deals.map((deal) => ({ ...deal, ownerId: this.pseudonymizer.pseudonym(deal.ownerId) })),
        nextCursor: stage.nextCursor ? encodeCursor(stage.nextCursor) : null,
      })),
    };
  }

  /** The owners on the board at `asOf` whose pseudonym is `pseudonym` (one, or none; a collision of 64 bits would give two). */
  private async ownersWithPseudonym(pipelineId: string, asOf: AsOf, pseudonym: string): Promise<string[]> {
    const owners = await boardOwnerIds(this.database.db, LIVE_SCHEMA, pipelineId, asOf);
    return owners.filter((owner) => this.pseudonymizer.pseudonym(owner) === pseudonym);
  }

  @Get('pipelines/:id/metrics/pipeline')
  @ApiRead({
    summary:
      'Open deals by stage (count, value, weighted, average age, stalled) and weighted forecast by expected close month',
    type: PipelineMetricsDto,
    problems: REPORT,
    exports: true,
  })
  async pipeline(
    @Param('id', UuidParamPipe) id: string,
    @Query() query: PipelineQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const report = await this.reportContext(id, query, principal, request, response);
    const { map, asOf, segment } = report;
    const now = asOf.at ?? new Date();
    const result = await pipelineMetrics(
      this.database.db,
      LIVE_SCHEMA,
      id,
      asOf,
      now,
      reportMap(map).stageMap,
      segment,
    );
    if (!result) throw notFound(id, asOf);
    const format = exportFormat(request, query.format);
    if (format !== 'json') {
      const table = PIPELINE_TABLES[query.part ?? 'stages'];
      return exportFile(format, table.name, table.columns, () => table.rows(now.toISOString(), result));
    }
    return {
      ...result,
      ...reportEnvelope(report),
    };
  }

  @Get('pipelines/:id/metrics/funnel')
  @ApiRead({
    summary:
      'Funnel of the deals created in [from, to): reached per stage, conversion, drop-off, median time to reach, win rate, transition matrix',
    type: FunnelDto,
    problems: PERIOD_REPORT,
    exports: true,
  })
  async funnel(
    @Param('id', UuidParamPipe) id: string,
    @Query() query: FunnelQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const report = await this.reportContext(id, query, principal, request, response);
    const { map, asOf, segment } = report;
    const { from, to } = periodOf(query);
    const now = new Date();
    const ask = (period: Bucket) =>
      funnel(this.database.db, LIVE_SCHEMA, id, {
        ...period,
        policy: query.policy ?? 'any',
        asOf,
        now,
        segment,
        ...reportMap(map),
      });
    const result = await ask({ from, to });
    if (!result) throw notFound(id, asOf);
    const format = exportFormat(request, query.format);
    if (format !== 'json') {
      const table = FUNNEL_TABLES[query.part ?? 'stages'];
      const other = await otherPeriod(query.compare, { from, to }, async (period) => (await ask(period))!);
      return exportFile(format, table.name, table.columns, () => [
        ...table.rows(periodFields({ from, to }), result),
        ...(other ? table.rows(periodFields(other.period), other.report) : []),
      ]);
    }
    const comparison = await compared(
      query.compare,
      { from, to },
      async (other) => (await ask(other))!,
      (previous) => funnelDeltas(result, previous),
    );
    return {
      ...result,
      ...comparison,
      from: from.toISOString(),
      to: to.toISOString(),
      ...reportEnvelope(report),
    };
  }

  @Post('pipelines/:id/metrics/funnel/query')
  @HttpCode(200)
  @ApiRead({
    summary: 'The funnel, asked with a JSON body: a one-off stage map used for this answer only (nothing is written)',
    description:
      'The same figures as GET …/metrics/funnel, computed in the body’s stageMap, which is checked like a stored one against every stage the pipeline ever had (as the read models know it): 422 `invalid-stage-map` with `details.problems[]` naming every offending entry. The answer’s `stageMap` is null (the map has no id). An optional `segment` filters the deals as the GET reports’ segment parameters do, and the answer echoes it. Read-your-writes: header X-Min-Position.',
    type: FunnelDto,
    problems: mergeProblems(ANY_REPORT, {
      400: ['invalid-period', 'owner-filter-needs-pseudonym', 'invalid-amount-band'],
      422: ['invalid-stage-map', 'invalid-stage-map-id', 'invalid-stage-map-name'],
    }),
  })
  async funnelQuery(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: FunnelQueryBodyDto,
    @CurrentPrincipal() principal: Principal,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const clear = seesIdentities(principal);
    const asked = segmentAsked(body.segment ?? {}, clear);
    const position = await awaitReadPosition(this.database.db, this.watch, request, response, this.maxWaitMs);
    const segment = await this.resolveOwners(id, asked, clear);
    const asOf = asOfOf(body);
    const { from, to } = periodOf(body);
    const current = await pipelineDefinition(this.database.db, LIVE_SCHEMA, id, { axis: asOf.axis });
    if (!current) throw notFound(id, { axis: asOf.axis });
    const everStageIds = [...current.stages.map((s) => s.stageId), ...Object.keys(current.removedStages)];
    const map = requireValidContent(
      {
        name: body.stageMap.name ?? 'one-off',
        targets: body.stageMap.targets.map((t) => ({ targetId: t.targetId, name: t.name })),
        assignments: body.stageMap.stages.map((s) => ({ stageId: s.stageId.toLowerCase(), countsAs: s.countsAs })),
      },
      everStageIds,
    );
    const result = await funnel(this.database.db, LIVE_SCHEMA, id, {
      from,
      to,
      policy: body.policy ?? 'any',
      asOf,
      now: new Date(),
      segment,
      stageMap: { targets: map.targets, assignments: map.assignments },
    });
    if (!result) throw notFound(id, asOf);
    return {
      ...result,
      from: from.toISOString(),
      to: to.toISOString(),
      asOf: asOf.at?.toISOString() ?? null,
      axis: asOf.axis,
      stageMap: null,
      segment: segmentEcho(body.segment ?? {}),
      readPosition: encodePosition(position),
    };
  }

  @Get('pipelines/:id/metrics/velocity')
  @ApiRead({
    summary: 'Sales velocity for [from, to): opportunities, average won size, win rates (period, cohort), cycle length',
    type: VelocityDto,
    problems: PERIOD_REPORT,
    exports: true,
  })
  async velocity(
    @Param('id', UuidParamPipe) id: string,
    @Query() query: VelocityQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    // Velocity has no per-stage figure: a map is checked and echoed, and changes nothing.
    const report = await this.reportContext(id, query, principal, request, response);
    const { asOf, segment } = report;
    const { from, to } = periodOf(query);
    if (!(await pipelineDefinition(this.database.db, LIVE_SCHEMA, id, asOf))) throw notFound(id, asOf);
    const now = new Date();
    const ask = (period: Bucket) => velocity(this.database.db, LIVE_SCHEMA, id, { ...period, asOf, now, segment });
    const result = await ask({ from, to });
    const format = exportFormat(request, query.format);
    if (format !== 'json') {
      const table = VELOCITY_TABLES[query.part ?? 'currencies'];
      const other = await otherPeriod(query.compare, { from, to }, ask);
      return exportFile(format, table.name, table.columns, () => [
        ...table.rows(periodFields({ from, to }), result),
        ...(other ? table.rows(periodFields(other.period), other.report) : []),
      ]);
    }
    const comparison = await compared(query.compare, { from, to }, ask, (previous) => velocityDeltas(result, previous));
    return {
      ...result,
      ...comparison,
      from: from.toISOString(),
      to: to.toISOString(),
      ...reportEnvelope(report),
    };
  }
  @Get('pipelines/:id/metrics/funnel/series')
  @ApiRead({
    summary: 'The funnel per week, month or quarter of [from, to), in one request',
    description:
      'One funnel per bucket (docs/metrics.md, "Time series"), each equal to GET …/metrics/funnel asked for that bucket alone with the same instant, axis, policy, stage map and segment.',
    type: FunnelSeriesDto,
    problems: SERIES,
    exports: true,
  })
  async funnelSeries(
    @Param('id', UuidParamPipe) id: string,
    @Query() query: FunnelSeriesQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const buckets = bucketsOf(query);
    const report = await this.reportContext(id, query, principal, request, response);
    const { map, asOf, segment } = report;
    if (!(await pipelineDefinition(this.database.db, LIVE_SCHEMA, id, asOf))) throw notFound(id, asOf);
    const now = new Date();
    const db = this.database.db;
    // Computed one bucket at a time: an export streams each point's rows before the next is asked.
    async function* points() {
      for (const bucket of buckets) {
        const point = await funnel(db, LIVE_SCHEMA, id, {
          ...bucket,
          policy: query.policy ?? 'any',
          asOf,
          now,
          segment,
          ...reportMap(map),
        });
        yield { ...periodFields(bucket), ...point! };
      }
    }
    const format = exportFormat(request, query.format);
    if (format !== 'json') {
      const table = FUNNEL_TABLES[query.part ?? 'stages'];
      return exportFile(format, `${table.name}-series`, table.columns, async function* () {
        for await (const point of points()) yield* table.rows(point, point);
      });
    }
    return { ...seriesEnvelope(query, buckets), points: await collect(points()), ...reportEnvelope(report) };
  }

  @Get('pipelines/:id/metrics/velocity/series')
  @ApiRead({
    summary: 'Sales velocity per week, month or quarter of [from, to), in one request',
    description:
      'One velocity per bucket (docs/metrics.md, "Time series"), each equal to GET …/metrics/velocity asked for that bucket alone with the same instant, axis and segment.',
    type: VelocitySeriesDto,
    problems: SERIES,
    exports: true,
  })
  async velocitySeries(
    @Param('id', UuidParamPipe) id: string,
    @Query() query: VelocitySeriesQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    const buckets = bucketsOf(query);
    const report = await this.reportContext(id, query, principal, request, response);
    const { asOf, segment } = report;
    if (!(await pipelineDefinition(this.database.db, LIVE_SCHEMA, id, asOf))) throw notFound(id, asOf);
    const now = new Date();
    const db = this.database.db;
    async function* points() {
      for (const bucket of buckets)
        yield { ...periodFields(bucket), ...(await velocity(db, LIVE_SCHEMA, id, { ...bucket, asOf, now, segment })) };
    }
    const format = exportFormat(request, query.format);
    if (format !== 'json') {
      const table = VELOCITY_TABLES[query.part ?? 'currencies'];
      return exportFile(format, `${table.name}-series`, table.columns, async function* () {
        for await (const point of points()) yield* table.rows(point, point);
      });
    }
    return { ...seriesEnvelope(query, buckets), points: await collect(points()), ...reportEnvelope(report) };
  }

  @Get('pipelines/:id/metrics/pipeline/series')
  @ApiRead({
    summary: 'The pipeline (open deals by stage, forecast) at the end of each week, month or quarter of [from, to)',
    description:
      'One snapshot per bucket, as of the bucket’s end (docs/metrics.md, "Time series"): each equals GET …/metrics/pipeline asked asOf that instant with the same axis, stage map and segment. asOf is refused (400 as-of-not-supported): the instants are the buckets’ ends. A snapshot of a pipeline not yet defined then has no stages.',
    type: PipelineSeriesDto,
    problems: mergeProblems(SERIES, { 400: ['as-of-not-supported'] }),
    exports: true,
  })
  async pipelineSeries(
    @Param('id', UuidParamPipe) id: string,
    @Query() query: PipelineSeriesQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
  ) {
    if (query.asOf)
      throw new ApiProblem(400, 'as-of-not-supported', 'A pipeline series is as of each bucket’s end: drop asOf');
    const buckets = bucketsOf(query);
    const report = await this.reportContext(id, query, principal, request, response);
    const { map, asOf, segment } = report;
    if (!(await pipelineDefinition(this.database.db, LIVE_SCHEMA, id, { axis: asOf.axis }))) throw notFound(id, asOf);
    const db = this.database.db;
    async function* points() {
      for (const bucket of buckets) {
        const at: AsOf = { axis: asOf.axis, at: bucket.to };
        const snapshot = await pipelineMetrics(db, LIVE_SCHEMA, id, at, bucket.to, reportMap(map).stageMap, segment);
        yield { at: bucket.to.toISOString(), ...(snapshot ?? { stages: [], forecast: [] }) };
      }
    }
    const format = exportFormat(request, query.format);
    if (format !== 'json') {
      const table = PIPELINE_TABLES[query.part ?? 'stages'];
      return exportFile(format, `${table.name}-series`, table.columns, async function* () {
        for await (const point of points()) yield* table.rows(point.at, point);
      });
    }
    return { ...seriesEnvelope(query, buckets), points: await collect(points()), ...reportEnvelope(report) };
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/**
 * `compare=`: the same report over the other period (comparisonPeriod) and the deltas to it, as the
 * answer's `comparison`; nothing when not asked.
 */
async function compared<Report extends object>(
  compare: ComparePeriod | undefined,
  period: Bucket,
  ask: (other: Bucket) => Promise<Report>,
  deltas: (previous: Report) => object,
): Promise<{ comparison?: { compare: ComparePeriod; previous: object; deltas: object } }> {
  if (!compare) return {};
  const other = comparisonPeriod(period, compare);
  const previous = await ask(other);
  return { comparison: { compare, previous: { ...periodFields(other), ...previous }, deltas: deltas(previous) } };
}

/** An export's other period under compare=: its rows follow the requested period's (each with its own from/to). */
async function otherPeriod<Report>(
  compare: ComparePeriod | undefined,
  period: Bucket,
  ask: (other: Bucket) => Promise<Report>,
): Promise<{ period: Bucket; report: Report } | undefined> {
  if (!compare) return undefined;
  const other = comparisonPeriod(period, compare);
  return { period: other, report: await ask(other) };
}

function periodFields(period: Bucket) {
  return { from: period.from.toISOString(), to: period.to.toISOString() };
}

/** The series' buckets (400 for a bad period or more than MAX_SERIES_POINTS). */
function bucketsOf(query: Omit<VelocitySeriesQueryDto, 'part'>): Bucket[] {
  const { from, to } = periodOf(query);
  const buckets = seriesBuckets(from, to, query.interval);
  if (!buckets)
    throw new ApiProblem(
      400,
      'too-many-points',
      `[from, to) has more than ${MAX_SERIES_POINTS} ${query.interval}s: ask a shorter period or a longer interval`,
    );
  return buckets;
}

function seriesEnvelope(query: Omit<VelocitySeriesQueryDto, 'part'>, buckets: Bucket[]) {
  return { interval: query.interval, ...periodFields({ from: buckets[0].from, to: buckets.at(-1)!.to }) };
}

function reportMap(map: StageMapView | undefined): { stageMap?: ReportStageMap } {
  return map ? { stageMap: { targets: map.targets, assignments: map.assignments } } : {};
}

function stageMapRef(map: StageMapView | undefined) {
  return map ? { stageMapId: map.stageMapId, name: map.name, revision: String(map.revision) } : null;
}

/** What every report answers beside its figures: the instant, the axis, the stage map and the read position. */
function reportEnvelope({
  map,
  position,
  asOf,
  segmentEcho: segment,
}: {
  map: StageMapView | undefined;
  position: GlobalPosition;
  asOf: AsOf;
  segmentEcho: SegmentEcho;
}) {
  return {
    asOf: asOf.at?.toISOString() ?? null,
    axis: asOf.axis,
    stageMap: stageMapRef(map),
    segment,
    readPosition: encodePosition(position),
  };
}

const ALL_KINDS: SegmentDealKind[] = ['new', 'upsell', 'cross-sell'];
const list = (value: string | undefined) => (value === undefined ? undefined : [...new Set(value.split(','))]);

/** The segment a report was asked for (owners as given), checked beyond what the DTO's patterns say. */
/** A segment as asked: from a report's query parameters (comma lists) or a query body's `segment` (JSON arrays). */
interface AskedSegment {
  readonly kinds?: readonly string[];
  readonly owners?: readonly string[];
  readonly currencies?: readonly string[];
  readonly minAmount?: number;
  readonly maxAmount?: number;
  readonly source?: string;
}

/** The segment of a report's query parameters. */
function segmentOfQuery(query: Partial<SegmentParamsDto>): AskedSegment {
  return {
    ...(query.kind !== undefined ? { kinds: list(query.kind) } : {}),
    ...(query.owners !== undefined ? { owners: list(query.owners) } : {}),
    ...(query.currency !== undefined ? { currencies: list(query.currency) } : {}),
    ...(query.minAmount !== undefined ? { minAmount: Number(query.minAmount) } : {}),
    ...(query.maxAmount !== undefined ? { maxAmount: Number(query.maxAmount) } : {}),
    ...(query.source !== undefined ? { source: query.source } : {}),
  };
}

function segmentAsked(asked: AskedSegment, clear: boolean): Segment {
  const owners = asked.owners && [...new Set(asked.owners)];
  if (!clear && owners?.some((owner) => !PSEUDONYM.test(owner)))
    throw new ApiProblem(
      400,
      'owner-filter-needs-pseudonym',
      'Without identities:clear, owners are named by their pseudonyms (anon-…) as shown on the board, the deal and the audit routes',
    );
  const { minAmount, maxAmount, source } = asked;
  if (minAmount !== undefined && maxAmount !== undefined && minAmount > maxAmount)
    throw new ApiProblem(400, 'invalid-amount-band', 'minAmount must not be above maxAmount');
  return {
    ...(asked.kinds !== undefined ? { kinds: [...new Set(asked.kinds)] as SegmentDealKind[] } : {}),
    ...(owners !== undefined ? { ownerIds: owners } : {}),
    ...(asked.currencies !== undefined ? { currencies: [...new Set(asked.currencies)] } : {}),
    ...(minAmount !== undefined ? { minAmount } : {}),
    ...(maxAmount !== undefined ? { maxAmount } : {}),
    ...(source === undefined
      ? {}
      : source === 'live'
        ? { source: { type: 'live' as const } }
        : source === 'imported'
          ? { source: { type: 'imported' as const } }
          : { source: { type: 'imported' as const, importId: source.slice('import:'.length) } }),
  };
}

interface SegmentEcho {
  kinds: string[];
  owners: string[] | null;
  currencies: string[] | null;
  minAmount: number | null;
  maxAmount: number | null;
  source: string;
}

/** What every report answers as its segment: the one it counted, defaults spelled out (all kinds: the default cohort). */
function segmentEcho(asked: AskedSegment): SegmentEcho {
  return {
    kinds: asked.kinds ? [...new Set(asked.kinds)] : ALL_KINDS,
    owners: asked.owners ? [...new Set(asked.owners)] : null,
    currencies: asked.currencies ? [...new Set(asked.currencies)] : null,
    minAmount: asked.minAmount ?? null,
    maxAmount: asked.maxAmount ?? null,
    source: asked.source ?? 'all',
  };
}

function asOfOf(query: Pick<ReadParamsDto, 'asOf' | 'axis'>): AsOf {
  return { axis: query.axis ?? 'occurred', ...(query.asOf ? { at: parseInstant(query.asOf)! } : {}) };
}

/** Without from, a period is the 90 days before to. */
const DEFAULT_PERIOD_DAYS = 90;

/**
 * The period [from, to): as given, else `to` = the report's instant (asOf, else now) and `from` =
 * 90 days before `to` (docs/metrics.md, "Conventions").
 */
function periodOf(query: { from?: string; to?: string; asOf?: string }): { from: Date; to: Date } {
  const to = query.to ? parseInstant(query.to)! : query.asOf ? parseInstant(query.asOf)! : new Date();
  const from = query.from ? parseInstant(query.from)! : new Date(to.getTime() - DEFAULT_PERIOD_DAYS * 86_400_000);
  if (!(from < to)) throw new ApiProblem(400, 'invalid-period', 'from must be before to');
  return { from, to };
}

function notFound(id: string, asOf: AsOf): ApiProblem {
  return new ApiProblem(
    404,
    'pipeline-not-found',
    asOf.at ? `pipeline ${id} did not exist at ${asOf.at.toISOString()}` : `pipeline ${id} does not exist`,
  );
}

function encodeCursor(cursor: BoardCursor): string {
  return Buffer.from(JSON.stringify([cursor.amount, cursor.dealId])).toString('base64url');
}

function decodeCursor(raw: string): BoardCursor {
  try {
    const [amount, dealId] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as [unknown, unknown];
    // Both parts go into SQL as bigint and uuid: only what this route could have made is accepted
    // (amounts written before MAX_AMOUNT existed may be larger, so any safe integer ≥ 0 is).
    if (
      typeof amount === 'number' &&
      Number.isSafeInteger(amount) &&
      amount >= 0 &&
      typeof dealId === 'string' &&
      UUID_PATTERN.test(dealId)
    ) {
      return { amount, dealId };
    }
  } catch {
    // fall through
  }
  throw new ApiProblem(400, 'invalid-cursor', 'cursor must be a nextCursor returned by this route');
}

function decodePipelineCursor(raw: string): PipelineListCursor {
  try {
    const [name, pipelineId] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof name === 'string' && typeof pipelineId === 'string' && UUID_PATTERN.test(pipelineId))
      return { name, pipelineId };
  } catch {
    // fall through
  }
  throw new ApiProblem(400, 'invalid-cursor', 'cursor must be a nextCursor returned by this route');
}
