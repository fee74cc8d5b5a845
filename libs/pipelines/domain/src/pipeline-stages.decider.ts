import type { AddStage, RemoveStage, RenameStage, ReorderStages } from './pipeline.commands.js';
import { pipelineError } from './pipeline.errors.js';
import type { StageAdded, StageRemoved, StageRenamed, StagesReordered } from './pipeline.events.js';
import { requireActivePipeline, requireLiveStage, requireStageNameFree } from './pipeline.guards.js';
import { isStageRemoved } from './pipeline.snapshot.js';
import type { PipelineState } from './pipeline.state.js';
import { MAX_STAGES, requireId, requireStage, requireStageName } from './pipeline.validation.js';

export function decideAddStage({ data }: AddStage, state: PipelineState): StageAdded[] {
  const stage = requireStage(data.stage);
  if (data.index !== undefined && !(Number.isSafeInteger(data.index) && data.index >= 0)) {
    throw pipelineError('invalid-stage-index', 'index must be a non-negative integer', { index: data.index });
  }
  requireActivePipeline(state);
  // Removed ids stay reserved: history and deals still refer to them.
  if (isStageRemoved(state, stage.stageId) || state.stages.some((s) => s.stageId === stage.stageId)) {
    throw pipelineError('stage-already-exists', `Stage id ${stage.stageId} is already used`, {
      stageId: stage.stageId,
    });
  }
  requireStageNameFree(state, stage.name);
  if (state.stages.length >= MAX_STAGES) {
    throw pipelineError('stage-limit-reached', `A pipeline has at most ${MAX_STAGES} stages`);
  }
  const index = data.index ?? state.stages.length;
  if (index > state.stages.length) {
    throw pipelineError('invalid-stage-index', `index must be between 0 and ${state.stages.length}`, { index });
  }
  return [{ type: 'StageAdded', data: { stage, index } }];
}

export function decideRenameStage({ data }: RenameStage, state: PipelineState): StageRenamed[] {
  const stageId = requireId(data.stageId, 'invalid-stage-id', 'stageId');
  const name = requireStageName(data.name);
  requireActivePipeline(state);
  const stage = requireLiveStage(state, stageId);
  if (stage.name === name) return [];
  requireStageNameFree(state, name, stageId);
  return [{ type: 'StageRenamed', data: { stageId, name } }];
}

export function decideReorderStages({ data }: ReorderStages, state: PipelineState): StagesReordered[] {
  requireActivePipeline(state);
  const current = state.stages.map((stage) => stage.stageId);
  const proposed = [...data.stageIds];
  const isPermutation =
    proposed.length === current.length &&
    new Set(proposed).size === proposed.length &&
    proposed.every((id) => current.includes(id));
  if (!isPermutation) {
    throw pipelineError('invalid-stage-order', 'stageIds must list every current stage exactly once', {
      expected: current,
    });
  }
  if (proposed.every((id, i) => id === current[i])) return [];
  return [{ type: 'StagesReordered', data: { stageIds: proposed } }];
}

export function decideRemoveStage({ data }: RemoveStage, state: PipelineState): StageRemoved[] {
  const stageId = requireId(data.stageId, 'invalid-stage-id', 'stageId');
  const moveOpenDealsTo = requireId(data.moveOpenDealsTo, 'invalid-stage-id', 'moveOpenDealsTo');
  requireActivePipeline(state);
  requireLiveStage(state, stageId);
  if (state.stages.length === 1) {
    throw pipelineError('last-stage-cannot-be-removed', 'A pipeline keeps at least one stage', { stageId });
  }
  if (moveOpenDealsTo === stageId) {
    throw pipelineError('move-target-same-stage', 'Open deals must move to another stage', { stageId });
  }
  requireLiveStage(state, moveOpenDealsTo, 'moveOpenDealsTo');
  return [{ type: 'StageRemoved', data: { stageId, moveOpenDealsTo } }];
}
