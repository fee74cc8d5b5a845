import type { Event } from '@dealstream/decider';
import type { StageAssignment, TargetStage } from './stage-map.model.js';

/*
 * Event data holds facts only; who and when live in the envelope's metadata (actorId, occurredAt),
 * so the audit of a map is the audit of any stream.
 */

export type StageMapDefined = Event<
  'StageMapDefined',
  { stageMapId: string; pipelineId: string; name: string; targets: TargetStage[]; assignments: StageAssignment[] }
>;

/** The whole new content, not a delta: a reader needs no earlier version to apply it. */
export type StageMapChanged = Event<
  'StageMapChanged',
  { name: string; targets: TargetStage[]; assignments: StageAssignment[] }
>;

export type StageMapDeleted = Event<'StageMapDeleted', Record<string, never>>;

export type StageMapEvent = StageMapDefined | StageMapChanged | StageMapDeleted;
