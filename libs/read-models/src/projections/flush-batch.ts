import { sql, type RawBuilder } from 'kysely';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import type { BatchWrites } from './batch-writes.js';
import type { DealRow } from './deal-row.js';
import type { PipelineRow } from './pipeline.projection.js';

const CHUNK = 500;
const INFINITY = sql`'infinity'::timestamptz`;

/** Writes a projected batch with a handful of bulk statements per table. */
export async function flushBatch(trx: ReadModelDb, schema: string, writes: BatchWrites, deals: DealRow[], pipelines: PipelineRow[]): Promise<void> {
  const s = sql.id(schema);
  const ts = (d: Date | null) => (d === null ? sql`null` : sql`${d.toISOString()}::timestamptz`);
  const until = (d: Date | null) => (d === null ? INFINITY : ts(d));

  await inChunks(pipelines, (chunk) => sql`
    insert into ${s}.pipelines (pipeline_id, name, currency, status, stages, removed_stages, state, revision, effective_at, updated_at)
    values ${sql.join(chunk.map((p) => sql`(${p.pipeline_id}::uuid, ${p.state.name}, ${p.state.currency}, ${p.state.status},
      ${JSON.stringify(p.state.stages)}::jsonb, ${JSON.stringify(p.state.removedStages)}::jsonb, ${JSON.stringify(p.state)}::jsonb,
      ${p.revision}, ${ts(p.effective_at)}, ${ts(p.updated_at)})`))}
    on conflict (pipeline_id) do update set name = excluded.name, currency = excluded.currency, status = excluded.status,
      stages = excluded.stages, removed_stages = excluded.removed_stages, state = excluded.state, revision = excluded.revision,
      effective_at = excluded.effective_at, updated_at = excluded.updated_at`.execute(trx));

  await inChunks(writes.pipelineVersionClosings, (chunk) => sql`
    update ${s}.pipeline_versions t set valid_to = v.valid_to::timestamptz, recorded_to = v.recorded_to::timestamptz
    from (values ${sql.join(chunk.map((c) => sql`(${c.pipeline_id}::uuid, ${c.revision}::bigint, ${c.at.toISOString()}, ${c.recorded_at.toISOString()})`))})
      as v(pipeline_id, revision, valid_to, recorded_to)
    where t.pipeline_id = v.pipeline_id and t.revision = v.revision`.execute(trx));

  await inChunks([...writes.pipelineVersions.values()], (chunk) => sql`
    insert into ${s}.pipeline_versions (pipeline_id, revision, valid_from, valid_to, recorded_from, recorded_to, name, currency, status, stages, removed_stages)
    values ${sql.join(chunk.map((v) => sql`(${v.pipeline_id}::uuid, ${v.revision}, ${ts(v.valid_from)}, ${until(v.valid_to)}, ${ts(v.recorded_from)},
      ${until(v.recorded_to)}, ${v.name}, ${v.currency}, ${v.status}, ${JSON.stringify(v.stages)}::jsonb, ${JSON.stringify(v.removed_stages)}::jsonb)`))}`.execute(trx));

  await inColumns(deals, (c) => sql`
    insert into ${s}.deals (deal_id, pipeline_id, stage_id, status, title, account, owner_id, amount, currency, expected_close_date,
      kind, parent_deal_id, bant_score, created_at, created_recorded_at, stage_entered_at, closed_at, won_amount, activity_count, last_activity_at,
      revision, effective_at, recorded_at, version_revision, open_interval_revision)
    select * from unnest(${c((d) => d.deal_id)}::uuid[], ${c((d) => d.pipeline_id)}::uuid[], ${c((d) => d.stage_id)}::uuid[], ${c((d) => d.status)}::text[],
      ${c((d) => d.title)}::text[], ${c((d) => d.account)}::text[], ${c((d) => d.owner_id)}::text[], ${c((d) => d.amount)}::bigint[], ${c((d) => d.currency)}::text[],
      ${c((d) => d.expected_close_date)}::date[], ${c((d) => d.kind)}::text[], ${c((d) => d.parent_deal_id)}::uuid[], ${c((d) => d.bant_score)}::int[],
      ${c((d) => iso(d.created_at))}::timestamptz[], ${c((d) => iso(d.created_recorded_at))}::timestamptz[], ${c((d) => iso(d.stage_entered_at))}::timestamptz[],
      ${c((d) => iso(d.closed_at))}::timestamptz[], ${c((d) => d.won_amount)}::bigint[], ${c((d) => d.activity_count)}::int[], ${c((d) => iso(d.last_activity_at))}::timestamptz[],
      ${c((d) => d.revision)}::bigint[], ${c((d) => iso(d.effective_at))}::timestamptz[], ${c((d) => iso(d.recorded_at))}::timestamptz[],
      ${c((d) => d.version_revision)}::bigint[], ${c((d) => d.open_interval_revision)}::bigint[])
    on conflict (deal_id) do update set pipeline_id = excluded.pipeline_id, stage_id = excluded.stage_id, status = excluded.status,
      title = excluded.title, account = excluded.account, owner_id = excluded.owner_id, amount = excluded.amount, currency = excluded.currency,
      expected_close_date = excluded.expected_close_date, kind = excluded.kind, parent_deal_id = excluded.parent_deal_id,
      bant_score = excluded.bant_score, created_at = excluded.created_at, created_recorded_at = excluded.created_recorded_at, stage_entered_at = excluded.stage_entered_at,
      closed_at = excluded.closed_at, won_amount = excluded.won_amount, activity_count = excluded.activity_count,
      last_activity_at = excluded.last_activity_at, revision = excluded.revision,
      effective_at = excluded.effective_at, recorded_at = excluded.recorded_at, version_revision = excluded.version_revision,
      open_interval_revision = excluded.open_interval_revision`.execute(trx));
  await inChunks(deals, (chunk) => sql`
    insert into ${s}.deal_states (deal_id, state) values ${sql.join(chunk.map((d) => sql`(${d.deal_id}::uuid, ${JSON.stringify(d.state)}::jsonb)`))}
    on conflict (deal_id) do update set state = excluded.state`.execute(trx));

  await inChunks(writes.versionClosings, (chunk) => sql`
    update ${s}.deal_versions t set valid_to = v.valid_to::timestamptz, recorded_to = v.recorded_to::timestamptz
    from (values ${sql.join(chunk.map((c) => sql`(${c.deal_id}::uuid, ${c.revision}::bigint, ${c.at.toISOString()}, ${c.recorded_at.toISOString()})`))})
      as v(deal_id, revision, valid_to, recorded_to)
    where t.deal_id = v.deal_id and t.revision = v.revision`.execute(trx));

  await inColumns([...writes.versions.values()], (c) => sql`
    insert into ${s}.deal_versions (deal_id, revision, valid_from, valid_to, recorded_from, recorded_to, pipeline_id, stage_id, status,
      owner_id, amount, currency, expected_close_date, stage_entered_at, created_at)
    select * from unnest(${c((v) => v.deal_id)}::uuid[], ${c((v) => v.revision)}::bigint[], ${c((v) => iso(v.valid_from))}::timestamptz[],
      ${c((v) => iso(v.valid_to) ?? 'infinity')}::timestamptz[], ${c((v) => iso(v.recorded_from))}::timestamptz[], ${c((v) => iso(v.recorded_to) ?? 'infinity')}::timestamptz[],
      ${c((v) => v.pipeline_id)}::uuid[], ${c((v) => v.stage_id)}::uuid[], ${c((v) => v.status)}::text[], ${c((v) => v.owner_id)}::text[],
      ${c((v) => v.amount)}::bigint[], ${c((v) => v.currency)}::text[], ${c((v) => v.expected_close_date)}::date[],
      ${c((v) => iso(v.stage_entered_at))}::timestamptz[], ${c((v) => iso(v.created_at))}::timestamptz[])`.execute(trx));

  await inChunks(writes.intervalClosings, (chunk) => sql`
    update ${s}.stage_intervals t set exited_at = v.exited_at::timestamptz, exited_recorded_at = v.exited_recorded_at::timestamptz, exit_kind = v.exit_kind
    from (values ${sql.join(chunk.map((c) => sql`(${c.deal_id}::uuid, ${c.revision}::bigint, ${c.at.toISOString()}, ${c.recorded_at.toISOString()}, ${c.exit_kind ?? null})`))})
      as v(deal_id, entered_revision, exited_at, exited_recorded_at, exit_kind)
    where t.deal_id = v.deal_id and t.entered_revision = v.entered_revision`.execute(trx));

  await inColumns([...writes.intervals.values()], (c) => sql`
    insert into ${s}.stage_intervals (deal_id, entered_revision, pipeline_id, stage_id, entered_at, exited_at, entered_recorded_at, exited_recorded_at, exit_kind)
    select * from unnest(${c((i) => i.deal_id)}::uuid[], ${c((i) => i.entered_revision)}::bigint[], ${c((i) => i.pipeline_id)}::uuid[],
      ${c((i) => i.stage_id)}::uuid[], ${c((i) => iso(i.entered_at))}::timestamptz[], ${c((i) => iso(i.exited_at))}::timestamptz[],
      ${c((i) => iso(i.entered_recorded_at))}::timestamptz[], ${c((i) => iso(i.exited_recorded_at))}::timestamptz[], ${c((i) => i.exit_kind)}::text[])`.execute(trx));

  await inColumns(writes.transitions, (c) => sql`
    insert into ${s}.stage_transitions (deal_id, revision, pipeline_id, from_stage_id, to_stage_id, kind, at, recorded_at)
    select * from unnest(${c((t) => t.deal_id)}::uuid[], ${c((t) => t.revision)}::bigint[], ${c((t) => t.pipeline_id)}::uuid[],
      ${c((t) => t.from_stage_id)}::uuid[], ${c((t) => t.to_stage_id)}::uuid[], ${c((t) => t.kind)}::text[],
      ${c((t) => iso(t.at))}::timestamptz[], ${c((t) => iso(t.recorded_at))}::timestamptz[])`.execute(trx));

  await inColumns([...writes.firstEntries.values()], (c) => sql`
    insert into ${s}.stage_first_entries as t (deal_id, stage_id, pipeline_id, first_at, first_recorded_at, created_at, created_recorded_at)
    select * from unnest(${c((e) => e.deal_id)}::uuid[], ${c((e) => e.stage_id)}::uuid[], ${c((e) => e.pipeline_id)}::uuid[],
      ${c((e) => iso(e.first_at))}::timestamptz[], ${c((e) => iso(e.first_recorded_at))}::timestamptz[],
      ${c((e) => iso(e.created_at))}::timestamptz[], ${c((e) => iso(e.created_recorded_at))}::timestamptz[])
    on conflict (deal_id, stage_id) do update set first_at = least(t.first_at, excluded.first_at),
      first_recorded_at = least(t.first_recorded_at, excluded.first_recorded_at)`.execute(trx));

  await inColumns(writes.activities, (c) => sql`
    insert into ${s}.activities (deal_id, revision, activity_id, pipeline_id, kind, outcome, note, actor_id, at)
    select * from unnest(${c((a) => a.deal_id)}::uuid[], ${c((a) => a.revision)}::bigint[], ${c((a) => a.activity_id)}::uuid[],
      ${c((a) => a.pipeline_id)}::uuid[], ${c((a) => a.kind)}::text[], ${c((a) => a.outcome)}::text[], ${c((a) => a.note)}::text[],
      ${c((a) => a.actor_id)}::text[], ${c((a) => iso(a.at))}::timestamptz[])`.execute(trx));

  await inChunks(writes.removedStages, (chunk) => sql`
    insert into ${s}.removed_stages (pipeline_id, stage_id, removal_event_id, moved_to_stage_id, removed_at)
    values ${sql.join(chunk.map((r) => sql`(${r.pipeline_id}::uuid, ${r.stage_id}::uuid, ${r.removal_event_id}::uuid, ${r.moved_to_stage_id}::uuid, ${ts(r.removed_at)})`))}
    on conflict (pipeline_id, stage_id) do nothing`.execute(trx));

  const totals = [...writes.totals.entries()].filter(([, delta]) => delta.count !== 0 || delta.amount !== 0);
  await inChunks(totals, (chunk) => sql`
    insert into ${s}.stage_totals as t (pipeline_id, stage_id, currency, open_count, open_amount)
    values ${sql.join(chunk.map(([key, delta]) => {
      const [pipelineId, stageId, currency] = key.split('|');
      return sql`(${pipelineId}::uuid, ${stageId}::uuid, ${currency}, ${delta.count}, ${delta.amount})`;
    }))}
    on conflict (pipeline_id, stage_id, currency) do update
      set open_count = t.open_count + excluded.open_count, open_amount = t.open_amount + excluded.open_amount`.execute(trx));
  // A stage emptied of open deals has no row, however the batches fell.
  if (totals.length) await sql`delete from ${s}.stage_totals where open_count = 0`.execute(trx);
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

/**
 * One insert-only statement for all of `items`, passed column-wise as arrays (`unnest`): a dozen
 * parameters however many rows, instead of a multi-row VALUES list to build, send and parse.
 */
async function inColumns<T>(items: T[], statement: (column: (pick: (item: T) => unknown) => RawBuilder<unknown>) => Promise<unknown>): Promise<void> {
  if (items.length === 0) return;
  await statement((pick) => sql.val(items.map(pick)));
}

async function inChunks<T>(items: T[], statement: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += CHUNK) await statement(items.slice(i, i + CHUNK));
}
