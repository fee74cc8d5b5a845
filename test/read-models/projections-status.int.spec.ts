import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { SqlEventStore, encodePosition, migrateEventStore, type RecordedEvent } from '@dealstream/event-store';
import {
  LIVE_SCHEMA,
  compareAndSetCheckpoint,
  ensureReadModelSchema,
  projectBatch,
  readCheckpoint,
} from '@dealstream/read-models';
import { createPostgresTestDatabase, type TestDatabase } from '../support/test-database.js';
import { writeVariedHistory } from '../support/history-generator.js';
import { readAllWritten } from '../support/read-all-written.js';

const CLI = 'dist/apps/cli/src/main.js';
const run = promisify(execFile);

/**
 * The built CLI on a store whose live read models are behind (no runner): `projections status` and
 * `rebuild --dry-run` both say "behind by N" — the dry run's parity (a rebuild equals the live
 * tables at one position) no longer hides that the live tables are stale.
 */
describe('projections status and an honest rebuild --dry-run (PostgreSQL)', () => {
  let database: TestDatabase;
  let events: RecordedEvent[];
  const applied = 10;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} missing: npm test builds it (npm run build)`);
    database = await createPostgresTestDatabase();
    await migrateEventStore(database.db);
    await ensureReadModelSchema(database.db);
    const store = new SqlEventStore(database.db);
    const { events: written } = await writeVariedHistory(store, 8);
    events = await readAllWritten(store, written);
    expect(events).toHaveLength(written);
    // the live runner got through the first 10 events, then stopped
    await database.db.transaction().execute(async (trx) => {
      await projectBatch(trx, LIVE_SCHEMA, events.slice(0, applied));
      await compareAndSetCheckpoint(
        trx,
        LIVE_SCHEMA,
        (await readCheckpoint(trx, LIVE_SCHEMA)).position,
        events[applied - 1].position,
        applied,
      );
    });
  });
  afterAll(() => database.drop());

  const cli = async (...args: string[]) => {
    try {
      const { stdout } = await run(process.execPath, [CLI, ...args], {
        env: { ...process.env, DATABASE_URL: database.url! },
      });
      return { code: 0, stdout };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout };
    }
  };

  it('projections status says behind by N, names no leader, exits 1', async () => {
    const behind = events.length - applied;
    const { code, stdout } = await cli('projections', 'status');
    expect(code).toBe(1);
    expect(stdout).toContain(
      `live read models: behind by ${behind} events (checkpoint ${encodePosition(events[applied - 1].position)}, store head ${encodePosition(events.at(-1)!.position)}`,
    );
    expect(stdout).toContain('leader: none: no runner holds the projection lock');
    const json = JSON.parse((await cli('projections', 'status', '--json')).stdout);
    expect(json).toMatchObject({ behind, behindAtLeast: false, leader: { held: false } });
  });

  it('rebuild --dry-run reports the live lag before and after, apart from parity, and leaves the live tables as they were', async () => {
    const behind = events.length - applied;
    const before = await readCheckpoint(database.db, LIVE_SCHEMA);
    const { code, stdout } = await cli('rebuild', '--dry-run');
    expect(code).toBe(0);
    expect(stdout).toContain(`live read models before the rebuild: behind by ${behind} events`);
    expect(stdout).toContain(`note: the live tables were ${behind} events behind the rebuild`);
    expect(stdout).toContain(
      'parity ok: a rebuild equals the live tables at the same position (dry run: live tables kept)',
    );
    expect(stdout).toContain(`live read models now: behind by ${behind} events`);
    expect(await readCheckpoint(database.db, LIVE_SCHEMA)).toEqual(before);
  }, 60_000);

  it('says up to date once they are', async () => {
    await database.db.transaction().execute(async (trx) => {
      await projectBatch(trx, LIVE_SCHEMA, events.slice(applied));
      await compareAndSetCheckpoint(
        trx,
        LIVE_SCHEMA,
        events[applied - 1].position,
        events.at(-1)!.position,
        events.length - applied,
      );
    });
    const { code, stdout } = await cli('projections', 'status');
    expect(code).toBe(0);
    expect(stdout).toContain(
      `live read models: up to date (checkpoint ${encodePosition(events.at(-1)!.position)} is the store's head)`,
    );
  });
});
