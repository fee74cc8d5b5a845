import { databaseConfigFromEnv, openDatabase, type Database } from '@dealstream/database';
import { openEventStore, type EventStore } from '@dealstream/event-store';
import { ensureReadModelSchema } from '@dealstream/read-models';

/**
 * Opens what the API opens, from the same environment (EVENTSTORE_CONNECTION_STRING, DATABASE_URL or the embedded PGlite in
 * DATA_DIR — which only one process can hold: stop `npm start` before running a CLI command on it).
 */
export async function openStore(env: NodeJS.ProcessEnv = process.env): Promise<{ database: Database; store: EventStore }> {
  const database = await openDatabase(databaseConfigFromEnv(env));
  const { store } = await openEventStore(database.db, env);
  await ensureReadModelSchema(database.db);
  return { database, store };
}
