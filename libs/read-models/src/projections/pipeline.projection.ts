import { evolvePipeline, initialPipelineState, isPipelineEvent, type PipelineEvent, type PipelineState } from '@dealstream/pipelines-domain';
import type { RecordedEvent } from '@dealstream/event-store';
import type { InMemoryRow, PipelinesTable } from '../schema/read-model.tables.js';
import { BatchWrites, rowKey } from './batch-writes.js';

/** A pipelines-table row in memory while a batch is projected. */
export type PipelineRow = Pick<InMemoryRow<PipelinesTable>, 'pipeline_id' | 'revision' | 'effective_at' | 'updated_at'> & { state: PipelineState };

/**
 * Projects one pipeline event: the current definition, and a new version of the definition valid
 * from this event on — so a report can use the definition in force at any instant.
 */
export function projectPipelineEvent(rows: Map<string, PipelineRow>, writes: BatchWrites, event: RecordedEvent): void {
  if (!isPipelineEvent(event)) return;
  const pipelineId = event.streamId.slice('pipeline-'.length);
  const revision = Number(event.revision);
  const before = rows.get(pipelineId);
  if (before && revision <= before.revision) return;
  const at = before && before.effective_at > event.metadata.occurredAt ? before.effective_at : event.metadata.occurredAt;
  const state = evolvePipeline(before?.state ?? initialPipelineState(), { type: event.type, data: event.data } as PipelineEvent);
  if (state.status === 'undefined') return;

  if (before) {
    const pending = writes.pipelineVersions.get(rowKey(pipelineId, before.revision));
    if (pending) {
      pending.valid_to = at;
      pending.recorded_to = event.recordedAt;
    } else {
      writes.pipelineVersionClosings.push({ pipeline_id: pipelineId, revision: before.revision, at, recorded_at: event.recordedAt });
    }
  }
  writes.pipelineVersions.set(rowKey(pipelineId, revision), {
    pipeline_id: pipelineId,
    revision,
    valid_from: at,
    valid_to: null,
    recorded_from: event.recordedAt,
    recorded_to: null,
    name: state.name,
    currency: state.currency,
    status: state.status,
    stages: state.stages,
    removed_stages: state.removedStages,
  });
  if (event.type === 'StageRemoved') {
    const { stageId, moveOpenDealsTo } = event.data as { stageId: string; moveOpenDealsTo: string };
    writes.removedStages.push({ pipeline_id: pipelineId, stage_id: stageId, removal_event_id: event.eventId, moved_to_stage_id: moveOpenDealsTo, removed_at: at });
  }
  rows.set(pipelineId, { pipeline_id: pipelineId, state, revision, effective_at: at, updated_at: event.recordedAt });
}
