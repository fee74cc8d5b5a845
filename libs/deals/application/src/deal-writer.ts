import { Inject, Injectable, Optional } from '@nestjs/common';
import { DomainError, fold } from '@dealstream/shared-domain';
import {
  EVENT_STORE,
  WRITE_CONTENTION_POLICY,
  NotFoundError,
  decideAll,
  executeCommand,
  type CommandContext,
  type ContentionPolicy,
  type WriteResult,
} from '@dealstream/shared-application';
import type { EventStore } from '@dealstream/event-store';
import { loadPipelineSnapshot } from '@dealstream/pipelines-application';
import type { PipelineSnapshot } from '@dealstream/pipelines-domain';
import {
  dealDecider,
  dealStreamName,
  type DealCommand,
  type DealEvent,
  type DealState,
} from '@dealstream/deals-domain';

/** Loads what deal commands need (the deal, its pipeline, a parent deal) and runs the decider. */
@Injectable()
export class DealWriter {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Optional() @Inject(WRITE_CONTENTION_POLICY) private readonly contention?: ContentionPolicy,
  ) {}

  /** For an existing deal (404 otherwise). `withPipeline` loads the deal's pipeline first. */
  update(
    dealId: string,
    context: CommandContext,
    commands: (state: DealState, pipeline: PipelineSnapshot | undefined) => DealCommand[],
    options: { withPipeline?: boolean } = {},
  ): Promise<WriteResult> {
    return this.run(dealId, context, async (state) => {
      if (state.status === 'none') throw new NotFoundError('deal', dealId);
      const pipeline = options.withPipeline ? await this.pipeline(state.pipelineId) : undefined;
      return decideAll(dealDecider, commands(state, pipeline), state);
    });
  }

  /** For a new deal stream: `decide` gets the (empty) state and the referenced pipeline. */
  create(dealId: string, pipelineId: string, context: CommandContext, decide: (state: DealState, pipeline: PipelineSnapshot) => DealEvent[]): Promise<WriteResult> {
    return this.run(dealId, context, async (state) => decide(state, await this.pipeline(pipelineId)));
  }

  /** The current state of another deal (a follow-on's parent); 404 when it does not exist. */
  async load(dealId: string): Promise<DealState> {
    const events = await this.store.readStream<DealEvent>(dealStreamName(dealId));
    if (events.length === 0) throw new NotFoundError('deal', dealId);
    return fold(dealDecider, events);
  }

  private async pipeline(pipelineId: string): Promise<PipelineSnapshot> {
    const pipeline = await loadPipelineSnapshot(this.store, pipelineId);
    // A pipeline named in the request body that does not exist is a bad reference (422), not a 404.
    if (!pipeline) throw new DomainError('unknown-pipeline', 'invalid', `pipeline ${pipelineId} does not exist`, { pipelineId });
    return pipeline;
  }

  private run(dealId: string, context: CommandContext, decide: (state: DealState) => Promise<DealEvent[]>): Promise<WriteResult> {
    return executeCommand<DealState, DealEvent>(this.store, {
      streamId: dealStreamName(dealId),
      evolve: dealDecider.evolve,
      initialState: dealDecider.initialState,
      decide,
      context,
      ...(this.contention ? { contention: this.contention } : {}),
    });
  }
}
