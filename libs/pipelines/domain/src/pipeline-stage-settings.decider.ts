import type { ChangeStageProbability, SetStageGoal } from './pipeline.commands.js';
import type { StageGoalSet, StageProbabilityChanged } from './pipeline.events.js';
import { requireActivePipeline, requireLiveStage } from './pipeline.guards.js';
import type { PipelineState } from './pipeline.state.js';
import { requireGoal, requireId, requireProbability, sameGoal } from './pipeline.validation.js';

export function decideChangeStageProbability(
  { data }: ChangeStageProbability,
  state: PipelineState,
): StageProbabilityChanged[] {
  const stageId = requireId(data.stageId, 'invalid-stage-id', 'stageId');
  const probability = requireProbability(data.probability);
  requireActivePipeline(state);
  const stage = requireLiveStage(state, stageId);
  if (stage.probability === probability) return [];
  return [{ type: 'StageProbabilityChanged', data: { stageId, probability } }];
}

export function decideSetStageGoal({ data }: SetStageGoal, state: PipelineState): StageGoalSet[] {
  const stageId = requireId(data.stageId, 'invalid-stage-id', 'stageId');
  const goal = requireGoal(data.goal);
  requireActivePipeline(state);
  const stage = requireLiveStage(state, stageId);
  if (sameGoal(stage.goal, goal)) return [];
  return [{ type: 'StageGoalSet', data: { stageId, goal } }];
}
