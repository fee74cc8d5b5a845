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
import { ProjectionThread, type RunnerHandle } from './projection-thread.js';

export const PROJECTION_RUNNER = Symbol.for('dealstream.ProjectionRunner');
/** The live checkpoint, watched once for every read waiting on a minPosition. */
export const CHECKPOINT_WATCH = Symbol.for('dealstream.CheckpointWatch');

/** Starts the in-process runner once the app is up and stops it before the database closes. */
@Injectable()
class RunnerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(PROJECTION_RUNNER) private readonly runner: RunnerHandle | null) {}
  async onApplicationBootstrap(): Promise<void> {
    await this.runner?.start();
  }
  async beforeApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
  }
}

/**
 * The projection runner inside the API (the default) — on a worker thread of its own on a PostgreSQL
 * server with the SQL event store (`ProjectionThread`, unless PROJECTION_THREAD=main), on the main
 * thread otherwise (PGlite, EventStoreDB) — or none, when `apps/projector` runs it as a separate
 * process (PROJECTIONS=external). Either way reads wait on the checkpoint.
 */
@Global()
@Module({})
export class ProjectionsModule {
  static with(
    inProcess: boolean,
    subscriptionSilenceMs: number,
    onWorkerThread = false,
    batchIntervalMs = 0,
  ): DynamicModule {
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
          useFactory: (
            database: Database,
            store: EventStore,
            logger: Logger,
            watch: CheckpointWatch,
          ): RunnerHandle | null => {
            if (!inProcess) return null;
            const reactor = new StageRelocationReactor(() => dealsInRemovedStages(database.db, LIVE_SCHEMA), store);
            const afterBatch = reactor.run;
            if (onWorkerThread && database.config.kind === 'postgres') {
              const thread = new ProjectionThread({
                database: database.config,
                log: (entry) => logger.log(entry),
                // Connection events as the API's own database reports them (bootstrap's log, any level).
                databaseLog: database.log,
                onCommitted: watch.reached,
                // On this thread, with the API's (metered) store, as in-process.
                afterBatch,
                afterBatchCalledFor: reactor.calledForBy,
                minBatchIntervalMs: batchIntervalMs,
              });
              // A read waiting for a position the thread has not committed ends the thread's read spacing.
              watch.onWait(() => thread.hurry());
              return thread;
            }
            return new ProjectionRunner({
              database,
              store,
              log: (entry) => logger.log(entry),
              // Reads waiting for a position are answered as soon as the batch reaching it commits.
              onCommitted: watch.reached,
              subscription: { silenceMs: subscriptionSilenceMs },
              afterBatch,
            });
          },
        },
        RunnerLifecycle,
      ],
      exports: [PROJECTION_RUNNER, CHECKPOINT_WATCH],
    };
  }
}
