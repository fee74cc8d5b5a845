import {
  Global,
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Logger } from 'nestjs-pino';
import type { Database } from '@dealstream/database';
import type { EventStore } from '@dealstream/event-store';
import { StageRelocationReactor } from '@dealstream/deals-application';
import { CheckpointWatch, LIVE_SCHEMA, ProjectionRunner, dealsInRemovedStages } from '@dealstream/read-models';
import { EVENT_STORE } from '@dealstream/command-handling';
import { DATABASE } from '../database.provider.js';

export const PROJECTION_RUNNER = Symbol.for('dealstream.ProjectionRunner');
/** The live checkpoint, watched once for every read waiting on a minPosition. */
export const CHECKPOINT_WATCH = Symbol.for('dealstream.CheckpointWatch');

/** Starts the in-process runner once the app is up and stops it before the database closes. */
@Injectable()
class RunnerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(PROJECTION_RUNNER) private readonly runner: ProjectionRunner | null) {}
  async onApplicationBootstrap(): Promise<void> {
    await this.runner?.start();
  }
  async beforeApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
  }
}

/**
 * The projection runner inside the API (the embedded default) — or none, when `apps/projector`
 * runs it as a separate worker (PROJECTIONS=external). Either way reads wait on the checkpoint.
 */
@Global()
@Module({})
export class ProjectionsModule {
  static with(inProcess: boolean, subscriptionSilenceMs: number): DynamicModule {
    return {
      module: ProjectionsModule,
      providers: [
        {
          provide: CHECKPOINT_WATCH,
          inject: [DATABASE],
          useFactory: (database: Database) => new CheckpointWatch(database.db, LIVE_SCHEMA),
        },
        {
          provide: PROJECTION_RUNNER,
          inject: [DATABASE, EVENT_STORE, Logger, CHECKPOINT_WATCH],
          useFactory: (database: Database, store: EventStore, logger: Logger, watch: CheckpointWatch) =>
            inProcess
              ? new ProjectionRunner({
                  database,
                  store,
                  log: (entry) => logger.log(entry),
                  // Reads waiting for a position are answered as soon as the batch reaching it commits.
                  onCommitted: watch.reached,
                  subscription: { silenceMs: subscriptionSilenceMs },
                  afterBatch: new StageRelocationReactor(() => dealsInRemovedStages(database.db, LIVE_SCHEMA), store)
                    .run,
                })
              : null,
        },
        RunnerLifecycle,
      ],
      exports: [PROJECTION_RUNNER, CHECKPOINT_WATCH],
    };
  }
}
