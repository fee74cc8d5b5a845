import type { RecordedEvent } from '@dealstream/event-store';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import type { BatchWrites } from './batch-writes.js';

/** What a handler works on while a batch is projected: the rows the batch loaded, and its pending writes. */
export interface ProjectionBatch<Row> {
  /** By stream id without its category (`deal-<id>` → `<id>`): loaded once per batch, changed in memory. */
  readonly rows: Map<string, Row>;
  readonly writes: BatchWrites;
}

/** A stored event of one type, its data typed by the domain's event union. */
export type ProjectedEvent<E extends { type: string; data: object }, T extends E['type'] = E['type']> = RecordedEvent<
  Extract<E, { type: T }>
>;

/** One handler per event type of the domain's union: adding an event type to the domain fails the typecheck here. */
export type ProjectionHandlers<Row, E extends { type: string; data: object }> = {
  readonly [T in E['type']]: (event: ProjectedEvent<E, T>, batch: ProjectionBatch<Row>) => void;
};

/**
 * A projection, read as a definition: the stream category it follows, the event types it handles
 * (`canHandle`) and what it does with each (`handlers`), and how it loads the rows a batch touches.
 * projectBatch dispatches every event through these definitions.
 */
export interface ProjectionDefinition<Row> {
  readonly name: string;
  /** Streams named `<category>-<uuid>` feed this projection. */
  readonly category: string;
  readonly canHandle: readonly string[];
  /** Loads the rows of `ids` (stream ids without the category) once per batch. */
  load(trx: ReadModelDb, schema: string, ids: readonly string[]): Promise<Map<string, Row>>;
  /** Applies one event to the batch (in stream order); an event type it does not handle is ignored. */
  handle(event: RecordedEvent, batch: ProjectionBatch<Row>): void;
}

export function defineProjection<Row, E extends { type: string; data: object }>(definition: {
  readonly name: string;
  readonly category: string;
  readonly load: ProjectionDefinition<Row>['load'];
  readonly handlers: ProjectionHandlers<Row, E>;
}): ProjectionDefinition<Row> {
  const { name, category, load, handlers } = definition;
  const canHandle = Object.keys(handlers);
  return {
    name,
    category,
    canHandle,
    load,
    handle(event, batch) {
      if (!Object.hasOwn(handlers, event.type)) return;
      const handler = handlers[event.type as E['type']] as (event: RecordedEvent, batch: ProjectionBatch<Row>) => void;
      handler(event, batch);
    },
  };
}
