import type { ReadModelDb } from '../schema/read-model.tables.js';

/** An open deal the read model still shows in a stage its pipeline has removed. */
export interface DealInRemovedStage {
  readonly dealId: string;
  /** The deal's stream revision the read model reflects. */
  readonly revision: string;
  readonly pipelineId: string;
  readonly stageId: string;
  /** The StageRemoved event's id: the relocation derives its idempotency key from it. */
  readonly removalEventId: string;
}

/**
 * Open deals whose read-model stage is in `removed_stages` — an indexed join that is empty almost
 * always. The stage-relocation reactor (libs/deals/application) moves them after each batch.
 */
export async function dealsInRemovedStages(db: ReadModelDb, schema: string): Promise<DealInRemovedStage[]> {
  const rows = await db
    .withSchema(schema)
    .selectFrom('removed_stages as r')
    .innerJoin('deals as d', (join) =>
      join.onRef('d.pipeline_id', '=', 'r.pipeline_id').onRef('d.stage_id', '=', 'r.stage_id'),
    )
    .where('d.status', '=', 'open')
    .select(['d.deal_id', 'd.revision', 'r.pipeline_id', 'r.stage_id', 'r.removal_event_id'])
    .orderBy('r.removal_event_id')
    .orderBy('d.deal_id')
    .execute();
  // String(): int8 arrives as a string from pg and may arrive as a number or bigint from PGlite.
  return rows.map((row) => ({
    dealId: row.deal_id,
    revision: String(row.revision),
    pipelineId: row.pipeline_id,
    stageId: row.stage_id,
    removalEventId: row.removal_event_id,
  }));
}
