import {
  pipelineDecider,
  pipelineStreamName,
  type PipelineEvent,
  type PipelineState,
  type Stage,
} from '@dealstream/pipelines-domain';
import type { AuditedAggregate } from './audited-aggregate.js';

/**
 * Pipelines as the audit views see them. The diff keys stages by id (`stages.<id>.probability`) and
 * keeps their order apart (`stageOrder`), so a reorder is one change and a probability change is not
 * reported as a change of the whole stage list.
 */
export const PIPELINE_AUDIT: AuditedAggregate<PipelineState, PipelineEvent> = {
  kind: 'pipeline',
  streamName: pipelineStreamName,
  initialState: pipelineDecider.initialState,
  evolve: pipelineDecider.evolve,
  diffView: ({ version: _version, stages, ...fields }) => ({
    ...fields,
    stageOrder: stages.map((stage) => stage.stageId),
    stages: Object.fromEntries(stages.map(({ stageId, ...stage }: Stage) => [stageId, stage])),
  }),
  identityDataFields: {},
  identityStateFields: [],
};
