import { Migrator, sql, type Kysely, type Migration, type MigrationResultSet } from 'kysely';

export const EVENT_STORE_SCHEMA = 'event_store';

/**
 * Migrations of the SQL event store. Append-only list: never edit a shipped migration, add one.
 * They take `Kysely<unknown>` (no table types: a migration must not follow today's schema types) and
 * import nothing from the application, so they replay forever. Today's shape is `EventStoreTables`.
 */
const migrations: Record<string, Migration> = {
  '0001_events_and_streams': {
    async up(db: Kysely<unknown>) {
      await sql`create schema if not exists event_store`.execute(db);
      // One row per stream: the lock that serialises appends to a stream, its head revision and the
      // head of its hash chain (read under that lock, so concurrent appends cannot fork the chain).
      await sql`
        create table event_store.streams (
          stream_id text primary key,
          revision bigint not null,
          last_hash text,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`.execute(db);
      await sql`
        create table event_store.events (
          global_position bigint generated always as identity primary key,
          transaction_id xid8 not null default pg_current_xact_id(),
          event_id uuid not null,
          stream_id text not null references event_store.streams (stream_id),
          stream_category text not null generated always as (split_part(stream_id, '-', 1)) stored,
          stream_revision bigint not null,
          type text not null,
          data jsonb not null,
          actor_id text not null,
          command_id text,
          correlation_id text,
          causation_id text,
          occurred_at timestamptz not null,
          recorded_at timestamptz not null,
          previous_hash text,
          hash text not null,
          constraint events_event_id_unique unique (event_id),
          constraint events_stream_revision_unique unique (stream_id, stream_revision),
          constraint events_revision_non_negative check (stream_revision >= 0)
        )`.execute(db);
      // The global reading order: (transaction id, position). See docs/event-store.md.
      await sql`create index events_global_order on event_store.events (transaction_id, global_position)`.execute(db);
      await sql`create index events_type on event_store.events (type, transaction_id, global_position)`.execute(db);
      await sql`create index events_category on event_store.events (stream_category, transaction_id, global_position)`.execute(
        db,
      );
    },
  },
  '0002_event_provenance': {
    async up(db: Kysely<unknown>) {
      // Where an imported event came from (import id, source system, record id, actor); null on live writes.
      await sql`alter table event_store.events add column if not exists provenance jsonb`.execute(db);
    },
  },
};

/** Brings the event store schema up to date; safe to call from several processes at once. */
export async function migrateEventStore<DB>(db: Kysely<DB>): Promise<MigrationResultSet> {
  await db.schema.createSchema(EVENT_STORE_SCHEMA).ifNotExists().execute();
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: EVENT_STORE_SCHEMA,
    migrationTableName: 'migrations',
    migrationLockTableName: 'migrations_lock',
  });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error instanceof Error ? result.error : new Error(JSON.stringify(result.error));
  return result;
}
