import type { EventStore } from '@dealstream/event-store';
import { aggregateStream } from '@dealstream/command-handling';
import {
  pipelineDecider,
  pipelineStreamName,
  toPipelineSnapshot,
  type PipelineSnapshot,
} from '@dealstream/pipelines-domain';

/**
 * The pipeline as deal commands need it, folded from its stream (the source of truth, not a read
 * model, so a move is checked against the definition as it is now). Undefined if it does not exist.
 */
export async function loadPipelineSnapshot(
  store: EventStore,
  pipelineId: string,
): Promise<PipelineSnapshot | undefined> {
  const { state, revision } = await aggregateStream(store, pipelineStreamName(pipelineId), pipelineDecider);
  return revision === undefined ? undefined : toPipelineSnapshot(state);
}
