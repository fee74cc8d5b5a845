import { sql, type RawBuilder } from 'kysely';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { comparePositions, type GlobalPosition } from '@dealstream/event-store';

export const PROJECTION_NAME = 'read-models';

/** The position up to which the read models in `schema` reflect the event store. */
export async function readCheckpoint(
  db: ReadModelDb,
  schema: string,
): Promise<{ position: GlobalPosition; eventsApplied: number }> {
  const row = await db
    .withSchema(schema)
    .selectFrom('checkpoints')
    // numeric(20) read as text whatever the driver (pg or PGlite) would make of it
    .select((eb) => [
      eb.cast<string>('position_major', 'text').as('major'),
      eb.cast<string>('position_minor', 'text').as('minor'),
      'events_applied',
    ])
    .where('projection', '=', PROJECTION_NAME)
    .executeTakeFirst();
  if (!row) throw new Error(`no checkpoint in ${schema}`);
  return {
    position: { major: BigInt(row.major), minor: BigInt(row.minor) },
    eventsApplied: Number(row.events_applied),
  };
}

const CHECKPOINT_MOVED = 'checkpoint moved under this runner: another runner is active';
const STREAMS_PARKED = 'streams are parked: the batch looks its streams up';

/** The batch start found parked streams where the runner believed there were none (`noneParked`). */
export function isStreamsParkedError(error: unknown): boolean {
  return error instanceof Error && error.message === STREAMS_PARKED;
}

/** Moves the checkpoint from `expected` to `next`; fails the transaction if someone else moved it. */
export async function compareAndSetCheckpoint(
  trx: ReadModelDb,
  schema: string,
  expected: GlobalPosition,
  next: GlobalPosition,
  applied: number,
): Promise<void> {
  if (comparePositions(next, expected) <= 0) throw new Error('checkpoint must move forward');
  const result = await trx
    .withSchema(schema)
    .updateTable('checkpoints')
    .set((eb) => ({
      position_major: next.major.toString(),
      position_minor: next.minor.toString(),
      events_applied: eb('events_applied', '+', String(applied)),
      updated_at: eb.fn<Date>('now'),
    }))
    .where('projection', '=', PROJECTION_NAME)
    .where('position_major', '=', expected.major.toString())
    .where('position_minor', '=', expected.minor.toString())
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) throw new Error(CHECKPOINT_MOVED);
}

/**
 * Read-your-writes: waits until the read models in `schema` reflect `target`, polling the
 * checkpoint (cheap, and it works whichever process runs the projection). Returns the position
 * reached, or undefined when `timeoutMs` passed first.
 */
export async function waitForCheckpoint(
  db: ReadModelDb,
  schema: string,
  target: GlobalPosition,
  timeoutMs: number,
): Promise<GlobalPosition | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { position } = await readCheckpoint(db, schema);
    if (position.major > target.major || (position.major === target.major && position.minor >= target.minor))
      return position;
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, Math.min(25, Math.max(1, deadline - Date.now()))));
  }
}

/**
 * Live batches and the rebuild's swap exclude each other: every live batch transaction takes this
 * lock shared as its first statement, the swap exclusively. Without it a swap could commit between a
 * batch's statements — the rows already written landing in the replaced tables, the checkpoint move
 * (resolved by name after the rename) in the new ones — and that batch would be lost.
 */
const SWAP_LOCK_KEY = `hashtext('dealstream.read-models.swap')`;
const SWAP_LOCK = sql.raw(SWAP_LOCK_KEY);

export async function holdAgainstSwap(trx: ReadModelDb): Promise<void> {
  await sql`select pg_advisory_xact_lock_shared(${SWAP_LOCK})`.execute(trx);
}

/**
 * `BEGIN`, the swap lock and the checkpoint's compare-and-set (`compareAndSetCheckpoint` as one
 * plpgsql block) as one simple-protocol message: one round trip where there were three, for a live
 * batch on the runner's own PostgreSQL connection. Simple protocol takes no parameters, so the
 * values are inlined: positions and counts are integers, the schema an identifier quoted here.
 * A moved checkpoint raises SQLSTATE P0001 with the message of `compareAndSetCheckpoint` (not a
 * poison error: the batch is retried whole, from the checkpoint read again). Each statement of the
 * message takes its own snapshot, as separate ones would; on failure the caller rolls back.
 * `noneParked`: the runner believes no stream is parked, so it will not look the batch's streams up
 * in `parked_streams` (one round trip less); the block checks that belief after the compare-and-set
 * and raises `isStreamsParkedError` when it is wrong (the caller then runs the batch with the lookup).
 */
export function beginBatchSql(
  schema: string,
  expected: GlobalPosition,
  next: GlobalPosition,
  applied: number,
  options: { noneParked?: boolean } = {},
): RawBuilder<unknown> {
  if (comparePositions(next, expected) <= 0) throw new Error('checkpoint must move forward');
  if (!Number.isSafeInteger(applied) || applied < 0) throw new Error(`not a count of events: ${applied}`);
  const quoted = `"${schema.replaceAll('"', '""')}"`;
  const table = `${quoted}.checkpoints`;
  const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
  // After the compare-and-set (so after a retry's row lock, with a snapshot of its own): the
  // runner's belief that no stream is parked, checked instead of looking the batch's streams up.
  const parkedCheck = options.noneParked
    ? `if exists (select 1 from ${quoted}.parked_streams) then raise exception ${literal(STREAMS_PARKED)}; end if; `
    : '';
  return sql.raw(
    `begin; select pg_advisory_xact_lock_shared(${SWAP_LOCK_KEY}); ` +
      `do $batch$ begin ` +
      `update ${table} set position_major = ${next.major}, position_minor = ${next.minor}, ` +
      `events_applied = events_applied + ${applied}, updated_at = now() ` +
      `where projection = ${literal(PROJECTION_NAME)} and position_major = ${expected.major} and position_minor = ${expected.minor}; ` +
      `if not found then raise exception ${literal(CHECKPOINT_MOVED)}; end if; ` +
      parkedCheck +
      `end $batch$`,
  );
}

export async function excludeLiveBatches(trx: ReadModelDb): Promise<void> {
  await sql`select pg_advisory_xact_lock(${SWAP_LOCK})`.execute(trx);
}
