import { sql } from 'kysely';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { comparePositions, type GlobalPosition } from '@dealstream/event-store';

export const PROJECTION_NAME = 'read-models';

/** The position up to which the read models in `schema` reflect the event store. */
export async function readCheckpoint(db: ReadModelDb, schema: string): Promise<{ position: GlobalPosition; eventsApplied: number }> {
  const { rows } = await sql<{ major: string; minor: string; events_applied: string }>`
    select position_major::text as major, position_minor::text as minor, events_applied::text as events_applied
    from ${sql.id(schema)}.checkpoints where projection = ${PROJECTION_NAME}`.execute(db);
  const row = rows[0];
  if (!row) throw new Error(`no checkpoint in ${schema}`);
  return { position: { major: BigInt(row.major), minor: BigInt(row.minor) }, eventsApplied: Number(row.events_applied) };
}

/** Moves the checkpoint from `expected` to `next`; fails the transaction if someone else moved it. */
export async function compareAndSetCheckpoint(trx: ReadModelDb, schema: string, expected: GlobalPosition, next: GlobalPosition, applied: number): Promise<void> {
  if (comparePositions(next, expected) <= 0) throw new Error('checkpoint must move forward');
  const result = await sql`
    update ${sql.id(schema)}.checkpoints
    set position_major = ${next.major.toString()}::numeric, position_minor = ${next.minor.toString()}::numeric,
        events_applied = events_applied + ${applied}, updated_at = now()
    where projection = ${PROJECTION_NAME}
      and position_major = ${expected.major.toString()}::numeric and position_minor = ${expected.minor.toString()}::numeric`.execute(trx);
  if (Number(result.numAffectedRows ?? 0) !== 1) throw new Error('checkpoint moved under this runner: another runner is active');
}

/**
 * Read-your-writes: waits until the read models in `schema` reflect `target`, polling the
 * checkpoint (cheap, and it works whichever process runs the projection). Returns the position
 * reached, or undefined when `timeoutMs` passed first.
 */
export async function waitForCheckpoint(db: ReadModelDb, schema: string, target: GlobalPosition, timeoutMs: number): Promise<GlobalPosition | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { position } = await readCheckpoint(db, schema);
    if (position.major > target.major || (position.major === target.major && position.minor >= target.minor)) return position;
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
