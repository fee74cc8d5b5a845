import type { Decider } from '@dealstream/decider';
import { decideArchivePipeline, decideDefinePipeline } from './pipeline-definition.decider.js';
import { decideChangeStageProbability, decideSetStageGoal } from './pipeline-stage-settings.decider.js';
import {
  decideAddStage,
  decideRemoveStage,
  decideRenameStage,
  decideReorderStages,
} from './pipeline-stages.decider.js';
import type { PipelineCommand } from './pipeline.commands.js';
import type { PipelineEvent } from './pipeline.events.js';
import { evolvePipeline } from './pipeline.evolve.js';
import { initialPipelineState, type PipelineState } from './pipeline.state.js';

export function decidePipeline(command: PipelineCommand, state: PipelineState): PipelineEvent[] {
  switch (command.type) {
    case 'DefinePipeline':
      return decideDefinePipeline(command, state);
    case 'AddStage':
      return decideAddStage(command, state);
    case 'RenameStage':
      return decideRenameStage(command, state);
    case 'ReorderStages':
      return decideReorderStages(command, state);
    case 'RemoveStage':
      return decideRemoveStage(command, state);
    case 'ChangeStageProbability':
      return decideChangeStageProbability(command, state);
    case 'SetStageGoal':
      return decideSetStageGoal(command, state);
    case 'ArchivePipeline':
      return decideArchivePipeline(command, state);
    default: {
      const _exhaustive: never = command;
      throw new Error(`Unknown pipeline command: ${(_exhaustive as { type: string }).type}`);
    }
  }
}

export const pipelineDecider: Decider<PipelineState, PipelineCommand, PipelineEvent> = {
  decide: decidePipeline,
  evolve: evolvePipeline,
  initialState: initialPipelineState,
};
