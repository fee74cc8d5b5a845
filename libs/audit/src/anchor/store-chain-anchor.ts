import type { EventStore } from '@dealstream/event-store';
import { scanStoreChains } from '../verify/verify-store-chains.js';
import { createChainAnchor, type ChainAnchor } from './chain-anchor.js';
import { anchorBreak, type AnchorBreak, type AnchorCheckReport, type TakeAnchorResult } from './chain-anchor.query.js';

/**
 * Anchors a store through the event store port (EventStoreDB): verifies every chain while reading
 * the store once, and anchors the head (last revision and hash) of every stream. A broken store is
 * not anchored: its report is returned instead. Reads only.
 */
export async function takeStoreChainAnchor(
  store: EventStore,
  now: () => Date = () => new Date(),
): Promise<TakeAnchorResult> {
  const takenAt = now();
  const scanned = (await scanStoreChains(store))!;
  if (!scanned.report.ok) return { ok: false, verification: scanned.report };
  return { ok: true, anchor: createChainAnchor(scanned.heads, takenAt) };
}

/**
 * Checks through the port that every anchored head is still there with the anchored hash: one read
 * of one event per anchored stream. Catches a stream deleted, truncated below the anchored revision,
 * or rewritten and re-hashed consistently at or before it. Reads only.
 */
export async function checkStoreChainAnchor(
  store: EventStore,
  anchor: ChainAnchor,
  options: { maxListedBreaks?: number; streamId?: string } = {},
): Promise<AnchorCheckReport> {
  const maxListed = options.maxListedBreaks ?? 1000;
  const heads =
    options.streamId === undefined ? anchor.heads : anchor.heads.filter((h) => h.streamId === options.streamId);
  const breaks: AnchorBreak[] = [];
  let brokenStreams = 0;
  for (const head of heads) {
    const [event] = await store.readStream(head.streamId, { fromRevision: head.revision, maxCount: 1 });
    const stored = event?.revision === head.revision ? (event.hash ?? '') : null;
    const exists = stored !== null || (await store.streamRevision(head.streamId)) !== undefined;
    const broken = anchorBreak(head, stored, exists);
    if (!broken) continue;
    brokenStreams++;
    if (breaks.length < maxListed) breaks.push(broken);
  }
  return {
    digest: anchor.digest,
    takenAt: anchor.takenAt,
    streamsChecked: heads.length,
    brokenStreams,
    breaks,
    ok: brokenStreams === 0,
  };
}
