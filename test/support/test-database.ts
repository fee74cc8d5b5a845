import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database, type PostgresTimeouts } from '@dealstream/database';

const NO_TIMEOUTS: PostgresTimeouts = {
  statementTimeoutMs: 0,
  lockTimeoutMs: 0,
  connectTimeoutMs: 0,
  idleInTransactionTimeoutMs: 0,
};

/**
 * The PostgreSQL server this test file uses: TEST_POSTGRES_URL when set; else, under jest, the private
 * server of this file's worker (test/support/postgres-per-worker.js, jest's globalSetup, passes them
 * in TEST_POSTGRES_URLS); else the local server on 5432.
 */
const TEST_POSTGRES_URL =
  process.env.TEST_POSTGRES_URL ?? workerServer() ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function workerServer(): string | undefined {
  const urls = process.env.TEST_POSTGRES_URLS?.split(' ').filter(Boolean) ?? [];
  if (urls.length === 0) return undefined;
  const worker = Number(process.env.JEST_WORKER_ID ?? '1');
  return urls[(worker - 1) % urls.length];
}

export interface TestDatabase extends Database {
  /** Connection string of this test's own database (PostgreSQL only). */
  readonly url?: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty PostgreSQL database for one test file, so files run in parallel without sharing
 * state. `drop()` closes every connection and removes it.
 */
export async function createPostgresTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const name = `ds_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const url = withDatabase(TEST_POSTGRES_URL, name);
  // Unbounded, as before the pool got timeouts: tests drive their own waits (the app under test
  // gets the production bounds through its own config).
  const database = await openDatabase({
    kind: 'postgres',
    connectionString: url,
    poolSize: options.poolSize ?? 24,
    timeouts: NO_TIMEOUTS,
  });
  return {
    ...database,
    url,
    async drop() {
      await database.close();
      await adminQuery(`drop database if exists ${name} with (force)`);
    },
  };
}

/** A fresh in-memory PGlite (no server), one per test file: it takes ~1.5 s to start. */
export async function createPGliteTestDatabase(): Promise<TestDatabase> {
  const database = await openDatabase({ kind: 'pglite' });
  return { ...database, drop: () => database.close() };
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
