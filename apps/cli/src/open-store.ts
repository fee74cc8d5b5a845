import { databaseConfigFromEnv, openDatabase, waitForDatabase, type Database, type PostgresTimeouts } from '@dealstream/database';
import { openEventStore, type EventStore } from '@dealstream/event-store';
import { ensureReadModelSchema } from '@dealstream/read-models';

/**
 * The CLI is an operator's tool: a rebuild's parity check or a whole-store verify may run one long
 * statement, and the swap may wait for a lock. So unless DB_STATEMENT_TIMEOUT_MS / DB_LOCK_TIMEOUT_MS
 * are set, its statements and lock waits are unbounded (stop it with Ctrl-C); the connect bound holds.
 */
export const CLI_TIMEOUT_DEFAULTS: Partial<PostgresTimeouts> = { statementTimeoutMs: 0, lockTimeoutMs: 0 };

/** Start-up log lines of the CLI go to stderr, so stdout stays the command's output. */
const stderrLog = (entry: Record<string, unknown>) => process.stderr.write(`${JSON.stringify(entry)}\n`);

/**
 * Opens what the API opens, from the same environment (EVENTSTORE_CONNECTION_STRING, DATABASE_URL or the embedded PGlite in
 * DATA_DIR — which only one process can hold: stop `npm start` before running a CLI command on it).
 * Waits for the database up to DB_STARTUP_WAIT_MS (default 60 s) as the API does.
 */
export async function openStore(): Promise<{ database: Database; store: EventStore }> {
  const database = await openDatabase(databaseConfigFromEnv(process.env, CLI_TIMEOUT_DEFAULTS), { log: stderrLog });
  let store: EventStore | undefined;
  try {
    await waitForDatabase(database, {
      timeoutMs: Number(process.env.DB_STARTUP_WAIT_MS ?? 60_000),
      log: stderrLog,
      probe: async () => {
        store ??= (await openEventStore(database.db)).store;
        await ensureReadModelSchema(database.db);
      },
    });
  } catch (error) {
    await database.close();
    throw error;
  }
  return { database, store: store! };
}
