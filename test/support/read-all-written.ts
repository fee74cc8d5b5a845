import type { Kysely } from 'kysely';
import type { EventStore, EventStoreTables, GlobalPosition, RecordedEvent } from '@dealstream/event-store';

/**
 * Every event a test wrote, in global order: reads until `count` events have come back. The SQL
 * store's readAll stops at the server's visibility horizon, which any open transaction on the same
 * PostgreSQL server holds back — other test files' included, in other databases — so one read right
 * after writing can come back short. Fails with a clear message if they are not all readable within
 * `timeoutMs`.
 */
export async function readAllWritten(
  store: EventStore,
  count: number,
  options: { after?: GlobalPosition; timeoutMs?: number } = {},
): Promise<RecordedEvent[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const all: RecordedEvent[] = [];
  let cursor = options.after;
  while (all.length < count) {
    const batch = await store.readAll({ ...(cursor ? { after: cursor } : {}), limit: 5000 });
    all.push(...batch.events);
    cursor = batch.cursor;
    if (batch.events.length > 0) continue;
    if (Date.now() > deadline)
      throw new Error(`only ${all.length} of ${count} written events became readable within the time bound`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return all;
}

/** How many events the SQL store holds (committed rows; unaffected by the visibility horizon). */
export async function countStoredEvents(db: Kysely<EventStoreTables>): Promise<number> {
  const { n } = await db
    .selectFrom('event_store.events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** Every event the SQL store holds, in global order (readAllWritten of countStoredEvents). */
export async function readAllStored(db: Kysely<EventStoreTables>, store: EventStore): Promise<RecordedEvent[]> {
  return readAllWritten(store, await countStoredEvents(db));
}
