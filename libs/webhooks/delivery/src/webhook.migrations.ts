import { Migrator, sql, type Kysely, type Migration } from 'kysely';

const SCHEMA = 'webhooks';

const migrations: Record<string, Migration> = {
  '0001_webhooks': {
    async up(db: Kysely<unknown>) {
      // Raw: DDL as PostgreSQL creates it (the TypeScript shape: webhook.tables.ts).
      await sql`create table webhooks.secrets (subscription_id uuid not null, secret_id uuid not null,
        secret text not null, created_at timestamptz not null default now(), primary key (subscription_id, secret_id))`.execute(
        db,
      );
      await sql`create table webhooks.checkpoints (subscription_id uuid primary key, position text not null,
        applied_revision bigint not null, failures int not null default 0, next_attempt_at timestamptz,
        last_error text, delivered bigint not null default 0, lease_owner text, lease_until timestamptz,
        updated_at timestamptz not null default now())`.execute(db);
      await sql`create table webhooks.attempts (attempt_id bigserial primary key, subscription_id uuid not null,
        webhook_id uuid not null, event_id uuid not null, stream_id text not null, event_type text not null,
        position text not null, attempt int not null, outcome text not null, status int, error text,
        duration_ms int not null, response_excerpt text, attempted_at timestamptz not null default now())`.execute(db);
      await sql`create index attempts_by_subscription on webhooks.attempts (subscription_id, attempt_id desc)`.execute(
        db,
      );
      await sql`create index attempts_at on webhooks.attempts (attempted_at)`.execute(db);
    },
  },
  '0002_secret_retirement': {
    async up(db: Kysely<unknown>) {
      // Set on the older secrets by a rotation: they sign until then (the grace period), then go.
      await sql`alter table webhooks.secrets add column retire_after timestamptz`.execute(db);
    },
  },
};

/** Creates or updates the `webhooks` schema; safe from several processes at once. */
export async function migrateWebhookSchema<DB>(db: Kysely<DB>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    // Raw: pg_advisory_xact_lock returns void, which the builder's result typing has no use for.
    await sql`select pg_advisory_xact_lock(hashtext('dealstream.webhooks.schema'))`.execute(trx);
    await trx.schema.createSchema(SCHEMA).ifNotExists().execute();
  });
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: SCHEMA,
    migrationTableName: 'migrations',
    migrationLockTableName: 'migrations_lock',
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(JSON.stringify(error));
}
