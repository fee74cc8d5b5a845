import { fold, isDomainError } from '@dealstream/decider';
import { decideFollowOnDeal } from './deal-creation.decider.js';
import type { OpenFollowOnDeal } from './deal.commands.js';
import { dealDecider } from './deal.decider.js';
import type { DealEvent } from './deal.events.js';
import type { DealState } from './deal.state.js';
import {
  board,
  created,
  DEAL_ID,
  disqualified,
  lost,
  pipelineArchived,
  PIPELINE_ID,
  STAGE,
  won,
} from './testing/deal.fixtures.js';

const parentAfter = (...events: DealEvent[]): DealState => fold(dealDecider, [created, ...events]);

function openFollowOn(data: Partial<OpenFollowOnDeal['data']> = {}): OpenFollowOnDeal {
  return {
    type: 'OpenFollowOnDeal',
    data: {
      dealId: 'deal-0002',
      kind: 'upsell',
      pipeline: board(),
      title: 'ACME – 50 more seats',
      amount: 1_200_000,
      currency: 'EUR',
      ...data,
    },
  };
}

function refusal(run: () => unknown): { code: string; kind: string; details: unknown } {
  try {
    run();
  } catch (error) {
    if (isDomainError(error)) return { code: error.code, kind: error.kind, details: error.details };
    throw error;
  }
  throw new Error('expected a DomainError');
}

describe('decideFollowOnDeal', () => {
  describe('when the parent is won', () => {
    const parent = parentAfter(won);

    it('opens an up-sell linked to the parent, same account and owner', () => {
      expect(decideFollowOnDeal(openFollowOn(), parent)).toStrictEqual([
        {
          type: 'DealCreated',
          data: {
            dealId: 'deal-0002',
            pipelineId: PIPELINE_ID,
            stageId: STAGE.prospecting,
            title: 'ACME – 50 more seats',
            account: 'ACME Corp',
            amount: 1_200_000,
            currency: 'EUR',
            ownerId: 'user-alice',
            parentDealId: DEAL_ID,
            kind: 'upsell',
          },
        },
      ]);
    });

    it('opens a cross-sell with its own owner, account and stage', () => {
      const [event] = decideFollowOnDeal(
        openFollowOn({
          kind: 'cross-sell',
          ownerId: 'user-bob',
          account: 'ACME Europe',
          stageId: STAGE.proposal,
          contact: 'Road Runner',
        }),
        parent,
      );
      expect(event?.data).toMatchObject({
        kind: 'cross-sell',
        ownerId: 'user-bob',
        account: 'ACME Europe',
        stageId: STAGE.proposal,
        contact: 'Road Runner',
        parentDealId: DEAL_ID,
      });
    });

    it('starts a separate deal whose state knows its parent', () => {
      const child = fold(dealDecider, decideFollowOnDeal(openFollowOn(), parent));
      expect(child).toMatchObject({
        status: 'open',
        dealId: 'deal-0002',
        parentDealId: DEAL_ID,
        kind: 'upsell',
        version: 1,
      });
    });

    it('refuses a currency other than the pipeline currency', () => {
      expect(refusal(() => decideFollowOnDeal(openFollowOn({ currency: 'USD' }), parent))).toMatchObject({
        code: 'currency-mismatch',
        kind: 'invalid',
      });
    });

    it('refuses kind "new"', () => {
      expect(refusal(() => decideFollowOnDeal(openFollowOn({ kind: 'new' as 'upsell' }), parent))).toMatchObject({
        code: 'invalid-follow-on-kind',
        kind: 'invalid',
      });
    });

    it("refuses to reuse the parent's id", () => {
      expect(refusal(() => decideFollowOnDeal(openFollowOn({ dealId: DEAL_ID }), parent)).code).toBe('invalid-deal-id');
    });

    it('refuses an archived pipeline', () => {
      expect(refusal(() => decideFollowOnDeal(openFollowOn({ pipeline: board(pipelineArchived) }), parent)).code).toBe(
        'pipeline-archived',
      );
    });

    it('refuses a negative amount', () => {
      expect(refusal(() => decideFollowOnDeal(openFollowOn({ amount: -5 }), parent)).code).toBe('invalid-amount');
    });
  });

  describe('when the parent is not won', () => {
    it.each([
      ['open', parentAfter()],
      ['lost', parentAfter(lost)],
      ['disqualified', parentAfter(disqualified)],
    ])('refuses an up-sell of a %s deal', (status, parent) => {
      expect(refusal(() => decideFollowOnDeal(openFollowOn(), parent))).toStrictEqual({
        code: 'parent-deal-not-won',
        kind: 'conflict',
        details: { parentDealId: DEAL_ID, status },
      });
    });

    it('refuses a parent that does not exist', () => {
      expect(refusal(() => decideFollowOnDeal(openFollowOn(), dealDecider.initialState()))).toMatchObject({
        code: 'parent-deal-not-found',
        kind: 'conflict',
      });
    });
  });

  describe('when the new id is taken', () => {
    it('refuses it as deal-already-exists before anything else, whatever the parent', () => {
      const parent = parentAfter(won);
      const taken = fold(dealDecider, [{ ...created, data: { ...created.data, dealId: 'deal-0002' } }]);
      expect(refusal(() => decideFollowOnDeal(openFollowOn({ amount: -5 }), parent, taken))).toStrictEqual({
        code: 'deal-already-exists',
        kind: 'conflict',
        details: { dealId: 'deal-0002' },
      });
      expect(decideFollowOnDeal(openFollowOn(), parent, dealDecider.initialState())).toStrictEqual(
        decideFollowOnDeal(openFollowOn(), parent),
      );
    });
  });
});
