import { DeciderSpec } from '@dealstream/decider/testing';
import type { DealCommand } from './deal.commands.js';
import { dealDecider } from './deal.decider.js';
import { created, dealCreated, disqualified, lost, won } from './testing/deal.fixtures.js';

const spec = DeciderSpec.for(dealDecider);
const closings = [
  ['won', won],
  ['lost', lost],
  ['disqualified', disqualified],
] as const;

const changeValue = (amount: number, currency = 'EUR'): DealCommand => ({
  type: 'ChangeDealValue',
  data: { amount, currency },
});
const reassign = (ownerId: string): DealCommand => ({ type: 'ReassignDealOwner', data: { ownerId } });
const closeOn = (expectedCloseDate: string | null): DealCommand => ({
  type: 'ChangeExpectedCloseDate',
  data: { expectedCloseDate },
});
const logCall: DealCommand = {
  type: 'LogActivity',
  data: { activityId: 'act-1', kind: 'call', outcome: ' Interested ', note: 'Wants a demo' },
};
const callLogged = {
  type: 'ActivityLogged',
  data: { activityId: 'act-1', kind: 'call', outcome: 'Interested', note: 'Wants a demo' },
} as const;

describe('deal details', () => {
  describe('when open: ChangeDealValue', () => {
    it('changes the amount, keeping the previous one', () => {
      spec
        .given([created])
        .when(changeValue(5_000_000))
        .then([{ type: 'DealValueChanged', data: { amount: 5_000_000, currency: 'EUR', previousAmount: 4_800_000 } }]);
    });

    it('accepts zero', () => {
      spec.given([created]).when(changeValue(0)).thenState({ amount: 0 });
    });

    it('treats the same amount as a no-op', () => {
      spec.given([created]).when(changeValue(4_800_000)).thenNothingHappens();
    });

    it('refuses another currency', () => {
      spec
        .given([created])
        .when(changeValue(100, 'USD'))
        .thenThrows('currency-mismatch', { kind: 'invalid', details: { expected: 'EUR', actual: 'USD' } });
    });

    it.each([-1, 0.5, 2 ** 53])('refuses amount %p', (amount) => {
      spec.given([created]).when(changeValue(amount)).thenThrows('invalid-amount', { kind: 'invalid' });
    });
  });

  describe('when open: ReassignDealOwner', () => {
    it('reassigns, keeping the previous owner', () => {
      spec
        .given([created])
        .when(reassign('user-bob'))
        .then([{ type: 'DealOwnerReassigned', data: { ownerId: 'user-bob', previousOwnerId: 'user-alice' } }]);
    });

    it('treats the current owner as a no-op', () => {
      spec.given([created]).when(reassign('user-alice')).thenNothingHappens();
    });

    it('refuses an empty owner', () => {
      spec.given([created]).when(reassign(' ')).thenThrows('invalid-owner-id', { kind: 'invalid' });
    });
  });

  describe('when open: ChangeExpectedCloseDate', () => {
    it('sets a date where there was none', () => {
      spec
        .given([created])
        .when(closeOn('2026-06-30'))
        .then([{ type: 'ExpectedCloseDateChanged', data: { expectedCloseDate: '2026-06-30', previous: null } }]);
    });

    it('clears a date', () => {
      spec
        .given([dealCreated({ expectedCloseDate: '2026-06-30' })])
        .when(closeOn(null))
        .then([{ type: 'ExpectedCloseDateChanged', data: { expectedCloseDate: null, previous: '2026-06-30' } }]);
    });

    it('treats the same date as a no-op', () => {
      spec
        .given([dealCreated({ expectedCloseDate: '2026-06-30' })])
        .when(closeOn('2026-06-30'))
        .thenNothingHappens();
    });

    it('treats clearing an absent date as a no-op', () => {
      spec.given([created]).when(closeOn(null)).thenNothingHappens();
    });

    it('allows a date in the past (an overdue deal)', () => {
      spec.given([created]).when(closeOn('2001-01-01')).thenState({ expectedCloseDate: '2001-01-01' });
    });

    it('refuses an impossible date', () => {
      spec.given([created]).when(closeOn('2026-04-31')).thenThrows('invalid-expected-close-date', { kind: 'invalid' });
    });
  });

  describe('when open: LogActivity', () => {
    it('logs the activity with trimmed texts', () => {
      spec.given([created]).when(logCall).then([callLogged]);
    });

    it('logs an activity with only its kind', () => {
      spec
        .given([created])
        .when({ type: 'LogActivity', data: { activityId: 'act-2', kind: 'social' } })
        .then([{ type: 'ActivityLogged', data: { activityId: 'act-2', kind: 'social' } }]);
    });

    it('counts activities and remembers the last one', () => {
      spec
        .given([created, callLogged])
        .when({ type: 'LogActivity', data: { activityId: 'act-2', kind: 'meeting' } })
        .thenState({ activityCount: 2, lastActivity: { activityId: 'act-2', kind: 'meeting' } });
    });

    it('refuses an unknown kind', () => {
      spec
        .given([created])
        .when({ type: 'LogActivity', data: { activityId: 'act-2', kind: 'fax' as 'call' } })
        .thenThrows('invalid-activity-kind', { kind: 'invalid' });
    });

    it('refuses an empty activity id', () => {
      spec
        .given([created])
        .when({ type: 'LogActivity', data: { activityId: '', kind: 'call' } })
        .thenThrows('invalid-activity-id');
    });

    it('refuses an oversized outcome', () => {
      spec
        .given([created])
        .when({ type: 'LogActivity', data: { activityId: 'a', kind: 'call', outcome: 'x'.repeat(501) } })
        .thenThrows('invalid-activity-outcome');
    });
  });

  describe.each(closings)('when %s', (status, closing) => {
    it('refuses to change the value', () => {
      spec
        .given([created, closing])
        .when(changeValue(1))
        .thenThrows('deal-closed', { kind: 'conflict', details: { status } });
    });

    it('refuses to change the expected close date', () => {
      spec.given([created, closing]).when(closeOn('2026-06-30')).thenThrows('deal-closed');
    });

    it('still reassigns the owner', () => {
      spec
        .given([created, closing])
        .when(reassign('user-bob'))
        .then([{ type: 'DealOwnerReassigned', data: { ownerId: 'user-bob', previousOwnerId: 'user-alice' } }]);
    });

    it('still logs activities', () => {
      spec.given([created, closing]).when(logCall).then([callLogged]);
    });
  });

  describe('when the deal does not exist', () => {
    it.each<DealCommand>([changeValue(1), reassign('user-bob'), closeOn(null), logCall])('refuses $type', (command) => {
      spec.given([]).when(command).thenThrows('deal-not-found', { kind: 'conflict' });
    });
  });
});
