import { Command } from '@nestjs/cqrs';
import type { CommandContext, WriteResult } from '@dealstream/command-handling';
import type { StageAssignment, TargetStage } from '@dealstream/stage-maps-domain';

/** A map's content as the HTTP DTOs validated its shape; the decider checks it against the pipeline. */
export interface StageMapInput {
  readonly name: string;
  readonly targets: readonly TargetStage[];
  readonly assignments: readonly StageAssignment[];
}

export class DefineStageMapCommand extends Command<WriteResult> {
  constructor(
    readonly stageMapId: string,
    readonly pipelineId: string,
    readonly input: StageMapInput,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/** Replaces the whole content (PUT). */
export class ChangeStageMapCommand extends Command<WriteResult> {
  constructor(
    readonly stageMapId: string,
    readonly input: StageMapInput,
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class DeleteStageMapCommand extends Command<WriteResult> {
  constructor(
    readonly stageMapId: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}
