import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandHandling, NotFoundError, type WriteResult } from '@dealstream/command-handling';
import type { EventStore } from '@dealstream/event-store';
import { loadPipelineSnapshot } from '@dealstream/pipelines-application';
import { stageMapDecider, stageMapStreamName } from '@dealstream/stage-maps-domain';
import { ChangeStageMapCommand, DefineStageMapCommand, DeleteStageMapCommand } from './stage-map.commands.js';

/**
 * Every stage the pipeline ever had — live (in board order), then removed ones — from its stream,
 * the source of truth: what a map must cover. 404 when the pipeline does not exist.
 */
async function everStageIds(store: EventStore, pipelineId: string): Promise<string[]> {
  const pipeline = await loadPipelineSnapshot(store, pipelineId);
  if (!pipeline) throw new NotFoundError('pipeline', pipelineId);
  return [...pipeline.stages.map((stage) => stage.stageId), ...Object.keys(pipeline.removedStages)];
}

@CommandHandler(DefineStageMapCommand)
export class DefineStageMapHandler implements ICommandHandler<DefineStageMapCommand> {
  constructor(private readonly writes: CommandHandling) {}
  async execute({ stageMapId, pipelineId, input, context }: DefineStageMapCommand): Promise<WriteResult> {
    const pipelineStageIds = await everStageIds(this.writes.store, pipelineId);
    return this.writes.handle(stageMapStreamName(stageMapId), stageMapDecider, context, (state) =>
      stageMapDecider.decide(
        { type: 'DefineStageMap', data: { stageMapId, pipelineId, ...input, pipelineStageIds } },
        state,
      ),
    );
  }
}

@CommandHandler(ChangeStageMapCommand)
export class ChangeStageMapHandler implements ICommandHandler<ChangeStageMapCommand> {
  constructor(private readonly writes: CommandHandling) {}
  execute({ stageMapId, input, context }: ChangeStageMapCommand): Promise<WriteResult> {
    return this.writes.handle(stageMapStreamName(stageMapId), stageMapDecider, context, async (state) => {
      if (state.status === 'undefined') throw new NotFoundError('stage-map', stageMapId);
      const pipelineStageIds = await everStageIds(this.writes.store, state.pipelineId);
      return stageMapDecider.decide({ type: 'ChangeStageMap', data: { ...input, pipelineStageIds } }, state);
    });
  }
}

@CommandHandler(DeleteStageMapCommand)
export class DeleteStageMapHandler implements ICommandHandler<DeleteStageMapCommand> {
  constructor(private readonly writes: CommandHandling) {}
  execute({ stageMapId, context }: DeleteStageMapCommand): Promise<WriteResult> {
    return this.writes.handle(stageMapStreamName(stageMapId), stageMapDecider, context, (state) => {
      if (state.status === 'undefined') throw new NotFoundError('stage-map', stageMapId);
      return stageMapDecider.decide({ type: 'DeleteStageMap', data: {} }, state);
    });
  }
}

export const STAGE_MAP_COMMAND_HANDLERS = [DefineStageMapHandler, ChangeStageMapHandler, DeleteStageMapHandler];
