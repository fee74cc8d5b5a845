import type { RecordedEvent } from '@dealstream/event-store';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { BatchWrites } from './batch-writes.js';
import { dealProjection } from './deal.projection.js';
import { flushBatch } from './flush-batch.js';
import { judgeAfterFlush, judgeBeforeFlush } from './funnel-order.js';
import { pipelineProjection } from './pipeline.projection.js';
import type { ProjectionDefinition } from './projection-definition.js';

/**
 * Applies a batch of events, in order, to the read models in `schema`, inside the caller's
 * transaction (the runner writes the checkpoint in that same transaction). Each event goes to the
 * projection of its stream's category (deal.projection.ts, pipeline.projection.ts); the rows the
 * batch touches are loaded once, changed in memory by the projections' handlers, and written back
 * in bulk.
 *
 * @example await db.transaction().execute((trx) => projectBatch(trx, 'read_models', events));
 */
export async function projectBatch(trx: ReadModelDb, schema: string, events: readonly RecordedEvent[]): Promise<void> {
  const deals = new Touched(dealProjection);
  const pipelines = new Touched(pipelineProjection);
  const byCategory = new Map<string, Touched<unknown>>(
    [deals, pipelines].map((touched) => [touched.projection.category, touched]),
  );
  const relevant = events.flatMap((event) => {
    const stream = projectedStream(event.streamId);
    const touched = stream && byCategory.get(stream.category);
    if (!stream || !touched) return [];
    touched.ids.add(stream.id);
    return [{ event, touched }];
  });
  await deals.load(trx, schema);
  await pipelines.load(trx, schema);
  const writes = new BatchWrites();
  for (const { event, touched } of relevant) touched.handle(event, writes);
  const pipelineRows = pipelines.touchedRows();
  // The funnel's `strict` flags: new deals' judged before their rows are written, stored deals' after.
  const order = await judgeBeforeFlush(trx, schema, writes, deals.stored, pipelineRows);
  await flushBatch(trx, schema, writes, deals.touchedRows(), pipelineRows, deals.stored);
  await judgeAfterFlush(trx, schema, writes, deals.stored, order);
}

/** One projection's share of a batch: the ids its events touch and their rows. */
class Touched<Row> {
  readonly ids = new Set<string>();
  private rows = new Map<string, Row>();
  /** The ids that already had rows before this batch (the others are new: their rows can be bulk-loaded). */
  stored: ReadonlySet<string> = new Set();

  constructor(readonly projection: ProjectionDefinition<Row>) {}

  async load(trx: ReadModelDb, schema: string): Promise<void> {
    this.rows = await this.projection.load(trx, schema, [...this.ids]);
    this.stored = new Set(this.rows.keys());
  }

  handle(event: RecordedEvent, writes: BatchWrites): void {
    this.projection.handle(event, { rows: this.rows, writes });
  }

  /** The rows to write back, in the order their streams first appeared. */
  touchedRows(): Row[] {
    return [...this.ids].map((id) => this.rows.get(id)).filter((row): row is Row => row !== undefined);
  }
}

const STREAM = /^(deal|pipeline)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * Which read models a stream feeds. Streams of other categories, or named like deals without a
 * UUID (the API never writes those), are skipped rather than allowed to poison the runner.
 */
function projectedStream(streamId: string): { category: string; id: string } | undefined {
  const match = STREAM.exec(streamId);
  return match ? { category: match[1], id: match[2] } : undefined;
}
