import { sql, type Kysely } from 'kysely';
import type { GlobalPosition } from '@dealstream/event-store';

export const PROJECTION_NAME = 'read-models';

/** The position up to which the read models in `schema` reflect the event store. */
export async function readCheckpoint(db: Kysely<any>, schema: string): Promise<{ position: GlobalPosition; eventsApplied: number }> {
  const { rows } = await sql<{ major: string; minor: string; events_applied: string }>`
    select position_major::text as major, position_minor::text as minor, events_applied::text as events_applied
    from ${sql.id(schema)}.checkpoints where projection = ${PROJECTION_NAME}`.execute(db);
  const row = rows[0];
  if (!row) throw new Error(`no checkpoint in ${schema}`);
  return { position: { major: BigInt(row.major), minor: BigInt(row.minor) }, eventsApplied: Number(row.events_applied) };
}


/**
 * Read-your-writes: waits until the read models in `schema` reflect `target`, polling the
 * checkpoint (cheap, and it works whichever process runs the projection). Returns the position
 * reached, or undefined when `timeoutMs` passed first.
 */
export async function waitForCheckpoint(db: Kysely<any>, schema: string, target: GlobalPosition, timeoutMs: number): Promise<GlobalPosition | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { position } = await readCheckpoint(db, schema);
    if (position.major > target.major || (position.major === target.major && position.minor >= target.minor)) return position;
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, Math.min(25, Math.max(1, deadline - Date.now()))));
  }
}
