import { fold } from '@dealstream/decider';
import { pipelineDecider } from './pipeline.decider.js';
import type { PipelineEvent } from './pipeline.events.js';
import { initialPipelineState } from './pipeline.state.js';
import { PIPELINE_ID, pipelineDefined, STAGE, standardStages } from './testing/pipeline.fixtures.js';

describe('pipeline evolve', () => {
  it('starts undefined and empty', () => {
    expect(initialPipelineState()).toStrictEqual({
      status: 'undefined',
      pipelineId: '',
      name: '',
      currency: null,
      stages: [],
      removedStages: {},
      version: 0,
    });
  });

  it('folds a year of board changes into the definition in force', () => {
    const history: PipelineEvent[] = [
      pipelineDefined(),
      { type: 'StageAdded', data: { stage: { stageId: 'stage-demo', name: 'Demo', probability: 30 }, index: 2 } },
      { type: 'StageRenamed', data: { stageId: STAGE.proposal, name: 'Quotation' } },
      { type: 'StageProbabilityChanged', data: { stageId: STAGE.closing, probability: 95 } },
      { type: 'StageGoalSet', data: { stageId: STAGE.qualifying, goal: {} } },
      { type: 'StageGoalSet', data: { stageId: STAGE.proposal, goal: { targetConversion: 45 } } },
      { type: 'StageRemoved', data: { stageId: STAGE.negotiation, moveOpenDealsTo: STAGE.proposal } },
      {
        type: 'StagesReordered',
        data: { stageIds: [STAGE.prospecting, 'stage-demo', STAGE.qualifying, STAGE.proposal, STAGE.closing] },
      },
      { type: 'StageRemoved', data: { stageId: STAGE.proposal, moveOpenDealsTo: STAGE.closing } },
      { type: 'PipelineArchived', data: {} },
    ];

    expect(fold(pipelineDecider, history)).toStrictEqual({
      status: 'archived',
      pipelineId: PIPELINE_ID,
      name: 'Enterprise sales',
      currency: 'EUR',
      stages: [
        { stageId: STAGE.prospecting, name: 'Prospecting', probability: 10 },
        { stageId: 'stage-demo', name: 'Demo', probability: 30 },
        { stageId: STAGE.qualifying, name: 'Qualifying', probability: 20 },
        { stageId: STAGE.closing, name: 'Closing', probability: 95 },
      ],
      removedStages: {
        [STAGE.negotiation]: { name: 'Negotiation', movedTo: STAGE.proposal },
        [STAGE.proposal]: { name: 'Quotation', movedTo: STAGE.closing },
      },
      version: 10,
    });
  });

  it('does not mutate the state it folds over', () => {
    const before = fold(pipelineDecider, [pipelineDefined()]);
    const copy = structuredClone(before);
    pipelineDecider.evolve(before, { type: 'StageRenamed', data: { stageId: STAGE.proposal, name: 'Quote' } });
    pipelineDecider.evolve(before, {
      type: 'StageRemoved',
      data: { stageId: STAGE.proposal, moveOpenDealsTo: STAGE.closing },
    });
    expect(before).toStrictEqual(copy);
  });

  it('skips event types it does not know, still counting the version', () => {
    const unknown = { type: 'StageColourChanged', data: { stageId: STAGE.proposal } } as unknown as PipelineEvent;
    expect(fold(pipelineDecider, [pipelineDefined(), unknown])).toMatchObject({ stages: standardStages, version: 2 });
  });
});
