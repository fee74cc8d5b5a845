import { sql, type Kysely } from 'kysely';
import { isDomainError } from '@dealstream/decider';
import type { EventStore } from '@dealstream/event-store';
import { handleCommand } from '@dealstream/command-handling';
import { loadPipelineSnapshot } from '@dealstream/pipelines-application';
import { dealDecider, dealStreamName } from '@dealstream/deals-domain';
import { resolveLiveStageId, type PipelineSnapshot } from '@dealstream/pipelines-domain';

/** The actor recorded on the moves this reactor makes. */
export const STAGE_RELOCATION_ACTOR = 'system:stage-relocation';

/**
 * Moves open deals out of removed stages, to the stage the removal named (StageRemoved.moveOpenDealsTo,
 * or wherever that stage's deals went since), as StageAdvanced{reason: 'stage-removed'} in each deal's
 * own stream — so a deal's history says when and why it left a stage that no longer exists.
 *
 * Driven by the active projection runner after each committed batch. It is level-triggered, not a
 * queue: every run looks for open deals whose read-model stage is in `removed_stages` (an indexed
 * join that is empty almost always). So a deal that lands in a removed stage *after* the removal —
 * created, moved or reopened by a command that loaded the pipeline just before the stage went — is
 * moved as soon as its event is projected, and a restart or a rebuild needs no bookkeeping.
 *
 * Each move is decided on the deal's stream as it is now (a deal that has moved or closed since is
 * left alone), and its event ids derive from the removal's event id and the revision the read model
 * saw, so a crash between the append and its projection writes nothing twice.
 */
export class StageRelocationReactor {
  /** `${dealId}@${revision}` the domain refused to move: not retried until the deal changes. */
  private readonly refused = new Set<string>();

  constructor(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw SQL over a read-model schema named at run time; it moves into libs/read-models with the rest of issue 12
    private readonly db: Kysely<any>,
    private readonly store: EventStore,
    private readonly schema: string,
  ) {}

  /** Returns how many deals it moved. */
  readonly run = async (): Promise<number> => {
    const s = sql.id(this.schema);
    const { rows: strays } = await sql<{
      deal_id: string;
      revision: string;
      pipeline_id: string;
      stage_id: string;
      removal_event_id: string;
    }>`
      select d.deal_id::text as deal_id, d.revision::text as revision, r.pipeline_id::text as pipeline_id,
        r.stage_id::text as stage_id, r.removal_event_id::text as removal_event_id
      from ${s}.removed_stages r
      join ${s}.deals d on d.pipeline_id = r.pipeline_id and d.stage_id = r.stage_id and d.status = 'open'
      order by r.removal_event_id, d.deal_id`.execute(this.db);
    const pipelines = new Map<string, PipelineSnapshot | undefined>();
    let moved = 0;
    for (const stray of strays) {
      const attempt = `${stray.deal_id}@${stray.revision}`;
      if (this.refused.has(attempt)) continue;
      if (!pipelines.has(stray.pipeline_id))
        pipelines.set(stray.pipeline_id, await loadPipelineSnapshot(this.store, stray.pipeline_id));
      const pipeline = pipelines.get(stray.pipeline_id);
      if (!pipeline) continue;
      try {
        const result = await handleCommand(
          this.store,
          dealStreamName(stray.deal_id),
          (state) => {
            // Decided on the deal's current state: if it has moved or closed since, there is nothing to do.
            if (state.status !== 'open' || state.stageId !== stray.stage_id) return [];
            const toStageId = resolveLiveStageId(pipeline, stray.stage_id);
            if (!toStageId) return [];
            return dealDecider.decide(
              { type: 'MoveDealToStage', data: { toStageId, pipeline, reason: 'stage-removed' } },
              state,
            );
          },
          {
            decider: dealDecider,
            context: {
              actorId: STAGE_RELOCATION_ACTOR,
              correlationId: stray.removal_event_id,
              idempotencyKey: `stage-removed:${stray.removal_event_id}@${stray.revision}`,
              now: new Date(),
            },
          },
        );
        if (result.eventTypes.length > 0 && !result.replayed) moved++;
      } catch (error) {
        // A deal the domain will not move (e.g. its pipeline is archived) is left where it is.
        if (!isDomainError(error)) throw error;
        this.refused.add(attempt);
      }
    }
    return moved;
  };
}
