import { DeciderSpec } from '@dealstream/decider/testing';
import { isDomainError } from '@dealstream/decider';
import { STAGE_MAP_ERROR_CODES, stageMapErrorKinds } from './stage-map.errors.js';
import { stageMapDecider } from './stage-map.decider.js';
import type { DefineStageMap } from './stage-map.commands.js';
import type { StageMapDefined } from './stage-map.events.js';

const stages = ['s1', 's2', 's3', 'gone'];
const define: DefineStageMap = {
  type: 'DefineStageMap',
  data: {
    stageMapId: 'm1',
    pipelineId: 'p1',
    name: ' Five stages ',
    targets: [
      { targetId: 'early', name: 'Early' },
      { targetId: 'late', name: 'Late' },
    ],
    assignments: [
      { stageId: 's1', countsAs: 'early' },
      { stageId: 's2', countsAs: 'early' },
      { stageId: 's3', countsAs: 'late' },
      { stageId: 'gone', countsAs: 'ignore' },
    ],
    pipelineStageIds: stages,
  },
};
const defined: StageMapDefined = {
  type: 'StageMapDefined',
  data: {
    stageMapId: 'm1',
    pipelineId: 'p1',
    name: 'Five stages',
    targets: define.data.targets.map((t) => ({ ...t })),
    assignments: define.data.assignments.map((a) => ({ ...a })),
  },
};

function problemsOf(command: DefineStageMap): unknown {
  try {
    stageMapDecider.decide(command, stageMapDecider.initialState());
  } catch (error) {
    if (isDomainError(error)) return { code: error.code, ...error.details };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('stage map decider', () => {
  it('defines a map covering every stage the pipeline ever had, name trimmed', () => {
    DeciderSpec.for(stageMapDecider).given([]).when(define).then([defined]);
  });

  it('refuses a second definition (409) and changes of a deleted map', () => {
    DeciderSpec.for(stageMapDecider)
      .given([defined])
      .when(define)
      .thenThrows('stage-map-already-defined', { kind: 'conflict' });
    DeciderSpec.for(stageMapDecider)
      .given([defined, { type: 'StageMapDeleted', data: {} }])
      .when({ type: 'DeleteStageMap', data: {} })
      .thenThrows('stage-map-deleted', { kind: 'conflict' });
  });

  it('records a change as the whole new content and a deletion', () => {
    const change = { ...define.data, name: 'Two', targets: [{ targetId: 'all', name: 'All' }] };
    DeciderSpec.for(stageMapDecider)
      .given([defined])
      .when({
        type: 'ChangeStageMap',
        data: {
          name: change.name,
          targets: change.targets,
          assignments: stages.map((stageId) => ({ stageId, countsAs: 'all' })),
          pipelineStageIds: stages,
        },
      })
      .then([
        {
          type: 'StageMapChanged',
          data: {
            name: 'Two',
            targets: [{ targetId: 'all', name: 'All' }],
            assignments: stages.map((stageId) => ({ stageId, countsAs: 'all' })),
          },
        },
      ]);
    DeciderSpec.for(stageMapDecider)
      .given([defined])
      .when({ type: 'DeleteStageMap', data: {} })
      .then([{ type: 'StageMapDeleted', data: {} }]);
  });

  it('names every broken rule with every offending entry in one refusal', () => {
    const bad: DefineStageMap = {
      type: 'DefineStageMap',
      data: {
        ...define.data,
        targets: [
          { targetId: 'early', name: 'Early' },
          { targetId: 'early', name: 'early' },
          { targetId: 'ignore', name: 'Nothing' },
          { targetId: 'unused', name: 'Unused' },
        ],
        assignments: [
          { stageId: 's1', countsAs: 'early' },
          { stageId: 's1', countsAs: 'early' },
          { stageId: 'nope', countsAs: 'early' },
          { stageId: 's2', countsAs: 'missing' },
        ],
      },
    };
    expect(problemsOf(bad)).toEqual({
      code: 'invalid-stage-map',
      problems: [
        { rule: 'invalid-target-id', entries: ['ignore'] },
        { rule: 'duplicate-target-id', entries: ['early'] },
        { rule: 'duplicate-target-name', entries: ['early'] },
        { rule: 'duplicate-stage', entries: ['s1'] },
        { rule: 'unknown-stage', entries: ['nope'] },
        { rule: 'unknown-target', entries: [{ stageId: 's2', countsAs: 'missing' }] },
        { rule: 'unmapped-stage', entries: ['s3', 'gone'] },
        { rule: 'empty-target', entries: ['ignore', 'unused'] },
      ],
    });
  });

  it('refuses a map without targets and a blank name', () => {
    expect(problemsOf({ ...define, data: { ...define.data, targets: [], assignments: [] } })).toEqual({
      code: 'invalid-stage-map',
      problems: [
        { rule: 'no-targets', entries: [null] },
        { rule: 'unmapped-stage', entries: stages },
      ],
    });
    DeciderSpec.for(stageMapDecider)
      .given([])
      .when({ ...define, data: { ...define.data, name: '  ' } })
      .thenThrows('invalid-stage-map-name', { kind: 'invalid' });
  });

  it('keeps codes kebab-case with one kind each', () => {
    for (const code of STAGE_MAP_ERROR_CODES) expect(code).toMatch(/^[a-z]+(-[a-z]+)*$/);
    expect(stageMapErrorKinds['invalid-stage-map']).toBe('invalid');
  });
});
