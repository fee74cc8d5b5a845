import { fold } from '@dealstream/shared-domain';
import type { EventStore } from '@dealstream/event-store';
import {
  pipelineDecider,
  pipelineStreamName,
  toPipelineSnapshot,
  type PipelineEvent,
  type PipelineSnapshot,
} from '@dealstream/pipelines-domain';

/**
 * The pipeline as deal commands need it, folded from its stream (the source of truth, not a read
 * model, so a move is checked against the definition as it is now). Undefined if it does not exist.
 */
export async function loadPipelineSnapshot(store: EventStore, pipelineId: string): Promise<PipelineSnapshot | undefined> {
  const events = await store.readStream<PipelineEvent>(pipelineStreamName(pipelineId));
  if (events.length === 0) return undefined;
  return toPipelineSnapshot(fold(pipelineDecider, events));
}
