import type { Event } from '@dealstream/decider';
import type { Stage, StageGoal } from './pipeline-stage.model.js';

/*
 * Event data holds facts only. When something happened lives in the envelope's metadata
 * (`occurredAt`), so there is one clock per event and backdated imports need no special case.
 */

export type PipelineDefined = Event<
  'PipelineDefined',
  { pipelineId: string; name: string; currency?: string; stages: Stage[] }
>;

/** `index` is always resolved (never "end"), so replays do not depend on the order at decision time. */
export type StageAdded = Event<'StageAdded', { stage: Stage; index: number }>;

export type StageRenamed = Event<'StageRenamed', { stageId: string; name: string }>;

/** The full new order, not a delta: a reader needs no earlier order to apply it. */
export type StagesReordered = Event<'StagesReordered', { stageIds: string[] }>;

/** Deals do not move by themselves: a process manager moves each open deal to `moveOpenDealsTo`. */
export type StageRemoved = Event<'StageRemoved', { stageId: string; moveOpenDealsTo: string }>;

export type StageProbabilityChanged = Event<'StageProbabilityChanged', { stageId: string; probability: number }>;

/** Replaces the whole goal; an empty goal clears it. */
export type StageGoalSet = Event<'StageGoalSet', { stageId: string; goal: StageGoal }>;

export type PipelineArchived = Event<'PipelineArchived', Record<string, never>>;

export type PipelineEvent =
  | PipelineDefined
  | StageAdded
  | StageRenamed
  | StagesReordered
  | StageRemoved
  | StageProbabilityChanged
  | StageGoalSet
  | PipelineArchived;

export type PipelineEventType = PipelineEvent['type'];

const eventTypes: Record<PipelineEventType, true> = {
  PipelineDefined: true,
  StageAdded: true,
  StageRenamed: true,
  StagesReordered: true,
  StageRemoved: true,
  StageProbabilityChanged: true,
  StageGoalSet: true,
  PipelineArchived: true,
};

/** For subscription filters and projections that route by `type`. */
export const PIPELINE_EVENT_TYPES = Object.keys(eventTypes) as readonly PipelineEventType[];

export function isPipelineEvent(event: { type: string }): event is PipelineEvent {
  return Object.hasOwn(eventTypes, event.type);
}
