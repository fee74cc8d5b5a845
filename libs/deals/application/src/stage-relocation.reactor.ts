import { sql, type Kysely } from 'kysely';
import { isDomainError } from '@dealstream/shared-domain';
import type { EventStore } from '@dealstream/event-store';
import { executeCommand } from '@dealstream/shared-application';
import { loadPipelineSnapshot } from '@dealstream/pipelines-application';
import { dealDecider, dealStreamName, type DealEvent, type DealState } from '@dealstream/deals-domain';
import { resolveLiveStageId } from '@dealstream/pipelines-domain';

/** The actor recorded on the moves this reactor makes. */
export const STAGE_RELOCATION_ACTOR = 'system:stage-relocation';

/**
 * Moves the open deals of removed stages to the stage the removal named (StageRemoved.moveOpenDealsTo,
 * or wherever that stage's deals went since), as StageAdvanced{reason: 'stage-removed'} in each deal's
 * own stream — so a deal's history says when and why it left a stage that no longer exists.
 *
 * Driven by the projection runner after each batch: the pipeline projection queues every StageRemoved
 * in `stage_relocations` in the batch's transaction, and the deals table is then projected at least
 * up to that removal. Each move's event id derives from the removal's event id (the idempotency key),
 * so a crash halfway and a second run, or a rebuild that re-queues old removals, write nothing twice.
 */
export async function relocateDealsFromRemovedStages(db: Kysely<any>, store: EventStore, schema: string): Promise<number> {
  const s = sql.id(schema);
  const { rows: pending } = await sql<{ event_id: string; pipeline_id: string; stage_id: string }>`
    select event_id::text as event_id, pipeline_id::text as pipeline_id, stage_id::text as stage_id
    from ${s}.stage_relocations where not done order by event_id`.execute(db);
  let moved = 0;
  for (const relocation of pending) {
    const pipeline = await loadPipelineSnapshot(store, relocation.pipeline_id);
    const { rows: deals } = await sql<{ deal_id: string }>`
      select deal_id::text as deal_id from ${s}.deals
      where pipeline_id = ${relocation.pipeline_id}::uuid and stage_id = ${relocation.stage_id}::uuid and status = 'open'`.execute(db);
    for (const { deal_id: dealId } of deals) {
      if (!pipeline) break;
      try {
        const result = await executeCommand<DealState, DealEvent>(store, {
          streamId: dealStreamName(dealId),
          evolve: dealDecider.evolve,
          initialState: dealDecider.initialState,
          decide: (state) => {
            // Decided on the deal's current state: if it has moved or closed since, there is nothing to do.
            if (state.status !== 'open' || state.stageId !== relocation.stage_id) return [];
            const toStageId = resolveLiveStageId(pipeline, relocation.stage_id);
            if (!toStageId) return [];
            return dealDecider.decide({ type: 'MoveDealToStage', data: { toStageId, pipeline, reason: 'stage-removed' } }, state);
          },
          context: { actorId: STAGE_RELOCATION_ACTOR, correlationId: relocation.event_id, idempotencyKey: `stage-removed:${relocation.event_id}`, now: new Date() },
        });
        if (result.eventTypes.length > 0 && !result.replayed) moved++;
      } catch (error) {
        // A deal the domain will not move (e.g. its stage is live again) is left where it is.
        if (!isDomainError(error)) throw error;
      }
    }
    await sql`update ${s}.stage_relocations set done = true where event_id = ${relocation.event_id}::uuid`.execute(db);
  }
  return moved;
}
