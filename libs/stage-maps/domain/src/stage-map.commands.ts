import type { Command } from '@dealstream/decider';
import type { StageAssignment, TargetStage } from './stage-map.model.js';

/**
 * `pipelineStageIds` is every stage the pipeline ever had (live and removed, in that order), as the
 * pipeline's stream says at decision time: the handler loads it, the decider stays pure.
 */
interface MapContentInput {
  readonly name: string;
  readonly targets: readonly TargetStage[];
  readonly assignments: readonly StageAssignment[];
  readonly pipelineStageIds: readonly string[];
}

export type DefineStageMap = Command<'DefineStageMap', MapContentInput & { stageMapId: string; pipelineId: string }>;
export type ChangeStageMap = Command<'ChangeStageMap', MapContentInput>;
export type DeleteStageMap = Command<'DeleteStageMap', Record<string, never>>;

export type StageMapCommand = DefineStageMap | ChangeStageMap | DeleteStageMap;
