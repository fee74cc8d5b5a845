import { DomainError } from '@dealstream/decider';
import { pipelineErrorKinds } from '@dealstream/pipelines-domain';
import { DEAL_ERROR_CODES, dealError, dealErrorKinds } from './deal.errors.js';
import { DEAL_EVENT_TYPES, isDealEvent } from './deal.events.js';
import { dealStreamName } from './deal.stream.js';

describe('deal errors', () => {
  it('throws DomainErrors whose kind is fixed by the code', () => {
    const error = dealError('bant-criteria-not-met', 'no budget', { unmet: ['budget'] });
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'bant-criteria-not-met', kind: 'invalid', details: { unmet: ['budget'] } });
    expect(dealError('deal-closed', 'closed').kind).toBe('conflict');
  });

  it('uses stable kebab-case codes', () => {
    for (const code of DEAL_ERROR_CODES) expect(code).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  it('gives codes shared with the pipeline module the same kind', () => {
    const shared = DEAL_ERROR_CODES.filter((code) => Object.hasOwn(pipelineErrorKinds, code));
    expect(shared.sort()).toEqual([
      'invalid-currency',
      'invalid-stage-id',
      'pipeline-archived',
      'pipeline-not-found',
      'stage-not-found',
      'stage-removed',
    ]);
    for (const code of shared) {
      expect([code, dealErrorKinds[code]]).toEqual([code, pipelineErrorKinds[code as keyof typeof pipelineErrorKinds]]);
    }
  });
});

describe('deal events and streams', () => {
  it('recognises its own event types only', () => {
    expect(DEAL_EVENT_TYPES).toHaveLength(11);
    expect(isDealEvent({ type: 'DealWon' })).toBe(true);
    expect(isDealEvent({ type: 'StageAdded' })).toBe(false);
  });

  it('names streams deal-<id>', () => {
    expect(dealStreamName('9c1e')).toBe('deal-9c1e');
  });
});
