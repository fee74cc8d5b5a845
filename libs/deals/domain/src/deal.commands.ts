import type { Command } from '@dealstream/decider';
import type { PipelineSnapshot } from '@dealstream/pipelines-domain';
import type { Bant } from './deal-qualification.model.js';
import type { ActivityKind, DisqualificationReason, FollowOnKind, StageMoveReason } from './deal.model.js';

/*
 * Commands that create a deal carry its new id; the others are decided against the stream the
 * handler loaded. Commands that depend on the board carry a `PipelineSnapshot` the handler read
 * first, so the decider stays pure and never loads another aggregate.
 */

/** The fields a salesperson types in, shared by new deals and follow-on deals. */
export interface NewDealFields {
  readonly dealId: string;
  readonly pipeline: PipelineSnapshot;
  /** Defaults to the pipeline's first stage. */
  readonly stageId?: string;
  readonly title: string;
  readonly contact?: string;
  readonly amount: number;
  readonly currency: string;
  readonly source?: string;
  readonly expectedCloseDate?: string;
}

export type CreateDeal = Command<'CreateDeal', NewDealFields & { account: string; ownerId: string }>;

/**
 * Opens an up-sell or cross-sell on a won deal. The account and owner carry over from the parent
 * unless given; the result is a `DealCreated` for a new stream (see `decideFollowOnDeal`).
 */
export type OpenFollowOnDeal = Command<
  'OpenFollowOnDeal',
  NewDealFields & { kind: FollowOnKind; account?: string; ownerId?: string }
>;

export type QualifyDeal = Command<'QualifyDeal', { bant: Bant }>;

export type DisqualifyDeal = Command<'DisqualifyDeal', { reason: DisqualificationReason; note?: string }>;

/** `reason: 'stage-removed'` is for the process manager that empties a removed stage. */
export type MoveDealToStage = Command<
  'MoveDealToStage',
  { toStageId: string; pipeline: PipelineSnapshot; reason?: StageMoveReason }
>;

export type ChangeDealValue = Command<'ChangeDealValue', { amount: number; currency: string }>;

export type ReassignDealOwner = Command<'ReassignDealOwner', { ownerId: string }>;

export type ChangeExpectedCloseDate = Command<'ChangeExpectedCloseDate', { expectedCloseDate: string | null }>;

export type LogActivity = Command<
  'LogActivity',
  { activityId: string; kind: ActivityKind; outcome?: string; note?: string }
>;

/** Without `amount` the deal is won at its current amount; `currency`, if given, must match. */
export type WinDeal = Command<'WinDeal', { amount?: number; currency?: string; reason?: string }>;

export type LoseDeal = Command<'LoseDeal', { reason: string; competitor?: string }>;

/** Without `toStageId` the deal returns to the stage it closed in (or where that stage's deals went). */
export type ReopenDeal = Command<'ReopenDeal', { pipeline: PipelineSnapshot; toStageId?: string }>;

export type DealCommand =
  | CreateDeal
  | QualifyDeal
  | DisqualifyDeal
  | MoveDealToStage
  | ChangeDealValue
  | ReassignDealOwner
  | ChangeExpectedCloseDate
  | LogActivity
  | WinDeal
  | LoseDeal
  | ReopenDeal;
