import type { PipelineEvent } from './pipeline.events.js';
import type { Stage } from './pipeline-stage.model.js';
import type { PipelineState } from './pipeline.state.js';
import { isEmptyGoal } from './pipeline.validation.js';

function updateStage(state: PipelineState, stageId: string, change: (stage: Stage) => Stage): PipelineState {
  return { ...state, stages: state.stages.map((stage) => (stage.stageId === stageId ? change(stage) : stage)) };
}

function applyEvent(state: PipelineState, event: PipelineEvent): PipelineState {
  switch (event.type) {
    case 'PipelineDefined': {
      const { pipelineId, name, currency, stages } = event.data;
      return { ...state, status: 'active', pipelineId, name, currency: currency ?? null, stages: [...stages] };
    }
    case 'StageAdded': {
      const stages = [...state.stages];
      stages.splice(event.data.index, 0, event.data.stage);
      return { ...state, stages };
    }
    case 'StageRenamed':
      return updateStage(state, event.data.stageId, (stage) => ({ ...stage, name: event.data.name }));
    case 'StagesReordered': {
      const byId = new Map(state.stages.map((stage) => [stage.stageId, stage]));
      const stages = event.data.stageIds.flatMap((id) => byId.get(id) ?? []);
      return { ...state, stages };
    }
    case 'StageRemoved': {
      const { stageId, moveOpenDealsTo } = event.data;
      const removed = state.stages.find((stage) => stage.stageId === stageId);
      return {
        ...state,
        stages: state.stages.filter((stage) => stage.stageId !== stageId),
        removedStages: { ...state.removedStages, [stageId]: { name: removed?.name ?? '', movedTo: moveOpenDealsTo } },
      };
    }
    case 'StageProbabilityChanged':
      return updateStage(state, event.data.stageId, (stage) => ({ ...stage, probability: event.data.probability }));
    case 'StageGoalSet':
      return updateStage(state, event.data.stageId, ({ goal: _previous, ...stage }) =>
        isEmptyGoal(event.data.goal) ? stage : { ...stage, goal: event.data.goal },
      );
    case 'PipelineArchived':
      return { ...state, status: 'archived' };
    default: {
      // Unknown types (from a newer writer) are skipped, not fatal, so old readers keep working.
      const _exhaustive: never = event;
      return state;
    }
  }
}

export function evolvePipeline(state: PipelineState, event: PipelineEvent): PipelineState {
  return { ...applyEvent(state, event), version: state.version + 1 };
}
