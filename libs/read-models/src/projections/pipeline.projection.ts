import {
  evolvePipeline,
  initialPipelineState,
  type PipelineEvent,
  type PipelineState,
} from '@dealstream/pipelines-domain';
import type { InMemoryRow, PipelinesTable, ReadModelDb } from '../schema/read-model.tables.js';
import { rowKey } from './batch-writes.js';
import { defineProjection, type ProjectedEvent, type ProjectionBatch } from './projection-definition.js';

/** A pipelines-table row in memory while a batch is projected. */
export type PipelineRow = Pick<
  InMemoryRow<PipelinesTable>,
  'pipeline_id' | 'revision' | 'effective_at' | 'updated_at'
> & { state: PipelineState };

/**
 * The pipeline projection: the current definition (pipelines), a version of the definition valid
 * from each event on (pipeline_versions) — so a report can use the definition in force at any
 * instant — and the stages removed (removed_stages), whose open deals the relocation reactor moves.
 * Every event folds the pipeline with the domain's own `evolvePipeline` (`foldPipeline`).
 */
export const pipelineProjection = defineProjection<PipelineRow, PipelineEvent>({
  name: 'pipelines',
  category: 'pipeline',
  load: loadPipelines,
  handlers: {
    PipelineDefined: foldPipeline, // the pipelines row and its first version
    StageAdded: foldPipeline, // a new version of the definition
    StageRenamed: foldPipeline,
    StagesReordered: foldPipeline,
    StageRemoved: (event, batch) => {
      // a new version, and the removed stage with where its open deals go
      if (foldPipeline(event, batch)) recordRemovedStage(event, batch);
    },
    StageProbabilityChanged: foldPipeline,
    StageGoalSet: foldPipeline,
    PipelineArchived: foldPipeline,
  },
});

async function loadPipelines(
  trx: ReadModelDb,
  schema: string,
  ids: readonly string[],
): Promise<Map<string, PipelineRow>> {
  if (ids.length === 0) return new Map();
  const rows = await trx
    .withSchema(schema)
    .selectFrom('pipelines')
    .select(['pipeline_id', 'state', 'revision', 'effective_at', 'updated_at'])
    .where('pipeline_id', '=', (eb) => eb.fn.any(eb.val([...ids])))
    .execute();
  return new Map(
    rows.map((row) => [
      row.pipeline_id,
      {
        pipeline_id: row.pipeline_id,
        state: (typeof row.state === 'string' ? JSON.parse(row.state) : row.state) as PipelineState,
        revision: Number(row.revision),
        effective_at: new Date(row.effective_at),
        updated_at: new Date(row.updated_at),
      },
    ]),
  );
}

/** Folds one event into the pipeline's row and a new version; false when it changed nothing (already applied). */
function foldPipeline(event: ProjectedEvent<PipelineEvent>, { rows, writes }: ProjectionBatch<PipelineRow>): boolean {
  const pipelineId = event.streamId.slice('pipeline-'.length);
  const revision = Number(event.revision);
  const before = rows.get(pipelineId);
  if (before && revision <= before.revision) return false;
  const at =
    before && before.effective_at > event.metadata.occurredAt ? before.effective_at : event.metadata.occurredAt;
  const state = evolvePipeline(before?.state ?? initialPipelineState(), {
    type: event.type,
    data: event.data,
  } as PipelineEvent);
  if (state.status === 'undefined') return false;

  if (before) {
    const pending = writes.pipelineVersions.get(rowKey(pipelineId, before.revision));
    if (pending) {
      pending.valid_to = at;
      pending.recorded_to = event.recordedAt;
    } else {
      writes.pipelineVersionClosings.push({
        pipeline_id: pipelineId,
        revision: before.revision,
        at,
        recorded_at: event.recordedAt,
      });
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
  rows.set(pipelineId, { pipeline_id: pipelineId, state, revision, effective_at: at, updated_at: event.recordedAt });
  return true;
}

function recordRemovedStage(
  event: ProjectedEvent<PipelineEvent, 'StageRemoved'>,
  { rows, writes }: ProjectionBatch<PipelineRow>,
): void {
  const row = rows.get(event.streamId.slice('pipeline-'.length))!;
  const { stageId, moveOpenDealsTo } = event.data;
  writes.removedStages.push({
    pipeline_id: row.pipeline_id,
    stage_id: stageId,
    removal_event_id: event.eventId,
    moved_to_stage_id: moveOpenDealsTo,
    removed_at: row.effective_at,
  });
}
