import { DomainError } from '@dealstream/decider';
import { PIPELINE_ERROR_CODES, pipelineError, pipelineErrorKinds } from './pipeline.errors.js';

describe('pipeline errors', () => {
  it('throws DomainErrors whose kind is fixed by the code', () => {
    const error = pipelineError('stage-not-found', 'missing', { stageId: 'x' });
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'stage-not-found', kind: 'invalid', details: { stageId: 'x' } });
    expect(pipelineError('pipeline-archived', 'frozen').kind).toBe('conflict');
  });

  it('uses stable kebab-case codes', () => {
    for (const code of PIPELINE_ERROR_CODES) expect(code).toMatch(/^[a-z]+(-[a-z]+)*$/);
    expect(PIPELINE_ERROR_CODES).toHaveLength(Object.keys(pipelineErrorKinds).length);
  });
});
