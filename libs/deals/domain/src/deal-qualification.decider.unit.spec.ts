import { DeciderSpec } from '@dealstream/decider/testing';
import { assessBant } from './deal-qualification.model.js';
import type { Bant } from './deal-qualification.model.js';
import { dealDecider } from './deal.decider.js';
import type { DealCommand } from './deal.commands.js';
import { bant, created, disqualified, lost, qualified, won } from './testing/deal.fixtures.js';

const spec = DeciderSpec.for(dealDecider);
const qualify = (assessment: Bant): DealCommand => ({ type: 'QualifyDeal', data: { bant: assessment } });
const disqualify: DealCommand = { type: 'DisqualifyDeal', data: { reason: 'no-authority', note: 'Champion left' } };

describe('qualification', () => {
  describe('when open: QualifyDeal', () => {
    it('qualifies with all four criteria confirmed, scoring 100', () => {
      spec
        .given([created])
        .when(qualify(bant()))
        .then([{ type: 'DealQualified', data: { bant: bant(), score: 100 } }]);
    });

    it('qualifies without a confirmed timeline, scoring 75', () => {
      spec
        .given([created])
        .when(qualify(bant({ timeline: false })))
        .then([{ type: 'DealQualified', data: { bant: bant({ timeline: false }), score: 75 } }]);
    });

    it('refuses without a confirmed budget', () => {
      spec
        .given([created])
        .when(qualify(bant({ budget: false })))
        .thenThrows('bant-criteria-not-met', { kind: 'invalid', details: { unmet: ['budget'] } });
    });

    it('lists every unmet required criterion', () => {
      spec
        .given([created])
        .when(qualify(bant({ need: false, authority: false, timeline: false })))
        .thenThrows('bant-criteria-not-met', { details: { unmet: ['authority', 'need'] } });
    });

    it('refuses with nothing confirmed', () => {
      spec
        .given([created])
        .when(qualify(bant({ budget: false, authority: false, need: false, timeline: false })))
        .thenThrows('bant-criteria-not-met', { details: { unmet: ['budget', 'authority', 'need'] } });
    });

    it('keeps trimmed notes and drops blank ones', () => {
      const withNotes: Bant = {
        ...bant({ timeline: false }),
        budget: { confirmed: true, note: ' 50k approved ' },
        timeline: { confirmed: false, note: '  ' },
      };
      spec
        .given([created])
        .when(qualify(withNotes))
        .then([
          {
            type: 'DealQualified',
            data: {
              bant: { ...bant({ timeline: false }), budget: { confirmed: true, note: '50k approved' } },
              score: 75,
            },
          },
        ]);
    });

    it('refuses a criterion without a boolean answer', () => {
      const broken = { ...bant(), need: { confirmed: 'yes' } } as unknown as Bant;
      spec
        .given([created])
        .when(qualify(broken))
        .thenThrows('invalid-bant', { details: { field: 'bant.need' } });
    });

    it('stores the assessment in the state', () => {
      spec
        .given([created])
        .when(qualify(bant({ timeline: false })))
        .thenState({ qualification: { bant: bant({ timeline: false }), score: 75 } });
    });
  });

  describe('when qualified', () => {
    it('records a reassessment even with the same answers', () => {
      spec.given([created, qualified]).when(qualify(bant())).then([qualified]);
    });

    it('replaces the previous assessment', () => {
      spec
        .given([created, qualified])
        .when(qualify(bant({ timeline: false })))
        .thenState({ qualification: { bant: bant({ timeline: false }), score: 75 }, version: 3 });
    });

    it('can still be disqualified', () => {
      spec
        .given([created, qualified])
        .when(disqualify)
        .then([{ type: 'DealDisqualified', data: { reason: 'no-authority', note: 'Champion left' } }]);
    });
  });

  describe('when open: DisqualifyDeal', () => {
    it('disqualifies without a note', () => {
      spec
        .given([created])
        .when({ type: 'DisqualifyDeal', data: { reason: 'no-engagement' } })
        .then([{ type: 'DealDisqualified', data: { reason: 'no-engagement' } }]);
    });

    it('closes the deal as disqualified', () => {
      spec
        .given([created])
        .when(disqualify)
        .thenState({ status: 'disqualified', closedReason: 'no-authority', closedNote: 'Champion left' });
    });

    it('refuses an unknown reason', () => {
      spec
        .given([created])
        .when({ type: 'DisqualifyDeal', data: { reason: 'too-small' as 'other' } })
        .thenThrows('invalid-disqualification-reason', { kind: 'invalid' });
    });

    it('refuses a blank note', () => {
      spec
        .given([created])
        .when({ type: 'DisqualifyDeal', data: { reason: 'other', note: ' ' } })
        .thenThrows('invalid-note');
    });
  });

  describe.each([
    ['won', won],
    ['lost', lost],
    ['disqualified', disqualified],
  ])('when %s', (status, closing) => {
    it('refuses to qualify', () => {
      spec
        .given([created, closing])
        .when(qualify(bant()))
        .thenThrows('deal-closed', { kind: 'conflict', details: { status } });
    });

    it('refuses to disqualify', () => {
      spec.given([created, closing]).when(disqualify).thenThrows('deal-closed', { details: { status } });
    });
  });

  describe('when the deal does not exist', () => {
    it('refuses to qualify', () => {
      spec.given([]).when(qualify(bant())).thenThrows('deal-not-found', { kind: 'conflict' });
    });

    it('refuses to disqualify', () => {
      spec.given([]).when(disqualify).thenThrows('deal-not-found');
    });
  });
});

describe('assessBant', () => {
  it('scores 25 per confirmed criterion and lists unmet required ones', () => {
    expect(assessBant(bant({ budget: false }))).toStrictEqual({ unmet: ['budget'], score: 75 });
    expect(assessBant(bant({ timeline: false }))).toStrictEqual({ unmet: [], score: 75 });
    expect(assessBant(bant({ budget: false, authority: false, need: false, timeline: false }))).toStrictEqual({
      unmet: ['budget', 'authority', 'need'],
      score: 0,
    });
  });
});
