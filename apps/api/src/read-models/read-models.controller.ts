import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Database } from '@dealstream/database';
import { encodePosition, type GlobalPosition } from '@dealstream/event-store';
import {
  LIVE_SCHEMA,
  board,
  boardOwnerIds,
  dealById,
  funnel,
  pipelineDefinition,
  pipelineMetrics,
  velocity,
  type AsOf,
  type BoardCursor,
  type BoardFilters,
  type ReportStageMap,
  type CheckpointWatch,
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
  PeriodQueryDto,
  ReadParamsDto,
  ReportParamsDto,
} from './dtos/query-params.dto.js';
import { BoardDto, DealViewDto, FunnelDto, PipelineMetricsDto, VelocityDto } from './dtos/read-responses.dto.js';
import { awaitReadPosition } from './read-position.js';

/** What every report can answer besides every read's: an unknown pipeline, a stageMap= it cannot use. */
const REPORT = { 404: ['pipeline-not-found'], 422: ['unknown-stage-map', 'stage-map-of-another-pipeline'] };
/** A report over a period [from, to). */
const PERIOD_REPORT = mergeProblems(REPORT, { 400: ['invalid-period'] });

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

  /** What every report starts with: its stage map (422 when unknown), the read position (waits for minPosition), the instant. */
  private async reportContext(pipelineId: string, query: ReportParamsDto, request: Request, response: Response) {
    const map = await this.stageMapOf(pipelineId, query.stageMap);
    const position = await awaitReadPosition(this.database.db, this.watch, request, response, this.maxWaitMs);
    return { map, position, asOf: asOfOf(query) };
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
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
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
    response.setHeader('ETag', `"${deal.revision}"`);
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
    problems: mergeProblems(REPORT, { 400: ['owner-filter-needs-pseudonym', 'cursor-needs-stage', 'invalid-cursor'] }),
  })
  async board(
    @Param('id', UuidParamPipe) id: string,
    @Query() query: BoardQueryDto,
    @CurrentPrincipal() principal: Principal,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
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
    const report = await this.reportContext(id, query, request, response);
    const { map, asOf } = report;
    if (query.cursor && !query.stageId)
      throw new ApiProblem(400, 'cursor-needs-stage', 'cursor pages through one stage: pass its stageId too');
    const owners: BoardFilters =
      query.ownerId === undefined
        ? {}
        : clear
          ? { ownerId: query.ownerId }
          : { ownerIds: await this.ownersWithPseudonym(id, asOf, query.ownerId) };
    const result = await board(this.database.db, LIVE_SCHEMA, id, {
      asOf,
      now: asOf.at ?? new Date(),
      limit: query.limit ? Number(query.limit) : 20,
      ...(query.stageId ? { stageId: query.stageId.toLowerCase() } : {}),
      ...(query.cursor ? { cursor: decodeCursor(query.cursor) } : {}),
      ...reportMap(map),
      filters: {
        ...owners,
        ...(query.stalled !== undefined ? { stalled: query.stalled === 'true' } : {}),
        ...(query.minAmount !== undefined ? { minAmount: Number(query.minAmount) } : {}),
        ...(query.maxAmount !== undefined ? { maxAmount: Number(query.maxAmount) } : {}),
      },
    });
    if (!result) throw notFound(id, asOf);
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
  })
  async pipeline(
    @Param('id', UuidParamPipe) id: string,
    @Query() query: ReportParamsDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const report = await this.reportContext(id, query, request, response);
    const { map, asOf } = report;
    const result = await pipelineMetrics(
      this.database.db,
      LIVE_SCHEMA,
      id,
      asOf,
      asOf.at ?? new Date(),
      reportMap(map).stageMap,
    );
    if (!result) throw notFound(id, asOf);
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
  })
  async funnel(
    @Param('id', UuidParamPipe) id: string,
    @Query() query: FunnelQueryDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const report = await this.reportContext(id, query, request, response);
    const { map, asOf } = report;
    const { from, to } = periodOf(query);
    const result = await funnel(this.database.db, LIVE_SCHEMA, id, {
      from,
      to,
      policy: query.policy ?? 'any',
      asOf,
      now: new Date(),
      ...reportMap(map),
    });
    if (!result) throw notFound(id, asOf);
    return {
      ...result,
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
      'The same figures as GET …/metrics/funnel, computed in the body’s stageMap, which is checked like a stored one against every stage the pipeline ever had (as the read models know it): 422 `invalid-stage-map` with `details.problems[]` naming every offending entry. The answer’s `stageMap` is null (the map has no id). Read-your-writes: header X-Min-Position.',
    type: FunnelDto,
    problems: mergeProblems(PERIOD_REPORT, {
      422: ['invalid-stage-map', 'invalid-stage-map-id', 'invalid-stage-map-name'],
    }),
  })
  async funnelQuery(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: FunnelQueryBodyDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    const position = await awaitReadPosition(this.database.db, this.watch, request, response, this.maxWaitMs);
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
      readPosition: encodePosition(position),
    };
  }

  @Get('pipelines/:id/metrics/velocity')
  @ApiRead({
    summary: 'Sales velocity for [from, to): opportunities, average won size, win rates (period, cohort), cycle length',
    type: VelocityDto,
    problems: PERIOD_REPORT,
  })
  async velocity(
    @Param('id', UuidParamPipe) id: string,
    @Query() query: PeriodQueryDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    // Velocity has no per-stage figure: a map is checked and echoed, and changes nothing.
    const report = await this.reportContext(id, query, request, response);
    const { asOf } = report;
    const { from, to } = periodOf(query);
    if (!(await pipelineDefinition(this.database.db, LIVE_SCHEMA, id, asOf))) throw notFound(id, asOf);
    const result = await velocity(this.database.db, LIVE_SCHEMA, id, { from, to, asOf, now: new Date() });
    return {
      ...result,
      from: from.toISOString(),
      to: to.toISOString(),
      ...reportEnvelope(report),
    };
  }
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
}: {
  map: StageMapView | undefined;
  position: GlobalPosition;
  asOf: AsOf;
}) {
  return {
    asOf: asOf.at?.toISOString() ?? null,
    axis: asOf.axis,
    stageMap: stageMapRef(map),
    readPosition: encodePosition(position),
  };
}

function asOfOf(query: Pick<ReadParamsDto, 'asOf' | 'axis'>): AsOf {
  return { axis: query.axis ?? 'occurred', ...(query.asOf ? { at: parseInstant(query.asOf)! } : {}) };
}

function periodOf(query: Pick<PeriodQueryDto, 'from' | 'to'>): { from: Date; to: Date } {
  const from = parseInstant(query.from)!;
  const to = parseInstant(query.to)!;
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
