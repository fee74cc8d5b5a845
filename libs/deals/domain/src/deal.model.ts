/** `new` is business won from scratch; the others are retention work linked to a won deal. */
export type DealKind = 'new' | 'upsell' | 'cross-sell';
export type FollowOnKind = Exclude<DealKind, 'new'>;
export const FOLLOW_ON_KINDS: readonly FollowOnKind[] = ['upsell', 'cross-sell'];

/** `none` is a stream with no events yet. Disqualified is a closed outcome, not an error. */
export type DealStatus = 'none' | 'open' | 'won' | 'lost' | 'disqualified';
export type ClosedDealStatus = 'won' | 'lost' | 'disqualified';
export type ReopenableStatus = Exclude<ClosedDealStatus, 'won'>;

export function isClosedStatus(status: DealStatus): status is ClosedDealStatus {
  return status === 'won' || status === 'lost' || status === 'disqualified';
}

export type DisqualificationReason =
  'no-budget' | 'no-authority' | 'no-need' | 'no-timeline' | 'no-engagement' | 'other';
export const DISQUALIFICATION_REASONS: readonly DisqualificationReason[] = [
  'no-budget',
  'no-authority',
  'no-need',
  'no-timeline',
  'no-engagement',
  'other',
];

export type ActivityKind = 'call' | 'email' | 'meeting' | 'social' | 'note';
export const ACTIVITY_KINDS: readonly ActivityKind[] = ['call', 'email', 'meeting', 'social', 'note'];

/** Why a deal moved without a salesperson deciding it; absent for ordinary moves. */
export type StageMoveReason = 'stage-removed';
export const STAGE_MOVE_REASONS: readonly StageMoveReason[] = ['stage-removed'];
