import { Injectable } from '@nestjs/common';
import { CommandHandling } from '@dealstream/command-handling';
import {
  stageMapDecider,
  stageMapStreamName,
  type StageAssignment,
  type TargetStage,
} from '@dealstream/stage-maps-domain';

/** A defined (not deleted) stage map as reads use it. */
export interface StageMapView {
  readonly stageMapId: string;
  readonly pipelineId: string;
  readonly name: string;
  readonly targets: readonly TargetStage[];
  readonly assignments: readonly StageAssignment[];
  /** Revision of the map's stream (its ETag). */
  readonly revision: bigint;
}

/**
 * Loads a stage map from its own stream (a handful of events, folded once and then cached: only what
 * is new is read again). Reports use it to group; they never read a deal's or a pipeline's events.
 * Undefined when the map does not exist or was deleted.
 */
@Injectable()
export class StageMapReader {
  constructor(private readonly streams: CommandHandling) {}

  async load(stageMapId: string): Promise<StageMapView | undefined> {
    const { state, revision } = await this.streams.aggregate(stageMapStreamName(stageMapId), stageMapDecider);
    if (state.status !== 'defined' || revision === undefined) return undefined;
    const { pipelineId, name, targets, assignments } = state;
    return { stageMapId, pipelineId, name, targets, assignments, revision };
  }
}
