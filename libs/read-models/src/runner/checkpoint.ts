import { sql } from 'kysely';
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
  if (Number(result.numUpdatedRows) !== 1)
    throw new Error('checkpoint moved under this runner: another runner is active');
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
const SWAP_LOCK = sql`hashtext('dealstream.read-models.swap')`;

export async function holdAgainstSwap(trx: ReadModelDb): Promise<void> {
  await sql`select pg_advisory_xact_lock_shared(${SWAP_LOCK})`.execute(trx);
}

export async function excludeLiveBatches(trx: ReadModelDb): Promise<void> {
  await sql`select pg_advisory_xact_lock(${SWAP_LOCK})`.execute(trx);
}
