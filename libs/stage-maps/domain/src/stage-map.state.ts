import type { StageAssignment, TargetStage } from './stage-map.model.js';

/** `'undefined'` is the state of a stream with no events yet, not a JS `undefined`. */
export type StageMapStatus = 'undefined' | 'defined' | 'deleted';

export interface StageMapState {
  readonly status: StageMapStatus;
  readonly stageMapId: string;
  readonly pipelineId: string;
  readonly name: string;
  readonly targets: readonly TargetStage[];
  readonly assignments: readonly StageAssignment[];
  /** Number of events folded. */
  readonly version: number;
}

export function initialStageMapState(): StageMapState {
  return { status: 'undefined', stageMapId: '', pipelineId: '', name: '', targets: [], assignments: [], version: 0 };
}
