import { sql, type RawBuilder } from 'kysely';
import type { ReadModelDb } from './read-model.tables.js';

/** The live read models' schema. A rebuild builds into another schema, then swaps it in. */
export const LIVE_SCHEMA = 'read_models';

/**
 * Bumped whenever a table or a projection changes meaning: on start, a schema at another version is
 * rebuilt from the event store (read models are derived data; there is nothing to migrate).
 */
export const READ_MODEL_VERSION = 13;

/** Creates the read-model tables in `schema` (which must not exist yet). */
export async function createReadModelSchema(db: ReadModelDb, schema: string): Promise<void> {
  const s = sql.id(schema);
  // Raw: DDL — the tables as PostgreSQL creates them (their TypeScript shape: read-model.tables.ts).
  await sql`create schema ${s}`.execute(db);
  const statements = [
    sql`create table ${s}.meta (key text primary key, value text not null)`,
    sql`create table ${s}.checkpoints (projection text primary key, position_major numeric(20) not null, position_minor numeric(20) not null,
        events_applied bigint not null default 0, updated_at timestamptz not null default now())`,
    sql`create table ${s}.pipelines (pipeline_id uuid primary key, name text not null, currency text, status text not null,
        stages jsonb not null, removed_stages jsonb not null, state jsonb not null, revision bigint not null,
        effective_at timestamptz not null, updated_at timestamptz not null)`,
    sql`create table ${s}.pipeline_versions (pipeline_id uuid not null, revision bigint not null,
        valid_from timestamptz not null, valid_to timestamptz not null, recorded_from timestamptz not null, recorded_to timestamptz not null,
        name text not null, currency text, status text not null, stages jsonb not null, removed_stages jsonb not null,
        primary key (pipeline_id, revision))`,
    sql`create table ${s}.deals (deal_id uuid primary key, pipeline_id uuid not null, stage_id uuid not null, status text not null,
        title text not null, account text not null, owner_id text not null, amount bigint not null, currency text not null,
        expected_close_date date, kind text not null, parent_deal_id uuid, import_id text, bant_score int,
        created_at timestamptz not null, created_recorded_at timestamptz not null, stage_entered_at timestamptz not null,
        stage_entered_recorded_at timestamptz not null, closed_at timestamptz, won_amount bigint,
        activity_count int not null, last_activity_at timestamptz, revision bigint not null,
        effective_at timestamptz not null, recorded_at timestamptz not null,
        version_revision bigint not null, open_interval_revision bigint)`,
    sql`create table ${s}.deal_states (deal_id uuid primary key, state jsonb not null)`,
    sql`create table ${s}.deal_versions (deal_id uuid not null, revision bigint not null,
        valid_from timestamptz not null, valid_to timestamptz not null, recorded_from timestamptz not null, recorded_to timestamptz not null,
        pipeline_id uuid not null, stage_id uuid not null, status text not null, owner_id text not null, amount bigint not null,
        currency text not null, expected_close_date date, stage_entered_at timestamptz not null, created_at timestamptz not null,
        primary key (deal_id, revision))`,
    sql`create table ${s}.stage_intervals (deal_id uuid not null, entered_revision bigint not null, pipeline_id uuid not null,
        stage_id uuid not null, entered_at timestamptz not null, exited_at timestamptz,
        entered_recorded_at timestamptz not null, exited_recorded_at timestamptz, exit_kind text, exit_reason text,
        primary key (deal_id, entered_revision))`,
    sql`create table ${s}.stage_transitions (deal_id uuid not null, revision bigint not null, pipeline_id uuid not null,
        from_stage_id uuid, to_stage_id uuid not null, kind text not null, at timestamptz not null, recorded_at timestamptz not null,
        deal_kind text not null, primary key (deal_id, revision))`,
    sql`create table ${s}.stage_first_entries (deal_id uuid not null, stage_id uuid not null, pipeline_id uuid not null,
        first_at timestamptz not null, first_recorded_at timestamptz not null, created_at timestamptz not null,
        created_recorded_at timestamptz not null, visits_ms bigint not null, visits_recorded_ms bigint not null,
        open_since timestamptz, open_since_recorded timestamptz, settled_at timestamptz not null, settled_recorded_at timestamptz not null,
        in_order boolean not null, in_order_recorded boolean not null, kind text not null,
        primary key (deal_id, stage_id))`,
    // The stage positions (stage id → board position, removed stages at their receiver's) the in_order flags of a
    // pipeline's deals were judged in (projections/funnel-order.ts).
    sql`create table ${s}.funnel_orders (pipeline_id uuid primary key, positions jsonb not null)`,
    sql`create table ${s}.stage_totals (pipeline_id uuid not null, stage_id uuid not null, currency text not null,
        open_count bigint not null, open_amount bigint not null, primary key (pipeline_id, stage_id, currency))`,
    // The same per UTC day of stage entry: the board's stall counts read the days since now − goal (queries/board.query.ts).
    sql`create table ${s}.stage_entry_days (pipeline_id uuid not null, stage_id uuid not null, currency text not null,
        entered_day date not null, open_count bigint not null, open_amount bigint not null,
        primary key (pipeline_id, stage_id, currency, entered_day))`,
    // Open deals as of any instant without scanning deal_versions (queries/pipeline-metrics.query.ts).
    sql`create table ${s}.open_deal_deltas (pipeline_id uuid not null, axis text not null, span text not null, bucket timestamptz not null,
        stage_id uuid not null, currency text not null, close_month text not null,
        open_count bigint not null, open_amount bigint not null, entered_ms numeric not null,
        primary key (pipeline_id, axis, span, bucket, stage_id, currency, close_month))`,
    // Removed stage ids are never reused: an open deal found in one is moved by the relocation reactor.
    sql`create table ${s}.removed_stages (pipeline_id uuid not null, stage_id uuid not null, removal_event_id uuid not null,
        moved_to_stage_id uuid not null, removed_at timestamptz not null, primary key (pipeline_id, stage_id))`,
    // Streams held back by an event a projection could not apply (runner/parking.ts): operator state, not a read model.
    sql`create table ${s}.parked_streams (stream_id text primary key, event_id uuid not null, revision bigint not null,
        position_major numeric(20) not null, position_minor numeric(20) not null, event_type text not null, error text not null,
        error_code text, parked_at timestamptz not null, attempts int not null default 0, events_waiting bigint not null default 0)`,
    ...secondaryIndexes(schema).map((index) => index.create),
    sql`insert into ${s}.meta (key, value) values ('version', ${String(READ_MODEL_VERSION)})`,
    sql`insert into ${s}.checkpoints (projection, position_major, position_minor) values ('read-models', 0, 0)`,
  ];
  for (const statement of statements) await statement.execute(db);
}

/** What an open-deal delta counts, carried by the indexes its as-of query finishes the instant's day with. */
const DELTA_COLUMNS = sql.raw('stage_id, currency, expected_close_date, amount, stage_entered_at');

const OPEN_DEAL_COLUMNS = sql.raw(
  'deal_id, stage_id, owner_id, amount, currency, expected_close_date, stage_entered_at, created_at',
);

/**
 * The secondary indexes (the reports' access paths; primary keys stay with their tables). A build from
 * position 0 into empty tables loads without them and creates each once at the end — one sorted pass
 * instead of a B-tree insert per row (rebuild/rebuild.ts).
 */
export function secondaryIndexes(schema: string): { name: string; create: RawBuilder<unknown> }[] {
  const s = sql.id(schema);
  // Raw: DDL.
  return [
    // The board's page (top-N per stage) and, covering what they read, its filtered totals: an index-only
    // scan per stage, bounded by an amount band when there is one.
    {
      name: 'deals_board',
      create: sql`create index if not exists deals_board on ${s}.deals (pipeline_id, stage_id, amount desc, deal_id) include (currency, owner_id, stage_entered_at) where status = 'open'`,
    },
    // The whole board's stalls: the deals that entered their stage since now − its goal (the rest are stalled).
    {
      name: 'deals_stage_entered',
      create: sql`create index if not exists deals_stage_entered on ${s}.deals (pipeline_id, stage_id, stage_entered_at) include (currency, amount) where status = 'open'`,
    },
    {
      name: 'deals_created',
      create: sql`create index if not exists deals_created on ${s}.deals (pipeline_id, created_at)`,
    },
    // Open versions only (the pipeline "as of" an instant reads nothing else), carrying what it reads.
    {
      name: 'deal_versions_open_valid',
      create: sql`create index if not exists deal_versions_open_valid on ${s}.deal_versions (pipeline_id, valid_to, valid_from) include (${OPEN_DEAL_COLUMNS}) where status = 'open'`,
    },
    {
      name: 'deal_versions_open_recorded',
      create: sql`create index if not exists deal_versions_open_recorded on ${s}.deal_versions (pipeline_id, recorded_to, recorded_from) include (${OPEN_DEAL_COLUMNS}) where status = 'open'`,
    },
    // Open versions by start (each axis): the as-of pipeline metrics add the changes of the instant's own day.
    {
      name: 'deal_versions_open_from',
      create: sql`create index if not exists deal_versions_open_from on ${s}.deal_versions (pipeline_id, valid_from) include (${DELTA_COLUMNS}) where status = 'open'`,
    },
    {
      name: 'deal_versions_open_recorded_from',
      create: sql`create index if not exists deal_versions_open_recorded_from on ${s}.deal_versions (pipeline_id, recorded_from) include (${DELTA_COLUMNS}) where status = 'open'`,
    },
    // Covering the exits too: the as-of pipeline metrics count a stage's visits entered since now − goal and
    // still open at the instant with an index-only scan (a heap visit per interval took seconds at 1M events).
    {
      name: 'stage_intervals_stage',
      create: sql`create index if not exists stage_intervals_stage on ${s}.stage_intervals (pipeline_id, stage_id, entered_at) include (exited_at, entered_recorded_at, exited_recorded_at)`,
    },
    {
      name: 'stage_transitions_at',
      create: sql`create index if not exists stage_transitions_at on ${s}.stage_transitions (pipeline_id, at)`,
    },
    {
      name: 'stage_first_entries_cohort',
      create: sql`create index if not exists stage_first_entries_cohort on ${s}.stage_first_entries (pipeline_id, created_at)`,
    },
    {
      name: 'stage_first_entries_cohort_recorded',
      create: sql`create index if not exists stage_first_entries_cohort_recorded on ${s}.stage_first_entries (pipeline_id, created_recorded_at)`,
    },
  ];
}

/**
 * Makes sure the live read models exist at the current version: creates them on first start, and
 * drops and recreates them (to be refilled by the projection runner from position 0) when an older
 * version is found. Returns what it did.
 */
export async function ensureReadModelSchema(db: ReadModelDb): Promise<'created' | 'recreated' | 'current'> {
  return db.transaction().execute(async (trx) => {
    // One starter at a time: concurrent API instances must not race to create the schema.
    await sql`select pg_advisory_xact_lock(hashtext('dealstream.read-models.schema'))`.execute(trx);
    const { rows } = await sql<{
      exists: boolean;
    }>`select exists (select 1 from information_schema.schemata where schema_name = ${LIVE_SCHEMA}) as exists`.execute(
      trx,
    );
    if (!rows[0].exists) {
      await createReadModelSchema(trx, LIVE_SCHEMA);
      return 'created';
    }
    const version = await trx
      .withSchema(LIVE_SCHEMA)
      .selectFrom('meta')
      .select('value')
      .where('key', '=', 'version')
      .executeTakeFirst();
    if (version?.value === String(READ_MODEL_VERSION)) return 'current';
    await sql`drop schema ${sql.id(LIVE_SCHEMA)} cascade`.execute(trx);
    await createReadModelSchema(trx, LIVE_SCHEMA);
    return 'recreated';
  });
}
