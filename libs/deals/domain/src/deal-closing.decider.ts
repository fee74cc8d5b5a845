import { resolveLiveStageId } from '@dealstream/pipelines-domain';
import type { LoseDeal, ReopenDeal, WinDeal } from './deal.commands.js';
import { dealError } from './deal.errors.js';
import type { DealLost, DealReopened, DealWon } from './deal.events.js';
import { requireDealCurrency, requireOpenDeal } from './deal.guards.js';
import { requireDealsPipeline, requireLiveStage } from './deal-pipeline.guards.js';
import type { DealState } from './deal.state.js';
import {
  optionalField,
  optionalText,
  requireAmount,
  requireCurrency,
  requireId,
  requireText,
  TEXT_LIMITS,
} from './deal.validation.js';

/** Winning twice is refused (`deal-closed`), never ignored: a second win would double-book revenue. */
export function decideWinDeal({ data }: WinDeal, state: DealState): DealWon[] {
  const amount = data.amount === undefined ? undefined : requireAmount(data.amount);
  const currency = data.currency === undefined ? undefined : requireCurrency(data.currency);
  const reason = optionalText(data.reason, 'invalid-reason', 'reason', TEXT_LIMITS.reason);
  requireOpenDeal(state);
  if (currency !== undefined) requireDealCurrency(state, currency);
  return [{ type: 'DealWon', data: { amount: amount ?? state.amount, ...optionalField('reason', reason) } }];
}

export function decideLoseDeal({ data }: LoseDeal, state: DealState): DealLost[] {
  const reason = requireText(data.reason, 'invalid-reason', 'reason', TEXT_LIMITS.reason);
  const competitor = optionalText(data.competitor, 'invalid-competitor', 'competitor', TEXT_LIMITS.competitor);
  requireOpenDeal(state);
  return [{ type: 'DealLost', data: { reason, ...optionalField('competitor', competitor) } }];
}

/**
 * Lost and disqualified deals come back (the budget appeared, the competitor failed). Won deals do
 * not: the revenue is booked, and further business is a follow-on deal.
 */
export function decideReopenDeal({ data }: ReopenDeal, state: DealState): DealReopened[] {
  const explicitStageId =
    data.toStageId === undefined ? undefined : requireId(data.toStageId, 'invalid-stage-id', 'toStageId');
  const { status } = state;
  if (status === 'none') throw dealError('deal-not-found', 'The deal does not exist');
  if (status === 'open') throw dealError('deal-not-closed', 'The deal is open');
  if (status === 'won') {
    throw dealError('won-deal-cannot-reopen', 'A won deal cannot be reopened; open a follow-on deal instead');
  }
  requireDealsPipeline(data.pipeline, state);
  // The stage it closed in may have been removed since; its deals went to `movedTo`.
  const toStageId = explicitStageId ?? resolveLiveStageId(data.pipeline, state.stageId) ?? state.stageId;
  requireLiveStage(data.pipeline, toStageId, 'toStageId');
  return [{ type: 'DealReopened', data: { toStageId, previousStatus: status } }];
}
