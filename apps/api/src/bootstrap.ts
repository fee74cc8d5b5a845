import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { openDatabase, type DatabaseConfig } from '@dealstream/database';
import { migrateEventStore } from '@dealstream/event-store';
import { AppModule } from './app.module.js';

/** Opens and migrates the database, then builds the Nest app (not yet listening). */
export async function createApp(config: DatabaseConfig): Promise<INestApplication> {
  const database = await openDatabase(config);
  try {
    await migrateEventStore(database.db);
  } catch (error) {
    await database.close();
    throw error;
  }
  const app = await NestFactory.create(AppModule.forDatabase(database), { logger: ['error', 'warn', 'log'] });
  app.enableShutdownHooks();
  return app;
}
