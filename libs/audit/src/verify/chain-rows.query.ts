import { sql, type Kysely } from 'kysely';
import type { StoredChainEvent, StreamHead } from './chain-check.js';

/** Where a chain scan stands: inside a stream after a revision, or past a whole stream. */
export type ChainCursor = { readonly streamId: string; readonly afterRevision: bigint | 'done' };

/** A stream row joined with one of its events; `event` is absent when the stream has no (more) events. */
export interface ChainRow {
  readonly streamId: string;
  readonly head: StreamHead;
  readonly event?: StoredChainEvent;
}

type Row = {
  stream_id: string;
  head_revision: string;
  head_hash: string | null;
  stream_revision: string | null;
  event_id: string | null;
  type: string | null;
  data: string | null;
  actor_id: string | null;
  command_id: string | null;
  correlation_id: string | null;
  causation_id: string | null;
  occurred_us: string | null;
  recorded_us: string | null;
  previous_hash: string | null;
  hash: string | null;
};

/**
 * One page of (stream row, event) pairs in (stream id, revision) order, starting at `cursor`; with
 * `onlyStreamId`, of that stream only. A stream without events after the cursor yields one row
 * without an event, so event-less streams (every event deleted) are seen too. Each statement reads
 * one snapshot, so a page's head and events agree even while writers append.
 */
export async function readChainRows(db: Kysely<any>, cursor: ChainCursor | undefined, limit: number, onlyStreamId?: string): Promise<ChainRow[]> {
  const streams = onlyStreamId !== undefined
    ? sql`s.stream_id = ${onlyStreamId}`
    : cursor === undefined
      ? sql`true`
      : cursor.afterRevision === 'done'
        ? sql`s.stream_id > ${cursor.streamId}`
        : sql`s.stream_id >= ${cursor.streamId}`;
  const after = cursor === undefined || cursor.afterRevision === 'done'
    ? sql`-1`
    : sql`case when s.stream_id = ${cursor.streamId} then ${cursor.afterRevision.toString()}::bigint else -1 end`;
  // Timestamps as exact epoch microseconds: the hash covers milliseconds, so digits below them would
  // be a change the hash cannot see — the reader flags them instead of rounding them away.
  const { rows } = await sql<Row>`
    select s.stream_id, s.revision::text as head_revision, s.last_hash as head_hash,
           e.stream_revision::text as stream_revision, e.event_id::text as event_id, e.type, e.data::text as data,
           e.actor_id, e.command_id, e.correlation_id, e.causation_id,
           (extract(epoch from e.occurred_at) * 1000000)::bigint::text as occurred_us,
           (extract(epoch from e.recorded_at) * 1000000)::bigint::text as recorded_us,
           e.previous_hash, e.hash
    from event_store.streams s
    left join lateral (
      select * from event_store.events x
      where x.stream_id = s.stream_id and x.stream_revision > ${after}
      order by x.stream_revision
      limit ${limit}
    ) e on true
    where ${streams}
    order by s.stream_id, e.stream_revision
    limit ${limit}`.execute(db);
  return rows.map(toChainRow);
}

/** Streams that have events but no stream row (possible only if someone dropped the foreign key). */
export async function readOrphanStreams(db: Kysely<any>, onlyStreamId?: string): Promise<{ streamId: string; lastRevision: bigint }[]> {
  const { rows } = await sql<{ stream_id: string; last_revision: string }>`
    select e.stream_id, max(e.stream_revision)::text as last_revision
    from event_store.events e
    where not exists (select 1 from event_store.streams s where s.stream_id = e.stream_id)
      ${onlyStreamId !== undefined ? sql`and e.stream_id = ${onlyStreamId}` : sql``}
    group by e.stream_id
    order by e.stream_id`.execute(db);
  return rows.map((row) => ({ streamId: row.stream_id, lastRevision: BigInt(row.last_revision) }));
}

function toChainRow(row: Row): ChainRow {
  const head = { revision: BigInt(row.head_revision), lastHash: row.head_hash };
  if (row.stream_revision === null) return { streamId: row.stream_id, head };
  const occurred = BigInt(row.occurred_us!);
  const recorded = BigInt(row.recorded_us!);
  let data: object = {};
  let unhashable: string | undefined;
  try {
    data = JSON.parse(row.data!);
  } catch {
    unhashable = 'the stored data is not JSON the application can read';
  }
  if (occurred % 1000n !== 0n || recorded % 1000n !== 0n) unhashable ??= 'a stored timestamp has sub-millisecond digits the hash never covered';
  return {
    streamId: row.stream_id,
    head,
    event: {
      content: {
        streamId: row.stream_id,
        revision: BigInt(row.stream_revision),
        eventId: row.event_id!,
        type: row.type!,
        data,
        actorId: row.actor_id!,
        commandId: row.command_id,
        correlationId: row.correlation_id,
        causationId: row.causation_id,
        occurredAt: new Date(Number(occurred / 1000n)),
        recordedAt: new Date(Number(recorded / 1000n)),
      },
      hash: row.hash!,
      previousHash: row.previous_hash,
      ...(unhashable ? { unhashable } : {}),
    },
  };
}
