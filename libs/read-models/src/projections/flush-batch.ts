import { sql, type RawBuilder } from 'kysely';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { copyRows, isoInstant } from '@dealstream/database';
import {
  enteredMsText,
  type BatchWrites,
  type FirstEntryRow,
  type IntervalRow,
  type TransitionRow,
  type VersionRow,
} from './batch-writes.js';
import type { DealRow } from './deal-row.js';
import type { PipelineRow } from './pipeline.projection.js';

const CHUNK = 500;

/** Writes a projected batch with a handful of bulk statements per table. */
export async function flushBatch(
  trx: ReadModelDb,
  schema: string,
  writes: BatchWrites,
  allDeals: DealRow[],
  pipelines: PipelineRow[],
  storedDeals: ReadonlySet<string>,
): Promise<void> {
  const s = sql.id(schema);
  const db = trx.withSchema(schema);
  const table = (name: string) => `"${schema}"."${name}"`;
  // Deals new to the read models (most of a rebuild's): their rows are loaded with COPY; deals
  // that already had rows are upserted.
  const deals = allDeals.filter((d) => storedDeals.has(d.deal_id));
  const newDeals = allDeals.filter((d) => !storedDeals.has(d.deal_id));

  await inChunks(pipelines, (chunk) =>
    db
      .insertInto('pipelines')
      .values(
        chunk.map((p) => ({
          pipeline_id: p.pipeline_id,
          name: p.state.name,
          currency: p.state.currency,
          status: p.state.status,
          stages: JSON.stringify(p.state.stages),
          removed_stages: JSON.stringify(p.state.removedStages),
          state: JSON.stringify(p.state),
          revision: p.revision,
          effective_at: p.effective_at.toISOString(),
          updated_at: p.updated_at.toISOString(),
        })),
      )
      .onConflict((oc) =>
        oc.column('pipeline_id').doUpdateSet(({ ref }) => ({
          name: ref('excluded.name'),
          currency: ref('excluded.currency'),
          status: ref('excluded.status'),
          stages: ref('excluded.stages'),
          removed_stages: ref('excluded.removed_stages'),
          state: ref('excluded.state'),
          revision: ref('excluded.revision'),
          effective_at: ref('excluded.effective_at'),
          updated_at: ref('excluded.updated_at'),
        })),
      )
      .execute(),
  );

  // Raw: closing rows is an update joined to a VALUES list, which the builder cannot say.

  await inChunks(writes.pipelineVersionClosings, (chunk) =>
    sql`
    update ${s}.pipeline_versions t set valid_to = v.valid_to::timestamptz, recorded_to = v.recorded_to::timestamptz
    from (values ${sql.join(chunk.map((c) => sql`(${c.pipeline_id}::uuid, ${c.revision}::bigint, ${c.at.toISOString()}, ${c.recorded_at.toISOString()})`))})
      as v(pipeline_id, revision, valid_to, recorded_to)
    where t.pipeline_id = v.pipeline_id and t.revision = v.revision`.execute(trx),
  );

  await inChunks([...writes.pipelineVersions.values()], (chunk) =>
    db
      .insertInto('pipeline_versions')
      .values(
        chunk.map((v) => ({
          ...v,
          valid_from: v.valid_from.toISOString(),
          valid_to: v.valid_to?.toISOString() ?? 'infinity',
          recorded_from: v.recorded_from.toISOString(),
          recorded_to: v.recorded_to?.toISOString() ?? 'infinity',
          stages: JSON.stringify(v.stages),
          removed_stages: JSON.stringify(v.removed_stages),
        })),
      )
      .execute(),
  );

  // Raw: a column-wise insert from unnest(arrays) (see inColumns), which the builder cannot say.
  await inColumns(deals, (c) =>
    sql`
    insert into ${s}.deals (deal_id, pipeline_id, stage_id, status, title, account, owner_id, amount, currency, expected_close_date,
      kind, parent_deal_id, import_id, bant_score, created_at, created_recorded_at, stage_entered_at, stage_entered_recorded_at, closed_at, won_amount, activity_count, last_activity_at,
      revision, effective_at, recorded_at, version_revision, open_interval_revision)
    select * from unnest(${c((d) => d.deal_id)}::uuid[], ${c((d) => d.pipeline_id)}::uuid[], ${c((d) => d.stage_id)}::uuid[], ${c((d) => d.status)}::text[],
      ${c((d) => d.title)}::text[], ${c((d) => d.account)}::text[], ${c((d) => d.owner_id)}::text[], ${c((d) => d.amount)}::bigint[], ${c((d) => d.currency)}::text[],
      ${c((d) => d.expected_close_date)}::date[], ${c((d) => d.kind)}::text[], ${c((d) => d.parent_deal_id)}::uuid[], ${c((d) => d.import_id)}::text[],
      ${c((d) => d.bant_score)}::int[],
      ${c((d) => iso(d.created_at))}::timestamptz[], ${c((d) => iso(d.created_recorded_at))}::timestamptz[], ${c((d) => iso(d.stage_entered_at))}::timestamptz[],
      ${c((d) => iso(d.stage_entered_recorded_at))}::timestamptz[], ${c((d) => iso(d.closed_at))}::timestamptz[], ${c((d) => d.won_amount)}::bigint[], ${c((d) => d.activity_count)}::int[], ${c((d) => iso(d.last_activity_at))}::timestamptz[],
      ${c((d) => d.revision)}::bigint[], ${c((d) => iso(d.effective_at))}::timestamptz[], ${c((d) => iso(d.recorded_at))}::timestamptz[],
      ${c((d) => d.version_revision)}::bigint[], ${c((d) => d.open_interval_revision)}::bigint[])
    on conflict (deal_id) do update set pipeline_id = excluded.pipeline_id, stage_id = excluded.stage_id, status = excluded.status,
      title = excluded.title, account = excluded.account, owner_id = excluded.owner_id, amount = excluded.amount, currency = excluded.currency,
      expected_close_date = excluded.expected_close_date, kind = excluded.kind, parent_deal_id = excluded.parent_deal_id, import_id = excluded.import_id,
      bant_score = excluded.bant_score, created_at = excluded.created_at, created_recorded_at = excluded.created_recorded_at, stage_entered_at = excluded.stage_entered_at,
      stage_entered_recorded_at = excluded.stage_entered_recorded_at,
      closed_at = excluded.closed_at, won_amount = excluded.won_amount, activity_count = excluded.activity_count,
      last_activity_at = excluded.last_activity_at, revision = excluded.revision,
      effective_at = excluded.effective_at, recorded_at = excluded.recorded_at, version_revision = excluded.version_revision,
      open_interval_revision = excluded.open_interval_revision`.execute(trx),
  );
  await copyRows(
    trx,
    table('deals'),
    DEAL_COLUMNS,
    newDeals.map((d) => DEAL_COLUMNS.map((c) => d[c])),
  );
  await copyRows(
    trx,
    table('deal_states'),
    ['deal_id', 'state'],
    newDeals.map((d) => [d.deal_id, d.state]),
  );
  await inChunks(deals, (chunk) =>
    db
      .insertInto('deal_states')
      .values(chunk.map((d) => ({ deal_id: d.deal_id, state: JSON.stringify(d.state) })))
      .onConflict((oc) => oc.column('deal_id').doUpdateSet(({ ref }) => ({ state: ref('excluded.state') })))
      .execute(),
  );

  // Raw: closing rows is an update joined to a VALUES list, which the builder cannot say.
  await inChunks(writes.versionClosings, (chunk) =>
    sql`
    update ${s}.deal_versions t set valid_to = v.valid_to::timestamptz, recorded_to = v.recorded_to::timestamptz
    from (values ${sql.join(chunk.map((c) => sql`(${c.deal_id}::uuid, ${c.revision}::bigint, ${c.at.toISOString()}, ${c.recorded_at.toISOString()})`))})
      as v(deal_id, revision, valid_to, recorded_to)
    where t.deal_id = v.deal_id and t.revision = v.revision`.execute(trx),
  );

  // The insert-only tables by COPY; rows opened and closed within the batch arrive closed ('infinity': still open).
  await copyRows(
    trx,
    table('deal_versions'),
    VERSION_COLUMNS,
    [...writes.versions.values()].map((v) =>
      VERSION_COLUMNS.map((c) => v[c] ?? (OPEN_UNTIL.has(c) ? 'infinity' : null)),
    ),
  );

  // Raw: closing rows is an update joined to a VALUES list, which the builder cannot say.
  await inChunks(writes.intervalClosings, (chunk) =>
    sql`
    update ${s}.stage_intervals t set exited_at = v.exited_at::timestamptz, exited_recorded_at = v.exited_recorded_at::timestamptz, exit_kind = v.exit_kind, exit_reason = v.exit_reason
    from (values ${sql.join(chunk.map((c) => sql`(${c.deal_id}::uuid, ${c.revision}::bigint, ${c.at.toISOString()}, ${c.recorded_at.toISOString()}, ${c.exit_kind ?? null}, ${c.exit_reason ?? null}::text)`))})
      as v(deal_id, entered_revision, exited_at, exited_recorded_at, exit_kind, exit_reason)
    where t.deal_id = v.deal_id and t.entered_revision = v.entered_revision`.execute(trx),
  );

  await copyRows(
    trx,
    table('stage_intervals'),
    INTERVAL_COLUMNS,
    [...writes.intervals.values()].map((i) => INTERVAL_COLUMNS.map((c) => i[c])),
  );
  await copyRows(
    trx,
    table('stage_transitions'),
    TRANSITION_COLUMNS,
    writes.transitions.map((t) => TRANSITION_COLUMNS.map((c) => t[c])),
  );

  // First entries: a new deal's by COPY; a stored deal's may meet an earlier batch's, the earliest stays.
  const firstEntries = [...writes.firstEntries.values()];
  await copyRows(
    trx,
    table('stage_first_entries'),
    FIRST_ENTRY_COLUMNS,
    firstEntries.filter((e) => !storedDeals.has(e.deal_id)).map((e) => FIRST_ENTRY_COLUMNS.map((c) => e[c])),
  );
  // Raw: a column-wise insert from unnest(arrays) (see inColumns), which the builder cannot say.
  await inColumns(
    firstEntries.filter((e) => storedDeals.has(e.deal_id)),
    (c) =>
      sql`
    insert into ${s}.stage_first_entries as t (deal_id, stage_id, pipeline_id, first_at, first_recorded_at, created_at, created_recorded_at,
      visits_ms, visits_recorded_ms, open_since, open_since_recorded, settled_at, settled_recorded_at, in_order, in_order_recorded, kind)
    select * from unnest(${c((e) => e.deal_id)}::uuid[], ${c((e) => e.stage_id)}::uuid[], ${c((e) => e.pipeline_id)}::uuid[],
      ${c((e) => iso(e.first_at))}::timestamptz[], ${c((e) => iso(e.first_recorded_at))}::timestamptz[],
      ${c((e) => iso(e.created_at))}::timestamptz[], ${c((e) => iso(e.created_recorded_at))}::timestamptz[],
      ${c((e) => e.visits_ms)}::bigint[], ${c((e) => e.visits_recorded_ms)}::bigint[],
      ${c((e) => iso(e.open_since))}::timestamptz[], ${c((e) => iso(e.open_since_recorded))}::timestamptz[],
      ${c((e) => iso(e.settled_at))}::timestamptz[], ${c((e) => iso(e.settled_recorded_at))}::timestamptz[],
      ${c((e) => e.in_order)}::boolean[], ${c((e) => e.in_order_recorded)}::boolean[], ${c((e) => e.kind)}::text[])
    on conflict (deal_id, stage_id) do update set first_at = least(t.first_at, excluded.first_at),
      first_recorded_at = least(t.first_recorded_at, excluded.first_recorded_at),
      -- the batch's closed visits add up; where the deal is now (open visit or none) is the batch's last word
      visits_ms = t.visits_ms + excluded.visits_ms, visits_recorded_ms = t.visits_recorded_ms + excluded.visits_recorded_ms,
      open_since = excluded.open_since, open_since_recorded = excluded.open_since_recorded,
      settled_at = greatest(t.settled_at, excluded.settled_at), settled_recorded_at = greatest(t.settled_recorded_at, excluded.settled_recorded_at)
      -- in_order, in_order_recorded: a stored deal is judged again after the flush (funnel-order.ts)`.execute(trx),
  );

  await inChunks(writes.removedStages, (chunk) =>
    db
      .insertInto('removed_stages')
      .values(chunk.map((r) => ({ ...r, removed_at: r.removed_at.toISOString() })))
      .onConflict((oc) => oc.columns(['pipeline_id', 'stage_id']).doNothing())
      .execute(),
  );

  const totals = [...writes.totals.entries()].filter(([, delta]) => delta.count !== 0 || delta.amount !== 0);
  await inChunks(totals, (chunk) =>
    db
      .insertInto('stage_totals')
      .values(
        chunk.map(([key, delta]) => {
          const [pipelineId, stageId, currency] = key.split('|') as [string, string, string];
          return {
            pipeline_id: pipelineId,
            stage_id: stageId,
            currency,
            open_count: delta.count,
            open_amount: delta.amount,
          };
        }),
      )
      .onConflict((oc) =>
        oc.columns(['pipeline_id', 'stage_id', 'currency']).doUpdateSet((eb) => ({
          open_count: eb('stage_totals.open_count', '+', eb.ref('excluded.open_count')),
          open_amount: eb('stage_totals.open_amount', '+', eb.ref('excluded.open_amount')),
        })),
      )
      .execute(),
  );
  // A stage emptied of open deals has no row, however the batches fell.
  if (totals.length) await db.deleteFrom('stage_totals').where('open_count', '=', '0').execute();

  // The same per day of stage entry; a day emptied of open deals has no row either.
  const days = [...writes.entryDays.entries()].filter(([, delta]) => delta.count !== 0 || delta.amount !== 0);
  await inChunks(days, (chunk) =>
    db
      .insertInto('stage_entry_days')
      .values(
        chunk.map(([key, delta]) => {
          const [pipelineId, stageId, currency, day] = key.split('|') as [string, string, string, string];
          return {
            pipeline_id: pipelineId,
            stage_id: stageId,
            currency,
            entered_day: day,
            open_count: delta.count,
            open_amount: delta.amount,
          };
        }),
      )
      .onConflict((oc) =>
        oc.columns(['pipeline_id', 'stage_id', 'currency', 'entered_day']).doUpdateSet((eb) => ({
          open_count: eb('stage_entry_days.open_count', '+', eb.ref('excluded.open_count')),
          open_amount: eb('stage_entry_days.open_amount', '+', eb.ref('excluded.open_amount')),
        })),
      )
      .execute(),
  );
  // Raw: a delete joined to a VALUES list of the batch's keys (a primary-key lookup each, not a scan).
  await inChunks(days, (chunk) =>
    sql`
    delete from ${s}.stage_entry_days t using (values ${sql.join(
      chunk.map(([key]) => sql`(${sql.join(key.split('|'))})`),
    )}) as v(pipeline_id, stage_id, currency, entered_day)
    where t.pipeline_id = v.pipeline_id::uuid and t.stage_id = v.stage_id::uuid and t.currency = v.currency
      and t.entered_day = v.entered_day::date and t.open_count = 0`.execute(trx),
  );

  // Open deals as of any instant: the batch's net changes per bucket and group add to the stored ones.
  // Raw: a column-wise insert from unnest(arrays) (see inColumns), which the builder cannot say.
  await inColumns([...writes.openDeltas()], (c) =>
    sql`
    insert into ${s}.open_deal_deltas as t (pipeline_id, axis, span, bucket, stage_id, currency, close_month, open_count, open_amount, entered_ms)
    select * from unnest(${c((d) => d.pipeline_id)}::uuid[], ${c((d) => d.axis)}::text[], ${c((d) => d.span)}::text[],
      ${c((d) => d.bucket)}::timestamptz[], ${c((d) => d.stage_id)}::uuid[], ${c((d) => d.currency)}::text[], ${c((d) => d.close_month)}::text[],
      ${c((d) => d.open_count)}::bigint[], ${c((d) => d.open_amount)}::bigint[], ${c(enteredMsText)}::numeric[])
    on conflict (pipeline_id, axis, span, bucket, stage_id, currency, close_month) do update set
      open_count = t.open_count + excluded.open_count, open_amount = t.open_amount + excluded.open_amount,
      entered_ms = t.entered_ms + excluded.entered_ms`.execute(trx),
  );
}

/** Columns in the order COPY sends them (the tables' own order: read-model.schema.ts). */
const DEAL_COLUMNS = [
  'deal_id',
  'pipeline_id',
  'stage_id',
  'status',
  'title',
  'account',
  'owner_id',
  'amount',
  'currency',
  'expected_close_date',
  'kind',
  'parent_deal_id',
  'import_id',
  'bant_score',
  'created_at',
  'created_recorded_at',
  'stage_entered_at',
  'stage_entered_recorded_at',
  'closed_at',
  'won_amount',
  'activity_count',
  'last_activity_at',
  'revision',
  'effective_at',
  'recorded_at',
  'version_revision',
  'open_interval_revision',
] as const satisfies readonly (keyof DealRow)[];
const VERSION_COLUMNS = [
  'deal_id',
  'revision',
  'valid_from',
  'valid_to',
  'recorded_from',
  'recorded_to',
  'pipeline_id',
  'stage_id',
  'status',
  'owner_id',
  'amount',
  'currency',
  'expected_close_date',
  'stage_entered_at',
  'created_at',
] as const satisfies readonly (keyof VersionRow)[];
const OPEN_UNTIL: ReadonlySet<string> = new Set(['valid_to', 'recorded_to']);
const INTERVAL_COLUMNS = [
  'deal_id',
  'entered_revision',
  'pipeline_id',
  'stage_id',
  'entered_at',
  'exited_at',
  'entered_recorded_at',
  'exited_recorded_at',
  'exit_kind',
  'exit_reason',
] as const satisfies readonly (keyof IntervalRow)[];
const TRANSITION_COLUMNS = [
  'deal_id',
  'revision',
  'pipeline_id',
  'from_stage_id',
  'to_stage_id',
  'kind',
  'at',
  'recorded_at',
  'deal_kind',
] as const satisfies readonly (keyof TransitionRow)[];
const FIRST_ENTRY_COLUMNS = [
  'deal_id',
  'stage_id',
  'pipeline_id',
  'first_at',
  'first_recorded_at',
  'created_at',
  'created_recorded_at',
  'visits_ms',
  'visits_recorded_ms',
  'open_since',
  'open_since_recorded',
  'settled_at',
  'settled_recorded_at',
  'in_order',
  'in_order_recorded',
  'kind',
] as const satisfies readonly (keyof FirstEntryRow)[];

const iso = (d: Date | null): string | null => (d === null ? null : isoInstant(d));

/**
 * One insert-only statement for all of `items`, passed column-wise as arrays (`unnest`): a dozen
 * parameters however many rows, instead of a multi-row VALUES list to build, send and parse.
 */
async function inColumns<T>(
  items: T[],
  statement: (column: (pick: (item: T) => unknown) => RawBuilder<unknown>) => Promise<unknown>,
): Promise<void> {
  if (items.length === 0) return;
  await statement((pick) => sql.val(items.map(pick)));
}

async function inChunks<T>(items: T[], statement: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += CHUNK) await statement(items.slice(i, i + CHUNK));
}
