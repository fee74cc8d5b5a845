import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { databaseFaultOf } from './database-faults.js';
import { PGliteDialect } from './pglite-dialect.js';
import { enableCopy } from './copy-rows.js';
import { enablePreparedStatements } from './prepared-statements.js';

/**
 * Bounds on every PostgreSQL connection (0 = none). Set as session parameters when a connection
 * opens, so every statement on the pool is bounded — the write path, the reads, the runner's batches.
 */
export interface PostgresTimeouts {
  /** statement_timeout: longest one statement may run (DB_STATEMENT_TIMEOUT_MS). */
  readonly statementTimeoutMs: number;
  /** lock_timeout: longest a statement waits for a lock — a row, a table, an advisory lock (DB_LOCK_TIMEOUT_MS). */
  readonly lockTimeoutMs: number;
  /** Longest a caller waits for a pool connection, including opening one (DB_CONNECT_TIMEOUT_MS). */
  readonly connectTimeoutMs: number;
  /** idle_in_transaction_session_timeout: a session idle inside a transaction this long is ended (DB_IDLE_IN_TRANSACTION_TIMEOUT_MS). */
  readonly idleInTransactionTimeoutMs: number;
}

export const DEFAULT_POSTGRES_TIMEOUTS: PostgresTimeouts = {
  statementTimeoutMs: 5000,
  lockTimeoutMs: 2000,
  connectTimeoutMs: 3000,
  idleInTransactionTimeoutMs: 60_000,
};

/** Where the data lives: a PostgreSQL server, or an embedded PGlite in a folder (or in memory). */
export type DatabaseConfig =
  | { kind: 'postgres'; connectionString: string; poolSize?: number; timeouts?: Partial<PostgresTimeouts> }
  | { kind: 'pglite'; dataDir?: string };

/** Structured log lines from the database layer (connection lost, reconnected, waiting at start-up). */
export type DatabaseLog = (entry: Record<string, unknown>) => void;

export interface OpenDatabaseOptions {
  readonly log?: DatabaseLog;
}

/**
 * Every table of the one database, keyed as Kysely names them (`'event_store.events'`). Empty here:
 * the library that owns a schema declares its tables beside its migrations and adds them with
 * `declare module '@dealstream/database' { interface DB extends EventStoreTables {} }`, so one
 * `Kysely<DB>` serves every library, while each library's queries take only its own table map
 * (`Kysely<EventStoreTables>`: a `Kysely<DB>` is one) and cannot name another library's columns.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface DB {}

/**
 * An open database: the typed Kysely instance, the profile it was opened with, and the LISTEN side
 * (`listen`), which a server and PGlite provide differently.
 */
export interface Database {
  readonly db: Kysely<DB>;
  readonly config: DatabaseConfig;
  /**
   * Subscribes to a NOTIFY channel; returns an unsubscribe function. On a server the LISTEN
   * connection is re-opened with backoff whenever it drops, and `onNotify('')` is called once it is
   * listening again: notifications sent while it was down are lost, so the caller must look for
   * itself (NOTIFY is a hint, never a delivery). Never rejects because the server is down.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
  /**
   * Where the database layer writes its own events (a connection lost, LISTEN re-established): the
   * `log` it was opened with — for a thread that opens its own connections and reports them alike.
   */
  readonly log: DatabaseLog;
}

/**
 * Opens the configured database. A server is not contacted here (the pool connects lazily): use
 * `waitForDatabase` to wait for it at start-up.
 *
 * @example const { db } = await openDatabase({ kind: 'pglite', dataDir: './data/pglite' });
 */
export async function openDatabase(config: DatabaseConfig, options: OpenDatabaseOptions = {}): Promise<Database> {
  const log = options.log ?? (() => {});
  return config.kind === 'postgres' ? openPostgres(config, log) : openPGlite(config, log);
}

/**
 * Reads the profile from the environment: `DATABASE_URL` selects a server, else PGlite in `DATA_DIR`.
 * The server's bounds come from DB_STATEMENT_TIMEOUT_MS, DB_LOCK_TIMEOUT_MS, DB_CONNECT_TIMEOUT_MS,
 * DB_IDLE_IN_TRANSACTION_TIMEOUT_MS and its pool size from DB_POOL_SIZE.
 */
export function databaseConfigFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  defaults: Partial<PostgresTimeouts> = {},
): DatabaseConfig {
  if (env.DATABASE_URL) {
    const timeouts = { ...DEFAULT_POSTGRES_TIMEOUTS, ...defaults };
    return {
      kind: 'postgres',
      connectionString: env.DATABASE_URL,
      poolSize: positiveInt(env, 'DB_POOL_SIZE', 20),
      timeouts: {
        statementTimeoutMs: nonNegativeInt(env, 'DB_STATEMENT_TIMEOUT_MS', timeouts.statementTimeoutMs),
        lockTimeoutMs: nonNegativeInt(env, 'DB_LOCK_TIMEOUT_MS', timeouts.lockTimeoutMs),
        connectTimeoutMs: nonNegativeInt(env, 'DB_CONNECT_TIMEOUT_MS', timeouts.connectTimeoutMs),
        idleInTransactionTimeoutMs: nonNegativeInt(
          env,
          'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS',
          timeouts.idleInTransactionTimeoutMs,
        ),
      },
    };
  }
  return { kind: 'pglite', dataDir: `${env.DATA_DIR ?? './data'}/pglite` };
}

/** The bounds a server profile runs with (the defaults filled in). */
export function postgresTimeouts(config: Extract<DatabaseConfig, { kind: 'postgres' }>): PostgresTimeouts {
  return { ...DEFAULT_POSTGRES_TIMEOUTS, ...config.timeouts };
}

export interface WaitForDatabaseOptions {
  /** Give up after this long (DB_STARTUP_WAIT_MS, default 60 s); 0 = try once. */
  readonly timeoutMs: number;
  /**
   * What must succeed, retried as a whole on a passing fault: `select 1` by default; start-up
   * passes its migrations too (they fail the same way while the server restarts).
   */
  readonly probe?: () => Promise<unknown>;
  readonly log?: DatabaseLog;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/**
 * Start-up: waits until the database answers `select 1` (and `probe` succeeds), retrying with exponential backoff (250 ms
 * doubling to 5 s) while the failure is one that passes (refused, reset, starting up, timeout) and
 * logging each failed attempt with its reason. Fails at once on anything else (wrong password, no
 * such database) and after `timeoutMs` with the last reason. PGlite answers at once.
 */
export async function waitForDatabase(database: Database, options: WaitForDatabaseOptions): Promise<void> {
  const started = Date.now();
  let backoff = options.initialBackoffMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      await database.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
      await options.probe?.();
      if (attempt > 1) options.log?.({ msg: 'database reachable', attempts: attempt, waitedMs: Date.now() - started });
      return;
    } catch (error) {
      const reason = describeError(error);
      const fault = databaseFaultOf(error);
      const waited = Date.now() - started;
      if (!fault) throw new Error(`database unusable: ${reason}`, { cause: error });
      if (waited + backoff > options.timeoutMs) {
        throw new Error(
          `database not reachable after ${waited} ms (${attempt} attempts; DB_STARTUP_WAIT_MS=${options.timeoutMs}): ${reason}`,
          { cause: error },
        );
      }
      options.log?.({
        level: 'warn',
        msg: 'waiting for the database',
        attempt,
        reason,
        retryInMs: backoff,
        waitedMs: waited,
        boundMs: options.timeoutMs,
      });
      await new Promise((resolve) => setTimeout(resolve, backoff));
      backoff = Math.min(options.maxBackoffMs ?? 5000, backoff * 2);
    }
  }
}

/** `code: message` of an error, for logs (never sent to HTTP clients). */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const inner = (error as { errors?: unknown }).errors;
  const message =
    error.message || (Array.isArray(inner) && inner[0] instanceof Error ? inner[0].message : '') || error.name;
  return typeof code === 'string' ? `${code}: ${message}` : message;
}

async function openPostgres(
  config: Extract<DatabaseConfig, { kind: 'postgres' }>,
  log: DatabaseLog,
): Promise<Database> {
  const timeouts = postgresTimeouts(config);
  const pool = new pg.Pool({
    connectionString: config.connectionString,
    max: config.poolSize ?? 20,
    ...sessionBounds(timeouts),
    // Acquire bound: pg-pool rejects a checkout (and a connect) that takes longer.
    connectionTimeoutMillis: timeouts.connectTimeoutMs,
  });
  // Every pooled client gets an error listener for its whole life — idle, checked out by a request,
  // inside a transaction, held by the projection runner. Without one, an error between queries
  // (ECONNRESET, 57P01 on a server restart) is an unhandled 'error' event that ends the process.
  // The failed client is not queryable any more; pg-pool discards it on release.
  pool.on('connect', (client) => {
    // Bulk loads (`copyRows`) run as COPY FROM STDIN on the same connection.
    enableCopy(client);
    // Registered hot statements (preparedOnServer) go as named prepared statements.
    enablePreparedStatements(client);
    client.on('error', (error) =>
      log({ level: 'warn', msg: 'database connection lost', reason: describeError(error) }),
    );
  });
  // pg-pool re-emits an idle client's error here: already logged by the listener above.
  pool.on('error', () => {});
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const listeners = new Set<ReconnectingListener>();
  return {
    db,
    config,
    log,
    async listen(channel, onNotify) {
      const listener = new ReconnectingListener(config.connectionString, timeouts, channel, onNotify, log);
      listeners.add(listener);
      await listener.start();
      return async () => {
        listeners.delete(listener);
        await listener.close();
      };
    },
    async close() {
      await Promise.all([...listeners].map((listener) => listener.close()));
      listeners.clear();
      await db.destroy();
    },
  };
}

function sessionBounds(timeouts: PostgresTimeouts) {
  // pg sends these as start-up parameters (0 = not sent, the server's default applies).
  return {
    statement_timeout: timeouts.statementTimeoutMs || undefined,
    lock_timeout: timeouts.lockTimeoutMs || undefined,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionTimeoutMs || undefined,
    keepAlive: true,
  } as const;
}

/**
 * A dedicated LISTEN connection that comes back: when it errors or ends it is replaced with backoff
 * (250 ms doubling to 5 s), LISTEN is issued again and the subscriber is poked once, because
 * whatever was notified in between is gone.
 */
class ReconnectingListener {
  private client: pg.Client | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private backoffMs = 250;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly connectionString: string,
    private readonly timeouts: PostgresTimeouts,
    private readonly channel: string,
    private readonly onNotify: (payload: string) => void,
    private readonly log: DatabaseLog,
  ) {}

  /** First attempt; if it fails the listener keeps retrying in the background. */
  async start(): Promise<void> {
    await this.connect(false);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.connecting?.catch(() => {});
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private connect(isReconnect: boolean): Promise<void> {
    const attempt = this.attempt(isReconnect);
    this.connecting = attempt;
    return attempt.finally(() => {
      if (this.connecting === attempt) this.connecting = undefined;
    });
  }

  private async attempt(isReconnect: boolean): Promise<void> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      connectionTimeoutMillis: this.timeouts.connectTimeoutMs,
      keepAlive: true,
      statement_timeout: this.timeouts.statementTimeoutMs || undefined,
    });
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      client.end().catch(() => {});
      if (this.closed) return;
      this.log({
        level: 'warn',
        msg: 'LISTEN connection lost; reconnecting',
        channel: this.channel,
        reason: error ? describeError(error) : 'ended',
        retryInMs: this.backoffMs,
      });
      this.schedule();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.onNotify(message.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`listen ${pg.escapeIdentifier(this.channel)}`);
    } catch (error) {
      if (!lost) {
        lost = true;
        client.end().catch(() => {});
        if (!this.closed) {
          this.log({
            level: 'warn',
            msg: 'LISTEN connection failed; retrying',
            channel: this.channel,
            reason: describeError(error),
            retryInMs: this.backoffMs,
          });
          this.schedule();
        }
      }
      return;
    }
    if (this.closed || lost) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.backoffMs = 250;
    if (isReconnect) {
      this.log({ msg: 'LISTEN re-established', channel: this.channel });
      this.onNotify(''); // anything notified while down was lost: let the subscriber look
    }
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(5000, this.backoffMs * 2);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) void this.connect(true);
    }, delay);
  }
}

async function openPGlite(config: Extract<DatabaseConfig, { kind: 'pglite' }>, log: DatabaseLog): Promise<Database> {
  if (config.dataDir) mkdirSync(config.dataDir, { recursive: true });
  const pglite = await PGlite.create(config.dataDir);
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    config,
    log,
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

function nonNegativeInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${name} must be a whole number of milliseconds ≥ 0, got ${JSON.stringify(raw)}`);
  return value;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a whole number ≥ 1, got ${JSON.stringify(raw)}`);
  return value;
}
