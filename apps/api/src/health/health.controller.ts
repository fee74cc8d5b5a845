import { Controller, Get, HttpCode, Inject, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { HttpReply } from '../controller-kit/http-exchange.js';
import type { Database } from '@dealstream/database';
import { encodePosition, type EventStore } from '@dealstream/event-store';
import { listParkedStreams, type ParkedStream } from '@dealstream/read-models';
import { EVENT_STORE } from '@dealstream/command-handling';
import { Public, type Principal } from '../auth/auth.decorators.js';
import { PROJECTION_RUNNER } from '../projections/projections.module.js';
import type { RunnerHandle } from '../projections/projection-thread.js';
import { DATABASE } from '../database.provider.js';
import { HealthDto } from './health-responses.dto.js';
import { WebhooksService } from '../webhooks/webhooks.service.js';
import { READINESS_OPTIONS, ReadinessProbe, type ReadinessOptions, type ReadinessReport } from './readiness.probe.js';

/**
 * Liveness and readiness, without a token: for load balancers and orchestrators. Anonymous callers
 * get only `{status}` (and the status code); a caller with an `admin` token also gets the checks,
 * positions and error texts — never anyone else, as those carry database error messages.
 */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  private readonly probe: ReadinessProbe;

  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(PROJECTION_RUNNER) private readonly runner: RunnerHandle | null,
    @Inject(READINESS_OPTIONS) options: ReadinessOptions,
    webhooks: WebhooksService,
  ) {
    this.probe = new ReadinessProbe(database, store, runner, options, (limit) => webhooks.largestBacklog(limit));
  }

  /** Liveness: the process answers. Touches nothing else, so a database outage never restarts it. */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers (never looks at the database)' })
  @ApiOkResponse({ description: '`{"status":"ok"}`', type: HealthDto })
  @HttpCode(200)
  live() {
    return { status: 'ok' };
  }

  /** Readiness: this instance can serve now. */
  @Get('ready')
  @ApiOperation({
    summary: 'Readiness: route traffic here only on 200',
    description:
      'Ready when, within READY_TIMEOUT_MS: the database answers, the event tables can take the lock an append takes, the oldest event not yet projected is at most READY_MAX_LAG_MS old, ' +
      'a projection runner holds the projection lock somewhere (READY_REQUIRE_LEADER), and no webhook subscription has more than WEBHOOK_READY_MAX_BACKLOG events undelivered (when set). Anonymous: `{"status":"ok"|"unavailable"}`; with an admin token also the checks and their errors.',
  })
  @ApiOkResponse({ description: 'Ready', type: HealthDto })
  @ApiServiceUnavailableResponse({
    description: 'Not ready: `{"status":"unavailable"}` (and `Retry-After`)',
    type: HealthDto,
  })
  async ready(@Req() request: { principal?: Principal }, @Res({ passthrough: true }) response: HttpReply) {
    const report = await this.probe.check();
    if (!report.ready) response.status(503).header('Retry-After', '1');
    const status = report.ready ? 'ok' : 'unavailable';
    return isAdmin(request) ? { status, ...this.details(report) } : { status };
  }

  /** For humans: up while the database answers (within READY_TIMEOUT_MS); details for admins. */
  @Get()
  @ApiOperation({
    summary: 'Health for humans: 200 while the database answers (503 otherwise); `degraded` while streams are parked',
    description:
      'Anonymous: `{"status":"ok"|"degraded"|"unavailable"}` only. `degraded` (still 200): some streams are parked because an event could not be projected — every other stream flows (`npm run cli -- projections parked`). ' +
      "With an admin token: database kind, the database check, this instance's projection runner (role, position, last error) and `parked: {count, streams}` (the first 20). The full checks are on /health/ready.",
  })
  @ApiOkResponse({ description: 'The database answers', type: HealthDto })
  @ApiServiceUnavailableResponse({
    description: 'The database does not answer within READY_TIMEOUT_MS',
    type: HealthDto,
  })
  async health(@Req() request: { principal?: Principal }, @Res({ passthrough: true }) response: HttpReply) {
    const report = await this.probe.check({ databaseOnly: true });
    if (!report.databaseReachable) response.status(503).header('Retry-After', '1');
    const parked = report.databaseReachable ? await this.parked() : undefined;
    // Degraded, not down: every other stream is served; the parked ones wait for an operator.
    const status = !report.databaseReachable ? 'unavailable' : parked?.count ? 'degraded' : 'ok';
    return isAdmin(request) ? { status, ...this.details(report), ...(parked ? { parked } : {}) } : { status };
  }

  /** Streams held back by an event no projection could apply (docs/read-models.md, "Poison events"). */
  private async parked(): Promise<{ count: number; streams: ParkedSummary[] } | undefined> {
    try {
      const parked = await listParkedStreams(this.database.db);
      return { count: parked.length, streams: parked.slice(0, PARKED_LISTED).map(summary) };
    } catch {
      return undefined; // the database check above already reports an unreachable database
    }
  }

  private details(report: ReadinessReport) {
    const runner = this.runner?.status();
    const projections = runner
      ? {
          mode: 'in-process',
          role: runner.role,
          position: runner.position ? encodePosition(runner.position) : null,
          lastError: runner.lastError ?? null,
          ...(runner.subscription ? { subscription: runner.subscription } : {}),
        }
      : { mode: 'external' };
    return { database: this.database.config.kind, projections, checks: report.checks, tookMs: report.tookMs };
  }
}

const PARKED_LISTED = 20;

type ParkedSummary = Pick<ParkedStream, 'streamId' | 'eventType' | 'error' | 'errorCode' | 'eventsWaiting'> & {
  revision: string;
  parkedAt: string;
};

function summary(p: ParkedStream): ParkedSummary {
  return {
    streamId: p.streamId,
    revision: p.revision.toString(),
    eventType: p.eventType,
    error: p.error,
    errorCode: p.errorCode,
    eventsWaiting: p.eventsWaiting,
    parkedAt: p.parkedAt.toISOString(),
  };
}

function isAdmin(request: { principal?: Principal }): boolean {
  return request.principal?.roles.includes('admin') ?? false;
}
