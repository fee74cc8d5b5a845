import type { NestExpressApplication } from '@nestjs/platform-express';
import { CommandBus } from '@nestjs/cqrs';
import request from 'supertest';
import { mintToken, type Role } from '@dealstream/auth';
import { SqlEventStore } from '@dealstream/event-store';
import { EVENT_STORE } from '@dealstream/shared-application';
import { createApp } from '../../apps/api/src/bootstrap.js';
import { appConfigFromEnv, type AppConfig } from '../../apps/api/src/config/app-config.js';
import { TEST_JWT_SECRET } from './api-harness.js';
import { createPostgresTestDatabase, type TestDatabase } from './test-database.js';

/**
 * The real API on its own PostgreSQL database, built exactly as api-harness.ts builds it, but also
 * handing the test the database (for direct SQL: tampering, digests), its URL (for the CLI), the
 * app's own event store (fault injection) and command bus (a long history through the write side
 * without one HTTP request per event).
 */
export interface AuditApiHarness {
  http(): ReturnType<typeof request>;
  token(roles: Role[], subject?: string): Promise<string>;
  /** A separate connection to the app's database. */
  readonly database: TestDatabase;
  readonly url: string;
  /** The EventStore instance the app itself uses. */
  appEventStore(): SqlEventStore;
  /** The app's own command bus: the write path the HTTP controllers dispatch to. */
  commands(): CommandBus;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the API on a fresh PostgreSQL database; projections run in-process unless overridden. */
export async function startAuditApi(overrides: Partial<AppConfig> = {}): Promise<AuditApiHarness> {
  const database = await createPostgresTestDatabase({ poolSize: 4 });
  const config: AppConfig = {
    ...appConfigFromEnv({}),
    database: { kind: 'postgres', connectionString: database.url!, poolSize: 20 },
    logLevel: 'silent',
    auth: { secret: TEST_JWT_SECRET, publicKeyAlgorithm: 'RS256' },
    ...overrides,
  };
  let app = await started(config);
  return {
    http: () => request(app.getHttpServer()),
    token: (roles, subject = 'alice') => mintToken({ subject, roles, secret: TEST_JWT_SECRET, expiresIn: '1h' }),
    database,
    url: database.url!,
    appEventStore: () => app.get<SqlEventStore>(EVENT_STORE),
    commands: () => app.get(CommandBus),
    async restart() {
      await app.close();
      app = await started(config);
    },
    async close() {
      await app.close();
      await database.drop();
    },
  };
}

async function started(config: AppConfig): Promise<NestExpressApplication> {
  const { app } = await createApp(config);
  await app.init();
  return app;
}
