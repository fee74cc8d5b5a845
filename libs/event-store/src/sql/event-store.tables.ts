import type { ColumnType, Generated, Insertable } from 'kysely';

/**
 * A `bigint`/`xid8` column. Drivers disagree on how they read one (`pg` a string, PGlite a number
 * or bigint), so queries cast it to text to read it exactly; writes send decimal strings.
 */
type Int8 = ColumnType<string | number | bigint, string, string>;

/** A `timestamptz` column: a Date from `pg`, a Date or string from PGlite; written as a Date or ISO text. */
type Timestamptz = ColumnType<Date | string, Date | string, Date | string>;

/** `event_store.streams`: one row per stream — its append lock, head revision and hash-chain head. */
export interface EventStoreStreamsTable {
  stream_id: string;
  revision: Int8;
  last_hash: string | null;
  created_at: Generated<Timestamptz>;
  updated_at: Generated<Timestamptz>;
}

/** `event_store.events`: the events, in (transaction_id, global_position) order. */
export interface EventStoreEventsTable {
  /** `generated always as identity`: never written. */
  global_position: ColumnType<string | number | bigint, never, never>;
  /** Defaults to the writing transaction's id (`pg_current_xact_id()`). */
  transaction_id: ColumnType<string | number | bigint, never, never>;
  event_id: string;
  stream_id: string;
  /** `generated always as (split_part(stream_id, '-', 1)) stored`: never written. */
  stream_category: ColumnType<string, never, never>;
  stream_revision: Int8;
  type: string;
  /** jsonb: an object from the drivers (a string on some paths); written as JSON text. */
  data: ColumnType<unknown, string, string>;
  actor_id: string;
  command_id: string | null;
  correlation_id: string | null;
  causation_id: string | null;
  occurred_at: Timestamptz;
  recorded_at: Timestamptz;
  /** jsonb, imported events only (migration 0002): written as JSON text, read as an object. */
  provenance: ColumnType<unknown, string | undefined, string>;
  previous_hash: string | null;
  hash: string;
}

/** The SQL event store's tables, keyed as Kysely sees them (schema-qualified). */
export interface EventStoreTables {
  'event_store.streams': EventStoreStreamsTable;
  'event_store.events': EventStoreEventsTable;
}

declare module '@dealstream/database' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
  interface DB extends EventStoreTables {}
}

/** An event row as the append inserts it. */
export type NewStoredEventRow = Insertable<EventStoreEventsTable>;
