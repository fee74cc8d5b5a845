import { fold } from '@dealstream/decider';
import { dealDecider } from './deal.decider.js';
import type { DealEvent } from './deal.events.js';
import { initialDealState } from './deal.state.js';
import { advanced, bant, dealCreated, DEAL_ID, PIPELINE_ID, STAGE } from './testing/deal.fixtures.js';

/** Six months of one deal: lost to a competitor, won back, then reassigned for retention. */
const history: DealEvent[] = [
  dealCreated({ contact: 'Wile E. Coyote', source: 'webinar', expectedCloseDate: '2026-03-31' }),
  { type: 'ActivityLogged', data: { activityId: 'act-1', kind: 'call', outcome: 'Interested' } },
  advanced(STAGE.prospecting, STAGE.qualifying),
  { type: 'DealQualified', data: { bant: bant({ timeline: false }), score: 75 } },
  advanced(STAGE.qualifying, STAGE.proposal),
  { type: 'DealValueChanged', data: { amount: 5_200_000, currency: 'EUR', previousAmount: 4_800_000 } },
  { type: 'ExpectedCloseDateChanged', data: { expectedCloseDate: '2026-04-30', previous: '2026-03-31' } },
  { type: 'DealLost', data: { reason: 'Price', competitor: 'Initech' } },
  { type: 'ActivityLogged', data: { activityId: 'act-2', kind: 'email', note: 'Initech failed the pilot' } },
  { type: 'DealReopened', data: { toStageId: STAGE.negotiation, previousStatus: 'lost' } },
  { type: 'DealQualified', data: { bant: bant(), score: 100 } },
  advanced(STAGE.negotiation, STAGE.closing),
  { type: 'DealWon', data: { amount: 5_000_000, reason: 'Pilot success' } },
  { type: 'DealOwnerReassigned', data: { ownerId: 'user-carol', previousOwnerId: 'user-alice' } },
  { type: 'ActivityLogged', data: { activityId: 'act-3', kind: 'meeting' } },
];

describe('deal evolve', () => {
  it('starts as no deal', () => {
    expect(initialDealState()).toMatchObject({ status: 'none', version: 0, activityCount: 0, qualification: null });
  });

  it('folds a long history into the current deal', () => {
    expect(fold(dealDecider, history)).toStrictEqual({
      status: 'won',
      dealId: DEAL_ID,
      pipelineId: PIPELINE_ID,
      stageId: STAGE.closing,
      previousStageId: STAGE.negotiation,
      title: 'ACME – 200 seats',
      account: 'ACME Corp',
      contact: 'Wile E. Coyote',
      amount: 5_000_000,
      currency: 'EUR',
      ownerId: 'user-carol',
      source: 'webinar',
      expectedCloseDate: '2026-04-30',
      parentDealId: null,
      kind: 'new',
      qualification: { bant: bant(), score: 100 },
      closedReason: 'Pilot success',
      closedNote: null,
      competitor: null,
      wonAmount: 5_000_000,
      activityCount: 3,
      lastActivity: { activityId: 'act-3', kind: 'meeting' },
      reopenCount: 1,
      version: 15,
    });
  });

  it('shows the state at any earlier version by folding a prefix', () => {
    expect(fold(dealDecider, history.slice(0, 8))).toMatchObject({
      status: 'lost',
      stageId: STAGE.proposal,
      amount: 5_200_000,
      closedReason: 'Price',
      competitor: 'Initech',
      wonAmount: null,
      version: 8,
    });
  });

  it('agrees with the decider: replaying decided events gives the same state', () => {
    const state = fold(dealDecider, history.slice(0, 12));
    const decided = dealDecider.decide(
      { type: 'WinDeal', data: { amount: 5_000_000, reason: 'Pilot success' } },
      state,
    );
    expect(decided).toStrictEqual([history[12]]);
  });

  it('does not mutate the state it folds over', () => {
    const before = fold(dealDecider, history.slice(0, 3));
    const copy = structuredClone(before);
    for (const event of history.slice(3)) dealDecider.evolve(before, event);
    expect(before).toStrictEqual(copy);
  });

  it('skips event types it does not know, still counting the version', () => {
    const unknown = { type: 'DealTagged', data: { tag: 'vip' } } as unknown as DealEvent;
    expect(fold(dealDecider, [history[0], unknown])).toMatchObject({ status: 'open', version: 2 });
  });
});
