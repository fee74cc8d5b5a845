import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { sql } from 'kysely';
import { SqlEventStore, migrateEventStore } from '@dealstream/event-store';
import {
  LIVE_SCHEMA,
  compareReadModels,
  createReadModelSchema,
  ensureReadModelSchema,
  projectBatch,
  readCheckpoint,
} from '@dealstream/read-models';
import { createPostgresTestDatabase, type TestDatabase } from '../support/test-database.js';
import { writeVariedHistory } from '../support/history-generator.js';
import { readAllWritten } from '../support/read-all-written.js';

const PROJECTOR = 'dist/apps/projector/src/main.js';
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Crash safety of the projection runner, with real processes killed by SIGKILL: between batches and
 * inside a batch transaction. Afterwards the read models must equal a full rebuild, and the
 * checkpoint must have counted every event exactly once.
 */
describe('projector crash safety (real processes, SIGKILL)', () => {
  let database: TestDatabase;
  let totalEvents = 0;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    if (!existsSync(PROJECTOR)) throw new Error(`${PROJECTOR} missing: npm test builds it (npm run build)`);
    database = await createPostgresTestDatabase();
    await migrateEventStore(database.db);
    await ensureReadModelSchema(database.db);
    totalEvents = (await writeVariedHistory(new SqlEventStore(database.db), 400)).events;
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await database.drop();
  });

  const start = (name: string) => {
    const url = new URL(database.url!);
    url.searchParams.set('application_name', `projector-${name}`);
    const child = spawn(process.execPath, [PROJECTOR], {
      env: { ...process.env, DATABASE_URL: url.toString(), PROJECTOR_BATCH_SIZE: '40', PROJECTOR_FAULT_DELAY_MS: '25' },
      stdio: 'ignore',
    });
    children.push(child);
    return child;
  };
  const kill = async (child: ChildProcess) => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  const applied = async () => (await readCheckpoint(database.db, LIVE_SCHEMA)).eventsApplied;
  /**
   * True once that projector sits inside a batch transaction that has already written read-model
   * rows (and its uncommitted checkpoint move) but not committed (its fault-injection pause): idle in
   * a transaction whose last statement wrote the read_models schema.
   */
  const inTransaction = async (name: string) => {
    const { rows } = await sql<{ n: string }>`select count(*)::text as n from pg_stat_activity
      where application_name = ${`projector-${name}`} and state = 'idle in transaction'
        and query ~* '(insert into|update|delete from) "read_models"'`.execute(database.db);
    return Number(rows[0].n) > 0;
  };
  const waitUntil = async (condition: () => Promise<boolean>, what: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await pause(5);
    }
  };

  it('loses nothing and applies nothing twice across kills inside and between batches', async () => {
    let insideKills = 0;
    for (let round = 0; round < 6; round++) {
      const name = `r${round}`;
      const child = start(name);
      const before = await applied();
      if (round % 2 === 0) {
        // inside a batch: wait until its transaction is open (rows written, not yet committed)
        await waitUntil(() => inTransaction(name), 'a batch transaction');
        insideKills++;
      } else {
        // between batches: wait for progress, then kill at a random moment
        await waitUntil(async () => (await applied()) > before, 'progress');
        await pause(Math.random() * 60);
      }
      await kill(child);
    }
    expect(insideKills).toBe(3);
    expect(await applied()).toBeLessThan(totalEvents); // the kills really interrupted the work

    const last = start('final');
    await waitUntil(async () => (await applied()) === totalEvents, 'the final runner to catch up', 120_000);
    await kill(last);

    await createReadModelSchema(database.db, 'read_models_rebuilt');
    const events = await readAllWritten(new SqlEventStore(database.db), totalEvents);
    expect(events).toHaveLength(totalEvents);
    await database.db.transaction().execute((trx) => projectBatch(trx, 'read_models_rebuilt', events));
    const parity = await compareReadModels(database.db, LIVE_SCHEMA, 'read_models_rebuilt');
    expect(parity.tables.filter((t) => t.onlyInA || t.onlyInB)).toEqual([]);
    expect(parity.equal).toBe(true);
    expect((await readCheckpoint(database.db, LIVE_SCHEMA)).position).toEqual(events.at(-1)!.position);
  }, 240_000);

  it('a standby projector takes over when the active one dies', async () => {
    // More events for a second round
    totalEvents += (await writeVariedHistory(new SqlEventStore(database.db), 150)).events;
    const a = start('a');
    const b = start('b');
    const holder = async () => {
      const { rows } = await sql<{
        application_name: string;
      }>`select a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where l.locktype = 'advisory' and l.granted and a.application_name like 'projector-%'`.execute(database.db);
      return rows.map((r) => r.application_name);
    };
    await waitUntil(async () => (await holder()).length === 1, 'one active projector');
    const [active] = await holder();
    const before = await applied();
    await kill(active === 'projector-a' ? a : b);
    const survivor = active === 'projector-a' ? 'projector-b' : 'projector-a';
    await waitUntil(async () => (await holder())[0] === survivor, 'the standby to take the lock');
    await waitUntil(async () => (await applied()) === totalEvents, 'the survivor to finish', 120_000);
    expect(await applied()).toBeGreaterThan(before);
    await kill(survivor === 'projector-a' ? a : b);
  }, 240_000);
});
