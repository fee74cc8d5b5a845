import { DeciderSpec } from '@dealstream/decider/testing';
import type { AddStage } from './pipeline.commands.js';
import { pipelineDecider } from './pipeline.decider.js';
import type { PipelineEvent } from './pipeline.events.js';
import { numberedStages, pipelineDefined, STAGE, standardStages } from './testing/pipeline.fixtures.js';

const spec = DeciderSpec.for(pipelineDecider);
const defined = pipelineDefined();
const proposalRemoved: PipelineEvent = {
  type: 'StageRemoved',
  data: { stageId: STAGE.proposal, moveOpenDealsTo: STAGE.negotiation },
};
const demo = { stageId: 'stage-demo', name: 'Demo', probability: 30 };
const addStage = (data: Partial<AddStage['data']> = {}): AddStage => ({
  type: 'AddStage',
  data: { stage: demo, ...data },
});

describe('pipeline stages', () => {
  describe('when active: AddStage', () => {
    it('appends at the end when no index is given, recording the resolved index', () => {
      spec
        .given([defined])
        .when(addStage())
        .then([{ type: 'StageAdded', data: { stage: demo, index: 5 } }]);
    });

    it('inserts at the front', () => {
      spec
        .given([defined])
        .when(addStage({ index: 0 }))
        .thenState({ stages: [demo, ...standardStages] });
    });

    it('inserts between two stages', () => {
      spec
        .given([defined])
        .when(addStage({ index: 2 }))
        .thenState({ stages: [...standardStages.slice(0, 2), demo, ...standardStages.slice(2)] });
    });

    it('stores a trimmed name and goal targets only', () => {
      spec
        .given([defined])
        .when(
          addStage({ stage: { ...demo, name: ' Demo ', goal: { maxDaysInStage: 5, targetConversion: undefined } } }),
        )
        .then([{ type: 'StageAdded', data: { stage: { ...demo, goal: { maxDaysInStage: 5 } }, index: 5 } }]);
    });

    it('refuses an index past the end', () => {
      spec
        .given([defined])
        .when(addStage({ index: 6 }))
        .thenThrows('invalid-stage-index', { kind: 'invalid' });
    });

    it.each([-1, 1.5])('refuses index %p', (index) => {
      spec.given([defined]).when(addStage({ index })).thenThrows('invalid-stage-index');
    });

    it('refuses an id already in the pipeline', () => {
      spec
        .given([defined])
        .when(addStage({ stage: { ...demo, stageId: STAGE.proposal } }))
        .thenThrows('stage-already-exists', { kind: 'conflict' });
    });

    it('refuses to reuse the id of a removed stage', () => {
      spec
        .given([defined, proposalRemoved])
        .when(addStage({ stage: { ...demo, stageId: STAGE.proposal } }))
        .thenThrows('stage-already-exists');
    });

    it('refuses a name another stage has, ignoring case', () => {
      spec
        .given([defined])
        .when(addStage({ stage: { ...demo, name: 'PROPOSAL' } }))
        .thenThrows('stage-name-taken', { kind: 'conflict', details: { stageId: STAGE.proposal } });
    });

    it('frees the name of a removed stage', () => {
      spec
        .given([defined, proposalRemoved])
        .when(addStage({ stage: { ...demo, name: 'Proposal' } }))
        .then([{ type: 'StageAdded', data: { stage: { ...demo, name: 'Proposal' }, index: 4 } }]);
    });

    it('refuses a 31st stage', () => {
      spec
        .given([pipelineDefined({ stages: numberedStages(30) })])
        .when(addStage())
        .thenThrows('stage-limit-reached', { kind: 'conflict' });
    });

    it('refuses an invalid probability', () => {
      spec
        .given([defined])
        .when(addStage({ stage: { ...demo, probability: 200 } }))
        .thenThrows('invalid-probability');
    });
  });

  describe('when active: RenameStage', () => {
    it('renames the stage', () => {
      spec
        .given([defined])
        .when({ type: 'RenameStage', data: { stageId: STAGE.proposal, name: ' Quotation ' } })
        .then([{ type: 'StageRenamed', data: { stageId: STAGE.proposal, name: 'Quotation' } }]);
    });

    it.each(['Quote\u0000', 'Quote\ud800', 'Quo\u001bte'])('refuses the unstorable name %j', (name) => {
      spec
        .given([defined])
        .when({ type: 'RenameStage', data: { stageId: STAGE.proposal, name } })
        .thenThrows('invalid-stage-name', { kind: 'invalid' });
    });

    it('treats the current name as a no-op', () => {
      spec
        .given([defined])
        .when({ type: 'RenameStage', data: { stageId: STAGE.proposal, name: 'Proposal' } })
        .thenNothingHappens();
    });

    it('allows changing only the case of its own name', () => {
      spec
        .given([defined])
        .when({ type: 'RenameStage', data: { stageId: STAGE.proposal, name: 'PROPOSAL' } })
        .then([{ type: 'StageRenamed', data: { stageId: STAGE.proposal, name: 'PROPOSAL' } }]);
    });

    it("refuses another stage's name", () => {
      spec
        .given([defined])
        .when({ type: 'RenameStage', data: { stageId: STAGE.proposal, name: 'negotiation' } })
        .thenThrows('stage-name-taken');
    });

    it('refuses an unknown stage', () => {
      spec
        .given([defined])
        .when({ type: 'RenameStage', data: { stageId: 'nope', name: 'X' } })
        .thenThrows('stage-not-found', { kind: 'invalid', details: { stageId: 'nope' } });
    });

    it('refuses a removed stage', () => {
      spec
        .given([defined, proposalRemoved])
        .when({ type: 'RenameStage', data: { stageId: STAGE.proposal, name: 'X' } })
        .thenThrows('stage-removed', { kind: 'invalid' });
    });

    it('refuses a blank name', () => {
      spec
        .given([defined])
        .when({ type: 'RenameStage', data: { stageId: STAGE.proposal, name: ' ' } })
        .thenThrows('invalid-stage-name');
    });
  });

  describe('when active: ReorderStages', () => {
    const reversed = [...standardStages].reverse().map((stage) => stage.stageId);

    it('records the complete new order', () => {
      spec
        .given([defined])
        .when({ type: 'ReorderStages', data: { stageIds: reversed } })
        .then([{ type: 'StagesReordered', data: { stageIds: reversed } }]);
    });

    it('applies the order to the state', () => {
      spec
        .given([defined])
        .when({ type: 'ReorderStages', data: { stageIds: reversed } })
        .thenState({ stages: [...standardStages].reverse() });
    });

    it('treats the current order as a no-op', () => {
      spec
        .given([defined])
        .when({ type: 'ReorderStages', data: { stageIds: standardStages.map((s) => s.stageId) } })
        .thenNothingHappens();
    });

    it.each([
      ['a missing stage', reversed.slice(1)],
      ['an unknown stage', [...reversed.slice(1), 'stage-unknown']],
      ['a repeated stage', [...reversed.slice(1), reversed[1]]],
      ['an extra stage', [...reversed, 'stage-unknown']],
    ])('refuses an order with %s', (_label, stageIds) => {
      spec
        .given([defined])
        .when({ type: 'ReorderStages', data: { stageIds } })
        .thenThrows('invalid-stage-order', {
          kind: 'invalid',
          details: { expected: standardStages.map((s) => s.stageId) },
        });
    });

    it('refuses an order naming a removed stage', () => {
      spec
        .given([defined, proposalRemoved])
        .when({ type: 'ReorderStages', data: { stageIds: standardStages.map((s) => s.stageId) } })
        .thenThrows('invalid-stage-order');
    });
  });

  describe('when active: RemoveStage', () => {
    it('removes the stage and says where its open deals go', () => {
      spec
        .given([defined])
        .when({ type: 'RemoveStage', data: { stageId: STAGE.proposal, moveOpenDealsTo: STAGE.negotiation } })
        .then([proposalRemoved]);
    });

    it('remembers the removed stage', () => {
      spec
        .given([defined])
        .when({ type: 'RemoveStage', data: { stageId: STAGE.proposal, moveOpenDealsTo: STAGE.qualifying } })
        .thenState({
          stages: standardStages.filter((s) => s.stageId !== STAGE.proposal),
          removedStages: { [STAGE.proposal]: { name: 'Proposal', movedTo: STAGE.qualifying } },
        });
    });

    it('refuses to remove the last stage', () => {
      spec
        .given([pipelineDefined({ stages: numberedStages(1) })])
        .when({ type: 'RemoveStage', data: { stageId: 's-1', moveOpenDealsTo: 's-2' } })
        .thenThrows('last-stage-cannot-be-removed', { kind: 'conflict' });
    });

    it('refuses to move open deals into the stage being removed', () => {
      spec
        .given([defined])
        .when({ type: 'RemoveStage', data: { stageId: STAGE.proposal, moveOpenDealsTo: STAGE.proposal } })
        .thenThrows('move-target-same-stage', { kind: 'invalid' });
    });

    it('refuses an unknown target', () => {
      spec
        .given([defined])
        .when({ type: 'RemoveStage', data: { stageId: STAGE.proposal, moveOpenDealsTo: 'nope' } })
        .thenThrows('stage-not-found', { details: { stageId: 'nope', field: 'moveOpenDealsTo' } });
    });

    it('refuses a removed target', () => {
      spec
        .given([defined, proposalRemoved])
        .when({ type: 'RemoveStage', data: { stageId: STAGE.closing, moveOpenDealsTo: STAGE.proposal } })
        .thenThrows('stage-removed', { details: { field: 'moveOpenDealsTo' } });
    });

    it('refuses to remove a stage twice', () => {
      spec
        .given([defined, proposalRemoved])
        .when({ type: 'RemoveStage', data: { stageId: STAGE.proposal, moveOpenDealsTo: STAGE.closing } })
        .thenThrows('stage-removed', { details: { field: 'stageId' } });
    });

    it('refuses an unknown stage', () => {
      spec
        .given([defined])
        .when({ type: 'RemoveStage', data: { stageId: 'nope', moveOpenDealsTo: STAGE.closing } })
        .thenThrows('stage-not-found', { details: { field: 'stageId' } });
    });

    it('refuses an empty target id', () => {
      spec
        .given([defined])
        .when({ type: 'RemoveStage', data: { stageId: STAGE.proposal, moveOpenDealsTo: '' } })
        .thenThrows('invalid-stage-id', { details: { field: 'moveOpenDealsTo' } });
    });
  });
});
