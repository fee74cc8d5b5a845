import { sql, type Kysely } from 'kysely';
import type { EventStoreTables } from '@dealstream/event-store';
import { verifyHashChains, type VerificationReport } from '../verify/verify-chains.query.js';
import { createChainAnchor, type AnchoredHead, type ChainAnchor } from './chain-anchor.js';

/**
 * Why the store no longer agrees with an anchor, per anchored stream:
 * - `stream-missing`: the stream (row and events) is gone;
 * - `revision-missing`: the anchored revision's event is gone (the stream was truncated, or that event deleted);
 * - `hash-differs`: the event at the anchored revision hashes differently — the stream was changed at
 *   or before that revision after the anchor was taken, even if its chain verifies on its own.
 */
export type AnchorBreakReason = 'stream-missing' | 'revision-missing' | 'hash-differs';

export interface AnchorBreak {
  readonly streamId: string;
  readonly revision: bigint;
  readonly reason: AnchorBreakReason;
  readonly detail: string;
}

export interface AnchorCheckReport {
  readonly digest: string;
  readonly takenAt: string;
  readonly streamsChecked: number;
  readonly brokenStreams: number;
  /** At most `maxListedBreaks` (default 1,000), in stream-id order. */
  readonly breaks: readonly AnchorBreak[];
  readonly ok: boolean;
}

export type TakeAnchorResult =
  | { readonly ok: true; readonly anchor: ChainAnchor }
  | { readonly ok: false; readonly verification: VerificationReport };

/**
 * Anchors the SQL event store: reads every stream's head, then verifies every chain and checks the
 * heads against it — so only heads that sit on intact chains are anchored. Appends meanwhile are
 * harmless (an anchor is a prefix of each stream). A broken store is not anchored: its report is
 * returned instead. Reads only.
 */
export async function takeChainAnchor(
  db: Kysely<EventStoreTables>,
  now: () => Date = () => new Date(),
): Promise<TakeAnchorResult> {
  const takenAt = now();
  const rows = await db
    .selectFrom('event_store.streams')
    .select((eb) => ['stream_id', eb.cast<string>('revision', 'text').as('revision'), 'last_hash'])
    .where('last_hash', 'is not', null)
    .$narrowType<{ last_hash: string }>()
    .execute();
  const heads: AnchoredHead[] = rows.map((r) => ({
    streamId: r.stream_id,
    revision: BigInt(r.revision),
    hash: r.last_hash,
  }));
  const verification = (await verifyHashChains(db))!;
  if (!verification.ok) return { ok: false, verification };
  const anchor = createChainAnchor(heads, takenAt);
  const against = await checkChainAnchor(db, anchor);
  // Only a writer racing this very check could get here (the heads were read before the verify).
  if (!against.ok) throw new Error(`the store changed under the anchor: ${against.breaks[0].detail}`);
  return { ok: true, anchor };
}

/**
 * Checks that every anchored head is still in the store with the anchored hash. Run it together with
 * `verifyHashChains`: the chain proves each event links to the one before, the anchor proves the
 * chain up to each anchored revision is the one that existed when the anchor was taken. Reads only.
 */
export async function checkChainAnchor(
  db: Kysely<EventStoreTables>,
  anchor: ChainAnchor,
  options: { pageSize?: number; maxListedBreaks?: number; streamId?: string } = {},
): Promise<AnchorCheckReport> {
  const pageSize = options.pageSize ?? 2000;
  const maxListed = options.maxListedBreaks ?? 1000;
  const heads =
    options.streamId === undefined ? anchor.heads : anchor.heads.filter((h) => h.streamId === options.streamId);
  const breaks: AnchorBreak[] = [];
  let brokenStreams = 0;
  for (let i = 0; i < heads.length; i += pageSize) {
    const page = heads.slice(i, i + pageSize);
    // Raw: the builder has no VALUES list as a table (the anchored heads are joined as one).
    const { rows } = await sql<{ stream_id: string; hash: string | null; stream_exists: boolean }>`
      select h.stream_id, e.hash,
             exists (select 1 from event_store.streams s where s.stream_id = h.stream_id)
               or exists (select 1 from event_store.events x where x.stream_id = h.stream_id) as stream_exists
      from (values ${sql.join(page.map((head) => sql`(${head.streamId}, ${head.revision.toString()}::bigint)`))}) as h (stream_id, revision)
      left join event_store.events e on e.stream_id = h.stream_id and e.stream_revision = h.revision`.execute(db);
    const found = new Map(rows.map((r) => [r.stream_id, r]));
    for (const head of page) {
      const row = found.get(head.streamId)!;
      const broken = anchorBreak(head, row.hash, row.stream_exists);
      if (!broken) continue;
      brokenStreams++;
      if (breaks.length < maxListed) breaks.push(broken);
    }
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

/** The break of one anchored head, given the hash stored at its revision (null: no such event) and whether the stream exists. */
export function anchorBreak(
  head: AnchoredHead,
  storedHash: string | null,
  streamExists: boolean,
): AnchorBreak | undefined {
  const at = { streamId: head.streamId, revision: head.revision };
  if (!streamExists)
    return {
      ...at,
      reason: 'stream-missing',
      detail: `anchored at revision ${head.revision}, the stream no longer exists`,
    };
  if (storedHash === null) {
    return {
      ...at,
      reason: 'revision-missing',
      detail: `anchored at revision ${head.revision}, that event no longer exists: the stream was truncated or the event deleted`,
    };
  }
  if (storedHash !== head.hash) {
    return {
      ...at,
      reason: 'hash-differs',
      detail: `the event at revision ${head.revision} has hash ${storedHash}, anchored ${head.hash}: the stream was changed at or before this revision after the anchor was taken`,
    };
  }
  return undefined;
}
