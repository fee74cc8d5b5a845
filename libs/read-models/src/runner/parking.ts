import { sql, type Selectable } from 'kysely';
import type { ParkedStreamsTable, ReadModelDb } from '../schema/read-model.tables.js';
import { comparePositions, type EventStore, type GlobalPosition, type RecordedEvent } from '@dealstream/event-store';
import { projectBatch } from '../projections/project-batch.js';
import { LIVE_SCHEMA } from '../schema/read-model.schema.js';
import { PROJECTION_NAME, holdAgainstSwap } from './checkpoint.js';

/*
 * Poison events: an event some projection cannot apply (a value a column cannot hold, an event
 * written by another version, a bug) must not stop every read model. The stream it belongs to is
 * *parked*: its first unprojectable event and the error are recorded in `parked_streams`, that
 * stream's later events wait with it (a deal is never half-applied: the rows show it exactly as of
 * the event before), and every other stream keeps flowing. An operator fixes the cause and retries
 * (`npm run cli -- projections retry`), which applies the waiting events in order; a rebuild parks
 * the same way instead of failing.
 *
 * Only errors that belong to the data are poison: SQLSTATE classes 22 (data exception, e.g. a date
 * out of range), 23 (integrity constraint) and 54 (program limit, e.g. a row too large), and errors
 * thrown by the projection code itself. Infrastructure faults (a dropped connection, a timeout, a
 * serialization failure, a lock not available) stop the batch as before and it is retried whole:
 * parking on them would park healthy streams.
 */

/** A stream held back because one of its events could not be projected. */
export interface ParkedStream {
  readonly streamId: string;
  /** The first event that could not be applied; the stream's read models reflect the one before it. */
  readonly eventId: string;
  readonly revision: bigint;
  readonly position: GlobalPosition;
  readonly eventType: string;
  readonly error: string;
  /** SQLSTATE when the database refused the rows, else the error's name. */
  readonly errorCode: string | null;
  readonly parkedAt: Date;
  /** How many times it was retried and failed again. */
  readonly attempts: number;
  /** Events of the stream that passed the checkpoint while it was parked (they wait with it). */
  readonly eventsWaiting: number;
}

/** True for errors that belong to an event's data rather than to the infrastructure (see above). */
export function isPoisonError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return /^(22|23|54)/.test(code);
  if (typeof code === 'string') return false; // ECONNRESET, ECONNREFUSED, ETIMEDOUT, …
  if (!(error instanceof Error)) return false;
  // pg raises these without a code when a connection breaks or a query times out client-side.
  return !/connection|terminat|timeout|timed out|socket|ECONN/i.test(error.message);
}

/**
 * Applies `events` to the read models in `schema` inside `trx`, leaving out streams that are parked.
 * `isolate: false` projects the whole batch at once and lets any error through (the fast path: the
 * caller retries with `isolate: true` in a new transaction when it was poison); `isolate: true`
 * projects stream by stream behind savepoints, finds the first event that fails and parks its stream.
 * Returns the streams it parked.
 */
export async function projectAvoidingParked(
  trx: ReadModelDb,
  schema: string,
  events: readonly RecordedEvent[],
  options: { isolate: boolean; skip?: ReadonlySet<string> },
): Promise<ParkedStream[]> {
  if (events.length === 0) return [];
  const parked = options.skip ?? (await parkedAmong(trx, schema, events));
  const flowing = parked.size === 0 ? events : events.filter((event) => !parked.has(event.streamId));
  if (parked.size > 0) await countWaiting(trx, schema, events, parked);
  if (!options.isolate) {
    await projectBatch(trx, schema, flowing);
    return [];
  }
  const newlyParked: ParkedStream[] = [];
  for (const streamEvents of byStream(flowing)) {
    if (await attempt(trx, () => projectBatch(trx, schema, streamEvents))) continue;
    // Find the culprit: apply the stream's events one by one; those before it stay applied.
    for (const event of streamEvents) {
      let failure: unknown;
      const applied = await attempt(
        trx,
        () => projectBatch(trx, schema, [event]),
        (error) => (failure = error),
      );
      if (applied) continue;
      const entry = parkedEntry(event, failure, streamEvents.length - streamEvents.indexOf(event) - 1);
      await recordParked(trx, schema, entry);
      newlyParked.push(entry);
      break;
    }
  }
  return newlyParked;
}

/** The parked streams of `schema`, oldest first; `streamId` narrows to one. */
export async function listParkedStreams(
  db: ReadModelDb,
  schema = LIVE_SCHEMA,
  streamId?: string,
): Promise<ParkedStream[]> {
  let query = db
    .withSchema(schema)
    .selectFrom('parked_streams')
    .select((eb) => [
      'stream_id',
      'event_id',
      'revision',
      // numeric(20) read as text whatever the driver would make of it
      eb.cast<string>('position_major', 'text').as('position_major'),
      eb.cast<string>('position_minor', 'text').as('position_minor'),
      'event_type',
      'error',
      'error_code',
      'parked_at',
      'attempts',
      'events_waiting',
    ])
    .orderBy('parked_at')
    .orderBy('stream_id');
  if (streamId !== undefined) query = query.where('stream_id', '=', streamId);
  return (await query.execute()).map(fromRow);
}

/** How many streams are parked (cheap: for health checks). */
export async function countParkedStreams(db: ReadModelDb, schema = LIVE_SCHEMA): Promise<number> {
  const { n } = await db
    .withSchema(schema)
    .selectFrom('parked_streams')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(n);
}

export interface RetryResult {
  /** Streams whose waiting events all applied: no longer parked. */
  readonly released: string[];
  /** Streams that failed again (with the new error); still parked. */
  readonly stillParked: ParkedStream[];
}

/**
 * Retries parked streams (all, or one): under the live checkpoint's row lock — so no live batch
 * commits meanwhile, from whichever process — reads each stream from the store up to the
 * checkpoint and applies what its read models lack (projections skip revisions they already hold).
 * A stream that applies cleanly is released and the runner carries on with its later events; one
 * that fails again stays parked with the new error and one more attempt.
 */
export async function retryParkedStreams(
  db: ReadModelDb,
  store: EventStore,
  options: { schema?: string; streamId?: string } = {},
): Promise<RetryResult> {
  const schema = options.schema ?? LIVE_SCHEMA;
  return db.transaction().execute(async (trx) => {
    await holdAgainstSwap(trx);
    const checkpoint = await lockCheckpoint(trx, schema);
    const parked = await listParkedStreams(trx, schema, options.streamId);
    const released: string[] = [];
    const stillParked: ParkedStream[] = [];
    for (const entry of parked) {
      const events = (await store.readStream(entry.streamId)).filter(
        (event) => event.revision >= entry.revision && comparePositions(event.position, checkpoint) <= 0,
      );
      const failed = await projectAvoidingParked(trx, schema, events, { isolate: true, skip: new Set() });
      if (failed.length === 0) {
        await trx.withSchema(schema).deleteFrom('parked_streams').where('stream_id', '=', entry.streamId).execute();
        released.push(entry.streamId);
      } else {
        stillParked.push(...(await listParkedStreams(trx, schema, entry.streamId)));
      }
    }
    return { released, stillParked };
  });
}

/**
 * Locks the checkpoint row of `schema` until the transaction ends and answers its position: a batch
 * (which takes the same lock before it looks at the parked streams) and a retry never interleave.
 */
export async function lockCheckpoint(trx: ReadModelDb, schema: string): Promise<GlobalPosition> {
  const row = await trx
    .withSchema(schema)
    .selectFrom('checkpoints')
    .select((eb) => [
      eb.cast<string>('position_major', 'text').as('major'),
      eb.cast<string>('position_minor', 'text').as('minor'),
    ])
    .where('projection', '=', PROJECTION_NAME)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new Error(`no checkpoint in ${schema}`);
  return { major: BigInt(row.major), minor: BigInt(row.minor) };
}

async function parkedAmong(trx: ReadModelDb, schema: string, events: readonly RecordedEvent[]): Promise<Set<string>> {
  const streams = [...new Set(events.map((event) => event.streamId))];
  const rows = await trx
    .withSchema(schema)
    .selectFrom('parked_streams')
    .select('stream_id')
    .where('stream_id', '=', (eb) => eb.fn.any(eb.val(streams)))
    .execute();
  return new Set(rows.map((row) => row.stream_id));
}

async function countWaiting(
  trx: ReadModelDb,
  schema: string,
  events: readonly RecordedEvent[],
  parked: ReadonlySet<string>,
): Promise<void> {
  const waiting = new Map<string, number>();
  for (const event of events)
    if (parked.has(event.streamId)) waiting.set(event.streamId, (waiting.get(event.streamId) ?? 0) + 1);
  if (waiting.size === 0) return;
  // Raw: one update for every waiting stream, joined to its count passed column-wise (unnest).
  await sql`
    update ${sql.id(schema)}.parked_streams p set events_waiting = p.events_waiting + w.n
    from unnest(${sql.val([...waiting.keys()])}::text[], ${sql.val([...waiting.values()])}::int[]) as w(stream_id, n)
    where p.stream_id = w.stream_id`.execute(trx);
}

let savepoints = 0;

/** Runs `work` behind a savepoint: true when it succeeded; on a poison error rolls it back and answers false. */
async function attempt(
  trx: ReadModelDb,
  work: () => Promise<void>,
  onError?: (error: unknown) => void,
): Promise<boolean> {
  const name = sql.id(`parking_${++savepoints}`);
  // Raw: savepoints on a transaction Kysely did not open for us (no controlled transaction here).
  await sql`savepoint ${name}`.execute(trx);
  try {
    await work();
    await sql`release savepoint ${name}`.execute(trx);
    return true;
  } catch (error) {
    if (!isPoisonError(error)) throw error;
    await sql`rollback to savepoint ${name}`.execute(trx);
    onError?.(error);
    return false;
  }
}

function byStream(events: readonly RecordedEvent[]): RecordedEvent[][] {
  const groups = new Map<string, RecordedEvent[]>();
  for (const event of events) {
    const group = groups.get(event.streamId);
    if (group) group.push(event);
    else groups.set(event.streamId, [event]);
  }
  return [...groups.values()];
}

function parkedEntry(event: RecordedEvent, error: unknown, eventsWaiting: number): ParkedStream {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    streamId: event.streamId,
    eventId: event.eventId,
    revision: event.revision,
    position: event.position,
    eventType: event.type,
    error: (error instanceof Error ? error.message : String(error)).slice(0, 2000),
    errorCode: typeof code === 'string' ? code : error instanceof Error ? error.name : null,
    parkedAt: new Date(),
    attempts: 0,
    eventsWaiting,
  };
}

async function recordParked(trx: ReadModelDb, schema: string, entry: ParkedStream): Promise<void> {
  await trx
    .withSchema(schema)
    .insertInto('parked_streams')
    .values(({ fn }) => ({
      stream_id: entry.streamId,
      event_id: entry.eventId,
      revision: entry.revision.toString(),
      position_major: entry.position.major.toString(),
      position_minor: entry.position.minor.toString(),
      event_type: entry.eventType,
      error: entry.error,
      error_code: entry.errorCode,
      parked_at: fn<Date>('now'),
      attempts: 0,
      events_waiting: entry.eventsWaiting,
    }))
    .onConflict((oc) =>
      oc.column('stream_id').doUpdateSet(({ ref }) => ({
        event_id: ref('excluded.event_id'),
        revision: ref('excluded.revision'),
        position_major: ref('excluded.position_major'),
        position_minor: ref('excluded.position_minor'),
        event_type: ref('excluded.event_type'),
        error: ref('excluded.error'),
        error_code: ref('excluded.error_code'),
        attempts: (eb) => eb('parked_streams.attempts', '+', 1),
        events_waiting: ref('excluded.events_waiting'),
      })),
    )
    .execute();
}

type ParkedRow = Selectable<ParkedStreamsTable>;

function fromRow(row: ParkedRow): ParkedStream {
  return {
    streamId: row.stream_id,
    eventId: row.event_id,
    revision: BigInt(row.revision),
    position: { major: BigInt(row.position_major), minor: BigInt(row.position_minor) },
    eventType: row.event_type,
    error: row.error,
    errorCode: row.error_code,
    parkedAt: new Date(row.parked_at),
    attempts: Number(row.attempts),
    eventsWaiting: Number(row.events_waiting),
  };
}

/** A batch that failed on a poison event in the fast path: run it again, isolating streams. */
class PoisonedBatch extends Error {
  constructor(readonly reason: unknown) {
    super(reason instanceof Error ? reason.message : String(reason));
  }
}

type Project = (trx: ReadModelDb, schema: string, events: readonly RecordedEvent[]) => Promise<ParkedStream[]>;

/**
 * Runs one batch transaction (`run`, which calls `project` for its events) with parking: first
 * with the whole batch at once, and only when an event in it turns out to be poison, once more in a
 * new transaction that projects stream by stream and parks the culprit's stream. The fast path
 * costs nothing extra; anything but a poison error from the projection (a dropped connection, the
 * checkpoint's compare-and-set) passes through untouched.
 */
export async function withParking<T>(
  run: (project: Project) => Promise<T>,
  options: {
    /** The caller made sure no stream is parked in this transaction: the first attempt skips the lookup. */
    noneParked?: boolean;
  } = {},
): Promise<T> {
  try {
    return await run(async (trx, schema, events) => {
      try {
        return await projectAvoidingParked(trx, schema, events, {
          isolate: false,
          ...(options.noneParked ? { skip: new Set<string>() } : {}),
        });
      } catch (error) {
        throw isPoisonError(error) ? new PoisonedBatch(error) : error;
      }
    });
  } catch (error) {
    if (!(error instanceof PoisonedBatch)) throw error;
    return run((trx, schema, events) => projectAvoidingParked(trx, schema, events, { isolate: true }));
  }
}
