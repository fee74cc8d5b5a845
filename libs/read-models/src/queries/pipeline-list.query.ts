import type { Stage } from '@dealstream/pipelines-domain';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { jsonColumn } from './pipeline-definition.query.js';

/** A pipeline as the list of pipelines shows it: its current definition and how many deals are open in it. */
export interface PipelineSummary {
  readonly pipelineId: string;
  readonly name: string;
  readonly currency: string | null;
  readonly status: string;
  readonly stages: readonly Pick<Stage, 'stageId' | 'name' | 'probability'>[];
  readonly openDeals: number;
  readonly revision: number;
  readonly updatedAt: Date;
}

/** Where the next page starts: after this pipeline in (name, id) order. */
export interface PipelineListCursor {
  readonly name: string;
  readonly pipelineId: string;
}

/**
 * The pipelines in (name, id) order, a keyset page at a time, optionally only those of one status;
 * open deals counted from the totals the projection keeps per stage (no deal row is read).
 */
export async function listPipelines(
  db: ReadModelDb,
  schema: string,
  options: { readonly limit: number; readonly after?: PipelineListCursor; readonly status?: string },
): Promise<{ pipelines: PipelineSummary[]; next?: PipelineListCursor }> {
  const { after, status, limit } = options;
  const rows = await db
    .withSchema(schema)
    .selectFrom('pipelines as p')
    .select((eb) => [
      'p.pipeline_id',
      'p.name',
      'p.currency',
      'p.status',
      'p.stages',
      'p.revision',
      'p.updated_at',
      eb
        .selectFrom('stage_totals as t')
        .select((totals) => totals.fn.coalesce(totals.fn.sum<string>('t.open_count'), totals.val('0')).as('n'))
        .whereRef('t.pipeline_id', '=', 'p.pipeline_id')
        .as('open_deals'),
    ])
    .$if(status !== undefined, (query) => query.where('p.status', '=', status!))
    .$if(after !== undefined, (query) =>
      query.where((eb) => eb(eb.refTuple('p.name', 'p.pipeline_id'), '>', eb.tuple(after!.name, after!.pipelineId))),
    )
    .orderBy('p.name')
    .orderBy('p.pipeline_id')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit).map((row) => ({
    pipelineId: row.pipeline_id,
    name: row.name,
    currency: row.currency,
    status: row.status,
    stages: (jsonColumn(row.stages) as Stage[]).map(({ stageId, name, probability }) => ({
      stageId,
      name,
      probability,
    })),
    openDeals: Number(row.open_deals ?? 0),
    revision: Number(row.revision),
    updatedAt: new Date(row.updated_at),
  }));
  const last = page.at(-1);
  return rows.length > limit && last
    ? { pipelines: page, next: { name: last.name, pipelineId: last.pipelineId } }
    : { pipelines: page };
}
