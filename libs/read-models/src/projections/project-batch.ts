import type { ReadModelDb } from '../schema/read-model.tables.js';
import type { RecordedEvent } from '@dealstream/event-store';
import { BatchWrites } from './batch-writes.js';
import { dealRowFromDb, type DealRow } from './deal-row.js';
import { projectDealEvent } from './deal.projection.js';
import { flushBatch } from './flush-batch.js';
import { projectPipelineEvent, type PipelineRow } from './pipeline.projection.js';

/**
 * Applies a batch of events, in order, to the read models in `schema`, inside the caller's
 * transaction (the runner writes the checkpoint in that same transaction). Rows the batch touches
 * are loaded once, changed in memory by the per-event projections, and written back in bulk.
 *
 * @example await db.transaction().execute((trx) => projectBatch(trx, 'read_models', events));
 */
export async function projectBatch(trx: ReadModelDb, schema: string, events: readonly RecordedEvent[]): Promise<void> {
  const dealIds = new Set<string>();
  const pipelineIds = new Set<string>();
  const relevant = events.filter((event) => projectedStream(event.streamId) !== undefined);
  for (const event of relevant) {
    if (projectedStream(event.streamId) === 'deal') dealIds.add(event.streamId.slice(5));
    else pipelineIds.add(event.streamId.slice(9));
  }
  const deals = await loadDeals(trx, schema, [...dealIds]);
  const pipelines = await loadPipelines(trx, schema, [...pipelineIds]);
  const writes = new BatchWrites();
  for (const event of relevant) {
    if (projectedStream(event.streamId) === 'deal') projectDealEvent(deals, writes, event);
    else projectPipelineEvent(pipelines, writes, event);
  }
  await flushBatch(trx, schema, writes, [...dealIds].map((id) => deals.get(id)).filter((row): row is DealRow => row !== undefined), [...pipelineIds].map((id) => pipelines.get(id)).filter((row): row is PipelineRow => row !== undefined));
}

async function loadDeals(trx: ReadModelDb, schema: string, ids: string[]): Promise<Map<string, DealRow>> {
  if (ids.length === 0) return new Map();
  const rows = await trx
    .withSchema(schema)
    .selectFrom('deals')
    .innerJoin('deal_states', 'deal_states.deal_id', 'deals.deal_id')
    .selectAll('deals')
    .select((eb) => [eb.cast<string | null>('deals.expected_close_date', 'text').as('expected_close_date'), 'deal_states.state'])
    .where('deals.deal_id', '=', (eb) => eb.fn.any(eb.val(ids)))
    .execute();
  return new Map(rows.map((row) => [row.deal_id, dealRowFromDb(row)]));
}

async function loadPipelines(trx: ReadModelDb, schema: string, ids: string[]): Promise<Map<string, PipelineRow>> {
  if (ids.length === 0) return new Map();
  const rows = await trx
    .withSchema(schema)
    .selectFrom('pipelines')
    .select(['pipeline_id', 'state', 'revision', 'effective_at', 'updated_at'])
    .where('pipeline_id', '=', (eb) => eb.fn.any(eb.val(ids)))
    .execute();
  return new Map(
    rows.map((row) => [
      row.pipeline_id,
      {
        pipeline_id: row.pipeline_id,
        state: (typeof row.state === 'string' ? JSON.parse(row.state) : row.state) as PipelineRow['state'],
        revision: Number(row.revision),
        effective_at: new Date(row.effective_at),
        updated_at: new Date(row.updated_at),
      },
    ]),
  );
}

const STREAM = /^(deal|pipeline)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * Which read models a stream feeds. Streams of other categories, or named like deals without a
 * UUID (the API never writes those), are skipped rather than allowed to poison the runner.
 */
function projectedStream(streamId: string): 'deal' | 'pipeline' | undefined {
  return STREAM.exec(streamId)?.[1] as 'deal' | 'pipeline' | undefined;
}
