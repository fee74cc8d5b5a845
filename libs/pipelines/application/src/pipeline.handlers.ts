import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { WriteResult } from '@dealstream/shared-application';
import type { PipelineCommand } from '@dealstream/pipelines-domain';
import {
  AddStageCommand,
  ArchivePipelineCommand,
  DefinePipelineCommand,
  RemoveStageCommand,
  ReorderStagesCommand,
  UpdateStageCommand,
} from './pipeline.commands.js';
import { PipelineWriter } from './pipeline-writer.js';

@CommandHandler(DefinePipelineCommand)
export class DefinePipelineHandler implements ICommandHandler<DefinePipelineCommand> {
  constructor(private readonly writer: PipelineWriter) {}
  execute({ pipelineId, input, context }: DefinePipelineCommand): Promise<WriteResult> {
    return this.writer.create(pipelineId, context, { type: 'DefinePipeline', data: { pipelineId, ...input } });
  }
}

@CommandHandler(AddStageCommand)
export class AddStageHandler implements ICommandHandler<AddStageCommand> {
  constructor(private readonly writer: PipelineWriter) {}
  execute({ pipelineId, input, context }: AddStageCommand): Promise<WriteResult> {
    return this.writer.update(pipelineId, context, () => [{ type: 'AddStage', data: input }]);
  }
}

@CommandHandler(UpdateStageCommand)
export class UpdateStageHandler implements ICommandHandler<UpdateStageCommand> {
  constructor(private readonly writer: PipelineWriter) {}
  execute({ pipelineId, stageId, input, context }: UpdateStageCommand): Promise<WriteResult> {
    const commands: PipelineCommand[] = [];
    if (input.name !== undefined) commands.push({ type: 'RenameStage', data: { stageId, name: input.name } });
    if (input.probability !== undefined) commands.push({ type: 'ChangeStageProbability', data: { stageId, probability: input.probability } });
    if (input.goal !== undefined) commands.push({ type: 'SetStageGoal', data: { stageId, goal: input.goal } });
    return this.writer.update(pipelineId, context, () => commands);
  }
}

@CommandHandler(ReorderStagesCommand)
export class ReorderStagesHandler implements ICommandHandler<ReorderStagesCommand> {
  constructor(private readonly writer: PipelineWriter) {}
  execute({ pipelineId, stageIds, context }: ReorderStagesCommand): Promise<WriteResult> {
    return this.writer.update(pipelineId, context, () => [{ type: 'ReorderStages', data: { stageIds } }]);
  }
}

@CommandHandler(RemoveStageCommand)
export class RemoveStageHandler implements ICommandHandler<RemoveStageCommand> {
  constructor(private readonly writer: PipelineWriter) {}
  execute({ pipelineId, stageId, moveOpenDealsTo, context }: RemoveStageCommand): Promise<WriteResult> {
    return this.writer.update(pipelineId, context, () => [{ type: 'RemoveStage', data: { stageId, moveOpenDealsTo } }]);
  }
}

@CommandHandler(ArchivePipelineCommand)
export class ArchivePipelineHandler implements ICommandHandler<ArchivePipelineCommand> {
  constructor(private readonly writer: PipelineWriter) {}
  execute({ pipelineId, context }: ArchivePipelineCommand): Promise<WriteResult> {
    return this.writer.update(pipelineId, context, () => [{ type: 'ArchivePipeline', data: {} }]);
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
