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
/** An open deal the read model shows in a removed stage (what `dealsInRemovedStages` of libs/read-models finds). */
export interface DealInRemovedStage {
  readonly dealId: string;
  /** The deal's stream revision the read model reflects. */
  readonly revision: string;
  readonly pipelineId: string;
  readonly stageId: string;
  /** The StageRemoved event's id. */
  readonly removalEventId: string;
}

/**
 * Deal events that change neither a deal's pipeline, stage nor status, nor whether the domain would move
 * it (the move is decided on status, pipeline and stage): a batch of only these cannot leave a deal in a
 * removed stage, so the reactor has nothing new to look for after it.
 */
const PLACEMENT_NEUTRAL_EVENT_TYPES: ReadonlySet<string> = new Set([
  'ActivityLogged',
  'DealValueChanged',
  'DealOwnerReassigned',
  'ExpectedCloseDateChanged',
  'DealQualified',
]);

export class StageRelocationReactor {
  /** `${dealId}@${revision}` the domain refused to move: not retried until the deal changes. */
  private readonly refused = new Set<string>();

  constructor(
    /** Finds the strays in the live read model (the apps pass libs/read-models' `dealsInRemovedStages`). */
    private readonly findStrays: () => Promise<readonly DealInRemovedStage[]>,
    private readonly store: EventStore,
  ) {}

  /**
   * Whether a batch of these event types calls for a run. Level-triggered as the reactor is, a run after
   * a batch of placement-neutral events (activities, value, owner, close date, qualification) finds
   * what the run before it found — except for deals the domain refused, which are tried again whenever
   * they change (their revision moves), so while there are any, every batch calls for a run. Any other
   * type, or one this list does not know, does. Under a load of activities this spares the API one
   * query per projection batch (test/benchmarks/README.md, issue 13, 2026-12-07 e).
   */
  readonly calledForBy = (eventTypes: Iterable<string>): boolean => {
    if (this.refused.size > 0) return true;
    for (const type of eventTypes) if (!PLACEMENT_NEUTRAL_EVENT_TYPES.has(type)) return true;
    return false;
  };

  /** Returns how many deals it moved. */
  readonly run = async (): Promise<number> => {
    const strays = await this.findStrays();
    const pipelines = new Map<string, PipelineSnapshot | undefined>();
    let moved = 0;
    for (const stray of strays) {
      const attempt = `${stray.dealId}@${stray.revision}`;
      if (this.refused.has(attempt)) continue;
      if (!pipelines.has(stray.pipelineId))
        pipelines.set(stray.pipelineId, await loadPipelineSnapshot(this.store, stray.pipelineId));
      const pipeline = pipelines.get(stray.pipelineId);
      if (!pipeline) continue;
      try {
        const result = await handleCommand(
          this.store,
          dealStreamName(stray.dealId),
          (state) => {
            // Decided on the deal's current state: if it has moved or closed since, there is nothing to do.
            if (state.status !== 'open' || state.stageId !== stray.stageId) return [];
            const toStageId = resolveLiveStageId(pipeline, stray.stageId);
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
              correlationId: stray.removalEventId,
              idempotencyKey: `stage-removed:${stray.removalEventId}@${stray.revision}`,
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
