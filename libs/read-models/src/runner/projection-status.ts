import { sql } from 'kysely';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { comparePositions, type EventStore, type GlobalPosition } from '@dealstream/event-store';
import { PROJECTION_NAME, readCheckpoint } from './checkpoint.js';

/**
 * Who holds the projection's advisory lock (the active runner, in the API or a projector worker),
 * as PostgreSQL sees it: `held: false` means no runner is applying batches anywhere. The key is the
 * runner's `hashtext('dealstream.projection.<name>')`, split as pg_locks shows a bigint key.
 */
export interface ProjectionLeader {
  readonly held: boolean;
  readonly pid?: number;
  readonly applicationName?: string;
  readonly clientAddress?: string;
  readonly since?: Date;
}

export async function projectionLeader(db: ReadModelDb): Promise<ProjectionLeader> {
  const key = sql`hashtext(${`dealstream.projection.${PROJECTION_NAME}`})::bigint`;
  // Raw: pg_locks and pg_stat_activity, outside the read-model tables.
  const { rows } = await sql<{
    pid: number;
    application_name: string | null;
    client_addr: string | null;
    backend_start: Date | string | null;
  }>`
    select l.pid, a.application_name, a.client_addr::text as client_addr, a.backend_start
    from pg_locks l left join pg_stat_activity a on a.pid = l.pid
    where l.locktype = 'advisory' and l.granted and l.objsubid = 1
      and l.database = (select oid from pg_database where datname = current_database())
      and l.classid::bigint = ((${key} >> 32) & 4294967295) and l.objid::bigint = (${key} & 4294967295)
    limit 1`.execute(db);
  const row = rows[0];
  if (!row) return { held: false };
  return {
    held: true,
    pid: row.pid,
    ...(row.application_name ? { applicationName: row.application_name } : {}),
    ...(row.client_addr ? { clientAddress: row.client_addr } : {}),
    ...(row.backend_start ? { since: new Date(row.backend_start) } : {}),
  };
}

/** How far the read models in `schema` are behind the event store. */
export interface ProjectionLag {
  /** What the read models reflect. */
  readonly checkpoint: GlobalPosition;
  /** Events applied up to `checkpoint` (the same checkpoint read: the two never disagree). */
  readonly eventsApplied: number;
  /**
   * The store's last committed event (counted up to the limit; on EventStoreDB the last one readAll
   * returns), or the checkpoint when none is pending.
   */
  readonly head: GlobalPosition;
  /** Events after the checkpoint, counted up to `countLimit`. */
  readonly behind: number;
  /** True when there were more than `countLimit` (then `behind` and `head` are lower bounds). */
  readonly behindAtLeast: boolean;
  /** When the oldest event not yet projected was recorded; undefined when none is pending. */
  readonly oldestPendingRecordedAt?: Date;
}

/**
 * Reads the checkpoint of `schema`, then counts the events committed after it (at most `countLimit`,
 * default 100,000): with the store's `committedAfter` when it has one (the SQL store: one query,
 * readable or not yet), else by paging through `readAll` (EventStoreDB). `countLimit: 1` is the cheap
 * form readiness uses: it only learns whether something is pending and since when.
 */
export async function projectionLag(
  db: ReadModelDb,
  store: EventStore,
  schema: string,
  options: { countLimit?: number } = {},
): Promise<ProjectionLag> {
  const countLimit = Math.max(1, options.countLimit ?? 100_000);
  const { position: checkpoint, eventsApplied } = await readCheckpoint(db, schema);
  if (store.committedAfter) {
    // One counting query, and events held back behind the SQL store's visibility horizon count too:
    // while an old transaction elsewhere on the server holds them back, the read models are behind.
    const committed = await store.committedAfter(checkpoint, countLimit + 1);
    return {
      checkpoint,
      eventsApplied,
      head: committed.last,
      behind: Math.min(committed.count, countLimit),
      behindAtLeast: committed.count > countLimit,
      ...(committed.firstRecordedAt ? { oldestPendingRecordedAt: committed.firstRecordedAt } : {}),
    };
  }
  let cursor = checkpoint;
  let behind = 0;
  let oldestPendingRecordedAt: Date | undefined;
  while (behind < countLimit) {
    const batch = await store.readAll({ after: cursor, limit: Math.min(10_000, countLimit - behind + 1) });
    const events = batch.events.filter((event) => comparePositions(event.position, checkpoint) > 0);
    if (events.length === 0) break;
    oldestPendingRecordedAt ??= events[0].recordedAt;
    behind += events.length;
    cursor = events.at(-1)!.position;
  }
  const behindAtLeast =
    behind > countLimit ||
    (behind === countLimit && (await store.readAll({ after: cursor, limit: 1 })).events.length > 0);
  return {
    checkpoint,
    eventsApplied,
    head: cursor,
    behind: Math.min(behind, countLimit),
    behindAtLeast,
    ...(oldestPendingRecordedAt ? { oldestPendingRecordedAt } : {}),
  };
}
