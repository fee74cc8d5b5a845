import { sql } from 'kysely';
import { resolveLiveStageId, type RemovedStage, type Stage } from '@dealstream/pipelines-domain';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import type { BatchWrites, FirstEntryRow } from './batch-writes.js';
import type { PipelineRow } from './pipeline.projection.js';

/*
 * The funnel's `strict` policy, judged at write time (docs/metrics.md, "Funnel"; docs/read-models.md).
 *
 * A deal strictly reached column i as of an instant T when its first entries by T, sorted by (time,
 * board position), begin with positions 0, 1, …, i. Sorting all its first entries once gives a
 * sequence p₀, p₁, … whose entries by T are a prefix (the entries at or before T come first), so with
 * L = the length of the longest prefix with pⱼ = j, the deal strictly reached, as of T, exactly the
 * positions j < L whose first entry is at or before T. L depends on the deal's first entries and the
 * stage positions only — not on T — so the projection keeps it as a flag on each stage_first_entries
 * row (position < L: `in_order`, one flag per axis) and the funnel counts the flagged rows like `any`
 * counts all of them, with no window pass.
 *
 * The positions are those of the pipeline's current definition (live stages at their board position,
 * removed stages at their receiver's), recorded in `funnel_orders`; a report asked under another
 * layout (an older definition in force at its instant, a stage map) finds them different there and
 * judges order itself. When a pipeline's positions change (a stage added, removed or reordered), every
 * deal of the pipeline is judged again, in one statement.
 */

/** Stage id → board position: live stages at theirs, removed stages at the live stage that received their deals. */
export type StagePositions = ReadonlyMap<string, number>;

export function stagePositions(definition: {
  readonly stages: readonly Stage[];
  readonly removedStages: Readonly<Record<string, RemovedStage>>;
}): StagePositions {
  const live = new Map(definition.stages.map((stage, position) => [stage.stageId, position]));
  const positions = new Map<string, number>();
  for (const stageId of [
    ...definition.stages.map((stage) => stage.stageId),
    ...Object.keys(definition.removedStages),
  ]) {
    const liveId = resolveLiveStageId(definition, stageId);
    const position = liveId === undefined ? undefined : live.get(liveId);
    if (position !== undefined) positions.set(stageId, position);
  }
  return positions;
}

/** The positions as stored in `funnel_orders.positions` (keys sorted, so equal positions give equal text). */
export function positionsJson(positions: StagePositions): string {
  return JSON.stringify(Object.fromEntries([...positions].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/**
 * The stages of one deal it went through in order (see above): its first entry into each position is
 * the earliest of its stages there; sorted by (time, position), the positions before the first that
 * breaks 0, 1, 2, … are in order, and so are all the deal's stages at those positions.
 */
export function inOrderStages(
  entries: readonly { readonly stageId: string; readonly at: Date }[],
  positions: StagePositions,
): Set<string> {
  const first = new Map<number, number>();
  for (const entry of entries) {
    const position = positions.get(entry.stageId);
    if (position === undefined) continue;
    const at = entry.at.getTime();
    const known = first.get(position);
    if (known === undefined || at < known) first.set(position, at);
  }
  const sorted = [...first].sort(([pa, ta], [pb, tb]) => ta - tb || pa - pb);
  let prefix = 0;
  while (prefix < sorted.length && sorted[prefix][0] === prefix) prefix++;
  return new Set(
    entries
      .filter((entry) => {
        const position = positions.get(entry.stageId);
        return position !== undefined && position < prefix;
      })
      .map((entry) => entry.stageId),
  );
}

/** What `judgeBeforeFlush` found, for `judgeAfterFlush`. */
export interface FunnelOrderJudgement {
  /** Pipelines whose positions changed in this batch (or are new), with their new positions. */
  readonly changed: ReadonlyMap<string, StagePositions>;
}

/**
 * Before the batch is written: the flags of the first entries of deals new to the read models (all of
 * a new deal's first entries are in the batch), judged in the positions the pipeline has at the end of
 * the batch — so they go out with the rows (COPY). Stored deals are judged after the flush, in SQL.
 */
export async function judgeBeforeFlush(
  trx: ReadModelDb,
  schema: string,
  writes: BatchWrites,
  storedDeals: ReadonlySet<string>,
  pipelines: readonly PipelineRow[],
): Promise<FunnelOrderJudgement> {
  const byDeal = new Map<string, FirstEntryRow[]>();
  for (const row of writes.firstEntries.values()) {
    if (storedDeals.has(row.deal_id)) continue;
    const rows = byDeal.get(row.deal_id);
    if (rows) rows.push(row);
    else byDeal.set(row.deal_id, [row]);
  }
  const ids = new Set([...pipelines.map((p) => p.pipeline_id)]);
  for (const rows of byDeal.values()) ids.add(rows[0].pipeline_id);
  if (ids.size === 0) return { changed: new Map() };
  const stored = await trx
    .withSchema(schema)
    .selectFrom('funnel_orders')
    .select(['pipeline_id', 'positions'])
    .where('pipeline_id', '=', (eb) => eb.fn.any(eb.val([...ids])))
    .execute();
  const layouts = new Map<string, StagePositions>(
    stored.map((row) => [row.pipeline_id, new Map(Object.entries(jsonObject(row.positions)))]),
  );
  const changed = new Map<string, StagePositions>();
  for (const pipeline of pipelines) {
    const positions = stagePositions(pipeline.state);
    const before = layouts.get(pipeline.pipeline_id);
    if (!before || positionsJson(before) !== positionsJson(positions)) changed.set(pipeline.pipeline_id, positions);
    layouts.set(pipeline.pipeline_id, positions);
  }
  for (const rows of byDeal.values()) {
    const positions = layouts.get(rows[0].pipeline_id) ?? new Map<string, number>();
    const occurred = inOrderStages(
      rows.map((r) => ({ stageId: r.stage_id, at: r.first_at })),
      positions,
    );
    const recorded = inOrderStages(
      rows.map((r) => ({ stageId: r.stage_id, at: r.first_recorded_at })),
      positions,
    );
    for (const row of rows) {
      row.in_order = occurred.has(row.stage_id);
      row.in_order_recorded = recorded.has(row.stage_id);
    }
  }
  return { changed };
}

/**
 * After the batch is written: pipelines whose positions changed get them stored and every deal judged
 * again; deals already stored that entered a stage in this batch are judged again (a new first entry
 * can extend the chain, or — tied in time with an earlier one at a later position — complete it).
 */
export async function judgeAfterFlush(
  trx: ReadModelDb,
  schema: string,
  writes: BatchWrites,
  storedDeals: ReadonlySet<string>,
  judgement: FunnelOrderJudgement,
): Promise<void> {
  const s = sql.id(schema);
  const changed = [...judgement.changed];
  if (changed.length > 0) {
    // Raw: a VALUES list of jsonb upserted, then the judging statement below.
    await sql`insert into ${s}.funnel_orders (pipeline_id, positions)
      values ${sql.join(changed.map(([id, positions]) => sql`(${id}::uuid, ${positionsJson(positions)}::jsonb)`))}
      on conflict (pipeline_id) do update set positions = excluded.positions`.execute(trx);
    await rejudge(trx, schema, sql`e.pipeline_id = any(${changed.map(([id]) => id)}::uuid[])`);
  }
  const deals = new Set<string>();
  for (const transition of writes.transitions) {
    if (storedDeals.has(transition.deal_id) && !judgement.changed.has(transition.pipeline_id)) {
      deals.add(transition.deal_id);
    }
  }
  if (deals.size > 0) await rejudge(trx, schema, sql`e.deal_id = any(${[...deals]}::uuid[])`);
}

/**
 * The same judgement as `inOrderStages`, in SQL, for the first entries matching `scope` (a condition on
 * `e`, a stage_first_entries row): only flags that change are written.
 */
async function rejudge(trx: ReadModelDb, schema: string, scope: ReturnType<typeof sql>): Promise<void> {
  const s = sql.id(schema);
  // Raw: window functions and an update joined to them.
  await sql`
    with e as (
      select e.deal_id, e.stage_id, p.position, e.first_at, e.first_recorded_at
      from ${s}.stage_first_entries e
        left join ${s}.funnel_orders o on o.pipeline_id = e.pipeline_id
        left join lateral (select (o.positions ->> e.stage_id::text)::int as position) p on true
      where ${scope}
    ),
    per_position as (
      select deal_id, position, min(first_at) as t, min(first_recorded_at) as r
      from e where position is not null group by deal_id, position
    ),
    ranked as (
      select *, row_number() over (partition by deal_id order by t, position) - 1 as rank_t,
        row_number() over (partition by deal_id order by r, position) - 1 as rank_r
      from per_position
    ),
    judged as (
      select deal_id, position,
        bool_and(rank_t = position) over (partition by deal_id order by t, position rows between unbounded preceding and current row) as ok,
        bool_and(rank_r = position) over (partition by deal_id order by r, position rows between unbounded preceding and current row) as ok_recorded
      from ranked
    )
    update ${s}.stage_first_entries t
    set in_order = coalesce(j.ok, false), in_order_recorded = coalesce(j.ok_recorded, false)
    from e left join judged j on j.deal_id = e.deal_id and j.position = e.position
    where t.deal_id = e.deal_id and t.stage_id = e.stage_id
      and (t.in_order, t.in_order_recorded) is distinct from (coalesce(j.ok, false), coalesce(j.ok_recorded, false))`.execute(
    trx,
  );
}

function jsonObject(value: unknown): Record<string, number> {
  return (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, number>;
}
