import type { ChangeDealValue, ChangeExpectedCloseDate, LogActivity, ReassignDealOwner } from './deal.commands.js';
import { dealError } from './deal.errors.js';
import type { ActivityLogged, DealOwnerReassigned, DealValueChanged, ExpectedCloseDateChanged } from './deal.events.js';
import { requireDealCurrency, requireExistingDeal, requireOpenDeal } from './deal.guards.js';
import { ACTIVITY_KINDS } from './deal.model.js';
import type { DealState } from './deal.state.js';
import {
  oneOf,
  optionalField,
  optionalText,
  requireAmount,
  requireCurrency,
  requireExpectedCloseDate,
  requireId,
  TEXT_LIMITS,
} from './deal.validation.js';

/** The same amount again is a no-op, so a form re-submitted unchanged adds nothing to history. */
export function decideChangeDealValue({ data }: ChangeDealValue, state: DealState): DealValueChanged[] {
  const amount = requireAmount(data.amount);
  const currency = requireCurrency(data.currency);
  requireOpenDeal(state);
  requireDealCurrency(state, currency);
  if (amount === state.amount) return [];
  return [{ type: 'DealValueChanged', data: { amount, currency, previousAmount: state.amount } }];
}

/** Allowed on closed deals too: accounts change hands after a win, and retention needs an owner. */
export function decideReassignDealOwner({ data }: ReassignDealOwner, state: DealState): DealOwnerReassigned[] {
  const ownerId = requireId(data.ownerId, 'invalid-owner-id', 'ownerId');
  requireExistingDeal(state);
  if (ownerId === state.ownerId) return [];
  return [{ type: 'DealOwnerReassigned', data: { ownerId, previousOwnerId: state.ownerId } }];
}

export function decideChangeExpectedCloseDate(
  { data }: ChangeExpectedCloseDate,
  state: DealState,
): ExpectedCloseDateChanged[] {
  const expectedCloseDate = data.expectedCloseDate === null ? null : requireExpectedCloseDate(data.expectedCloseDate);
  requireOpenDeal(state);
  if (expectedCloseDate === state.expectedCloseDate) return [];
  return [{ type: 'ExpectedCloseDateChanged', data: { expectedCloseDate, previous: state.expectedCloseDate } }];
}

/** Allowed in every status: calls and meetings go on after a deal closes (retention, win-back). */
export function decideLogActivity({ data }: LogActivity, state: DealState): ActivityLogged[] {
  const activityId = requireId(data.activityId, 'invalid-activity-id', 'activityId');
  if (!oneOf(ACTIVITY_KINDS, data.kind)) {
    throw dealError('invalid-activity-kind', `kind must be one of ${ACTIVITY_KINDS.join(', ')}`, { value: data.kind });
  }
  const outcome = optionalText(data.outcome, 'invalid-activity-outcome', 'outcome', TEXT_LIMITS.outcome);
  const note = optionalText(data.note, 'invalid-note', 'note', TEXT_LIMITS.note);
  requireExistingDeal(state);
  return [
    {
      type: 'ActivityLogged',
      data: { activityId, kind: data.kind, ...optionalField('outcome', outcome), ...optionalField('note', note) },
    },
  ];
}
