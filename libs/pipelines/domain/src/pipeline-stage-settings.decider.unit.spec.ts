import { DeciderSpec } from '@dealstream/decider/testing';
import { pipelineDecider } from './pipeline.decider.js';
import type { PipelineEvent } from './pipeline.events.js';
import { pipelineDefined, STAGE } from './testing/pipeline.fixtures.js';

const spec = DeciderSpec.for(pipelineDecider);
const defined = pipelineDefined();
const removed: PipelineEvent = {
  type: 'StageRemoved',
  data: { stageId: STAGE.proposal, moveOpenDealsTo: STAGE.closing },
};

describe('stage settings', () => {
  describe('when active: ChangeStageProbability', () => {
    it('changes the win probability', () => {
      spec
        .given([defined])
        .when({ type: 'ChangeStageProbability', data: { stageId: STAGE.proposal, probability: 55 } })
        .then([{ type: 'StageProbabilityChanged', data: { stageId: STAGE.proposal, probability: 55 } }]);
    });

    it('treats the current probability as a no-op', () => {
      spec
        .given([defined])
        .when({ type: 'ChangeStageProbability', data: { stageId: STAGE.proposal, probability: 50 } })
        .thenNothingHappens();
    });

    it.each([-5, 101, 33.3, Number.NaN])('refuses probability %p', (probability) => {
      spec
        .given([defined])
        .when({ type: 'ChangeStageProbability', data: { stageId: STAGE.proposal, probability } })
        .thenThrows('invalid-probability', { kind: 'invalid' });
    });

    it('refuses a removed stage', () => {
      spec
        .given([defined, removed])
        .when({ type: 'ChangeStageProbability', data: { stageId: STAGE.proposal, probability: 1 } })
        .thenThrows('stage-removed');
    });

    it('refuses an unknown stage', () => {
      spec
        .given([defined])
        .when({ type: 'ChangeStageProbability', data: { stageId: 'nope', probability: 1 } })
        .thenThrows('stage-not-found');
    });
  });

  describe('when active: SetStageGoal', () => {
    it('sets a goal on a stage without one', () => {
      spec
        .given([defined])
        .when({
          type: 'SetStageGoal',
          data: { stageId: STAGE.proposal, goal: { maxDaysInStage: 30, targetConversion: 40 } },
        })
        .then([
          {
            type: 'StageGoalSet',
            data: { stageId: STAGE.proposal, goal: { maxDaysInStage: 30, targetConversion: 40 } },
          },
        ]);
    });

    it('replaces the whole goal rather than merging it', () => {
      spec
        .given([defined])
        .when({ type: 'SetStageGoal', data: { stageId: STAGE.negotiation, goal: { targetConversion: 50 } } })
        .thenState({
          stages: expect.arrayContaining([
            { stageId: STAGE.negotiation, name: 'Negotiation', probability: 70, goal: { targetConversion: 50 } },
          ]),
        });
    });

    it('clears a goal with an empty one', () => {
      spec
        .given([defined])
        .when({ type: 'SetStageGoal', data: { stageId: STAGE.qualifying, goal: {} } })
        .then([{ type: 'StageGoalSet', data: { stageId: STAGE.qualifying, goal: {} } }]);
    });

    it('leaves no goal key on a cleared stage', () => {
      spec
        .given([defined])
        .when({ type: 'SetStageGoal', data: { stageId: STAGE.qualifying, goal: {} } })
        .thenState({
          stages: expect.arrayContaining([{ stageId: STAGE.qualifying, name: 'Qualifying', probability: 20 }]),
        });
    });

    it('treats the same goal as a no-op', () => {
      spec
        .given([defined])
        .when({
          type: 'SetStageGoal',
          data: { stageId: STAGE.negotiation, goal: { targetConversion: 60, maxDaysInStage: 21 } },
        })
        .thenNothingHappens();
    });

    it('treats clearing an absent goal as a no-op', () => {
      spec
        .given([defined])
        .when({ type: 'SetStageGoal', data: { stageId: STAGE.proposal, goal: {} } })
        .thenNothingHappens();
    });

    it.each([
      ['maxDaysInStage 0', { maxDaysInStage: 0 }, 'maxDaysInStage'],
      ['maxDaysInStage 2.5', { maxDaysInStage: 2.5 }, 'maxDaysInStage'],
      ['targetConversion -1', { targetConversion: -1 }, 'targetConversion'],
      ['targetConversion 101', { targetConversion: 101 }, 'targetConversion'],
    ])('refuses %s', (_label, goal, field) => {
      spec
        .given([defined])
        .when({ type: 'SetStageGoal', data: { stageId: STAGE.proposal, goal } })
        .thenThrows('invalid-stage-goal', { kind: 'invalid', details: { field } });
    });

    it('refuses an unknown stage', () => {
      spec
        .given([defined])
        .when({ type: 'SetStageGoal', data: { stageId: 'nope', goal: { maxDaysInStage: 1 } } })
        .thenThrows('stage-not-found');
    });
  });
});
