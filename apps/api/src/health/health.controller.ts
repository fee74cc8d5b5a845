import { Controller, Get, HttpCode, Inject, ServiceUnavailableException } from '@nestjs/common';
import { sql } from 'kysely';
import type { Database } from '@dealstream/database';
import { DATABASE } from '../database.provider.js';

/** Liveness and readiness, without a token: for load balancers and orchestrators. */
@Controller('health')
export class HealthController {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  /** Liveness: the process answers. */
  @Get('live')
  @HttpCode(200)
  live() {
    return { status: 'ok' };
  }

  /** Readiness: the database answers a query. */
  @Get()
  async ready() {
    try {
      await sql`select 1`.execute(this.database.db);
      return { status: 'ok', database: this.database.config.kind };
    } catch {
      throw new ServiceUnavailableException({ status: 'unavailable', database: this.database.config.kind });
    }
  }
}
