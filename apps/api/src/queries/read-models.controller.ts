import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Database } from '@dealstream/database';
import { encodePosition } from '@dealstream/event-store';
import { LIVE_SCHEMA, board, dealById, funnel, pipelineDefinition, pipelineMetrics, velocity, type AsOf, type BoardCursor } from '@dealstream/read-models';
import { RequirePermission } from '../auth/auth.decorators.js';
import { DATABASE } from '../database.provider.js';
import { ApiRead } from '../http/api-docs.decorators.js';
import { UUID_PATTERN, UuidParamPipe } from '../http/uuid-param.pipe.js';
import { parseInstant } from '../audit/dtos/query-fields.js';
import { ApiProblem } from '../problem/api-problem.js';
import { BoardQueryDto, FunnelQueryDto, PeriodQueryDto, ReadParamsDto } from './dtos/query-params.dto.js';
import { awaitReadPosition } from './read-position.js';

export const READ_WAIT_MS = Symbol.for('dealstream.ReadWaitMs');



/**
 * Reads from the read models only (never replaying streams). Every route answers X-Read-Position
 * and honours minPosition; board and metrics take asOf/axis and answer as at that instant.
 */
@ApiTags('read models')
@RequirePermission('read')
@Controller()
export class ReadModelsController {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(READ_WAIT_MS) private readonly maxWaitMs: number,
  ) {}

  @Get('deals/:id')
  @ApiRead({ summary: 'Current state of a deal (ETag = stream revision)' })
  async deal(@Param('id', UuidParamPipe) id: string, @Query() query: ReadParamsDto, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    if (query.asOf || query.axis) throw new ApiProblem(400, 'as-of-not-supported', 'GET /deals/:id is current state; use /deals/:id/state?asOf= for the past');
    const position = await awaitReadPosition(this.database.db, request, response, this.maxWaitMs);
    const deal = await dealById(this.database.db, LIVE_SCHEMA, id);
    if (!deal) throw new ApiProblem(404, 'deal-not-found', `deal ${id} does not exist (or is not projected yet: pass minPosition)`);
    response.setHeader('ETag', `"${deal.revision}"`);
    return { ...deal, revision: String(deal.revision), readPosition: encodePosition(position) };
  }

  @Get('pipelines/:id/board')
  @ApiRead({ summary: 'Board: stages in order with counts, Σ amount and Σ weighted amount per currency, and their deals (keyset-paginated)' })
  async board(@Param('id', UuidParamPipe) id: string, @Query() query: BoardQueryDto, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    const position = await awaitReadPosition(this.database.db, request, response, this.maxWaitMs);
    const asOf = asOfOf(query);
    if (query.cursor && !query.stageId) throw new ApiProblem(400, 'cursor-needs-stage', 'cursor pages through one stage: pass its stageId too');
    const result = await board(this.database.db, LIVE_SCHEMA, id, {
      asOf,
      now: asOf.at ?? new Date(),
      limit: query.limit ? Number(query.limit) : 20,
      ...(query.stageId ? { stageId: query.stageId.toLowerCase() } : {}),
      ...(query.cursor ? { cursor: decodeCursor(query.cursor) } : {}),
      filters: {
        ...(query.ownerId !== undefined ? { ownerId: query.ownerId } : {}),
        ...(query.stalled !== undefined ? { stalled: query.stalled === 'true' } : {}),
        ...(query.minAmount !== undefined ? { minAmount: Number(query.minAmount) } : {}),
        ...(query.maxAmount !== undefined ? { maxAmount: Number(query.maxAmount) } : {}),
      },
    });
    if (!result) throw notFound(id, asOf);
    return {
      ...result,
      asOf: asOf.at?.toISOString() ?? null,
      axis: asOf.axis,
      readPosition: encodePosition(position),
      stages: result.stages.map((stage) => ({ ...stage, nextCursor: stage.nextCursor ? encodeCursor(stage.nextCursor) : null })),
    };
  }

  @Get('pipelines/:id/metrics/pipeline')
  @ApiRead({ summary: 'Open deals by stage (count, value, weighted, average age, stalled) and weighted forecast by expected close month' })
  async pipeline(@Param('id', UuidParamPipe) id: string, @Query() query: ReadParamsDto, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    const position = await awaitReadPosition(this.database.db, request, response, this.maxWaitMs);
    const asOf = asOfOf(query);
    const result = await pipelineMetrics(this.database.db, LIVE_SCHEMA, id, asOf, asOf.at ?? new Date());
    if (!result) throw notFound(id, asOf);
    return { ...result, asOf: asOf.at?.toISOString() ?? null, axis: asOf.axis, readPosition: encodePosition(position) };
  }

  @Get('pipelines/:id/metrics/funnel')
  @ApiRead({ summary: 'Funnel of the deals created in [from, to): reached per stage, conversion, drop-off, median time to reach, win rate, transition matrix' })
  async funnel(@Param('id', UuidParamPipe) id: string, @Query() query: FunnelQueryDto, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    const position = await awaitReadPosition(this.database.db, request, response, this.maxWaitMs);
    const asOf = asOfOf(query);
    const { from, to } = periodOf(query);
    const result = await funnel(this.database.db, LIVE_SCHEMA, id, { from, to, policy: query.policy ?? 'any', asOf, now: new Date() });
    if (!result) throw notFound(id, asOf);
    return { ...result, from: from.toISOString(), to: to.toISOString(), asOf: asOf.at?.toISOString() ?? null, axis: asOf.axis, readPosition: encodePosition(position) };
  }

  @Get('pipelines/:id/metrics/velocity')
  @ApiRead({ summary: 'Sales velocity for [from, to): opportunities, average won size, win rates (period, cohort), cycle length' })
  async velocity(@Param('id', UuidParamPipe) id: string, @Query() query: PeriodQueryDto, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    const position = await awaitReadPosition(this.database.db, request, response, this.maxWaitMs);
    const asOf = asOfOf(query);
    const { from, to } = periodOf(query);
    if (!(await pipelineDefinition(this.database.db, LIVE_SCHEMA, id, asOf))) throw notFound(id, asOf);
    const result = await velocity(this.database.db, LIVE_SCHEMA, id, { from, to, asOf, now: new Date() });
    return { ...result, from: from.toISOString(), to: to.toISOString(), asOf: asOf.at?.toISOString() ?? null, axis: asOf.axis, readPosition: encodePosition(position) };
  }
}

function asOfOf(query: ReadParamsDto): AsOf {
  return { axis: query.axis ?? 'occurred', ...(query.asOf ? { at: parseInstant(query.asOf)! } : {}) };
}

function periodOf(query: PeriodQueryDto): { from: Date; to: Date } {
  const from = parseInstant(query.from)!;
  const to = parseInstant(query.to)!;
  if (!(from < to)) throw new ApiProblem(400, 'invalid-period', 'from must be before to');
  return { from, to };
}

function notFound(id: string, asOf: AsOf): ApiProblem {
  return new ApiProblem(404, 'pipeline-not-found', asOf.at ? `pipeline ${id} did not exist at ${asOf.at.toISOString()}` : `pipeline ${id} does not exist`);
}

function encodeCursor(cursor: BoardCursor): string {
  return Buffer.from(JSON.stringify([cursor.amount, cursor.dealId])).toString('base64url');
}

function decodeCursor(raw: string): BoardCursor {
  try {
    const [amount, dealId] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as [unknown, unknown];
    // Both parts go into SQL as bigint and uuid: only what this route could have made is accepted
    // (amounts written before MAX_AMOUNT existed may be larger, so any safe integer ≥ 0 is).
    if (typeof amount === 'number' && Number.isSafeInteger(amount) && amount >= 0 && typeof dealId === 'string' && UUID_PATTERN.test(dealId)) {
      return { amount, dealId };
    }
  } catch {
    // fall through
  }
  throw new ApiProblem(400, 'invalid-cursor', 'cursor must be a nextCursor returned by this route');
}
