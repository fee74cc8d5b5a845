import { databaseConfigFromEnv, openDatabase, waitForDatabase, type Database } from '@dealstream/database';
import { openEventStore, type EventStore } from '@dealstream/event-store';
import { ensureReadModelSchema } from '@dealstream/read-models';
import { CLI_TIMEOUT_DEFAULTS } from './cli-timeouts.js';

/** Start-up log lines of the CLI go to stderr, so stdout stays the command's output. */
const stderrLog = (entry: Record<string, unknown>) => process.stderr.write(`${JSON.stringify(entry)}\n`);

/**
 * Opens what the API opens, from the same environment (EVENTSTORE_CONNECTION_STRING, DATABASE_URL or the embedded PGlite in
 * DATA_DIR — which only one process can hold: stop `npm start` before running a CLI command on it).
 * Waits for the database up to DB_STARTUP_WAIT_MS (default 60 s) as the API does.
 */
export async function openStore(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ database: Database; store: EventStore }> {
  const database = await openDatabase(databaseConfigFromEnv(env, CLI_TIMEOUT_DEFAULTS), { log: stderrLog });
  let store: EventStore | undefined;
  try {
    await waitForDatabase(database, {
      timeoutMs: Number(env.DB_STARTUP_WAIT_MS ?? 60_000),
      log: stderrLog,
      probe: async () => {
        store ??= (await openEventStore(database.db, env)).store;
        await ensureReadModelSchema(database.db);
      },
    });
  } catch (error) {
    await database.close();
    throw error;
  }
  return { database, store: store! };
}
