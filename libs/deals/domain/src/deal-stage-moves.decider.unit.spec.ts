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
const moveTo = (toStageId: string, pipeline: PipelineSnapshot = board(), reason?: 'stage-removed'): DealCommand => ({
  type: 'MoveDealToStage',
  data: { toStageId, pipeline, ...(reason ? { reason } : {}) },
});

describe('MoveDealToStage', () => {
  describe('when open', () => {
    it('moves forward', () => {
      spec
        .given([created])
        .when(moveTo(STAGE.qualifying))
        .then([advanced(STAGE.prospecting, STAGE.qualifying)]);
    });

    it('skips stages', () => {
      spec
        .given([created])
        .when(moveTo(STAGE.negotiation))
        .then([advanced(STAGE.prospecting, STAGE.negotiation)]);
    });

    it('moves back', () => {
      spec
        .given([created, advanced(STAGE.prospecting, STAGE.proposal)])
        .when(moveTo(STAGE.qualifying))
        .then([advanced(STAGE.proposal, STAGE.qualifying)]);
    });

    it('tracks the current and previous stage', () => {
      spec
        .given([created, advanced(STAGE.prospecting, STAGE.proposal)])
        .when(moveTo(STAGE.closing))
        .thenState({ stageId: STAGE.closing, previousStageId: STAGE.proposal });
    });

    it('refuses the stage the deal is in', () => {
      spec.given([created]).when(moveTo(STAGE.prospecting)).thenThrows('already-in-stage', { kind: 'conflict' });
    });

    it('refuses an unknown stage', () => {
      spec
        .given([created])
        .when(moveTo('stage-unknown'))
        .thenThrows('stage-not-found', { kind: 'invalid', details: { field: 'toStageId' } });
    });

    it('refuses to move into a removed stage', () => {
      spec
        .given([created])
        .when(moveTo(STAGE.proposal, board(removeStage(STAGE.proposal, STAGE.negotiation))))
        .thenThrows('stage-removed', { kind: 'invalid' });
    });

    it('refuses a snapshot of another pipeline', () => {
      spec
        .given([created])
        .when(moveTo(STAGE.qualifying, { ...board(), pipelineId: 'pipeline-other' }))
        .thenThrows('pipeline-mismatch', {
          kind: 'invalid',
          details: { expected: 'pipeline-0001', actual: 'pipeline-other' },
        });
    });

    it('refuses moves on an archived pipeline', () => {
      spec
        .given([created])
        .when(moveTo(STAGE.qualifying, board(pipelineArchived)))
        .thenThrows('pipeline-archived', { kind: 'conflict' });
    });

    it('refuses an empty stage id', () => {
      spec.given([created]).when(moveTo('')).thenThrows('invalid-stage-id');
    });

    it('refuses an unknown move reason', () => {
      spec
        .given([created])
        .when(moveTo(STAGE.qualifying, board(), 'tidy-up' as 'stage-removed'))
        .thenThrows('invalid-move-reason');
    });

    it('refuses the stage-removed reason when the stage still exists', () => {
      spec
        .given([created])
        .when(moveTo(STAGE.qualifying, board(), 'stage-removed'))
        .thenThrows('stage-not-removed', { kind: 'conflict', details: { stageId: STAGE.prospecting } });
    });
  });

  describe('when open in a removed stage', () => {
    const afterRemoval = board(removeStage(STAGE.prospecting, STAGE.qualifying));

    it('moves out with the stage-removed reason', () => {
      spec
        .given([created])
        .when(moveTo(STAGE.qualifying, afterRemoval, 'stage-removed'))
        .then([
          {
            type: 'StageAdvanced',
            data: { fromStageId: STAGE.prospecting, toStageId: STAGE.qualifying, reason: 'stage-removed' },
          },
        ]);
    });

    it('may also be moved by hand, anywhere on the board', () => {
      spec
        .given([created])
        .when(moveTo(STAGE.closing, afterRemoval))
        .then([advanced(STAGE.prospecting, STAGE.closing)]);
    });
  });

  describe.each([
    ['won', won],
    ['lost', lost],
    ['disqualified', disqualified],
  ])('when %s', (status, closing) => {
    it('refuses to move', () => {
      spec
        .given([created, closing])
        .when(moveTo(STAGE.qualifying))
        .thenThrows('deal-closed', { kind: 'conflict', details: { status } });
    });
  });

  describe('when the deal does not exist', () => {
    it('refuses to move', () => {
      spec.given([]).when(moveTo(STAGE.qualifying)).thenThrows('deal-not-found');
    });
  });
});
