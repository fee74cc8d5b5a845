import type { ColumnType, Kysely, Transaction } from 'kysely';

/*
 * The read models, one interface per table (Kysely style). They live in a schema of their own
 * (`read_models` when live; a fresh one during a rebuild) and are disposable: everything here is
 * derived from the event store and can be rebuilt at any time.
 *
 * Time columns come in two axes: `*_at` / `valid_*` are business time (the events' occurredAt,
 * clamped so that it never runs backwards within a stream), `recorded_*` are the store's
 * recordedAt ("as the system knew it").
 */

/** timestamptz: read as a Date (pg and PGlite alike), written as a Date or an ISO string. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** bigint / numeric(20): read as a string (so no precision is lost), written as any integer form. */
type Int8 = ColumnType<string, string | number | bigint, string | number | bigint>;
/** jsonb: read as parsed JSON (unknown until the caller narrows it), written as a JSON string. */
type Json = ColumnType<unknown, string, string>;

export interface MetaTable {
  key: string;
  value: string;
}

export interface CheckpointsTable {
  projection: string;
  position_major: Int8;
  position_minor: Int8;
  events_applied: Int8;
  updated_at: Timestamp;
}

export interface PipelinesTable {
  pipeline_id: string;
  name: string;
  currency: string | null;
  status: string;
  /** Ordered stages [{stageId, name, probability, goal?}] and removed ones {id: {name, movedTo}}. */
  stages: Json;
  removed_stages: Json;
  state: Json;
  revision: Int8;
  effective_at: Timestamp;
  updated_at: Timestamp;
}

/** The definition in force from valid_from (inclusive) to valid_to (exclusive; 'infinity' = now). */
export interface PipelineVersionsTable {
  pipeline_id: string;
  revision: Int8;
  valid_from: Timestamp;
  valid_to: Timestamp;
  recorded_from: Timestamp;
  recorded_to: Timestamp;
  name: string;
  currency: string | null;
  status: string;
  stages: Json;
  removed_stages: Json;
}

export interface DealsTable {
  deal_id: string;
  pipeline_id: string;
  stage_id: string;
  status: string;
  title: string;
  account: string;
  owner_id: string;
  amount: Int8;
  currency: string;
  expected_close_date: string | null;
  kind: string;
  parent_deal_id: string | null;
  /** The import run that created the deal (its DealCreated's provenance); null for a deal created live. */
  import_id: string | null;
  bant_score: number | null;
  created_at: Timestamp;
  created_recorded_at: Timestamp;
  stage_entered_at: Timestamp;
  /** When the current stage was entered, on the recorded axis (closes the visit's recorded length). */
  stage_entered_recorded_at: Timestamp;
  closed_at: Timestamp | null;
  won_amount: Int8 | null;
  activity_count: number;
  last_activity_at: Timestamp | null;
  revision: Int8;
  effective_at: Timestamp;
  recorded_at: Timestamp;
  /** Revision of the deal's current row in deal_versions. */
  version_revision: Int8;
  /** entered_revision of its open stage interval, null while closed. */
  open_interval_revision: Int8 | null;
}

/**
 * The deal decider's state after the deals row's `revision`: what the write side would fold. Kept
 * apart from `deals` so the board's scans read narrow rows (the state is ~¾ of a deal's bytes).
 */
export interface DealStatesTable {
  deal_id: string;
  state: Json;
}

/** The deal's board-relevant fields, valid over [valid_from, valid_to) and [recorded_from, recorded_to). */
export interface DealVersionsTable {
  deal_id: string;
  revision: Int8;
  valid_from: Timestamp;
  valid_to: Timestamp;
  recorded_from: Timestamp;
  recorded_to: Timestamp;
  pipeline_id: string;
  stage_id: string;
  status: string;
  owner_id: string;
  amount: Int8;
  currency: string;
  expected_close_date: string | null;
  stage_entered_at: Timestamp;
  created_at: Timestamp;
}

/** A period in which the deal was open in a stage; closing ends it, reopening starts a new one. */
export interface StageIntervalsTable {
  deal_id: string;
  entered_revision: Int8;
  pipeline_id: string;
  stage_id: string;
  entered_at: Timestamp;
  exited_at: Timestamp | null;
  entered_recorded_at: Timestamp;
  exited_recorded_at: Timestamp | null;
  /** moved | won | lost | disqualified, null while open. */
  exit_kind: string | null;
  /** The closing's reason (won, lost, disqualified: as the event gave it); null otherwise. */
  exit_reason: string | null;
}

/** Every entry into a stage: creation (from null), a move (forward or back), a reopen. */
export interface StageTransitionsTable {
  deal_id: string;
  revision: Int8;
  pipeline_id: string;
  from_stage_id: string | null;
  to_stage_id: string;
  kind: string;
  at: Timestamp;
  recorded_at: Timestamp;
  /** The deal's kind (new, upsell, cross-sell), fixed at its creation: a report's kind segment is a condition on the row. */
  deal_kind: string;
}

/** A deal's first entry into a stage (on each axis), with its creation: the funnel without a join. */
export interface StageFirstEntriesTable {
  deal_id: string;
  stage_id: string;
  pipeline_id: string;
  first_at: Timestamp;
  first_recorded_at: Timestamp;
  created_at: Timestamp;
  created_recorded_at: Timestamp;
  /** Σ length of the deal's closed visits to the stage, ms (business axis), kept as visits close. */
  visits_ms: Int8;
  /** The same on the recorded axis. */
  visits_recorded_ms: Int8;
  /** When the open visit began (business axis); null when the deal is not in the stage. */
  open_since: Timestamp | null;
  open_since_recorded: Timestamp | null;
  /** The latest entry or exit of a visit (each axis): the sums above hold as of any instant from then on. */
  settled_at: Timestamp;
  settled_recorded_at: Timestamp;
  /**
   * The deal went through the stages in order up to this one (the funnel's `strict`, business axis): its
   * first entries sorted by (first_at, position) begin with positions 0, 1, …, this stage's position — in
   * the board positions of `funnel_orders` for the pipeline (the definition the projection last saw).
   */
  in_order: boolean;
  /** The same on the recorded axis (sorted by first_recorded_at). */
  in_order_recorded: boolean;
  /** The deal's kind (fixed at creation): a report segment by kind is a condition on the row, not a join. */
  kind: string;
}

/** The stage positions a pipeline's `in_order` flags were judged in: `{stageId: position}`, removed stages at their receiver's. */
export interface FunnelOrdersTable {
  pipeline_id: string;
  positions: Json;
}

export interface RemovedStagesTable {
  pipeline_id: string;
  stage_id: string;
  removal_event_id: string;
  moved_to_stage_id: string;
  removed_at: Timestamp;
}

/** Open deals per stage and currency, maintained incrementally (weighted values are derived at read). */
export interface StageTotalsTable {
  pipeline_id: string;
  stage_id: string;
  currency: string;
  open_count: Int8;
  open_amount: Int8;
}

/**
 * Open deals per stage, currency and the UTC day they entered their stage, maintained like
 * stage_totals: the board counts a stage's stalled deals from a few day rows (the days since
 * now − goal) instead of every open deal that entered since. A day with no open deal has no row.
 */
export interface StageEntryDaysTable {
  pipeline_id: string;
  stage_id: string;
  currency: string;
  entered_day: string;
  open_count: Int8;
  open_amount: Int8;
}

/**
 * Open deals as of any instant, kept at write time (docs/read-models.md): per pipeline, time axis,
 * bucket (a UTC year, month or day, each span holding every change: a change is counted in its year,
 * its month and its day) and group (stage, currency, expected close month), the net change over the
 * bucket of the open deals' count, Σ amount and Σ stage-entered instant (ms since the epoch). Every
 * open deal_versions row adds its values at its start and takes them away at its end. A group's open
 * deals as of T are the years before T's, the months of T's year before T's month, the days of T's
 * month before T's day, and the versions starting or ending on T's day up to T. Rows are never
 * deleted (a group whose changes cancel keeps a row of zeros), so a rebuild writes the same rows.
 */
export interface OpenDealDeltasTable {
  pipeline_id: string;
  /** 'occurred' (valid_from / valid_to) or 'recorded' (recorded_from / recorded_to). */
  axis: string;
  /** 'year' | 'month' | 'day'. */
  span: string;
  /** The bucket's first instant (UTC). */
  bucket: Timestamp;
  stage_id: string;
  currency: string;
  /** YYYY-MM of the expected close date, '' for none. */
  close_month: string;
  open_count: Int8;
  open_amount: Int8;
  /** Σ stage_entered_at as ms since the epoch (numeric: the sum can pass int8). */
  entered_ms: Int8;
}

/** Streams held back by an event a projection could not apply (runner/parking.ts); not compared for parity. */
export interface ParkedStreamsTable {
  stream_id: string;
  event_id: string;
  revision: Int8;
  position_major: Int8;
  position_minor: Int8;
  event_type: string;
  error: string;
  error_code: string | null;
  parked_at: Timestamp;
  attempts: number;
  events_waiting: Int8;
}

/**
 * The read-model database as Kysely sees it: the connection is `Kysely<ReadModelDatabase>`. Table
 * keys are unqualified: the schema (live `read_models`, or a rebuild's) is chosen per query with
 * `db.withSchema(schema)`.
 */
export interface ReadModelDatabase {
  meta: MetaTable;
  checkpoints: CheckpointsTable;
  pipelines: PipelinesTable;
  pipeline_versions: PipelineVersionsTable;
  deals: DealsTable;
  deal_states: DealStatesTable;
  deal_versions: DealVersionsTable;
  stage_intervals: StageIntervalsTable;
  stage_transitions: StageTransitionsTable;
  stage_first_entries: StageFirstEntriesTable;
  funnel_orders: FunnelOrdersTable;
  stage_totals: StageTotalsTable;
  stage_entry_days: StageEntryDaysTable;
  open_deal_deltas: OpenDealDeltasTable;
  removed_stages: RemovedStagesTable;
  parked_streams: ParkedStreamsTable;
}

/*
 * The read models join the one database's table map unqualified: their schema is chosen per call
 * (`withSchema`: `read_models` live, a fresh one during a rebuild), so `Kysely<DB>` is a
 * `Kysely<ReadModelDatabase>` and the API, CLI and projector pass their connection as it is.
 */
declare module '@dealstream/database' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
  interface DB extends ReadModelDatabase {}
}

/**
 * What every read-model function takes: a connection or a transaction typed with the tables.
 * (`Transaction` is named too because Kysely cannot compare an untyped caller's `Transaction<any>`
 * with `Kysely<ReadModelDatabase>` structurally; a typed transaction is a `Kysely<ReadModelDatabase>`.)
 */
export type ReadModelDb = Kysely<ReadModelDatabase> | Transaction<ReadModelDatabase>;

/** Tables compared for parity after a rebuild, with their key columns (stable ordering). */
export const PARITY_TABLES: Record<
  Exclude<keyof ReadModelDatabase, 'meta' | 'checkpoints' | 'parked_streams'>,
  string[]
> = {
  pipelines: ['pipeline_id'],
  pipeline_versions: ['pipeline_id', 'revision'],
  deals: ['deal_id'],
  deal_states: ['deal_id'],
  deal_versions: ['deal_id', 'revision'],
  stage_intervals: ['deal_id', 'entered_revision'],
  stage_transitions: ['deal_id', 'revision'],
  stage_first_entries: ['deal_id', 'stage_id'],
  funnel_orders: ['pipeline_id'],
  stage_totals: ['pipeline_id', 'stage_id', 'currency'],
  stage_entry_days: ['pipeline_id', 'stage_id', 'currency', 'entered_day'],
  open_deal_deltas: ['pipeline_id', 'axis', 'span', 'bucket', 'stage_id', 'currency', 'close_month'],
  removed_stages: ['pipeline_id', 'stage_id'],
};

/**
 * A row as the projections hold it in memory while a batch is projected, derived from its table:
 * int8 columns as numbers (amounts and revisions stay far below 2^53), timestamps as Dates, jsonb
 * as `unknown` (the caller narrows it), everything else as selected.
 */
export type InMemoryRow<Table> = { -readonly [K in keyof Table]: InMemory<Table[K]> };

type InMemory<Column> = Column extends Int8
  ? number
  : Column extends Timestamp
    ? Date
    : Column extends Json
      ? unknown
      : Column;
