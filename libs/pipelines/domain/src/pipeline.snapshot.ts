import type { RemovedStage, Stage } from './pipeline-stage.model.js';
import type { PipelineState, PipelineStatus } from './pipeline.state.js';
import { pipelineError } from './pipeline.errors.js';

/**
 * What a deal command needs to know about its pipeline. Deals live in their own streams, so the
 * handler reads this (from the pipeline stream or a read model) and passes it inside the command;
 * the deal decider then stays pure and never reaches for another aggregate.
 */
export interface PipelineSnapshot {
  readonly pipelineId: string;
  readonly status: PipelineStatus;
  readonly currency: string | null;
  readonly stages: readonly Stage[];
  readonly removedStages: Readonly<Record<string, RemovedStage>>;
}

export function toPipelineSnapshot(state: PipelineState): PipelineSnapshot {
  const { pipelineId, status, currency, stages, removedStages } = state;
  return { pipelineId, status, currency, stages, removedStages };
}

/**
 * The pipeline a deal command names, which must exist. A pipeline id in a request body whose stream
 * is empty is a bad reference (`unknown-pipeline`, HTTP 422), not a missing resource (404).
 */
export function requireKnownPipeline(pipeline: PipelineSnapshot | undefined, pipelineId: string): PipelineSnapshot {
  if (!pipeline) throw pipelineError('unknown-pipeline', `pipeline ${pipelineId} does not exist`, { pipelineId });
  return pipeline;
}

type StagesView = Pick<PipelineSnapshot, 'stages'>;
type RemovalsView = Pick<PipelineSnapshot, 'stages' | 'removedStages'>;

/** Position on the board, or `undefined` for an unknown or removed stage. */
export function stageIndex(pipeline: StagesView, stageId: string): number | undefined {
  const index = pipeline.stages.findIndex((stage) => stage.stageId === stageId);
  return index === -1 ? undefined : index;
}

export function findStage(pipeline: StagesView, stageId: string): Stage | undefined {
  return pipeline.stages.find((stage) => stage.stageId === stageId);
}

export function isStageRemoved(pipeline: Pick<PipelineSnapshot, 'removedStages'>, stageId: string): boolean {
  return Object.hasOwn(pipeline.removedStages, stageId);
}

/**
 * Where a stage's deals live now: the stage itself if it still exists, else the end of its
 * `movedTo` chain (the target may have been removed later too). `undefined` for an unknown id.
 */
export function resolveLiveStageId(pipeline: RemovalsView, stageId: string): string | undefined {
  const seen = new Set<string>();
  let current = stageId;
  while (!findStage(pipeline, current)) {
    const removed = pipeline.removedStages[current];
    if (!removed || seen.has(current)) return undefined;
    seen.add(current);
    current = removed.movedTo;
  }
  return current;
}

export type StageDirection = 'forward' | 'backward' | 'same' | 'unknown';

/**
 * Direction of a move under a given definition. It is derived, never stored, because reordering
 * stages later must not rewrite what a past move meant; pass the definition in force at the move.
 */
export function stageDirection(pipeline: StagesView, fromStageId: string, toStageId: string): StageDirection {
  const from = stageIndex(pipeline, fromStageId);
  const to = stageIndex(pipeline, toStageId);
  if (from === undefined || to === undefined) return 'unknown';
  if (from === to) return 'same';
  return from < to ? 'forward' : 'backward';
}
