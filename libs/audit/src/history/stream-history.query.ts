import type { EventStore, RecordedEvent } from '@dealstream/event-store';
import { NotFoundError } from '@dealstream/command-handling';
import type { AuditedAggregate } from '../audited-aggregates/audited-aggregate.js';

export interface HistoryPage {
  /** In revision order. */
  readonly events: readonly RecordedEvent[];
  /** Pass as `after` for the next page; null when this page ends the stream. */
  readonly next: bigint | null;
}

/** Largest stream revision any store holds (signed 64-bit). */
const MAX_REVISION = (1n << 63n) - 1n;

/**
 * One page of an aggregate's events, after revision `after` (exclusive; from the start when absent).
 * Throws NotFoundError when the aggregate has no stream.
 *
 * @example await readHistory(store, DEAL_AUDIT, dealId, { after: 99n, limit: 100 }) // revisions 100..199
 */
export async function readHistory(
  store: EventStore,
  aggregate: AuditedAggregate<{ version: number }>,
  id: string,
  { after, limit }: { after?: bigint; limit: number },
): Promise<HistoryPage> {
  const streamId = aggregate.streamName(id);
  // One event more than asked tells whether another page exists without a second query. Nothing can
  // follow the largest revision (2^63 − 1): after + 1 would not fit the store's bigint.
  const events =
    after !== undefined && after >= MAX_REVISION
      ? []
      : await store.readStream(streamId, { fromRevision: after === undefined ? 0n : after + 1n, maxCount: limit + 1 });
  if (events.length === 0 && (await store.streamRevision(streamId)) === undefined)
    throw new NotFoundError(aggregate.kind, id);
  const page = events.slice(0, limit);
  return { events: page, next: events.length > limit ? page.at(-1)!.revision : null };
}
