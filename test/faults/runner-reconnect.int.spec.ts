import { sql } from 'kysely';
import { openDatabase, type Database } from '@dealstream/database';
import { SqlEventStore, comparePositions, migrateEventStore } from '@dealstream/event-store';
import { LIVE_SCHEMA, ProjectionRunner, ensureReadModelSchema, readCheckpoint } from '@dealstream/read-models';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { writeVariedHistory } from '../support/history-generator.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Polls `check` until it holds or `timeoutMs` passes; answers whether it held. */
const eventually = async (check: () => boolean | Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await pause(20);
  }
};

/**
 * The projection runner against a database that goes away, on a private PostgreSQL server this
 * file starts, restarts and stops (never the shared one). The runner's poll is set to a minute, so
 * anything applied within seconds was woken by NOTIFY — or by the listener's poke after a reconnect.
 */
describe('projection runner: lost connections and database restarts (private PostgreSQL)', () => {
  let server: PrivatePostgres;
  let database: Database;
  let observer: Database;
  let runner: ProjectionRunner;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    server = await startPrivatePostgres();
    const log = (entry: Record<string, unknown>) => logs.push(entry);
    database = await openDatabase({ kind: 'postgres', connectionString: server.url, poolSize: 4 }, { log });
    observer = await openDatabase({ kind: 'postgres', connectionString: server.url, poolSize: 2 });
    await migrateEventStore(database.db);
    await ensureReadModelSchema(database.db);
    runner = new ProjectionRunner({
      database,
      store: new SqlEventStore(database.db),
      pollIntervalMs: 60_000,
      standbyRetryMs: 100,
      initialRetryBackoffMs: 50,
      maxRetryBackoffMs: 500,
      log,
    });
    await runner.start();
  });
  afterAll(async () => {
    await runner?.stop();
    await database?.close();
    await observer?.close();
    server?.destroy();
  });

  /** The last event's position — every committed event, not only those below the xmin horizon. */
  const head = async () => {
    const { rows } = await sql<{
      major: string;
      minor: string;
    }>`select transaction_id::text as major, global_position::text as minor
      from event_store.events order by transaction_id desc, global_position desc limit 1`.execute(observer.db);
    return { major: BigInt(rows[0].major), minor: BigInt(rows[0].minor) };
  };
  const caughtUp = async (timeoutMs: number) => {
    const target = await head();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const { position } = await readCheckpoint(observer.db, LIVE_SCHEMA);
        if (comparePositions(position, target) >= 0) return true;
      } catch {
        // the observer's own connection may be reconnecting too
      }
      if (Date.now() > deadline) return false;
      await pause(20);
    }
  };
  const listenerPids = async () => {
    const { rows } = await sql<{
      pid: number;
    }>`select pid from pg_stat_activity where query ilike 'listen %' and pid <> pg_backend_pid()`.execute(observer.db);
    return rows.map((row) => row.pid);
  };
  const lockHeld = async () => {
    const { rows } = await sql<{
      n: string;
    }>`select count(*)::text as n from pg_locks where locktype = 'advisory' and granted`.execute(observer.db);
    return Number(rows[0].n) > 0;
  };

  it('an event written while the LISTEN connection is down is applied when it comes back; later NOTIFYs wake it again', async () => {
    await writeVariedHistory(new SqlEventStore(observer.db), 3);
    expect(await caughtUp(5000)).toBe(true);
    await pause(300); // let any catch-up pass still running finish, so the runner is idle below

    const [pid] = await listenerPids();
    expect(pid).toBeDefined();
    await sql`select pg_terminate_backend(${pid})`.execute(observer.db);
    while ((await listenerPids()).includes(pid)) await pause(2);
    // nobody is listening now: this NOTIFY is lost
    const listenersAtWrite = await listenerPids();
    await writeVariedHistory(new SqlEventStore(observer.db), 1);
    expect(listenersAtWrite).toEqual([]);
    // The listener comes back on its own (first retry after 250 ms) …
    expect(await eventually(() => logs.some((entry) => entry.msg === 'LISTEN re-established'), 5000)).toBe(true);
    // … and the event it missed is applied: the poll is 60 s, so only the reconnect's poke (or a
    // catch-up pass the runner was already in) can explain this. On a loaded machine the catch-up can
    // come first, so the two are awaited, not assumed to happen in one order.
    expect(await caughtUp(5000)).toBe(true);

    // and the new LISTEN connection delivers again
    await writeVariedHistory(new SqlEventStore(observer.db), 1);
    expect(await caughtUp(3000)).toBe(true);
    expect(runner.status().role).toBe('active');
  });

  it.each(['immediate', 'fast'] as const)(
    'survives a server restart (-m %s): reconnects, takes the lock again and keeps projecting',
    async (mode) => {
      expect(await lockHeld()).toBe(true);
      server.restart(mode);
      // writes right after the restart, while the runner is still reconnecting
      let written = false;
      for (let attempt = 0; attempt < 50 && !written; attempt++) {
        try {
          await writeVariedHistory(new SqlEventStore(observer.db), 2);
          written = true;
        } catch {
          await pause(100);
        }
      }
      expect(written).toBe(true);
      expect(await caughtUp(15_000)).toBe(true);
      expect(await lockHeld()).toBe(true);
      expect(runner.status().role).toBe('active');
      expect(logs.some((entry) => entry.msg === 'projection runner lost the database; reconnecting')).toBe(true);
      // The LISTEN connection retries on its own backoff (up to 5 s between attempts), independently
      // of the runner's: it may still be on its way back when the runner has caught up.
      expect(await eventually(async () => (await listenerPids().catch(() => [])).length === 1, 15_000)).toBe(true);
    },
  );
});
