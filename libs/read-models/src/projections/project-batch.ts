import type { RecordedEvent } from '@dealstream/event-store';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { BatchWrites } from './batch-writes.js';
import type { DealRow } from './deal-row.js';
import { dealProjection } from './deal.projection.js';
import { flushBatch } from './flush-batch.js';
import { judgeAfterFlush, judgeBeforeFlush } from './funnel-order.js';
import { pipelineProjection, type PipelineRow } from './pipeline.projection.js';
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
  await writeBatch(trx, schema, await prepareBatch(trx, schema, events));
}

/** A batch with its rows loaded and its events applied in memory: what is left is to write it (writeBatch). */
export interface PreparedBatch {
  readonly deals: Touched<DealRow>;
  readonly pipelines: Touched<PipelineRow>;
  readonly writes: BatchWrites;
}

/**
 * The rows a batch left behind, by projection: the next batch may start from them instead of loading
 * them (the rebuild's pipeline, rebuild.ts), as two events of one deal in one batch already do.
 */
export interface CarriedRows {
  readonly deals: ReadonlyMap<string, DealRow>;
  readonly pipelines: ReadonlyMap<string, PipelineRow>;
}

/**
 * The first half of projectBatch: loads the rows the events touch (from `carried` where it has them,
 * else from `db`) and applies the events to them in memory. Handlers never change a row in place (each
 * event makes a new one), so a prepared batch's rows stay as they are while the next batch is prepared.
 */
export async function prepareBatch(
  db: ReadModelDb,
  schema: string,
  events: readonly RecordedEvent[],
  carried?: CarriedRows,
  /**
   * Lets the event loop run after every this many events (none by default): while a batch is prepared
   * the one before it is being written, and each of its statements waits for Node to send the next.
   */
  yieldEvery = Infinity,
): Promise<PreparedBatch> {
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
  await deals.load(db, schema, carried?.deals);
  await pipelines.load(db, schema, carried?.pipelines);
  const writes = new BatchWrites();
  for (let i = 0; i < relevant.length; i++) {
    if (i > 0 && i % yieldEvery === 0) await new Promise((resolve) => setImmediate(resolve));
    relevant[i].touched.handle(relevant[i].event, writes);
  }
  return { deals, pipelines, writes };
}

/** The second half of projectBatch: writes a prepared batch inside `trx`. */
export async function writeBatch(trx: ReadModelDb, schema: string, batch: PreparedBatch): Promise<void> {
  const { deals, pipelines, writes } = batch;
  const pipelineRows = pipelines.touchedRows();
  // The funnel's `strict` flags: new deals' judged before their rows are written, stored deals' after.
  const order = await judgeBeforeFlush(trx, schema, writes, deals.stored, pipelineRows);
  await flushBatch(trx, schema, writes, deals.touchedRows(), pipelineRows, deals.stored);
  await judgeAfterFlush(trx, schema, writes, deals.stored, order);
}

/** What a written batch leaves for the next one to start from (see CarriedRows). */
export function carriedRows(batch: PreparedBatch): CarriedRows {
  return { deals: batch.deals.rows, pipelines: batch.pipelines.rows };
}

/** One projection's share of a batch: the ids its events touch and their rows. */
class Touched<Row> {
  readonly ids = new Set<string>();
  rows = new Map<string, Row>();
  /** The ids that already had rows before this batch (the others are new: their rows can be bulk-loaded). */
  stored: ReadonlySet<string> = new Set();

  constructor(readonly projection: ProjectionDefinition<Row>) {}

  async load(db: ReadModelDb, schema: string, carried?: ReadonlyMap<string, Row>): Promise<void> {
    const missing = carried ? [...this.ids].filter((id) => !carried.has(id)) : [...this.ids];
    this.rows = await this.projection.load(db, schema, missing);
    if (carried)
      for (const id of this.ids) {
        const row = carried.get(id);
        if (row !== undefined) this.rows.set(id, row);
      }
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
