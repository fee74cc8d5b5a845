import { randomBytes } from 'node:crypto';
import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import type { AuditTables } from './audit.tables.js';

export const AUDIT_SCHEMA = 'audit';

/** Append-only, like the event store's: never edit a shipped migration. */
const migrations: Record<string, Migration> = {
  '0001_pseudonym_key': {
    async up(db: Kysely<unknown>) {
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
export async function loadPseudonymKey(db: Kysely<AuditTables>): Promise<Buffer> {
  await db.schema.createSchema(AUDIT_SCHEMA).ifNotExists().execute();
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: AUDIT_SCHEMA,
    migrationTableName: 'migrations',
    migrationLockTableName: 'migrations_lock',
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(JSON.stringify(error));
  await db
    .insertInto('audit.pseudonym_key')
    .values((eb) => ({
      id: 1,
      key: eb.fn<Uint8Array>('decode', [eb.val(randomBytes(32).toString('hex')), sql.lit('hex')]),
    }))
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const row = await db
    .selectFrom('audit.pseudonym_key')
    .select((eb) => eb.fn<string>('encode', ['key', sql.lit('hex')]).as('key'))
    .where('id', '=', 1)
    .executeTakeFirstOrThrow();
  return Buffer.from(row.key, 'hex');
}
