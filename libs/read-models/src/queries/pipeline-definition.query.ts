import { sql } from 'kysely';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { resolveLiveStageId, type RemovedStage, type Stage } from '@dealstream/pipelines-domain';
import type { AsOf } from './time-axis.js';

export interface PipelineDefinition {
  readonly pipelineId: string;
  readonly name: string;
  readonly currency: string | null;
  readonly status: string;
  readonly stages: readonly Stage[];
  readonly removedStages: Readonly<Record<string, RemovedStage>>;
  /** Revision of the pipeline stream this definition comes from. */
  readonly revision: number;
}

/**
 * The pipeline definition in force at `asOf` (or now): stage order, names, probabilities and goals
 * as they were then. Undefined when the pipeline did not exist yet.
 */
export async function pipelineDefinition(
  db: ReadModelDb,
  schema: string,
  pipelineId: string,
  asOf: AsOf,
): Promise<PipelineDefinition | undefined> {
  const columns = ['pipeline_id', 'name', 'currency', 'status', 'stages', 'removed_stages', 'revision'] as const;
  const at = asOf.at;
  const row = at
    ? await db
        .withSchema(schema)
        .selectFrom('pipeline_versions')
        .select(columns)
        .where('pipeline_id', '=', pipelineId)
        .where(asOf.axis === 'occurred' ? 'valid_from' : 'recorded_from', '<=', at)
        .where(asOf.axis === 'occurred' ? 'valid_to' : 'recorded_to', '>', at)
        .orderBy('revision', 'desc')
        .limit(1)
        .executeTakeFirst()
    : await db
        .withSchema(schema)
        .selectFrom('pipelines')
        .select(columns)
        .where('pipeline_id', '=', pipelineId)
        .executeTakeFirst();
  if (!row) return undefined;
  return {
    pipelineId: row.pipeline_id,
    name: row.name,
    currency: row.currency,
    status: row.status,
    stages: jsonColumn(row.stages) as Stage[],
    removedStages: jsonColumn(row.removed_stages) as Record<string, RemovedStage>,
    revision: Number(row.revision),
  };
}

/**
 * Every stage id deals may carry (live and removed), with the live stage it counts under, the
 * live stage's board position, probability and stall limit: the `def` table reports join against.
 */
export function stageMap(
  definition: PipelineDefinition,
): { stageId: string; liveStageId: string; position: number; probability: number; maxDays: number | null }[] {
  const live = definition.stages.map((stage, position) => ({ stage, position }));
  const byId = new Map(live.map(({ stage, position }) => [stage.stageId, { stage, position }]));
  const ids = [...definition.stages.map((stage) => stage.stageId), ...Object.keys(definition.removedStages)];
  return ids.flatMap((stageId) => {
    const liveId = resolveLiveStageId(definition, stageId);
    const target = liveId ? byId.get(liveId) : undefined;
    if (!target) return [];
    return [
      {
        stageId,
        liveStageId: target.stage.stageId,
        position: target.position,
        probability: target.stage.probability,
        maxDays: target.stage.goal?.maxDaysInStage ?? null,
      },
    ];
  });
}

/** The stage map as a SQL VALUES list `def(stage_id, live_stage_id, position, probability, max_days)`. */
export function stageMapSql(definition: PipelineDefinition) {
  const rows = stageMap(definition);
  return sql`(values ${sql.join(rows.map((r) => sql`(${r.stageId}::uuid, ${r.liveStageId}::uuid, ${r.position}::int, ${r.probability}::int, ${r.maxDays}::int)`))})
    as def(stage_id, live_stage_id, position, probability, max_days)`;
}

/** A jsonb column as read: an object on PostgreSQL, text on some drivers. */
export function jsonColumn(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}
