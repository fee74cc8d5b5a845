import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { HttpReply } from '../controller-kit/http-exchange.js';
import { ApiProblemResponses } from '../controller-kit/api-docs.decorators.js';
import { AUTHENTICATED, DATABASE_FAULTS, mergeProblems } from '../problem/problem-catalogue.js';
import { API_METRICS } from './metrics.tokens.js';
import type { ApiMetrics } from './api-metrics.js';

/** `GET /metrics`: the Prometheus text exposition of this instance. */
@ApiTags('health')
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(API_METRICS) private readonly metrics: ApiMetrics) {}

  @Get()
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Prometheus metrics of this instance (text exposition format 0.0.4)',
    description:
      'HTTP request durations by route template and status, commands by type and outcome, appends and conflicts, projection lag (events, seconds) and position, parked streams, open event streams, process and event-loop metrics. ' +
      'Also readable with the static `METRICS_TOKEN` as bearer when it is set. Every metric is listed in docs/operations.md.',
  })
  @ApiResponse({
    status: 200,
    description: 'The exposition',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @ApiProblemResponses(mergeProblems(AUTHENTICATED, DATABASE_FAULTS), {
    503: 'The database did not answer while the figures were read (`database-unavailable`, `database-timeout`, with Retry-After)',
  })
  async scrape(@Res() response: HttpReply): Promise<void> {
    const { contentType, body } = await this.metrics.exposition();
    response.status(200).header('Content-Type', contentType).header('Cache-Control', 'no-store').send(body);
  }
}
