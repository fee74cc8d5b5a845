import type { Kysely } from 'kysely';
import type { EventStoreTables } from '@dealstream/event-store';
import { StreamChainCheck, type ChainBreak, type StreamHead } from './chain-check.js';
import { readChainRows, readOrphanStreams, type ChainCursor } from './chain-rows.query.js';

export interface VerifyOptions {
  /** Verify this stream only; otherwise every stream in the store. */
  readonly streamId?: string;
  /** Rows per query (default 2,000): the whole store is scanned in pages, never held in memory. */
  readonly pageSize?: number;
  /** Breaks listed in the report (default 1,000); `brokenStreams` still counts them all. */
  readonly maxListedBreaks?: number;
}

export interface VerificationReport {
  /** The stream verified, or undefined for the whole store. */
  readonly streamId?: string;
  readonly streamsChecked: number;
  /** Events whose link and hash were checked: all of an intact stream, a broken one's up to its break. */
  readonly eventsChecked: number;
  readonly brokenStreams: number;
  /** The first break of each broken stream, in the scan's stream order (streams without a row last). */
  readonly breaks: readonly ChainBreak[];
  readonly ok: boolean;
}

/**
 * Verifies the hash chains of the SQL event store: per stream, every revision present and in order,
 * every `previous_hash` equal to the predecessor's hash, every hash equal to the hash of the stored
 * content, and the stream row's head revision and `last_hash` equal to the last event's. Reads only.
 * Returns undefined when `streamId` names a stream that does not exist at all.
 *
 * @example const report = await verifyHashChains(db); if (!report.ok) console.log(report.breaks);
 */
export async function verifyHashChains(
  db: Kysely<EventStoreTables>,
  options: VerifyOptions = {},
): Promise<VerificationReport | undefined> {
  const pageSize = options.pageSize ?? 2000;
  const maxListed = options.maxListedBreaks ?? 1000;
  const breaks: ChainBreak[] = [];
  let brokenStreams = 0;
  let streamsChecked = 0;
  let eventsChecked = 0;
  const report = (found: ChainBreak | undefined) => {
    if (!found) return;
    brokenStreams++;
    if (breaks.length < maxListed) breaks.push(found);
  };

  let current: { check: StreamChainCheck; head: StreamHead } | undefined;
  let cursor: ChainCursor | undefined;
  for (;;) {
    const rows = await readChainRows(db, cursor, pageSize, options.streamId);
    for (const row of rows) {
      if (current?.check.streamId !== row.streamId) {
        if (current) report(current.check.finish(current.head));
        current = { check: new StreamChainCheck(row.streamId), head: row.head };
        streamsChecked++;
      }
      // The latest statement's head: it agrees with the events that statement read.
      current.head = row.head;
      // Only the first break counts, so events after it are not checked (nor counted).
      if (row.event && !current.check.broken) {
        eventsChecked++;
        current.check.accept(row.event);
      }
    }
    const last = rows.at(-1);
    if (!last || rows.length < pageSize) break;
    // A broken stream needs no further reading: only its first break is reported.
    const done = !last.event || current!.check.broken !== undefined;
    cursor = { streamId: last.streamId, afterRevision: done ? 'done' : last.event.content.revision };
    if (options.streamId !== undefined && done) break;
  }
  if (current) report(current.check.finish(current.head));

  for (const orphan of await readOrphanStreams(db, options.streamId)) {
    streamsChecked++;
    report({
      streamId: orphan.streamId,
      revision: orphan.lastRevision,
      reason: 'head-mismatch',
      detail: 'events exist but the stream row is missing',
    });
  }
  if (options.streamId !== undefined && streamsChecked === 0) return undefined;
  return {
    ...(options.streamId !== undefined ? { streamId: options.streamId } : {}),
    streamsChecked,
    eventsChecked,
    brokenStreams,
    breaks,
    ok: brokenStreams === 0,
  };
}
