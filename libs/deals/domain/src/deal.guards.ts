import { dealError } from './deal.errors.js';
import { isClosedStatus } from './deal.model.js';
import type { DealState } from './deal.state.js';

export function requireExistingDeal(state: DealState): void {
  if (state.status === 'none') throw dealError('deal-not-found', 'The deal does not exist');
}

/** Won, lost and disqualified deals are history: only their owner and activities may change. */
export function requireOpenDeal(state: DealState): void {
  requireExistingDeal(state);
  if (isClosedStatus(state.status)) {
    throw dealError('deal-closed', `The deal is ${state.status}`, { status: state.status });
  }
}

export function requireDealCurrency(state: DealState, currency: string): void {
  if (currency !== state.currency) {
    throw dealError('currency-mismatch', `The deal is in ${state.currency}`, {
      expected: state.currency,
      actual: currency,
    });
  }
}
