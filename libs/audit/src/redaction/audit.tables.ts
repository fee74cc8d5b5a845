import type { ColumnType, Generated } from 'kysely';

/** `audit.pseudonym_key`: one row (id 1), the HMAC key of the analyst pseudonyms. */
export interface PseudonymKeyTable {
  id: number;
  /** bytea: a Buffer from `pg`, a Uint8Array from PGlite; queries read it hex-encoded. */
  key: ColumnType<Uint8Array, Uint8Array, never>;
  created_at: Generated<Date | string>;
}

/** The audit library's own tables, keyed as Kysely sees them (schema-qualified). */
export interface AuditTables {
  'audit.pseudonym_key': PseudonymKeyTable;
}

declare module '@dealstream/database' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
  interface DB extends AuditTables {}
}
