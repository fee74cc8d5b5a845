import type { RemovedStage, Stage } from './pipeline-stage.model.js';

/** `'undefined'` is the state of a stream with no events yet, not a JS `undefined`. */
export type PipelineStatus = 'undefined' | 'active' | 'archived';

export interface PipelineState {
  readonly status: PipelineStatus;
  readonly pipelineId: string;
  readonly name: string;
  readonly currency: string | null;
  /** In board order. */
  readonly stages: readonly Stage[];
  readonly removedStages: Readonly<Record<string, RemovedStage>>;
  /** Number of events folded: the state "at version N" of the audit view. */
  readonly version: number;
}

export function initialPipelineState(): PipelineState {
  return { status: 'undefined', pipelineId: '', name: '', currency: null, stages: [], removedStages: {}, version: 0 };
}
