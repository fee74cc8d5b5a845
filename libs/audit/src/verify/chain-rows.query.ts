import { sql, type InferResult, type Kysely } from 'kysely';
import type { EventProvenance, EventStoreTables } from '@dealstream/event-store';
import type { StoredChainEvent, StreamHead } from './chain-check.js';

/** Where a chain scan stands: inside a stream after a revision, or past a whole stream. */
export type ChainCursor = { readonly streamId: string; readonly afterRevision: bigint | 'done' };

/** A stream row joined with one of its events; `event` is absent when the stream has no (more) events. */
export interface ChainRow {
  readonly streamId: string;
  readonly head: StreamHead;
  readonly event?: StoredChainEvent;
}

/**
 * One page of (stream row, event) pairs in (stream id, revision) order, starting at `cursor`; with
 * `onlyStreamId`, of that stream only. A stream without events after the cursor yields one row
 * without an event, so event-less streams (every event deleted) are seen too. Each statement reads
 * one snapshot, so a page's head and events agree even while writers append.
 */
export async function readChainRows(
  db: Kysely<EventStoreTables>,
  cursor: ChainCursor | undefined,
  limit: number,
  onlyStreamId?: string,
): Promise<ChainRow[]> {
  const rows = await chainRowsQuery(db, cursor, limit, onlyStreamId).execute();
  return rows.map(toChainRow);
}

function chainRowsQuery(
  db: Kysely<EventStoreTables>,
  cursor: ChainCursor | undefined,
  limit: number,
  onlyStreamId: string | undefined,
) {
  return db
    .selectFrom('event_store.streams as s')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('event_store.events as x')
          .selectAll('x')
          .whereRef('x.stream_id', '=', 's.stream_id')
          .where(
            'x.stream_revision',
            '>',
            cursor === undefined || cursor.afterRevision === 'done'
              ? eb.lit(-1)
              : eb
                  .case()
                  .when('s.stream_id', '=', cursor.streamId)
                  .then(eb.cast<string>(eb.val(cursor.afterRevision.toString()), 'bigint'))
                  .else(eb.lit(-1))
                  .end(),
          )
          .orderBy('x.stream_revision')
          .limit(limit)
          .as('e'),
      (join) => join.onTrue(),
    )
    .select((eb) => [
      's.stream_id',
      eb.cast<string>('s.revision', 'text').as('head_revision'),
      's.last_hash as head_hash',
      eb.cast<string | null>('e.stream_revision', 'text').as('stream_revision'),
      eb.cast<string | null>('e.event_id', 'text').as('event_id'),
      'e.type',
      eb.cast<string | null>('e.data', 'text').as('data'),
      'e.actor_id',
      'e.command_id',
      'e.correlation_id',
      'e.causation_id',
      eb.cast<string | null>('e.provenance', 'text').as('provenance'),
      // Timestamps as exact epoch microseconds: the hash covers milliseconds, so digits below them would
      // be a change the hash cannot see — the reader flags them instead of rounding them away.
      // Raw: the builder has no `extract(field from …)` (date_part would round through a double).
      sql<string | null>`(extract(epoch from ${eb.ref('e.occurred_at')}) * 1000000)::bigint::text`.as('occurred_us'),
      sql<string | null>`(extract(epoch from ${eb.ref('e.recorded_at')}) * 1000000)::bigint::text`.as('recorded_us'),
      'e.previous_hash',
      'e.hash',
    ])
    .$call((query) =>
      onlyStreamId !== undefined
        ? query.where('s.stream_id', '=', onlyStreamId)
        : cursor === undefined
          ? query
          : query.where('s.stream_id', cursor.afterRevision === 'done' ? '>' : '>=', cursor.streamId),
    )
    .orderBy('s.stream_id')
    .orderBy('e.stream_revision')
    .limit(limit);
}

type Row = InferResult<ReturnType<typeof chainRowsQuery>>[number];

/** Streams that have events but no stream row (possible only if the tables' owner disabled the stream guard). */
export async function readOrphanStreams(
  db: Kysely<EventStoreTables>,
  onlyStreamId?: string,
): Promise<{ streamId: string; lastRevision: bigint }[]> {
  const rows = await db
    .selectFrom('event_store.events as e')
    .select((eb) => ['e.stream_id', eb.cast<string>(eb.fn.max('e.stream_revision'), 'text').as('last_revision')])
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('event_store.streams as s')
            .select(eb.lit(1).as('one'))
            .whereRef('s.stream_id', '=', 'e.stream_id'),
        ),
      ),
    )
    .$if(onlyStreamId !== undefined, (query) => query.where('e.stream_id', '=', onlyStreamId!))
    .groupBy('e.stream_id')
    .orderBy('e.stream_id')
    .execute();
  return rows.map((row) => ({ streamId: row.stream_id, lastRevision: BigInt(row.last_revision) }));
}

function toChainRow(row: Row): ChainRow {
  const head = { revision: BigInt(row.head_revision), lastHash: row.head_hash };
  if (row.stream_revision === null) return { streamId: row.stream_id, head };
  const occurred = BigInt(row.occurred_us!);
  const recorded = BigInt(row.recorded_us!);
  let data: object = {};
  let provenance: EventProvenance | null = null;
  let unhashable: string | undefined;
  try {
    data = JSON.parse(row.data!) as object;
    provenance = row.provenance === null ? null : (JSON.parse(row.provenance) as EventProvenance);
  } catch {
    unhashable = 'the stored data is not JSON the application can read';
  }
  if (occurred % 1000n !== 0n || recorded % 1000n !== 0n)
    unhashable ??= 'a stored timestamp has sub-millisecond digits the hash never covered';
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
        provenance,
      },
      hash: row.hash!,
      previousHash: row.previous_hash,
      ...(unhashable ? { unhashable } : {}),
    },
  };
}
