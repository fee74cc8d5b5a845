import { Controller, Get, Param, Query, type Type } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DEAL_AUDIT, PIPELINE_AUDIT, type AuditedAggregate } from '@dealstream/audit';
import { CurrentPrincipal, type Principal } from '../auth/auth.decorators.js';
import { UuidParamPipe } from '../controller-kit/uuid-param.pipe.js';
import { AggregateAuditService } from './aggregate-audit.service.js';
import { mergeProblems, type ProblemCodes } from '../problem/problem-catalogue.js';
import { ApiAuditRead } from './audit-docs.decorators.js';
import { DiffQueryDto, HistoryQueryDto, StateQueryDto } from './dtos/audit-queries.dto.js';
import { HistoryPageDto, StateAtDto, StateDiffDto } from './dtos/audit-responses.dto.js';

interface AuditRoutes {
  /** The controller's name: Swagger derives the operation ids from it (`DealAuditController_history`). */
  readonly name: string;
  /** The route prefix of the aggregate's write routes (`deals`, `pipelines`). */
  readonly path: string;
  /** How the summaries name one of them (`deal`, `pipeline`). */
  readonly noun: string;
  readonly aggregate: AuditedAggregate<{ version: number }>;
}

/**
 * An aggregate's audit trail — every event, the state at any version or instant, diffs — as three GET
 * routes under the aggregate's own prefix. Deals and pipelines differ only in their names, so one
 * definition makes both controllers. Reads the event store only.
 */
function auditController({ name, path, noun, aggregate }: AuditRoutes): Type {
  /** Every route here: a UUID in the path, 404 for a stream that does not exist. */
  const AGGREGATE_READ: ProblemCodes = { 400: ['invalid-id'], 404: [`${aggregate.kind}-not-found`] };

  @ApiTags('audit')
  @Controller(path)
  class AuditController {
    constructor(private readonly audit: AggregateAuditService) {}

    @Get(':id/history')
    @ApiAuditRead({
      summary: `A ${noun}'s events in revision order, paginated`,
      type: HistoryPageDto,
      problems: AGGREGATE_READ,
    })
    history(
      @Param('id', UuidParamPipe) id: string,
      @Query() query: HistoryQueryDto,
      @CurrentPrincipal() principal: Principal,
    ) {
      return this.audit.history(aggregate, id, query, principal);
    }

    @Get(':id/state')
    @ApiAuditRead({
      summary: `The ${noun} after N events (version=N) or as it was at an instant (asOf=…)`,
      description:
        'Replays the stream through the same evolve as the write side. asOf folds the longest run of events, from the first, that had all happened (axis=occurred, default) or been recorded (axis=recorded) by the instant.',
      type: StateAtDto,
      problems: mergeProblems(AGGREGATE_READ, {
        400: ['invalid-query'],
        404: ['version-not-found', 'no-state-at-instant'],
      }),
    })
    state(
      @Param('id', UuidParamPipe) id: string,
      @Query() query: StateQueryDto,
      @CurrentPrincipal() principal: Principal,
    ) {
      return this.audit.state(aggregate, id, query, principal);
    }

    @Get(':id/diff')
    @ApiAuditRead({
      summary: 'Field-by-field changes between two versions, with who and when',
      type: StateDiffDto,
      problems: mergeProblems(AGGREGATE_READ, { 400: ['invalid-query'], 404: ['version-not-found'] }),
    })
    diff(
      @Param('id', UuidParamPipe) id: string,
      @Query() query: DiffQueryDto,
      @CurrentPrincipal() principal: Principal,
    ) {
      return this.audit.diff(aggregate, id, query, principal);
    }
  }
  Object.defineProperty(AuditController, 'name', { value: name });
  return AuditController;
}

export const DealAuditController = auditController({
  name: 'DealAuditController',
  path: 'deals',
  noun: 'deal',
  aggregate: DEAL_AUDIT,
});

/** A pipeline's audit trail is its definition over time. */
export const PipelineAuditController = auditController({
  name: 'PipelineAuditController',
  path: 'pipelines',
  noun: 'pipeline',
  aggregate: PIPELINE_AUDIT,
});
