import { Command } from '@nestjs/cqrs';
import type { CommandContext, WriteResult } from '@dealstream/command-handling';
import type { StageGoal } from '@dealstream/pipelines-domain';

/*
 * The pipeline use cases, as @nestjs/cqrs commands. Each carries the addressed pipeline id, its
 * input (already validated for shape by the HTTP DTOs) and the CommandContext (actor, correlation,
 * idempotency key, If-Match). Handlers turn them into domain commands; see pipeline.handlers.ts.
 */

export interface StageInput {
  readonly stageId: string;
  readonly name: string;
  readonly probability: number;
  readonly goal?: StageGoal;
}

export class DefinePipelineCommand extends Command<WriteResult> {
  constructor(
    readonly pipelineId: string,
    readonly input: { name: string; currency?: string; stages: readonly StageInput[] },
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class AddStageCommand extends Command<WriteResult> {
  constructor(
    readonly pipelineId: string,
    readonly input: { stage: StageInput; index?: number },
    readonly context: CommandContext,
  ) {
    super();
  }
}

/** A PATCH of one stage: any of name, probability, goal; decided and appended as one change. */
export class UpdateStageCommand extends Command<WriteResult> {
  constructor(
    readonly pipelineId: string,
    readonly stageId: string,
    readonly input: { name?: string; probability?: number; goal?: StageGoal },
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class ReorderStagesCommand extends Command<WriteResult> {
  constructor(
    readonly pipelineId: string,
    readonly stageIds: readonly string[],
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class RemoveStageCommand extends Command<WriteResult> {
  constructor(
    readonly pipelineId: string,
    readonly stageId: string,
    readonly moveOpenDealsTo: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class ArchivePipelineCommand extends Command<WriteResult> {
  constructor(
    readonly pipelineId: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}
