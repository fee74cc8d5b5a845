import type { ArchivePipeline, DefinePipeline } from './pipeline.commands.js';
import { pipelineError } from './pipeline.errors.js';
import type { PipelineArchived, PipelineDefined } from './pipeline.events.js';
import { requireActivePipeline } from './pipeline.guards.js';
import type { Stage } from './pipeline-stage.model.js';
import type { PipelineState } from './pipeline.state.js';
import {
  MAX_STAGES,
  nameKey,
  requireCurrency,
  requireId,
  requirePipelineName,
  requireStage,
} from './pipeline.validation.js';

function requireStageList(stages: readonly Stage[]): Stage[] {
  if (stages.length === 0) throw pipelineError('no-stages', 'A pipeline needs at least one stage');
  if (stages.length > MAX_STAGES) {
    throw pipelineError('too-many-stages', `A pipeline has at most ${MAX_STAGES} stages`, { count: stages.length });
  }
  const valid = stages.map(requireStage);
  const ids = new Set<string>();
  const names = new Set<string>();
  for (const stage of valid) {
    if (ids.has(stage.stageId)) {
      throw pipelineError('duplicate-stage-id', `Stage id ${stage.stageId} appears twice`, { stageId: stage.stageId });
    }
    if (names.has(nameKey(stage.name))) {
      throw pipelineError('duplicate-stage-name', `Stage name "${stage.name}" appears twice`, { name: stage.name });
    }
    ids.add(stage.stageId);
    names.add(nameKey(stage.name));
  }
  return valid;
}

export function decideDefinePipeline({ data }: DefinePipeline, state: PipelineState): PipelineDefined[] {
  const pipelineId = requireId(data.pipelineId, 'invalid-pipeline-id', 'pipelineId');
  const name = requirePipelineName(data.name);
  const currency = data.currency === undefined ? undefined : requireCurrency(data.currency);
  const stages = requireStageList(data.stages);
  if (state.status !== 'undefined') {
    throw pipelineError('pipeline-already-defined', 'The pipeline is already defined', {
      pipelineId: state.pipelineId,
    });
  }
  return [{ type: 'PipelineDefined', data: { pipelineId, name, ...(currency ? { currency } : {}), stages } }];
}

/** Archiving twice is refused rather than ignored: an archived pipeline accepts no command at all. */
export function decideArchivePipeline(_command: ArchivePipeline, state: PipelineState): PipelineArchived[] {
  requireActivePipeline(state);
  return [{ type: 'PipelineArchived', data: {} }];
}
