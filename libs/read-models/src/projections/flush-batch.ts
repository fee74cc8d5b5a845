import { sql, type Kysely } from 'kysely';
import type { BatchWrites } from './batch-writes.js';
import type { DealRow } from './deal-row.js';
import type { PipelineRow } from './pipeline.projection.js';

const CHUNK = 500;
const INFINITY = sql`'infinity'::timestamptz`;

/** Writes a projected batch with a handful of bulk statements per table. */
export async function flushBatch(trx: Kysely<any>, schema: string, writes: BatchWrites, deals: DealRow[], pipelines: PipelineRow[]): Promise<void> {
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

  await inChunks(deals, (chunk) => sql`
    insert into ${s}.deals (deal_id, pipeline_id, stage_id, status, title, account, owner_id, amount, currency, expected_close_date,
      kind, parent_deal_id, bant_score, created_at, created_recorded_at, stage_entered_at, closed_at, won_amount, activity_count, last_activity_at,
      revision, effective_at, recorded_at, version_revision, open_interval_revision)
    values ${sql.join(chunk.map((d) => sql`(${d.deal_id}::uuid, ${d.pipeline_id}::uuid, ${d.stage_id}::uuid, ${d.status}, ${d.title}, ${d.account},
      ${d.owner_id}, ${d.amount}, ${d.currency}, ${d.expected_close_date}::date, ${d.kind}, ${d.parent_deal_id}::uuid, ${d.bant_score}::int,
      ${ts(d.created_at)}, ${ts(d.created_recorded_at)}, ${ts(d.stage_entered_at)}, ${ts(d.closed_at)}, ${d.won_amount}::bigint, ${d.activity_count}, ${ts(d.last_activity_at)},
      ${d.revision}, ${ts(d.effective_at)}, ${ts(d.recorded_at)}, ${d.version_revision}, ${d.open_interval_revision}::bigint)`))}
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

  await inChunks([...writes.versions.values()], (chunk) => sql`
    insert into ${s}.deal_versions (deal_id, revision, valid_from, valid_to, recorded_from, recorded_to, pipeline_id, stage_id, status,
      owner_id, amount, currency, expected_close_date, stage_entered_at, created_at)
    values ${sql.join(chunk.map((v) => sql`(${v.deal_id}::uuid, ${v.revision}, ${ts(v.valid_from)}, ${until(v.valid_to)}, ${ts(v.recorded_from)},
      ${until(v.recorded_to)}, ${v.pipeline_id}::uuid, ${v.stage_id}::uuid, ${v.status}, ${v.owner_id}, ${v.amount}, ${v.currency},
      ${v.expected_close_date}::date, ${ts(v.stage_entered_at)}, ${ts(v.created_at)})`))}`.execute(trx));

  await inChunks(writes.intervalClosings, (chunk) => sql`
    update ${s}.stage_intervals t set exited_at = v.exited_at::timestamptz, exited_recorded_at = v.exited_recorded_at::timestamptz, exit_kind = v.exit_kind
    from (values ${sql.join(chunk.map((c) => sql`(${c.deal_id}::uuid, ${c.revision}::bigint, ${c.at.toISOString()}, ${c.recorded_at.toISOString()}, ${c.exit_kind ?? null})`))})
      as v(deal_id, entered_revision, exited_at, exited_recorded_at, exit_kind)
    where t.deal_id = v.deal_id and t.entered_revision = v.entered_revision`.execute(trx));

  await inChunks([...writes.intervals.values()], (chunk) => sql`
    insert into ${s}.stage_intervals (deal_id, entered_revision, pipeline_id, stage_id, entered_at, exited_at, entered_recorded_at, exited_recorded_at, exit_kind)
    values ${sql.join(chunk.map((i) => sql`(${i.deal_id}::uuid, ${i.entered_revision}, ${i.pipeline_id}::uuid, ${i.stage_id}::uuid, ${ts(i.entered_at)},
      ${ts(i.exited_at)}, ${ts(i.entered_recorded_at)}, ${ts(i.exited_recorded_at)}, ${i.exit_kind})`))}`.execute(trx));

  await inChunks(writes.transitions, (chunk) => sql`
    insert into ${s}.stage_transitions (deal_id, revision, pipeline_id, from_stage_id, to_stage_id, kind, at, recorded_at)
    values ${sql.join(chunk.map((t) => sql`(${t.deal_id}::uuid, ${t.revision}, ${t.pipeline_id}::uuid, ${t.from_stage_id}::uuid, ${t.to_stage_id}::uuid,
      ${t.kind}, ${ts(t.at)}, ${ts(t.recorded_at)})`))}`.execute(trx));

  await inChunks([...writes.firstEntries.values()], (chunk) => sql`
    insert into ${s}.stage_first_entries as t (deal_id, stage_id, pipeline_id, first_at, first_recorded_at, created_at, created_recorded_at)
    values ${sql.join(chunk.map((e) => sql`(${e.deal_id}::uuid, ${e.stage_id}::uuid, ${e.pipeline_id}::uuid, ${ts(e.first_at)}, ${ts(e.first_recorded_at)},
      ${ts(e.created_at)}, ${ts(e.created_recorded_at)})`))}
    on conflict (deal_id, stage_id) do update set first_at = least(t.first_at, excluded.first_at),
      first_recorded_at = least(t.first_recorded_at, excluded.first_recorded_at)`.execute(trx));

  await inChunks(writes.activities, (chunk) => sql`
    insert into ${s}.activities (deal_id, revision, activity_id, pipeline_id, kind, outcome, note, actor_id, at)
    values ${sql.join(chunk.map((a) => sql`(${a.deal_id}::uuid, ${a.revision}, ${a.activity_id}::uuid, ${a.pipeline_id}::uuid, ${a.kind},
      ${a.outcome}, ${a.note}, ${a.actor_id}, ${ts(a.at)})`))}`.execute(trx));

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

async function inChunks<T>(items: T[], statement: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += CHUNK) await statement(items.slice(i, i + CHUNK));
}
