import { START, type EventStore, type RecordedEvent } from '@dealstream/event-store';
import { StreamChainCheck, type ChainBreak, type StoredChainEvent } from './chain-check.js';
import type { VerifyOptions, VerificationReport } from './verify-chains.query.js';
import type { AnchoredHead } from '../anchor/chain-anchor.js';

/**
 * Verifies hash chains through the event store port — the path for a store that keeps its chain in
 * each event (EventStoreDB: `previousHash` and `hash` in the metadata) rather than in SQL tables.
 * Per stream: every revision present and in order, every `previousHash` equal to the predecessor's
 * hash, every hash equal to `hashEvent` of the stored content (the same `StreamChainCheck` as the SQL
 * verifier). There is no separate stream row: a stream's head is its last event, so a truncated
 * tail is not a break here — an anchor (`takeStoreChainAnchor`) is what catches it.
 *
 * The whole store is read through `readAll` in pages; memory grows with the number of streams (one
 * check each), not of events. Returns undefined when `streamId` names a stream without events.
 */
export async function verifyStoreChains(
  store: EventStore,
  options: VerifyOptions = {},
): Promise<VerificationReport | undefined> {
  return (await scanStoreChains(store, options))?.report;
}

/** What a scan found: the report, and the head (last revision and hash) of every intact stream. */
export async function scanStoreChains(
  store: EventStore,
  options: VerifyOptions = {},
): Promise<{ report: VerificationReport; heads: AnchoredHead[] } | undefined> {
  const pageSize = options.pageSize ?? 2000;
  const maxListed = options.maxListedBreaks ?? 1000;
  const checks = new Map<string, { check: StreamChainCheck; last?: { revision: bigint; hash: string } }>();
  let eventsChecked = 0;
  const accept = (event: RecordedEvent) => {
    let entry = checks.get(event.streamId);
    if (!entry) checks.set(event.streamId, (entry = { check: new StreamChainCheck(event.streamId) }));
    if (entry.check.broken) return; // only the first break counts
    eventsChecked++;
    entry.check.accept(chainEventOf(event));
    entry.last = { revision: event.revision, hash: event.hash ?? '' };
  };

  if (options.streamId !== undefined) {
    for (let from = 0n; ;) {
      const page = await store.readStream(options.streamId, { fromRevision: from, maxCount: pageSize });
      for (const event of page) accept(event);
      if (page.length < pageSize) break;
      from = page.at(-1)!.revision + 1n;
    }
    if (checks.size === 0) return undefined;
  } else {
    for (let cursor = START; ;) {
      const batch = await store.readAll({ after: cursor, limit: pageSize });
      for (const event of batch.events) accept(event);
      if (batch.events.length === 0) break;
      cursor = batch.cursor;
    }
  }

  const breaks: ChainBreak[] = [];
  const heads: AnchoredHead[] = [];
  let brokenStreams = 0;
  for (const [streamId, { check, last }] of [...checks].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // The head is the last event itself: what `finish` compares is then only the chain's own end.
    const broken = check.finish(last && { revision: last.revision, lastHash: check.broken ? null : last.hash });
    if (broken) {
      brokenStreams++;
      if (breaks.length < maxListed) breaks.push(broken);
    } else if (last) heads.push({ streamId, revision: last.revision, hash: last.hash });
  }
  const report: VerificationReport = {
    ...(options.streamId !== undefined ? { streamId: options.streamId } : {}),
    streamsChecked: checks.size,
    eventsChecked,
    brokenStreams,
    breaks,
    ok: brokenStreams === 0,
  };
  return { report, heads };
}

/** A recorded event as the chain check reads it; an event written without the chain cannot verify. */
function chainEventOf(event: RecordedEvent): StoredChainEvent {
  const { actorId, commandId, correlationId, causationId, occurredAt, provenance } = event.metadata;
  return {
    content: {
      streamId: event.streamId,
      revision: event.revision,
      eventId: event.eventId,
      type: event.type,
      data: event.data,
      actorId,
      commandId,
      correlationId,
      causationId,
      occurredAt,
      recordedAt: event.recordedAt,
      provenance,
    },
    hash: event.hash ?? '',
    previousHash: event.previousHash === undefined ? null : event.previousHash,
    ...(event.hash === undefined ? { unhashable: 'the event carries no hash (written without the chain)' } : {}),
  };
}
