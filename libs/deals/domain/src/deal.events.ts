import type { Event } from '@dealstream/decider';
import type { Bant } from './deal-qualification.model.js';
import type {
  ActivityKind,
  DealKind,
  DisqualificationReason,
  ReopenableStatus,
  StageMoveReason,
} from './deal.model.js';

/*
 * Event data holds facts only. When something happened lives in the envelope's metadata
 * (`occurredAt`); the one date here, `expectedCloseDate`, is a business value, not a timestamp.
 * Optional fields are left out, never `undefined` or `null`, unless `null` itself means something.
 */

export type DealCreated = Event<
  'DealCreated',
  {
    dealId: string;
    pipelineId: string;
    stageId: string;
    title: string;
    account: string;
    contact?: string;
    /** Integer minor units of `currency`. */
    amount: number;
    currency: string;
    ownerId: string;
    source?: string;
    /** YYYY-MM-DD */
    expectedCloseDate?: string;
    /** Set for up-sell and cross-sell deals: the won deal they grew from. */
    parentDealId?: string;
    kind: DealKind;
  }
>;

/** Each one is a full reassessment; the latest replaces earlier ones. */
export type DealQualified = Event<'DealQualified', { bant: Bant; score: number }>;

export type DealDisqualified = Event<'DealDisqualified', { reason: DisqualificationReason; note?: string }>;

/**
 * Any move, forward or backward. Direction is not stored: it depends on the stage order in force,
 * which reports may choose (see `stageDirection` in pipelines-domain).
 */
export type StageAdvanced = Event<
  'StageAdvanced',
  { fromStageId: string; toStageId: string; reason?: StageMoveReason }
>;

/** `previousAmount` lets an audit diff or a projection apply the change without reading the old state. */
export type DealValueChanged = Event<'DealValueChanged', { amount: number; currency: string; previousAmount: number }>;

export type DealOwnerReassigned = Event<'DealOwnerReassigned', { ownerId: string; previousOwnerId: string }>;

/** `null` means the date was cleared. */
export type ExpectedCloseDateChanged = Event<
  'ExpectedCloseDateChanged',
  { expectedCloseDate: string | null; previous: string | null }
>;

export type ActivityLogged = Event<
  'ActivityLogged',
  { activityId: string; kind: ActivityKind; outcome?: string; note?: string }
>;

/** `amount` is the final, booked amount (the deal's amount unless the win named another). */
export type DealWon = Event<'DealWon', { amount: number; reason?: string }>;

export type DealLost = Event<'DealLost', { reason: string; competitor?: string }>;

/** Puts the deal back on the board in `toStageId` (possibly the stage it closed in). */
export type DealReopened = Event<'DealReopened', { toStageId: string; previousStatus: ReopenableStatus }>;

export type DealEvent =
  | DealCreated
  | DealQualified
  | DealDisqualified
  | StageAdvanced
  | DealValueChanged
  | DealOwnerReassigned
  | ExpectedCloseDateChanged
  | ActivityLogged
  | DealWon
  | DealLost
  | DealReopened;

export type DealEventType = DealEvent['type'];

const eventTypes: Record<DealEventType, true> = {
  DealCreated: true,
  DealQualified: true,
  DealDisqualified: true,
  StageAdvanced: true,
  DealValueChanged: true,
  DealOwnerReassigned: true,
  ExpectedCloseDateChanged: true,
  ActivityLogged: true,
  DealWon: true,
  DealLost: true,
  DealReopened: true,
};

/** For subscription filters and projections that route by `type`. */
export const DEAL_EVENT_TYPES = Object.keys(eventTypes) as readonly DealEventType[];

export function isDealEvent(event: { type: string }): event is DealEvent {
  return Object.hasOwn(eventTypes, event.type);
}
