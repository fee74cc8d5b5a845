import { randomBytes } from 'node:crypto';
import { Migrator, sql, type Kysely, type Migration } from 'kysely';

export const AUDIT_SCHEMA = 'audit';

/** Append-only, like the event store's: never edit a shipped migration. */
const migrations: Record<string, Migration> = {
  '0001_pseudonym_key': {
    async up(db: Kysely<any>) {
      // One row: the HMAC key of the analyst pseudonyms. In the database (not per process) so every
      // API instance and every restart gives a person the same pseudonym.
      await sql`
        create table audit.pseudonym_key (
          id smallint primary key check (id = 1),
          key bytea not null,
          created_at timestamptz not null default now()
        )`.execute(db);
    },
  },
};

/**
 * Returns the pseudonym key, creating the table and the key on first use. Runs once when the API
 * starts (never while answering a read); safe when several instances start at once.
 */
export async function loadPseudonymKey(db: Kysely<any>): Promise<Buffer> {
  await sql`create schema if not exists audit`.execute(db);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: AUDIT_SCHEMA,
    migrationTableName: 'migrations',
    migrationLockTableName: 'migrations_lock',
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
  await sql`insert into audit.pseudonym_key (id, key) values (1, decode(${randomBytes(32).toString('hex')}, 'hex')) on conflict (id) do nothing`.execute(db);
  const { rows } = await sql<{ key: string }>`select encode(key, 'hex') as key from audit.pseudonym_key where id = 1`.execute(db);
  return Buffer.from(rows[0]!.key, 'hex');
}
