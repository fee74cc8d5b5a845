import type { Kysely } from 'kysely';
import type { EventStoreTables } from './sql/event-store.tables.js';
import { EsdbEventStore } from './esdb/esdb-event-store.js';
import type { EventStore } from './port/event-store.port.js';
import { migrateEventStore } from './sql/sql-event-store.migrations.js';
import { groupCommitFromEnv } from './sql/group-commit.js';
import { SqlEventStore } from './sql/sql-event-store.js';

export type EventStoreKind = 'sql' | 'eventstoredb';

/**
 * The configured event store: EventStoreDB when `EVENTSTORE_CONNECTION_STRING` is set (read models
 * stay in PostgreSQL), else the SQL store in the same database as the read models (migrated here),
 * grouping concurrent appends as EVENT_STORE_GROUP_COMMIT_WAIT_MS / _MAX / _LINGER_MS say.
 */
export async function openEventStore(
  db: Kysely<EventStoreTables>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ store: EventStore; kind: EventStoreKind }> {
  const connectionString = env.EVENTSTORE_CONNECTION_STRING;
  if (connectionString) {
    const timeoutMs = env.EVENTSTORE_TIMEOUT_MS ? Number(env.EVENTSTORE_TIMEOUT_MS) : undefined;
    return { store: new EsdbEventStore(connectionString, timeoutMs ? { timeoutMs } : {}), kind: 'eventstoredb' };
  }
  await migrateEventStore(db);
  return { store: new SqlEventStore(db, { groupCommit: groupCommitFromEnv(env) }), kind: 'sql' };
}
