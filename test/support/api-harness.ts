import { CommandBus } from '@nestjs/cqrs';
import { sql } from 'kysely';
import request from 'supertest';
import { mintToken, type Role } from '@dealstream/auth';
import type { Database } from '@dealstream/database';
import { SqlEventStore, type GlobalPosition, type RecordedEvent } from '@dealstream/event-store';
import { EVENT_STORE } from '@dealstream/command-handling';
import { createApp, type ApiApplication } from '../../apps/api/src/bootstrap.js';
import { appConfigFromEnv, type AppConfig } from '../../apps/api/src/config/app-config.js';
import { createPostgresTestDatabase, type TestDatabase } from './test-database.js';

export const TEST_JWT_SECRET = 'e2e-secret-that-is-long-enough-for-hs256-0123456789';

/**
 * The real API on its own PostgreSQL database, for supertest. `restart()` closes the app and opens a
 * new one on the same database (idempotency across restarts); `events()` reads what was stored.
 */
export interface ApiHarness {
  http(): ReturnType<typeof request>;
  /** Makes the app listen on a free port of 127.0.0.1 (once per start) and returns its base URL (real HTTP clients). */
  baseUrl(): Promise<string>;
  token(roles: Role[], subject?: string): Promise<string>;
  /** Every stored event, in global order (through a separate connection, not the app's). */
  events(): Promise<RecordedEvent[]>;
  eventCount(): Promise<number>;
  streamEvents(streamId: string): Promise<RecordedEvent[]>;
  /** A separate connection to the app's database (direct SQL: tampering, digests). */
  readonly database: TestDatabase;
  /** Its connection string (for the CLI). */
  readonly url: string;
  /** The EventStore instance the app itself uses (fault injection). */
  appEventStore(): SqlEventStore;
  /** The app's own command bus: the write path the controllers dispatch to, without HTTP. */
  commands(): CommandBus;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startApiOnPostgres(overrides: Partial<AppConfig> = {}): Promise<ApiHarness> {
  const testDb = await createPostgresTestDatabase({ poolSize: 4 });
  const config: AppConfig = {
    ...appConfigFromEnv({}),
    database: { kind: 'postgres', connectionString: testDb.url!, poolSize: 20 },
    logLevel: 'silent',
    auth: { secret: TEST_JWT_SECRET, publicKeyAlgorithm: 'RS256' },
    ...overrides,
  };
  return startHarness(config, testDb);
}

async function startHarness(config: AppConfig, testDb: TestDatabase): Promise<ApiHarness> {
  let app: ApiApplication = await started(config);
  const observer: Database = testDb;
  const store = new SqlEventStore(observer.db);
  return {
    http: () => request(app.getHttpServer()),
    async baseUrl() {
      const server = app.getHttpServer();
      if (!server.listening) await app.listen(0, '127.0.0.1');
      const address = server.address();
      if (!address || typeof address === 'string') throw new Error('the app is not listening on a TCP port');
      return `http://127.0.0.1:${address.port}`;
    },
    token: (roles, subject = 'alice') => mintToken({ subject, roles, secret: TEST_JWT_SECRET, expiresIn: '1h' }),
    async events() {
      const all: RecordedEvent[] = [];
      let cursor: GlobalPosition | undefined;
      for (;;) {
        const batch = await store.readAll({ after: cursor, limit: 1000 });
        if (batch.events.length === 0) return all;
        all.push(...batch.events);
        cursor = batch.cursor;
      }
    },
    async eventCount() {
      const { rows } = await sql<{ n: string }>`select count(*)::text as n from event_store.events`.execute(
        observer.db,
      );
      return Number(rows[0].n);
    },
    streamEvents: (streamId) => store.readStream(streamId),
    database: testDb,
    url: testDb.url!,
    appEventStore: () => app.get<SqlEventStore>(EVENT_STORE),
    commands: () => app.get(CommandBus),
    async restart() {
      await app.close();
      app = await started(config);
    },
    async close() {
      await app.close();
      await testDb.drop();
    },
  };
}

async function started(config: AppConfig): Promise<ApiApplication> {
  const { app } = await createApp(config);
  await app.init();
  return app;
}
