import { decideAll } from '@dealstream/decider';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandHandling, NotFoundError, type CommandContext, type WriteResult } from '@dealstream/command-handling';
import { pipelineDecider, pipelineStreamName, type PipelineCommand } from '@dealstream/pipelines-domain';
import {
  AddStageCommand,
  ArchivePipelineCommand,
  DefinePipelineCommand,
  RemoveStageCommand,
  ReorderStagesCommand,
  UpdateStageCommand,
} from './pipeline.commands.js';

/*
 * Each handler turns its command into domain commands and hands CommandHandling.handle a decide
 * function; reading, folding, Idempotency-Key replays, If-Match and retries are handleCommand's.
 */

/** Decides commands on an existing pipeline as one change: 404 when its stream is empty. */
function onExistingPipeline(
  writes: CommandHandling,
  pipelineId: string,
  context: CommandContext,
  commands: PipelineCommand[],
): Promise<WriteResult> {
  return writes.handle(pipelineStreamName(pipelineId), pipelineDecider, context, (state) => {
    if (state.status === 'undefined') throw new NotFoundError('pipeline', pipelineId);
    return decideAll(pipelineDecider, commands, state);
  });
}

@CommandHandler(DefinePipelineCommand)
export class DefinePipelineHandler implements ICommandHandler<DefinePipelineCommand> {
  constructor(private readonly writes: CommandHandling) {}
  execute({ pipelineId, input, context }: DefinePipelineCommand): Promise<WriteResult> {
    // On an existing stream the decider refuses a second definition (409).
    return this.writes.handle(pipelineStreamName(pipelineId), pipelineDecider, context, (state) =>
      pipelineDecider.decide({ type: 'DefinePipeline', data: { pipelineId, ...input } }, state),
    );
  }
}

@CommandHandler(AddStageCommand)
export class AddStageHandler implements ICommandHandler<AddStageCommand> {
  constructor(private readonly writes: CommandHandling) {}
  execute({ pipelineId, input, context }: AddStageCommand): Promise<WriteResult> {
    return onExistingPipeline(this.writes, pipelineId, context, [{ type: 'AddStage', data: input }]);
  }
}

@CommandHandler(UpdateStageCommand)
export class UpdateStageHandler implements ICommandHandler<UpdateStageCommand> {
  constructor(private readonly writes: CommandHandling) {}
  execute({ pipelineId, stageId, input, context }: UpdateStageCommand): Promise<WriteResult> {
    const commands: PipelineCommand[] = [];
    if (input.name !== undefined) commands.push({ type: 'RenameStage', data: { stageId, name: input.name } });
    if (input.probability !== undefined)
      commands.push({ type: 'ChangeStageProbability', data: { stageId, probability: input.probability } });
    if (input.goal !== undefined) commands.push({ type: 'SetStageGoal', data: { stageId, goal: input.goal } });
    return onExistingPipeline(this.writes, pipelineId, context, commands);
  }
}

@CommandHandler(ReorderStagesCommand)
export class ReorderStagesHandler implements ICommandHandler<ReorderStagesCommand> {
  constructor(private readonly writes: CommandHandling) {}
  execute({ pipelineId, stageIds, context }: ReorderStagesCommand): Promise<WriteResult> {
    return onExistingPipeline(this.writes, pipelineId, context, [{ type: 'ReorderStages', data: { stageIds } }]);
  }
}

@CommandHandler(RemoveStageCommand)
export class RemoveStageHandler implements ICommandHandler<RemoveStageCommand> {
  constructor(private readonly writes: CommandHandling) {}
  execute({ pipelineId, stageId, moveOpenDealsTo, context }: RemoveStageCommand): Promise<WriteResult> {
    return onExistingPipeline(this.writes, pipelineId, context, [
      { type: 'RemoveStage', data: { stageId, moveOpenDealsTo } },
    ]);
  }
}

@CommandHandler(ArchivePipelineCommand)
export class ArchivePipelineHandler implements ICommandHandler<ArchivePipelineCommand> {
  constructor(private readonly writes: CommandHandling) {}
  execute({ pipelineId, context }: ArchivePipelineCommand): Promise<WriteResult> {
    return onExistingPipeline(this.writes, pipelineId, context, [{ type: 'ArchivePipeline', data: {} }]);
  }
}

export const PIPELINE_COMMAND_HANDLERS = [
  DefinePipelineHandler,
  AddStageHandler,
  UpdateStageHandler,
  ReorderStagesHandler,
  RemoveStageHandler,
  ArchivePipelineHandler,
];
