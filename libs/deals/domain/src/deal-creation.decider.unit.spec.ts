import { DeciderSpec } from '@dealstream/decider/testing';
import { dealDecider } from './deal.decider.js';
import { MAX_AMOUNT } from './deal.validation.js';
import {
  board,
  createDeal,
  created,
  dealCreated,
  DEAL_ID,
  pipelineArchived,
  removeStage,
  STAGE,
  won,
} from './testing/deal.fixtures.js';

const spec = DeciderSpec.for(dealDecider);

describe('CreateDeal', () => {
  describe('when the deal does not exist', () => {
    it('creates a new deal in the first stage by default', () => {
      spec.given([]).when(createDeal()).then([created]);
    });

    it('creates it in the stage given', () => {
      spec
        .given([])
        .when(createDeal({ stageId: STAGE.proposal }))
        .then([dealCreated({ stageId: STAGE.proposal })]);
    });

    it('records the optional fields, trimmed', () => {
      spec
        .given([])
        .when(
          createDeal({
            title: '  ACME – 200 seats ',
            contact: ' Wile E. Coyote ',
            source: 'webinar',
            expectedCloseDate: '2028-02-29',
          }),
        )
        .then([dealCreated({ contact: 'Wile E. Coyote', source: 'webinar', expectedCloseDate: '2028-02-29' })]);
    });

    it.each([0, MAX_AMOUNT])('accepts amount %p', (amount) => {
      spec
        .given([])
        .when(createDeal({ amount }))
        .then([dealCreated({ amount })]);
    });

    it('takes any currency on a pipeline without one', () => {
      const multiCurrency = { ...board(), currency: null };
      spec
        .given([])
        .when(createDeal({ pipeline: multiCurrency, currency: 'JPY' }))
        .then([dealCreated({ currency: 'JPY' })]);
    });

    it('opens the deal', () => {
      spec
        .given([])
        .when(createDeal())
        .thenState({ status: 'open', kind: 'new', parentDealId: null, contact: null, version: 1 });
    });

    it('refuses a currency other than the pipeline currency', () => {
      spec
        .given([])
        .when(createDeal({ currency: 'USD' }))
        .thenThrows('currency-mismatch', { kind: 'invalid', details: { expected: 'EUR', actual: 'USD' } });
    });

    it.each([
      ['a negative amount', { amount: -1 }, 'invalid-amount'],
      ['a fractional amount', { amount: 10.5 }, 'invalid-amount'],
      ['an unsafe amount', { amount: Number.MAX_SAFE_INTEGER + 1 }, 'invalid-amount'],
      ['an amount above MAX_AMOUNT (sums must fit the read models)', { amount: MAX_AMOUNT + 1 }, 'invalid-amount'],
      ['the largest safe integer as amount', { amount: Number.MAX_SAFE_INTEGER }, 'invalid-amount'],
      ['a currency that is not ISO 4217', { currency: 'ZZZ' }, 'invalid-currency'],
      ['the ISO testing currency XTS', { currency: 'XTS' }, 'invalid-currency'],
      ['a NUL in the title', { title: 'ACME\u0000' }, 'invalid-title'],
      ['a line feed in the title', { title: 'ACME\nCorp' }, 'invalid-title'],
      ['a lone high surrogate in the account', { account: 'ACME \ud800' }, 'invalid-account'],
      ['a lone low surrogate in the contact', { contact: '\udc00 jane' }, 'invalid-contact'],
      ['a C1 control in the source', { source: 'web\u0085' }, 'invalid-source'],
      ['a NUL in the owner id', { ownerId: 'alice\u0000' }, 'invalid-owner-id'],
      ['a 201-character owner id', { ownerId: 'a'.repeat(201) }, 'invalid-owner-id'],
      ['a deal id with a control character', { dealId: 'deal\u001b[31m' }, 'invalid-deal-id'],
      ['year 0000 (PostgreSQL date refuses it)', { expectedCloseDate: '0000-01-01' }, 'invalid-expected-close-date'],
      ['the day before 1900-01-01', { expectedCloseDate: '1899-12-31' }, 'invalid-expected-close-date'],
      ['a five-digit year', { expectedCloseDate: '10000-01-01' }, 'invalid-expected-close-date'],
      ['a NaN amount', { amount: Number.NaN }, 'invalid-amount'],
      ['an amount sent as text', { amount: '100' as unknown as number }, 'invalid-amount'],
      ['a lowercase currency', { currency: 'eur' }, 'invalid-currency'],
      ['a four-letter currency', { currency: 'EURO' }, 'invalid-currency'],
      ['a blank title', { title: '   ' }, 'invalid-title'],
      ['a 201-character title', { title: 'x'.repeat(201) }, 'invalid-title'],
      ['a blank account', { account: '' }, 'invalid-account'],
      ['a blank contact', { contact: ' ' }, 'invalid-contact'],
      ['a blank source', { source: '' }, 'invalid-source'],
      ['an empty owner', { ownerId: '' }, 'invalid-owner-id'],
      ['an empty deal id', { dealId: '' }, 'invalid-deal-id'],
      ['an empty stage id', { stageId: '' }, 'invalid-stage-id'],
      ['the 30th of February', { expectedCloseDate: '2026-02-30' }, 'invalid-expected-close-date'],
      ['the 29th of February of a common year', { expectedCloseDate: '2100-02-29' }, 'invalid-expected-close-date'],
      ['month 13', { expectedCloseDate: '2026-13-01' }, 'invalid-expected-close-date'],
      ['a European date', { expectedCloseDate: '31.12.2026' }, 'invalid-expected-close-date'],
      ['an instant', { expectedCloseDate: '2026-12-31T00:00:00Z' }, 'invalid-expected-close-date'],
    ] as const)('refuses %s', (_label, data, code) => {
      spec.given([]).when(createDeal(data)).thenThrows(code, { kind: 'invalid' });
    });

    it.each(['1900-01-01', '9999-12-31', '2000-02-29'])(
      'accepts the close date %s (inside 1900..9999)',
      (expectedCloseDate) => {
        spec.given([]).when(createDeal({ expectedCloseDate })).thenState({ expectedCloseDate });
      },
    );

    it('accepts text with paired surrogates (emoji) and non-Latin letters', () => {
      spec
        .given([])
        .when(createDeal({ title: 'ACME 🚀 東京', account: 'Ærøskøbing Å/S' }))
        .thenState({ title: 'ACME 🚀 東京', account: 'Ærøskøbing Å/S' });
    });

    it('names the broken rule in the error details', () => {
      spec
        .given([])
        .when(createDeal({ title: 'a\u0000b' }))
        .thenThrows('invalid-title', { kind: 'invalid', details: { field: 'title', rule: 'control-character' } });
      spec
        .given([])
        .when(createDeal({ title: 'a\ud800b' }))
        .thenThrows('invalid-title', { kind: 'invalid', details: { field: 'title', rule: 'lone-surrogate' } });
    });

    it('refuses an unknown stage', () => {
      spec
        .given([])
        .when(createDeal({ stageId: 'stage-unknown' }))
        .thenThrows('stage-not-found', { kind: 'invalid', details: { stageId: 'stage-unknown' } });
    });

    it('refuses a removed stage', () => {
      spec
        .given([])
        .when(createDeal({ stageId: STAGE.proposal, pipeline: board(removeStage(STAGE.proposal, STAGE.closing)) }))
        .thenThrows('stage-removed', { kind: 'invalid' });
    });

    it('defaults to the first stage of the current order', () => {
      const reordered = board({
        type: 'StagesReordered',
        data: { stageIds: [STAGE.qualifying, STAGE.prospecting, STAGE.proposal, STAGE.negotiation, STAGE.closing] },
      });
      spec
        .given([])
        .when(createDeal({ pipeline: reordered }))
        .then([dealCreated({ stageId: STAGE.qualifying })]);
    });

    it('refuses an archived pipeline', () => {
      spec
        .given([])
        .when(createDeal({ pipeline: board(pipelineArchived) }))
        .thenThrows('pipeline-archived', { kind: 'conflict' });
    });

    it('refuses a pipeline that was never defined', () => {
      const undefinedPipeline = {
        pipelineId: 'pipeline-x',
        status: 'undefined',
        currency: null,
        stages: [],
        removedStages: {},
      } as const;
      spec
        .given([])
        .when(createDeal({ pipeline: undefinedPipeline }))
        .thenThrows('pipeline-not-found', { kind: 'conflict' });
    });
  });

  describe('when the deal exists', () => {
    it('refuses to create it twice', () => {
      spec
        .given([created])
        .when(createDeal())
        .thenThrows('deal-already-exists', { kind: 'conflict', details: { dealId: DEAL_ID } });
    });

    it('refuses to create it again after it closed', () => {
      spec.given([created, won]).when(createDeal()).thenThrows('deal-already-exists');
    });
  });
});
