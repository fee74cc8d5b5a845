import { findStage, isStageRemoved, type PipelineSnapshot } from '@dealstream/pipelines-domain';
import { dealError } from './deal.errors.js';
import type { DealState } from './deal.state.js';

/** New deals and stage moves need a board that exists and is not archived. */
export function requireActivePipeline(pipeline: PipelineSnapshot): void {
  if (pipeline.status === 'undefined') {
    throw dealError('pipeline-not-found', 'The pipeline does not exist', { pipelineId: pipeline.pipelineId });
  }
  if (pipeline.status === 'archived') {
    throw dealError('pipeline-archived', 'The pipeline is archived', { pipelineId: pipeline.pipelineId });
  }
}

/** A snapshot of another pipeline is a caller bug, caught here rather than moving the deal off-board. */
export function requireDealsPipeline(pipeline: PipelineSnapshot, state: DealState): void {
  if (pipeline.pipelineId !== state.pipelineId) {
    throw dealError('pipeline-mismatch', "The pipeline snapshot is not the deal's pipeline", {
      expected: state.pipelineId,
      actual: pipeline.pipelineId,
    });
  }
  requireActivePipeline(pipeline);
}

export function requireLiveStage(pipeline: PipelineSnapshot, stageId: string, field: string): void {
  if (isStageRemoved(pipeline, stageId)) {
    throw dealError('stage-removed', `Stage ${stageId} was removed from the pipeline`, { stageId, field });
  }
  if (!findStage(pipeline, stageId)) {
    throw dealError('stage-not-found', `Stage ${stageId} is not in the pipeline`, { stageId, field });
  }
}

/** A pipeline-level currency binds every deal on it; a pipeline without one takes any. */
export function requirePipelineCurrency(pipeline: PipelineSnapshot, currency: string): void {
  if (pipeline.currency !== null && pipeline.currency !== currency) {
    throw dealError('currency-mismatch', `The pipeline is in ${pipeline.currency}`, {
      expected: pipeline.currency,
      actual: currency,
    });
  }
}
