import { databaseConfigFromEnv, openDatabase, type Database } from '@dealstream/database';
import { SqlEventStore, migrateEventStore, type EventStore } from '@dealstream/event-store';
import { ensureReadModelSchema } from '@dealstream/read-models';

/**
 * Opens what the API opens, from the same environment (DATABASE_URL, or the embedded PGlite in
 * DATA_DIR — which only one process can hold: stop `npm start` before running a CLI command on it).
 */
export async function openStore(): Promise<{ database: Database; store: EventStore }> {
  const database = await openDatabase(databaseConfigFromEnv());
  await migrateEventStore(database.db);
  await ensureReadModelSchema(database.db);
  return { database, store: new SqlEventStore(database.db) };
}
