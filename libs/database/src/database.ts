import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { PGliteDialect } from './pglite-dialect.js';

/** Where the data lives: a PostgreSQL server, or an embedded PGlite in a folder (or in memory). */
export type DatabaseConfig =
  | { kind: 'postgres'; connectionString: string; poolSize?: number }
  | { kind: 'pglite'; dataDir?: string };

/**
 * An open database: the Kysely instance plus what only some profiles have. `notifications` is the
 * LISTEN side, `pool` exists only on a server so benchmarks can take a raw baseline on it.
 */
export interface Database {
  readonly db: Kysely<any>;
  readonly config: DatabaseConfig;
  /** Subscribes to a NOTIFY channel; returns an unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * Opens the configured database.
 *
 * @example const { db } = await openDatabase({ kind: 'pglite', dataDir: './data/pglite' });
 */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  return config.kind === 'postgres' ? openPostgres(config) : openPGlite(config);
}

/** Reads the profile from the environment: `DATABASE_URL` selects a server, else PGlite in `DATA_DIR`. */
export function databaseConfigFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  if (env.DATABASE_URL) return { kind: 'postgres', connectionString: env.DATABASE_URL };
  return { kind: 'pglite', dataDir: `${env.DATA_DIR ?? './data'}/pglite` };
}

async function openPostgres(config: Extract<DatabaseConfig, { kind: 'postgres' }>): Promise<Database> {
  const pool = new pg.Pool({ connectionString: config.connectionString, max: config.poolSize ?? 20 });
  // A pool error on an idle client must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  const listeners: pg.Client[] = [];
  return {
    db,
    config,
    async listen(channel, onNotify) {
      const client = new pg.Client({ connectionString: config.connectionString });
      client.on('error', () => {});
      await client.connect();
      listeners.push(client);
      client.on('notification', (message) => {
        if (message.channel === channel) onNotify(message.payload ?? '');
      });
      await client.query(`listen ${pg.escapeIdentifier(channel)}`);
      return async () => {
        listeners.splice(listeners.indexOf(client), 1);
        await client.end().catch(() => {});
      };
    },
    async close() {
      await Promise.all(listeners.map((client) => client.end().catch(() => {})));
      await db.destroy();
    },
  };
}

async function openPGlite(config: Extract<DatabaseConfig, { kind: 'pglite' }>): Promise<Database> {
  if (config.dataDir) mkdirSync(config.dataDir, { recursive: true });
  const pglite = await PGlite.create(config.dataDir);
  const db = new Kysely<any>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    config,
    async listen(channel, onNotify) {
      const unsubscribe = await pglite.listen(channel, onNotify);
      return async () => unsubscribe();
    },
    async close() {
      await db.destroy();
      await pglite.close();
    },
  };
}
