import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Database } from '@dealstream/database';

export const DATABASE = Symbol.for('dealstream.Database');

/** Closes the database when Nest shuts down (SIGTERM, app.close()). */
@Injectable()
export class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: Database) {}
  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}
