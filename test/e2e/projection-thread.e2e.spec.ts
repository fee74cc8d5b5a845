import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { sql } from 'kysely';
import request from 'supertest';
import { mintToken } from '@dealstream/auth';
import { SqlEventStore, decodePosition, encodePosition, type GlobalPosition } from '@dealstream/event-store';
import { dealStreamName } from '@dealstream/deals-domain';
import { createApp, type ApiApplication } from '../../apps/api/src/bootstrap.js';
import { appConfigFromEnv } from '../../apps/api/src/config/app-config.js';
import { PROJECTION_RUNNER } from '../../apps/api/src/projections/projections.module.js';
import { ProjectionThread, type RunnerHandle } from '../../apps/api/src/projections/projection-thread.js';
import { FixtureWriter } from '../support/fixture-writer.js';
import { TEST_JWT_SECRET } from '../support/api-harness.js';
import { createPostgresTestDatabase, type TestDatabase } from '../support/test-database.js';

/** psql of the server binaries the private test servers use (PG_BIN), else the one on PATH. */
const PSQL = process.env.PG_BIN ? join(process.env.PG_BIN, 'psql') : 'psql';

/**
 * Asks the server to wait, up to `seconds`, until the live checkpoint reaches `target` — from a
 * synchronous child process, so this thread (and the API's main thread with it) is blocked the whole
 * time: only a runner on another thread can move the checkpoint meanwhile. 'reached' or 'behind'.
 */
function checkpointReachedWhileBlocked(url: string, target: GlobalPosition, seconds: number): string {
  const script = `
    create function pg_temp.reached(major numeric, minor numeric, seconds int) returns text language plpgsql as $$
    declare deadline timestamptz := clock_timestamp() + make_interval(secs => seconds);
    begin
      loop
        if exists (select 1 from read_models.checkpoints
                   where projection = 'read-models' and (position_major, position_minor) >= (major, minor)) then
          return 'reached';
        end if;
        if clock_timestamp() > deadline then return 'behind'; end if;
        perform pg_sleep(0.01);
      end loop;
    end $$;
    select pg_temp.reached(${target.major}, ${target.minor}, ${seconds});`;
  const result = spawnSync(PSQL, [url, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', script], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`psql failed (${result.status}): ${result.stderr}`);
  return result.stdout.trim();
}

/**
 * The API's projection runner on PostgreSQL runs on a worker thread of its own (ProjectionThread):
 * its batches never wait for the API's event loop. Before, a busy main thread stalled every round
 * trip of every batch, and the reads waiting on minPosition with it (issue 13, projection lag).
 */
describe('the projection runner on a worker thread (PostgreSQL)', () => {
  let observer: TestDatabase;
  let app: ApiApplication | undefined;

  beforeAll(async () => {
    observer = await createPostgresTestDatabase({ poolSize: 1 });
    ({ app } = await createApp({
      ...appConfigFromEnv({}),
      database: { kind: 'postgres', connectionString: observer.url!, poolSize: 10 },
      logLevel: 'silent',
      auth: { secret: TEST_JWT_SECRET, publicKeyAlgorithm: 'RS256' },
    }));
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    await observer.drop();
  });

  it('projects while the main thread is blocked, and the read waiting for that write is answered from the committed position', async () => {
    const runner = app!.get<RunnerHandle>(PROJECTION_RUNNER);
    expect(runner).toBeInstanceOf(ProjectionThread);
    const store = new SqlEventStore(observer.db);
    const writer = new FixtureWriter(store);
    const pipelineId = randomUUID();
    const dealId = randomUUID();
    await writer.pipeline(pipelineId, new Date('2026-01-01T00:00:00Z'), () => [
      {
        type: 'DefinePipeline',
        data: {
          pipelineId,
          name: 'Thread',
          currency: 'EUR',
          stages: [{ stageId: randomUUID(), name: 'S', probability: 50 }],
        },
      },
    ]);
    await writer.deal(
      dealId,
      new Date('2026-02-01T00:00:00Z'),
      (pipeline) => [
        {
          type: 'CreateDeal',
          data: {
            dealId,
            pipeline,
            title: 'Thread',
            account: 'Acme',
            amount: 100,
            currency: 'EUR',
            ownerId: 'owner-1',
          },
        },
      ],
      pipelineId,
    );
    const appended = await store.appendToStream(
      dealStreamName(dealId),
      [
        {
          eventId: randomUUID(),
          type: 'ActivityLogged',
          data: { activityId: randomUUID(), kind: 'call' },
          metadata: { actorId: 'test', occurredAt: new Date('2026-03-01T00:00:00Z') },
        },
      ],
      { expectedRevision: 'any' },
    );
    // From the commit on, this thread is blocked until the checkpoint reaches the write (or 30 s pass):
    // a runner on this thread could not take a single step of a batch meanwhile.
    expect(checkpointReachedWhileBlocked(observer.url!, appended.position, 30)).toBe('reached');

    const token = await mintToken({ subject: 'alice', roles: ['sales'], secret: TEST_JWT_SECRET, expiresIn: '1h' });
    const read = await request(app!.getHttpServer())
      .get(`/deals/${dealId}?minPosition=${encodePosition(appended.position)}`)
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    const readPosition = decodePosition(String(read.headers['x-read-position']))!;
    expect(readPosition.major > appended.position.major || readPosition.minor >= appended.position.minor).toBe(true);
    expect(runner.status()).toMatchObject({ role: 'active' });
  }, 60_000);

  it('ends its thread and closes its connections when the app closes', async () => {
    const runner = app!.get<RunnerHandle>(PROJECTION_RUNNER);
    const others = async () => {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid()`.execute(observer.db);
      return rows[0].n;
    };
    expect(await others()).toBeGreaterThan(0); // the API's pool, the runner's session and its LISTEN
    await app!.close();
    app = undefined;
    expect(runner.status().role).toBe('stopped');
    // A backend goes a moment after its client disconnected.
    for (let attempt = 0; (await others()) > 0 && attempt < 500; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await others()).toBe(0);
  }, 60_000);
});
