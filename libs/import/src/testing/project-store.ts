import { sql, type Kysely } from 'kysely';
import { comparePositions, type EventStore, type EventStoreTables, type RecordedEvent } from '@dealstream/event-store';
import { PARITY_TABLES, createReadModelSchema, projectBatch, type ReadModelDatabase } from '@dealstream/read-models';

/**
 * Projects every committed event into a fresh read-model schema, stream by stream, in global order.
 * Unlike readAll (gap-free: it waits until no older transaction is open anywhere on the server), this
 * does not wait for other databases' transactions on a shared PostgreSQL server — the tests only
 * need what their own imports committed.
 */
export async function projectCommitted(
  db: Kysely<ReadModelDatabase & EventStoreTables>,
  store: EventStore,
  schema: string,
): Promise<number> {
  const streams = await db.selectFrom('event_store.streams').select('stream_id').orderBy('stream_id').execute();
  const events: RecordedEvent[] = [];
  for (const { stream_id } of streams) events.push(...(await store.readStream(stream_id)));
  events.sort((a, b) => comparePositions(a.position, b.position));
  await createReadModelSchema(db, schema);
  for (let i = 0; i < events.length; i += 500)
    await db.transaction().execute((trx) => projectBatch(trx, schema, events.slice(i, i + 500)));
  return events.length;
}

/** Columns holding the store's clock (recordedAt), not the history's. */
const SYSTEM_TIME = /recorded|^updated_at$/;

/**
 * Every read-model table of a schema as JSON rows in key order, without the system-time columns (the
 * recorded axis, `updated_at`): two imports of the same history are recorded at different instants;
 * everything else must match.
 */
export async function readModelRows(
  db: Kysely<ReadModelDatabase>,
  schema: string,
): Promise<Record<string, Record<string, unknown>[]>> {
  const tables: Record<string, Record<string, unknown>[]> = {};
  for (const [table, keys] of Object.entries(PARITY_TABLES)) {
    // Raw: a whole table of a schema chosen at run time, as JSON in UTC.
    const rows = await db.transaction().execute(async (trx) => {
      await sql`set local time zone 'UTC'`.execute(trx);
      const order = sql.join(keys.map((key) => sql.ref(`t.${key}`)));
      const { rows } = await sql<{
        row: Record<string, unknown>;
      }>`select to_jsonb(t) as row from ${sql.table(`${schema}.${table}`)} t order by ${order}`.execute(trx);
      return rows.map(({ row }) => row);
    });
    tables[table] = rows.map((row) =>
      Object.fromEntries(Object.entries(row).filter(([key]) => !SYSTEM_TIME.test(key))),
    );
  }
  return tables;
}
