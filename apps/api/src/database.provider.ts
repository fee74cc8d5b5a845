import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Database } from '@dealstream/database';
import type { EventStore } from '@dealstream/event-store';
import { EVENT_STORE } from '@dealstream/command-handling';

export const DATABASE = Symbol.for('dealstream.Database');

/** Closes the event store and the database when Nest shuts down (SIGTERM, app.close()). */
@Injectable()
export class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
    await this.database.close();
  }
}
