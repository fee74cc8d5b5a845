import { Controller, Get, HttpCode, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { sql } from 'kysely';
import type { Database } from '@dealstream/database';
import { encodePosition } from '@dealstream/event-store';
import type { ProjectionRunner } from '@dealstream/read-models';
import { Public } from '../auth/auth.decorators.js';
import { PROJECTION_RUNNER } from '../projections/projections.module.js';
import { DATABASE } from '../database.provider.js';
import { ApiProblem } from '../problem/api-problem.js';

/** Liveness and readiness, without a token: for load balancers and orchestrators. */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(PROJECTION_RUNNER) private readonly runner: ProjectionRunner | null,
  ) {}

  /** Liveness: the process answers. */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @HttpCode(200)
  live() {
    return { status: 'ok' };
  }

  /** Readiness: the database answers a query. */
  @Get()
  @ApiOperation({ summary: 'Readiness: the database answers (503 otherwise)' })
  async ready() {
    try {
      await sql`select 1`.execute(this.database.db);
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
      return { status: 'ok', database: this.database.config.kind, projections };
    } catch {
      throw new ApiProblem(503, 'database-unavailable', `The ${this.database.config.kind} database does not answer`);
    }
  }
}
