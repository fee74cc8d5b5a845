import { Inject, Injectable, Optional } from '@nestjs/common';
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
import {
  pipelineDecider,
  pipelineStreamName,
  type PipelineCommand,
  type PipelineEvent,
  type PipelineState,
} from '@dealstream/pipelines-domain';

/** Runs pipeline domain commands against the pipeline's stream: the shared body of every handler. */
@Injectable()
export class PipelineWriter {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Optional() @Inject(WRITE_CONTENTION_POLICY) private readonly contention?: ContentionPolicy,
  ) {}

  /** For an existing pipeline: 404 when its stream is empty. */
  update(pipelineId: string, context: CommandContext, commands: (state: PipelineState) => PipelineCommand[]): Promise<WriteResult> {
    return this.run(pipelineId, context, (state) => {
      if (state.status === 'undefined') throw new NotFoundError('pipeline', pipelineId);
      return decideAll(pipelineDecider, commands(state), state);
    });
  }

  /** For a new pipeline: the decider refuses a second definition (409). */
  create(pipelineId: string, context: CommandContext, command: PipelineCommand): Promise<WriteResult> {
    return this.run(pipelineId, context, (state) => pipelineDecider.decide(command, state));
  }

  private run(pipelineId: string, context: CommandContext, decide: (state: PipelineState) => PipelineEvent[]): Promise<WriteResult> {
    return executeCommand<PipelineState, PipelineEvent>(this.store, {
      streamId: pipelineStreamName(pipelineId),
      evolve: pipelineDecider.evolve,
      initialState: pipelineDecider.initialState,
      decide,
      context,
      ...(this.contention ? { contention: this.contention } : {}),
    });
  }
}
