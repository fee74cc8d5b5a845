import type { CompiledQuery, InferResult } from 'kysely';
import { compiledOnce } from '@dealstream/database';
import type { ReadModelDb } from '../schema/read-model.tables.js';

/**
 * Open deals whose read-model stage is in `removed_stages` — an indexed join that is empty almost
 * always. The stage-relocation reactor (libs/deals/application) moves them after each batch: it
 * needs the deal's revision the read model saw and the removal's event id (its idempotency key).
 */
export async function dealsInRemovedStages(db: ReadModelDb, schema: string) {
  // Built once per schema: the projection runs this after every batch and every caught-up read,
  // where building it again was 2% of the API's CPU per command (test/benchmarks/README.md,
  // "Command CPU d"). The compiled query depends on nothing but the schema.
  const query = compiledOnce(compiledBySchema, schema, () => strays(db, schema).compile());
  const { rows } = await db.executeQuery(query);
  // String(): int8 arrives as a string from pg and may arrive as a number or bigint from PGlite.
  return rows.map((row) => ({
    dealId: row.deal_id,
    revision: String(row.revision),
    pipelineId: row.pipeline_id,
    stageId: row.stage_id,
    removalEventId: row.removal_event_id,
  }));
}

function strays(db: ReadModelDb, schema: string) {
  return db
    .withSchema(schema)
    .selectFrom('removed_stages as r')
    .innerJoin('deals as d', (join) =>
      join.onRef('d.pipeline_id', '=', 'r.pipeline_id').onRef('d.stage_id', '=', 'r.stage_id'),
    )
    .where('d.status', '=', 'open')
    .select(['d.deal_id', 'd.revision', 'r.pipeline_id', 'r.stage_id', 'r.removal_event_id'])
    .orderBy('r.removal_event_id')
    .orderBy('d.deal_id');
}

const compiledBySchema = new Map<string, CompiledQuery<InferResult<ReturnType<typeof strays>>[number]>>();
