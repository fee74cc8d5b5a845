/**
 * Append throughput of the SQL event store for 1, 4 and 16 concurrent writers, next to raw
 * single-row INSERTs into an equivalent table measured in the same run, on the same server.
 *
 *   npm run bench:event-store                 # PostgreSQL at TEST_POSTGRES_URL (default 127.0.0.1:5432)
 *   BENCH_SECONDS=10 npm run bench:event-store
 *   BENCH_WRITERS=16 npm run bench:event-store # only these writer counts (default 1,4,16)
 *   BENCH_ROUNDS=5                            # each measurement in this many interleaved slices (default 5)
 *
 * Each writer appends one event at a time to its own stream with an exact expected revision, which
 * is what a command handler does. The raw baseline inserts the same row shape (same columns, same
 * unique indexes) with one autocommit INSERT per event — the physical floor for "one durable event
 * per round trip". The store runs twice: with group commit as configured (EVENT_STORE_GROUP_COMMIT_WAIT_MS
 * / _MAX, defaults otherwise) and with groups of one (every append its own statement and commit).
 * The ratio (store ÷ raw) is the figure to compare across machines.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { SqlEventStore, groupCommitFromEnv, migrateEventStore } from '@dealstream/event-store';
import { createPostgresTestDatabase } from '../support/test-database.js';
import { combineLoops, createRawEventsTable, printTable, runFor, type LoopResult } from './bench-kit.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const levels = (process.env.BENCH_WRITERS ?? '1,4,16').split(',').map(Number);

const database = await createPostgresTestDatabase({ poolSize: 20 });
try {
  await migrateEventStore(database.db);
  await createRawEventsTable(database.db);

  const inFlight = process.env.BENCH_GROUP_IN_FLIGHT; // to compare settings; the API has no such variable
  const groupCommit = { ...groupCommitFromEnv(process.env), ...(inFlight ? { maxInFlight: Number(inFlight) } : {}) };
  const grouped = new SqlEventStore(database.db, { groupCommit });
  const alone = new SqlEventStore(database.db, {
    groupCommit: { maxAppends: 1, maxInFlight: Number.MAX_SAFE_INTEGER },
  });
  const payload = { title: 'ACME renewal', amount: 125_000, currency: 'EUR', ownerId: 'user-1' };
  const rows: (string | number)[][] = [];
  console.log(
    `SQL event store append benchmark — PostgreSQL, ${seconds}s per measurement in ${rounds} interleaved rounds, one event per append`,
  );
  console.log(`group commit: ${JSON.stringify(groupCommit)}; "alone": groups of one`);

  for (const writers of levels) {
    const runId = randomUUID().slice(0, 8);
    const rawRevisions = new Map<number, number>();
    const rawLoop = () =>
      runFor(seconds / rounds, writers, (worker) => {
        const revision = rawRevisions.get(worker) ?? 0;
        rawRevisions.set(worker, revision + 1);
        return sql`insert into raw_events (event_id, stream_id, stream_revision, type, data, actor_id, occurred_at, hash)
          values (${randomUUID()}::uuid, ${`raw-${runId}-${worker}`}, ${revision}, 'DealValueChanged', ${JSON.stringify(payload)}::jsonb, 'user-1', now(), 'x')`.execute(
          database.db,
        );
      });
    const appendLoop = (store: SqlEventStore, prefix: string) => {
      const revisions = new Map<number, bigint | 'no_stream'>();
      return () =>
        runFor(seconds / rounds, writers, async (worker) => {
          const result = await store.appendToStream(
            `${prefix}-${runId}-${worker}`,
            [
              {
                eventId: randomUUID(),
                type: 'DealValueChanged',
                data: payload,
                metadata: { actorId: 'user-1', occurredAt: new Date() },
              },
            ],
            { expectedRevision: revisions.get(worker) ?? 'no_stream' },
          );
          revisions.set(worker, result.nextExpectedRevision);
        });
    };
    // Interleaved rounds (raw, grouped, alone, raw, …): load from elsewhere on the machine then
    // weighs on all three alike instead of on whichever ran while it lasted.
    const [raw, appended, single] = await interleaved(rounds, [
      rawLoop,
      appendLoop(grouped, 'deal'),
      appendLoop(alone, 'single'),
    ]);
    rows.push([
      String(writers),
      appended.perSecond,
      appended.p50Ms,
      appended.p99Ms,
      single.perSecond,
      single.p50Ms,
      raw.perSecond,
      raw.p50Ms,
      appended.perSecond / raw.perSecond,
      single.perSecond / raw.perSecond,
    ]);
  }
  printTable(
    [
      'writers',
      'append ev/s',
      'p50 ms',
      'p99 ms',
      'alone ev/s',
      'alone p50 ms',
      'raw INSERT/s',
      'raw p50 ms',
      'append/raw',
      'alone/raw',
    ],
    rows,
  );
} finally {
  await database.drop();
}

/**
 * Runs each loop `rounds` times, round-robin, and sums them: throughput over all rounds, the median
 * of the rounds' p50 and the largest p99.
 */
async function interleaved(rounds: number, loops: (() => Promise<LoopResult>)[]): Promise<LoopResult[]> {
  const results: LoopResult[][] = loops.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [index, loop] of loops.entries()) results[index].push(await loop());
  }
  return results.map(combineLoops);
}
