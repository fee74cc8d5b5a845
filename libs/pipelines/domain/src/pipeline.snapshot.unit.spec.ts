import { fold, isDomainError } from '@dealstream/decider';
import { pipelineDecider } from './pipeline.decider.js';
import { isPipelineEvent, PIPELINE_EVENT_TYPES } from './pipeline.events.js';
import {
  findStage,
  isStageRemoved,
  requireKnownPipeline,
  resolveLiveStageId,
  stageDirection,
  stageIndex,
  toPipelineSnapshot,
} from './pipeline.snapshot.js';
import { pipelineStreamName } from './pipeline.stream.js';
import { pipelineDefined, STAGE, standardStages } from './testing/pipeline.fixtures.js';

const pipeline = toPipelineSnapshot(
  fold(pipelineDecider, [
    pipelineDefined(),
    { type: 'StageRemoved', data: { stageId: STAGE.proposal, moveOpenDealsTo: STAGE.negotiation } },
    { type: 'StageRemoved', data: { stageId: STAGE.negotiation, moveOpenDealsTo: STAGE.closing } },
  ]),
);

describe('pipeline snapshot helpers', () => {
  it('keeps what a deal command needs and nothing else', () => {
    expect(pipeline).toStrictEqual({
      pipelineId: 'pipeline-0001',
      status: 'active',
      currency: 'EUR',
      stages: [standardStages[0], standardStages[1], standardStages[4]],
      removedStages: {
        [STAGE.proposal]: { name: 'Proposal', movedTo: STAGE.negotiation },
        [STAGE.negotiation]: { name: 'Negotiation', movedTo: STAGE.closing },
      },
    });
  });

  it('gives board positions, undefined for removed or unknown stages', () => {
    expect(stageIndex(pipeline, STAGE.prospecting)).toBe(0);
    expect(stageIndex(pipeline, STAGE.closing)).toBe(2);
    expect(stageIndex(pipeline, STAGE.proposal)).toBeUndefined();
    expect(stageIndex(pipeline, 'nope')).toBeUndefined();
  });

  it('finds live stages and tells removed ones apart', () => {
    expect(findStage(pipeline, STAGE.qualifying)?.name).toBe('Qualifying');
    expect(findStage(pipeline, STAGE.proposal)).toBeUndefined();
    expect(isStageRemoved(pipeline, STAGE.proposal)).toBe(true);
    expect(isStageRemoved(pipeline, STAGE.closing)).toBe(false);
  });

  it('follows a chain of removals to the live stage', () => {
    expect(resolveLiveStageId(pipeline, STAGE.proposal)).toBe(STAGE.closing);
    expect(resolveLiveStageId(pipeline, STAGE.negotiation)).toBe(STAGE.closing);
    expect(resolveLiveStageId(pipeline, STAGE.qualifying)).toBe(STAGE.qualifying);
    expect(resolveLiveStageId(pipeline, 'nope')).toBeUndefined();
  });

  it('survives a cyclic removal record instead of looping', () => {
    const corrupt = { stages: [], removedStages: { a: { name: 'A', movedTo: 'b' }, b: { name: 'B', movedTo: 'a' } } };
    expect(resolveLiveStageId(corrupt, 'a')).toBeUndefined();
  });

  it('derives move direction from board order', () => {
    expect(stageDirection(pipeline, STAGE.prospecting, STAGE.closing)).toBe('forward');
    expect(stageDirection(pipeline, STAGE.closing, STAGE.qualifying)).toBe('backward');
    expect(stageDirection(pipeline, STAGE.closing, STAGE.closing)).toBe('same');
    expect(stageDirection(pipeline, STAGE.proposal, STAGE.closing)).toBe('unknown');
  });

  it('recognises its own event types only', () => {
    expect(PIPELINE_EVENT_TYPES).toHaveLength(8);
    expect(isPipelineEvent({ type: 'StageAdded' })).toBe(true);
    expect(isPipelineEvent({ type: 'DealCreated' })).toBe(false);
    expect(isPipelineEvent({ type: 'toString' })).toBe(false);
  });

  it('names streams pipeline-<id>', () => {
    expect(pipelineStreamName('3f2a')).toBe('pipeline-3f2a');
  });

  it('refuses a named pipeline that does not exist as unknown-pipeline (invalid, so 422), and passes one that does', () => {
    expect(requireKnownPipeline(pipeline, 'pipeline-0001')).toBe(pipeline);
    let caught: unknown;
    try {
      requireKnownPipeline(undefined, 'pipeline-0404');
    } catch (error) {
      caught = error;
    }
    expect(isDomainError(caught) && { code: caught.code, kind: caught.kind, details: caught.details }).toStrictEqual({
      code: 'unknown-pipeline',
      kind: 'invalid',
      details: { pipelineId: 'pipeline-0404' },
    });
  });
});
