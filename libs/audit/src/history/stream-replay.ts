import type { EventStore, RecordedEvent } from '@dealstream/event-store';

/** Events per read: long streams are replayed page by page, never as one result set. */
export const REPLAY_PAGE_SIZE = 1000;

/**
 * A stream's events in revision order from `fromRevision`, at most `maxCount` of them, read through
 * the event store port in pages (so it works on every adapter).
 *
 * @example for await (const event of replayStream(store, 'deal-…', { maxCount: 100 })) …
 */
export async function* replayStream(
  store: EventStore,
  streamId: string,
  options: { fromRevision?: bigint; maxCount?: number; pageSize?: number } = {},
): AsyncGenerator<RecordedEvent> {
  const pageSize = options.pageSize ?? REPLAY_PAGE_SIZE;
  let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
  let from = options.fromRevision ?? 0n;
  while (remaining > 0) {
    const page = await store.readStream(streamId, { fromRevision: from, maxCount: Math.min(pageSize, remaining) });
    for (const event of page) yield event;
    if (page.length < Math.min(pageSize, remaining)) return;
    remaining -= page.length;
    from = page.at(-1)!.revision + 1n;
  }
}
