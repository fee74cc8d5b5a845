import { pipelineError } from './pipeline.errors.js';
import type { Stage } from './pipeline-stage.model.js';
import { findStage, isStageRemoved } from './pipeline.snapshot.js';
import type { PipelineState } from './pipeline.state.js';
import { nameKey } from './pipeline.validation.js';

/** Every change but the definition needs a pipeline that exists and is not frozen by archiving. */
export function requireActivePipeline(state: PipelineState): void {
  if (state.status === 'undefined') throw pipelineError('pipeline-not-found', 'The pipeline has not been defined');
  if (state.status === 'archived') {
    throw pipelineError('pipeline-archived', 'An archived pipeline cannot change', { pipelineId: state.pipelineId });
  }
}

export function requireLiveStage(state: PipelineState, stageId: string, field = 'stageId'): Stage {
  if (isStageRemoved(state, stageId)) {
    throw pipelineError('stage-removed', `Stage ${stageId} was removed from the pipeline`, { stageId, field });
  }
  const stage = findStage(state, stageId);
  if (!stage) throw pipelineError('stage-not-found', `Stage ${stageId} is not in the pipeline`, { stageId, field });
  return stage;
}

export function requireStageNameFree(state: PipelineState, name: string, exceptStageId?: string): void {
  const key = nameKey(name);
  const holder = state.stages.find((stage) => stage.stageId !== exceptStageId && nameKey(stage.name) === key);
  if (holder) {
    throw pipelineError('stage-name-taken', `Another stage is already named "${holder.name}"`, {
      name,
      stageId: holder.stageId,
    });
  }
}
