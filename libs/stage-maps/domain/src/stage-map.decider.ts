import type { Decider } from '@dealstream/decider';
import type { StageMapCommand } from './stage-map.commands.js';
import { stageMapError } from './stage-map.errors.js';
import type { StageMapEvent } from './stage-map.events.js';
import { initialStageMapState, type StageMapState } from './stage-map.state.js';
import { requireStageMapId, requireValidContent } from './stage-map.validation.js';

/**
 * Checks run in this order: the command's own fields (`invalid`), then the map's status (`conflict`),
 * then the content against every stage the pipeline ever had (`invalid-stage-map`, all problems at once).
 */
export function decideStageMap(command: StageMapCommand, state: StageMapState): StageMapEvent[] {
  switch (command.type) {
    case 'DefineStageMap': {
      const { stageMapId, pipelineId, pipelineStageIds, ...content } = command.data;
      requireStageMapId(stageMapId);
      if (state.status !== 'undefined')
        throw stageMapError('stage-map-already-defined', `stage map ${stageMapId} is already defined`);
      const valid = requireValidContent(content, pipelineStageIds);
      return [
        {
          type: 'StageMapDefined',
          data: {
            stageMapId,
            pipelineId,
            name: valid.name,
            targets: [...valid.targets],
            assignments: [...valid.assignments],
          },
        },
      ];
    }
    case 'ChangeStageMap': {
      requireLive(state);
      const { pipelineStageIds, ...content } = command.data;
      const valid = requireValidContent(content, pipelineStageIds);
      return [
        {
          type: 'StageMapChanged',
          data: { name: valid.name, targets: [...valid.targets], assignments: [...valid.assignments] },
        },
      ];
    }
    case 'DeleteStageMap':
      requireLive(state);
      return [{ type: 'StageMapDeleted', data: {} }];
    default: {
      const _exhaustive: never = command;
      throw new Error(`Unknown stage map command: ${(_exhaustive as { type: string }).type}`);
    }
  }
}

function requireLive(state: StageMapState): void {
  if (state.status === 'deleted') throw stageMapError('stage-map-deleted', `stage map ${state.stageMapId} was deleted`);
}

export function evolveStageMap(state: StageMapState, event: StageMapEvent): StageMapState {
  const version = state.version + 1;
  switch (event.type) {
    case 'StageMapDefined':
      return { ...event.data, status: 'defined', version };
    case 'StageMapChanged':
      return { ...state, ...event.data, version };
    case 'StageMapDeleted':
      return { ...state, status: 'deleted', version };
    default:
      return { ...state, version };
  }
}

export const stageMapDecider: Decider<StageMapState, StageMapCommand, StageMapEvent> = {
  decide: decideStageMap,
  evolve: evolveStageMap,
  initialState: initialStageMapState,
};
