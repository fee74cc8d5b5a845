import { randomBytes, randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { RecordedEvent } from '@dealstream/event-store';
import { PARITY_TABLES, createReadModelSchema, projectBatch, type ReadModelDatabase } from '@dealstream/read-models';

/**
 * Given / when / then for projections, against real PostgreSQL: events in, rows out.
 *
 *   await spec(db)
 *     .given(pipelineDefined, dealCreated)   // projected as one batch
 *     .when(stageAdvanced, dealWon)          // projected as the next batch
 *     .then({ stage_intervals: [...], stage_totals: [] });
 *
 * Events are stored events made by hand (`event(...)`): revisions count per stream from 0, positions
 * follow the order given, and recordedAt defaults to occurredAt, so every expected row can be
 * computed by hand. Each run projects into a fresh schema of its own.
 *
 * `then` reads each named table whole, ordered by its key, as JSON in UTC (bigint as a number,
 * timestamptz as '2025-01-01T09:00:00+00:00', 'infinity' as is, date as '2025-03-31') and compares
 * it with the expected rows: every column of the table, unless `columns` narrows what is compared.
 */
export function projectionSpec(db: () => Kysely<ReadModelDatabase>) {
  return {
    given: (...given: SpecEvent[]) => ({
      when: (...when: SpecEvent[]) => ({
        then: (expected: Expected, options: { columns?: Partial<Record<ComparedTable, readonly string[]>> } = {}) =>
          run(db(), given, when, expected, options.columns ?? {}),
      }),
    }),
  };
}

type ComparedTable = keyof typeof PARITY_TABLES;
type Expected = Partial<Record<ComparedTable, Record<string, unknown>[]>>;

/** A stored event before it gets its revision and position. */
export interface SpecEvent {
  readonly streamId: string;
  readonly type: string;
  readonly data: object;
  readonly occurredAt: string;
  readonly recordedAt?: string;
  readonly actorId?: string;
}

/** An event of `streamId` (`deal-<uuid>`, `pipeline-<uuid>`) that happened at `occurredAt`. */
export function event(
  streamId: string,
  type: string,
  data: object,
  occurredAt: string,
  options: { recordedAt?: string; actorId?: string } = {},
): SpecEvent {
  return { streamId, type, data, occurredAt, ...options };
}

async function run(
  db: Kysely<ReadModelDatabase>,
  given: SpecEvent[],
  when: SpecEvent[],
  expected: Expected,
  columns: Partial<Record<ComparedTable, readonly string[]>>,
): Promise<void> {
  const schema = `spec_${randomBytes(6).toString('hex')}`;
  await createReadModelSchema(db, schema);
  const [first, second] = recorded(given, when);
  await db.transaction().execute((trx) => projectBatch(trx, schema, first));
  await db.transaction().execute((trx) => projectBatch(trx, schema, second));
  const actual: Expected = {};
  for (const table of Object.keys(expected) as ComparedTable[]) {
    const rows = await db.transaction().execute(async (trx) => {
      await sql`set local time zone 'UTC'`.execute(trx);
      const order = sql.join(PARITY_TABLES[table].map((key) => sql.ref(`t.${key}`)));
      const { rows } = await sql<{
        row: Record<string, unknown>;
      }>`select to_jsonb(t) as row from ${sql.table(`${schema}.${table}`)} t order by ${order}`.execute(trx);
      return rows.map(({ row }) => row);
    });
    const picked = columns[table];
    actual[table] = picked
      ? rows.map((row) => Object.fromEntries(picked.map((column) => [column, row[column]])))
      : rows;
  }
  await sql`drop schema ${sql.id(schema)} cascade`.execute(db);
  expect(actual).toEqual(expected);
}

/** The events as stored, batch by batch: revisions per stream from 0, positions in the order given. */
export function recorded(...batches: SpecEvent[][]): RecordedEvent[][] {
  const revisions = new Map<string, bigint>();
  let position = 0n;
  return batches.map((batch) =>
    batch.map((spec): RecordedEvent => {
      const revision = revisions.get(spec.streamId) ?? 0n;
      revisions.set(spec.streamId, revision + 1n);
      position += 1n;
      return {
        eventId: randomUUID(),
        streamId: spec.streamId,
        revision,
        type: spec.type,
        data: spec.data,
        metadata: { actorId: spec.actorId ?? 'user-1', occurredAt: new Date(spec.occurredAt) },
        recordedAt: new Date(spec.recordedAt ?? spec.occurredAt),
        position: { major: position, minor: 0n },
      };
    }),
  );
}
