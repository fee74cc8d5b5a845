import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Database } from '@dealstream/database';
import { SqlEventStore, type EventStore } from '@dealstream/event-store';
import { EVENT_STORE } from '@dealstream/command-handling';
import {
  chainAnchorToJson,
  takeChainAnchor,
  takeStoreChainAnchor,
  verifyHashChains,
  verifyStoreChains,
  type VerificationReport,
} from '@dealstream/audit';
import { DATABASE } from '../database.provider.js';
import { ApiProblem } from '../problem/api-problem.js';
import { ApiAuditRead } from './audit-docs.decorators.js';
import { ChainAnchorDto, VerifyReportDto } from './dtos/audit-responses.dto.js';
import { VerifyQueryDto } from './dtos/verify-query.dto.js';

/**
 * Proves the event store's hash chains intact, or names the first broken link of each stream: on the
 * SQL store from its tables (with the stream rows' heads), on EventStoreDB from each event's
 * metadata (`previousHash`, `hash`), through the port.
 */
@ApiTags('audit')
@Controller('audit')
export class AuditVerifyController {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  @Get('verify')
  @ApiAuditRead({
    summary: 'Verify the hash chain of one stream, or of every stream',
    description:
      'Answers 200 with ok=false and the first break of each broken stream when tampering is found. See docs/audit.md for what it can and cannot detect.',
    type: VerifyReportDto,
    problems: { 404: ['stream-not-found'] },
  })
  async verify(@Query() query: VerifyQueryDto): Promise<VerifyReportDto> {
    const options = query.stream !== undefined ? { streamId: query.stream } : {};
    const report =
      this.store instanceof SqlEventStore
        ? await verifyHashChains(this.database.db, options)
        : await verifyStoreChains(this.store, options);
    if (!report) throw new ApiProblem(404, 'stream-not-found', `No stream ${query.stream}`);
    return toReportDto(report);
  }

  @Get('anchor')
  @ApiAuditRead({
    summary: 'Anchor the store: every stream head and a digest, to keep outside the database',
    description:
      "Verifies every chain, then answers each stream's head revision and hash with a digest over them (docs/audit.md). " +
      "Kept where the database's writers cannot reach, it lets `dealstream verify --anchor <file>` detect a stream rewritten and re-hashed consistently, truncated or deleted since — which the chain alone cannot.",
    type: ChainAnchorDto,
    problems: { 400: ['invalid-query'], 409: ['hash-chain-broken'] },
  })
  async anchor(@Query() query: Record<string, unknown>): Promise<ChainAnchorDto> {
    const unknown = Object.keys(query);
    if (unknown.length > 0)
      throw new ApiProblem(
        400,
        'invalid-query',
        `GET /audit/anchor takes no query parameters (got ${unknown.join(', ')})`,
      );
    const taken =
      this.store instanceof SqlEventStore
        ? await takeChainAnchor(this.database.db)
        : await takeStoreChainAnchor(this.store);
    if (!taken.ok) {
      throw new ApiProblem(
        409,
        'hash-chain-broken',
        `${taken.verification.brokenStreams} stream(s) have a broken hash chain; a broken store is not anchored (see GET /audit/verify)`,
      );
    }
    return chainAnchorToJson(taken.anchor);
  }
}

function toReportDto(report: VerificationReport): VerifyReportDto {
  return {
    scope: report.streamId === undefined ? 'store' : 'stream',
    ...(report.streamId !== undefined ? { streamId: report.streamId } : {}),
    ok: report.ok,
    streamsChecked: report.streamsChecked,
    eventsChecked: report.eventsChecked,
    brokenStreams: report.brokenStreams,
    breaks: report.breaks.map((b) => ({
      streamId: b.streamId,
      revision: b.revision.toString(),
      reason: b.reason,
      detail: b.detail,
    })),
  };
}
