import { DeciderSpec } from '@dealstream/decider/testing';
import type { PipelineCommand } from './pipeline.commands.js';
import { pipelineDecider } from './pipeline.decider.js';
import {
  archived,
  definePipeline,
  numberedStages,
  pipelineDefined,
  PIPELINE_ID,
  STAGE,
  standardStages,
} from './testing/pipeline.fixtures.js';

const spec = DeciderSpec.for(pipelineDecider);

/** One valid instance of every command except DefinePipeline, for the "nothing may change" rules. */
const changes: PipelineCommand[] = [
  { type: 'AddStage', data: { stage: { stageId: 'stage-new', name: 'Demo', probability: 30 } } },
  { type: 'RenameStage', data: { stageId: STAGE.proposal, name: 'Quote' } },
  { type: 'ReorderStages', data: { stageIds: [...standardStages].reverse().map((s) => s.stageId) } },
  { type: 'RemoveStage', data: { stageId: STAGE.proposal, moveOpenDealsTo: STAGE.negotiation } },
  { type: 'ChangeStageProbability', data: { stageId: STAGE.proposal, probability: 55 } },
  { type: 'SetStageGoal', data: { stageId: STAGE.proposal, goal: { maxDaysInStage: 10 } } },
  { type: 'ArchivePipeline', data: {} },
];

describe('pipeline definition', () => {
  describe('when undefined', () => {
    it('defines the pipeline with its ordered stages', () => {
      spec.given([]).when(definePipeline()).then([pipelineDefined()]);
    });

    it('omits the currency of a multi-currency pipeline', () => {
      spec
        .given([])
        .when(definePipeline({ currency: undefined }))
        .then([
          {
            type: 'PipelineDefined',
            data: { pipelineId: PIPELINE_ID, name: 'Enterprise sales', stages: standardStages },
          },
        ]);
    });

    it('stores trimmed names and drops empty goals', () => {
      spec
        .given([])
        .when(
          definePipeline({
            name: '  Renewals ',
            stages: [{ stageId: 's-1', name: ' Contacted  ', probability: 5, goal: {} }],
          }),
        )
        .then([pipelineDefined({ name: 'Renewals', stages: [{ stageId: 's-1', name: 'Contacted', probability: 5 }] })]);
    });

    it('accepts exactly 30 stages and 120-character names', () => {
      const longName = 'x'.repeat(120);
      spec
        .given([])
        .when(definePipeline({ name: longName, stages: numberedStages(30) }))
        .then([pipelineDefined({ name: longName, stages: numberedStages(30) })]);
    });

    it('accepts probability bounds 0 and 100', () => {
      const stages = [
        { stageId: 'a', name: 'A', probability: 0 },
        { stageId: 'b', name: 'B', probability: 100 },
      ];
      spec
        .given([])
        .when(definePipeline({ stages }))
        .then([pipelineDefined({ stages })]);
    });

    it.each([
      ['no stages', { stages: [] }, 'no-stages'],
      ['31 stages', { stages: numberedStages(31) }, 'too-many-stages'],
      ['an empty pipeline id', { pipelineId: ' ' }, 'invalid-pipeline-id'],
      ['a blank name', { name: '   ' }, 'invalid-pipeline-name'],
      ['a 121-character name', { name: 'x'.repeat(121) }, 'invalid-pipeline-name'],
      ['a lowercase currency', { currency: 'eur' }, 'invalid-currency'],
      ['a two-letter currency', { currency: 'EU' }, 'invalid-currency'],
      ['a currency that is not ISO 4217', { currency: 'QQQ' }, 'invalid-currency'],
      ['the ISO "no currency" code XXX', { currency: 'XXX' }, 'invalid-currency'],
      ['a NUL in the name', { name: 'New\u0000business' }, 'invalid-pipeline-name'],
      ['a lone surrogate in the name', { name: 'New \udc00' }, 'invalid-pipeline-name'],
      ['a line feed in the name', { name: 'New\nbusiness' }, 'invalid-pipeline-name'],
      ['a control character in the pipeline id', { pipelineId: 'p\u0007' }, 'invalid-pipeline-id'],
      ['a 201-character pipeline id', { pipelineId: 'p'.repeat(201) }, 'invalid-pipeline-id'],
    ] as const)('refuses %s', (_label, data, code) => {
      spec.given([]).when(definePipeline(data)).thenThrows(code, { kind: 'invalid' });
    });

    it.each([
      ['an empty stage id', { stageId: '', name: 'A', probability: 1 }, 'invalid-stage-id'],
      ['an empty stage name', { stageId: 'a', name: '', probability: 1 }, 'invalid-stage-name'],
      ['probability 101', { stageId: 'a', name: 'A', probability: 101 }, 'invalid-probability'],
      ['probability -1', { stageId: 'a', name: 'A', probability: -1 }, 'invalid-probability'],
      ['probability 12.5', { stageId: 'a', name: 'A', probability: 12.5 }, 'invalid-probability'],
      [
        'maxDaysInStage 0',
        { stageId: 'a', name: 'A', probability: 1, goal: { maxDaysInStage: 0 } },
        'invalid-stage-goal',
      ],
      ['a NUL in the stage name', { stageId: 'a', name: 'A\u0000', probability: 1 }, 'invalid-stage-name'],
      ['a lone surrogate in the stage name', { stageId: 'a', name: '\ud83dA', probability: 1 }, 'invalid-stage-name'],
      ['a lone surrogate in the stage id', { stageId: 'a\ud800', name: 'A', probability: 1 }, 'invalid-stage-id'],
      [
        'maxDaysInStage 3651 (the read models hold it as an integer interval)',
        { stageId: 'a', name: 'A', probability: 1, goal: { maxDaysInStage: 3651 } },
        'invalid-stage-goal',
      ],
      [
        'maxDaysInStage 2^31',
        { stageId: 'a', name: 'A', probability: 1, goal: { maxDaysInStage: 2 ** 31 } },
        'invalid-stage-goal',
      ],
      [
        'targetConversion 120',
        { stageId: 'a', name: 'A', probability: 1, goal: { targetConversion: 120 } },
        'invalid-stage-goal',
      ],
    ])('refuses a stage with %s', (_label, stage, code) => {
      spec
        .given([])
        .when(definePipeline({ stages: [stage] }))
        .thenThrows(code, { kind: 'invalid' });
    });

    it('refuses duplicate stage ids', () => {
      const stages = [
        { stageId: 'a', name: 'A', probability: 1 },
        { stageId: 'a', name: 'B', probability: 2 },
      ];
      spec
        .given([])
        .when(definePipeline({ stages }))
        .thenThrows('duplicate-stage-id', { details: { stageId: 'a' } });
    });

    it('refuses stage names that differ only in case or spacing', () => {
      const stages = [
        { stageId: 'a', name: 'Proposal', probability: 1 },
        { stageId: 'b', name: ' proposal', probability: 2 },
      ];
      spec.given([]).when(definePipeline({ stages })).thenThrows('duplicate-stage-name', { kind: 'invalid' });
    });

    it.each(changes.map((command) => [command.type, command] as const))(
      'refuses %s on a pipeline that does not exist',
      (_type, command) => {
        spec.given([]).when(command).thenThrows('pipeline-not-found', { kind: 'conflict' });
      },
    );
  });

  describe('when active', () => {
    it('refuses to define the pipeline twice', () => {
      spec
        .given([pipelineDefined()])
        .when(definePipeline())
        .thenThrows('pipeline-already-defined', { kind: 'conflict' });
    });

    it('archives the pipeline', () => {
      spec.given([pipelineDefined()]).when({ type: 'ArchivePipeline', data: {} }).then([archived]);
    });
  });

  describe('when archived', () => {
    it('refuses to define it again', () => {
      spec.given([pipelineDefined(), archived]).when(definePipeline()).thenThrows('pipeline-already-defined');
    });

    it.each(changes.map((command) => [command.type, command] as const))('refuses %s', (_type, command) => {
      spec.given([pipelineDefined(), archived]).when(command).thenThrows('pipeline-archived', { kind: 'conflict' });
    });

    it('keeps the stages as they were when archived', () => {
      spec
        .given([pipelineDefined()])
        .when({ type: 'ArchivePipeline', data: {} })
        .thenState({ status: 'archived', stages: standardStages });
    });
  });
});
