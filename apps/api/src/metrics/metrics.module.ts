import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { CommandBus, type ICommand } from '@nestjs/cqrs';
import type { Database } from '@dealstream/database';
import type { EventStore } from '@dealstream/event-store';
import { EVENT_STORE } from '@dealstream/command-handling';
import { LIVE_SCHEMA, listParkedStreams, projectionLag } from '@dealstream/read-models';
import { DATABASE } from '../database.provider.js';
import type { ApiMetrics } from './api-metrics.js';
import { MetricsController } from './metrics.controller.js';
import { API_METRICS } from './metrics.tokens.js';

/** Events counted at most per scrape for the lag gauge: a scrape stays cheap however far behind. */
const LAG_COUNT_LIMIT = 10_000;

/**
 * `GET /metrics`, and the hooks that feed it: every command dispatched on the app's CommandBus is
 * counted by type and outcome; the scrape-time gauges read the projection checkpoint and parked
 * streams from the database. (Appends are metered by the store wrapper, HTTP by a middleware, open
 * event streams by EventStreamService: bootstrap.ts.)
 */
@Module({ controllers: [MetricsController] })
export class MetricsModule implements OnModuleInit {
  constructor(
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
    @Inject(DATABASE) private readonly database: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly commandBus: CommandBus,
  ) {}

  onModuleInit(): void {
    // @nestjs/cqrs has no hook around execute: the bus's own method is wrapped once, here.
    const execute = this.commandBus.execute.bind(this.commandBus);
    const metrics = this.metrics;
    Object.assign(this.commandBus, {
      execute: (command: ICommand) => metrics.countCommand(command.constructor.name, () => execute(command)),
    });
    const { db } = this.database;
    this.metrics.observe({
      projection: async () => {
        // One checkpoint read for all three figures: a second, concurrent read could straddle a batch's
        // commit and show no lag beside the position before it.
        const lag = await projectionLag(db, this.store, LIVE_SCHEMA, { countLimit: LAG_COUNT_LIMIT });
        const oldest = lag.oldestPendingRecordedAt?.getTime();
        return {
          behind: lag.behind,
          lagSeconds: oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000),
          position: lag.eventsApplied,
        };
      },
      parkedStreams: async () => (await listParkedStreams(db)).length,
    });
  }
}
