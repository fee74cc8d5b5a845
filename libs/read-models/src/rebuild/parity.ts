import { sql } from 'kysely';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { PARITY_TABLES } from '../schema/read-model.tables.js';

export interface ParityReport {
  readonly equal: boolean;
  /** Per table: rows only in `a`, rows only in `b`. */
  readonly tables: { table: string; onlyInA: number; onlyInB: number; rows: number }[];
}

/**
 * Compares every read-model table of two schemas row for row (EXCEPT both ways). Used to check a
 * rebuild against the live tables before swapping, and by tests to prove incremental = rebuild.
 */
export async function compareReadModels(db: ReadModelDb, a: string, b: string): Promise<ParityReport> {
  // Raw: EXCEPT ALL between the same table in two schemas, for every table by name.
  const tables = [];
  for (const table of Object.keys(PARITY_TABLES)) {
    const ta = sql`${sql.id(a)}.${sql.id(table)}`;
    const tb = sql`${sql.id(b)}.${sql.id(table)}`;
    const { rows } = await sql<{ only_a: string; only_b: string; total: string }>`
      select (select count(*) from (select * from ${ta} except all select * from ${tb}) x)::text as only_a,
             (select count(*) from (select * from ${tb} except all select * from ${ta}) y)::text as only_b,
             (select count(*) from ${ta})::text as total`.execute(db);
    tables.push({
      table,
      onlyInA: Number(rows[0].only_a),
      onlyInB: Number(rows[0].only_b),
      rows: Number(rows[0].total),
    });
  }
  return { equal: tables.every((t) => t.onlyInA === 0 && t.onlyInB === 0), tables };
}
