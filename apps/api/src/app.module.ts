import { Module, type DynamicModule } from '@nestjs/common';
import type { Database } from '@dealstream/database';
import { DATABASE, DatabaseLifecycle } from './database.provider.js';
import { HealthController } from './health/health.controller.js';

/** The HTTP application, built around an already opened and migrated database. */
@Module({})
export class AppModule {
  static forDatabase(database: Database): DynamicModule {
    return {
      module: AppModule,
      controllers: [HealthController],
      providers: [{ provide: DATABASE, useValue: database }, DatabaseLifecycle],
    };
  }
}
