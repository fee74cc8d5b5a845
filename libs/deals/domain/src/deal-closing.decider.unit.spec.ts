import { DeciderSpec } from '@dealstream/decider/testing';
import type { PipelineSnapshot } from '@dealstream/pipelines-domain';
import type { DealCommand } from './deal.commands.js';
import { dealDecider } from './deal.decider.js';
import {
  advanced,
  board,
  created,
  disqualified,
  lost,
  pipelineArchived,
  removeStage,
  STAGE,
  won,
} from './testing/deal.fixtures.js';

const spec = DeciderSpec.for(dealDecider);
const win = (data: Extract<DealCommand, { type: 'WinDeal' }>['data'] = {}): DealCommand => ({ type: 'WinDeal', data });
const lose = (reason: string, competitor?: string): DealCommand => ({
  type: 'LoseDeal',
  data: { reason, ...(competitor === undefined ? {} : { competitor }) },
});
const reopen = (pipeline: PipelineSnapshot = board(), toStageId?: string): DealCommand => ({
  type: 'ReopenDeal',
  data: { pipeline, ...(toStageId === undefined ? {} : { toStageId }) },
});
const inProposal = [created, advanced(STAGE.prospecting, STAGE.proposal)];

describe('closing', () => {
  describe('when open: WinDeal', () => {
    it('wins at the current amount', () => {
      spec
        .given([created])
        .when(win())
        .then([{ type: 'DealWon', data: { amount: 4_800_000 } }]);
    });

    it('wins at a final amount, with a reason', () => {
      spec
        .given([created])
        .when(win({ amount: 4_500_000, currency: 'EUR', reason: ' Best integration ' }))
        .then([{ type: 'DealWon', data: { amount: 4_500_000, reason: 'Best integration' } }]);
    });

    it('books the final amount', () => {
      spec
        .given([created])
        .when(win({ amount: 4_500_000 }))
        .thenState({ status: 'won', amount: 4_500_000, wonAmount: 4_500_000, closedReason: null });
    });

    it('refuses another currency', () => {
      spec
        .given([created])
        .when(win({ amount: 1, currency: 'GBP' }))
        .thenThrows('currency-mismatch', { kind: 'invalid' });
    });

    it('refuses a fractional final amount', () => {
      spec
        .given([created])
        .when(win({ amount: 99.99 }))
        .thenThrows('invalid-amount');
    });
  });

  describe('when open: LoseDeal', () => {
    it('loses with a reason and the competitor', () => {
      spec
        .given([created])
        .when(lose(' Chose a cheaper vendor ', 'Initech'))
        .then([{ type: 'DealLost', data: { reason: 'Chose a cheaper vendor', competitor: 'Initech' } }]);
    });

    it('loses without a competitor', () => {
      spec
        .given([created])
        .when(lose('Project cancelled'))
        .then([{ type: 'DealLost', data: { reason: 'Project cancelled' } }]);
    });

    it('closes the deal as lost, keeping its stage', () => {
      spec
        .given(inProposal)
        .when(lose('Price', 'Initech'))
        .thenState({ status: 'lost', stageId: STAGE.proposal, closedReason: 'Price', competitor: 'Initech' });
    });

    it('refuses a blank reason', () => {
      spec
        .given([created])
        .when(lose('  '))
        .thenThrows('invalid-reason', { kind: 'invalid', details: { field: 'reason' } });
    });

    it('refuses a blank competitor', () => {
      spec.given([created]).when(lose('Price', '')).thenThrows('invalid-competitor');
    });
  });

  describe('when open: ReopenDeal', () => {
    it('refuses: the deal is not closed', () => {
      spec.given([created]).when(reopen()).thenThrows('deal-not-closed', { kind: 'conflict' });
    });
  });

  describe('when won', () => {
    it('refuses to win twice', () => {
      spec
        .given([created, won])
        .when(win())
        .thenThrows('deal-closed', { kind: 'conflict', details: { status: 'won' } });
    });

    it('refuses to lose', () => {
      spec.given([created, won]).when(lose('Changed their mind')).thenThrows('deal-closed');
    });

    it('refuses to reopen', () => {
      spec.given([created, won]).when(reopen()).thenThrows('won-deal-cannot-reopen', { kind: 'conflict' });
    });
  });

  describe.each([
    ['lost', lost],
    ['disqualified', disqualified],
  ] as const)('when %s', (status, closing) => {
    it('refuses to win', () => {
      spec.given([created, closing]).when(win()).thenThrows('deal-closed', { details: { status } });
    });

    it('refuses to lose', () => {
      spec.given([created, closing]).when(lose('Again')).thenThrows('deal-closed');
    });

    it('reopens into the stage it closed in', () => {
      spec
        .given([...inProposal, closing])
        .when(reopen())
        .then([{ type: 'DealReopened', data: { toStageId: STAGE.proposal, previousStatus: status } }]);
    });

    it('reopens into a stage of choice', () => {
      spec
        .given([...inProposal, closing])
        .when(reopen(board(), STAGE.qualifying))
        .then([{ type: 'DealReopened', data: { toStageId: STAGE.qualifying, previousStatus: status } }]);
    });

    it('follows its removed stage to where that stage sent its deals', () => {
      const pipeline = board(
        removeStage(STAGE.proposal, STAGE.negotiation),
        removeStage(STAGE.negotiation, STAGE.closing),
      );
      spec
        .given([...inProposal, closing])
        .when(reopen(pipeline))
        .then([{ type: 'DealReopened', data: { toStageId: STAGE.closing, previousStatus: status } }]);
    });

    it('refuses to reopen into a removed stage', () => {
      spec
        .given([...inProposal, closing])
        .when(reopen(board(removeStage(STAGE.qualifying, STAGE.closing)), STAGE.qualifying))
        .thenThrows('stage-removed', { details: { field: 'toStageId' } });
    });

    it('refuses to reopen into an unknown stage', () => {
      spec
        .given([...inProposal, closing])
        .when(reopen(board(), 'stage-unknown'))
        .thenThrows('stage-not-found');
    });

    it('refuses to reopen on an archived pipeline', () => {
      spec
        .given([...inProposal, closing])
        .when(reopen(board(pipelineArchived)))
        .thenThrows('pipeline-archived');
    });

    it('is open again, with the closing cleared', () => {
      spec
        .given([...inProposal, closing])
        .when(reopen(board(), STAGE.qualifying))
        .thenState({
          status: 'open',
          stageId: STAGE.qualifying,
          previousStageId: STAGE.proposal,
          closedReason: null,
          closedNote: null,
          competitor: null,
          reopenCount: 1,
        });
    });

    it('can be won after reopening', () => {
      spec
        .given([
          ...inProposal,
          closing,
          { type: 'DealReopened', data: { toStageId: STAGE.proposal, previousStatus: status } },
        ])
        .when(win())
        .then([won]);
    });
  });

  describe('when the deal does not exist', () => {
    it.each<DealCommand>([win(), lose('x'), reopen()])('refuses $type', (command) => {
      spec.given([]).when(command).thenThrows('deal-not-found', { kind: 'conflict' });
    });
  });
});
