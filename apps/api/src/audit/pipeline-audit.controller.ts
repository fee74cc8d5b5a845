import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { PIPELINE_AUDIT } from '@dealstream/audit';
import { CurrentPrincipal, type Principal } from '../auth/auth.decorators.js';
import { UuidParamPipe } from '../http/uuid-param.pipe.js';
import { AggregateAuditService } from './aggregate-audit.service.js';
import { ApiAuditRead } from './audit-docs.decorators.js';
import { DiffQueryDto, HistoryQueryDto, StateQueryDto } from './dtos/audit-queries.dto.js';
import { HistoryPageDto, StateAtDto, StateDiffDto } from './dtos/audit-responses.dto.js';

/** A pipeline's audit trail (its definition over time): every event, the state at any version or instant, diffs. Reads the event store only. */
@ApiTags('audit')
@Controller('pipelines')
export class PipelineAuditController {
  constructor(private readonly audit: AggregateAuditService) {}

  @Get(':id/history')
  @ApiAuditRead({ summary: "A pipeline's events in revision order, paginated", type: HistoryPageDto, errors: [404] })
  history(
    @Param('id', UuidParamPipe) id: string,
    @Query() query: HistoryQueryDto,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.audit.history(PIPELINE_AUDIT, id, query, principal);
  }

  @Get(':id/state')
  @ApiAuditRead({
    summary: 'The pipeline after N events (version=N) or as it was at an instant (asOf=…)',
    description:
      'Replays the stream through the same evolve as the write side. asOf folds the longest run of events, from the first, that had all happened (axis=occurred, default) or been recorded (axis=recorded) by the instant.',
    type: StateAtDto,
    errors: [404],
  })
  state(
    @Param('id', UuidParamPipe) id: string,
    @Query() query: StateQueryDto,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.audit.state(PIPELINE_AUDIT, id, query, principal);
  }

  @Get(':id/diff')
  @ApiAuditRead({
    summary: 'Field-by-field changes between two versions, with who and when',
    type: StateDiffDto,
    errors: [404],
  })
  diff(@Param('id', UuidParamPipe) id: string, @Query() query: DiffQueryDto, @CurrentPrincipal() principal: Principal) {
    return this.audit.diff(PIPELINE_AUDIT, id, query, principal);
  }
}
