/**
 * The projection runner on its own (issue 13's projection lag), on PostgreSQL, without HTTP:
 *
 *   npm run build:emit && node dist/test/benchmarks/projection-runner.bench.js
 *   BENCH_EVENTS=20000 BENCH_RATE=800 BENCH_SECONDS=5 node dist/test/benchmarks/projection-runner.bench.js
 *
 * Creates its own database with one pipeline and BENCH_DEALS deals (256), then:
 * 1. drain — BENCH_EVENTS `ActivityLogged` events appended with no runner; a runner started; the time
 *    until its checkpoint reaches the last one: events/s projected, batches, statements (round trips:
 *    calls of pg's `Client.query`) per batch, Node CPU and PostgreSQL CPU per event;
 * 2. steady — appends at BENCH_RATE per second (open loop, through the store's group commit) with the
 *    runner in the same process and one read per append waiting for its position on the
 *    `CheckpointWatch` (what `GET /deals/:id?minPosition=` does in the API): lag from the append's
 *    answer to the wait's, and the runner's batches meanwhile;
 * 3. the raw baseline: the same events' deal rows updated by one `UPDATE … FROM unnest` per batch
 *    — the least a set-wise projection of activities can do.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { DB } from '@dealstream/database';
import { SqlEventStore, migrateEventStore, encodePosition, type NewEvent } from '@dealstream/event-store';
import {
  CheckpointWatch,
  LIVE_SCHEMA,
  ProjectionRunner,
  ensureReadModelSchema,
  readCheckpoint,
} from '@dealstream/read-models';
import { createPostgresTestDatabase } from '../support/test-database.js';
import { percentile, printTable } from './bench-kit.js';
import { writeOpenDeals } from './open-deals.seed.js';

const dealCount = Number(process.env.BENCH_DEALS ?? 256);
const drainEvents = Number(process.env.BENCH_EVENTS ?? 20_000);
const rate = Number(process.env.BENCH_RATE ?? 800);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const TICKS_PER_SECOND = 100;

// Every statement any connection of this process sends (Kysely's queries, COPY, multi-statement messages).
const statements = { count: 0, byKind: new Map<string, number>() };
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements.count++;
  const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string } | undefined)?.text ?? '?');
  const kind = text.replace(/\s+/g, ' ').trim().slice(0, 60);
  statements.byKind.set(kind, (statements.byKind.get(kind) ?? 0) + 1);
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;

const database = await createPostgresTestDatabase({ poolSize: 40 });
try {
  await migrateEventStore(database.db);
  await ensureReadModelSchema(database.db);
  const store = new SqlEventStore(database.db);
  const seeded = await writeOpenDeals(store, { seed: 7, deals: dealCount, end: new Date('2026-11-01T00:00:00Z') });
  const streams = (
    await sql<{ stream_id: string }>`select stream_id from event_store.streams where stream_id like 'deal-%'`.execute(
      database.db,
    )
  ).rows.map((row) => row.stream_id);
  console.log(`projection runner — PostgreSQL; ${seeded.deals} deals (${seeded.events} seed events)`);

  // 1. Drain: a backlog, then the runner alone.
  await inParallel(drainEvents / 100, 8, async (i) => {
    await store.appendToStream(
      streams[i % streams.length],
      Array.from({ length: 100 }, () => activity()),
      { expectedRevision: 'any' },
    );
  });
  const head = await store.headPosition();
  const batches: { events: number; seconds: number }[] = [];
  const runner = new ProjectionRunner({
    database,
    store,
    onBatch: (batch) => batches.push(batch),
  });
  const node0 = process.cpuUsage();
  const pg0 = await backendsCpu(database.db);
  const statements0 = statements.count;
  const kinds0 = new Map(statements.byKind);
  const started = performance.now();
  await runner.start();
  while ((await readCheckpoint(database.db, LIVE_SCHEMA)).position.major < head.major)
    await new Promise((resolve) => setTimeout(resolve, 20));
  const drainSeconds = (performance.now() - started) / 1000;
  const nodeMs = cpuMs(process.cpuUsage(node0));
  const pgMs = (await backendsCpu(database.db)) - pg0;
  const projected = seeded.events + drainEvents;
  const drainStatements = statements.count - statements0;
  printTable(
    ['drain', 'events', 'seconds', 'events/s', 'batches', 'statements/batch', 'Node CPU ms/event', 'PG CPU ms/event'],
    [
      [
        'runner',
        projected,
        drainSeconds,
        projected / drainSeconds,
        batches.length,
        drainStatements / batches.length,
        nodeMs / projected,
        pgMs / projected,
      ],
    ],
  );
  if (process.env.BENCH_STATEMENTS)
    for (const [kind, count] of statements.byKind)
      if (count - (kinds0.get(kind) ?? 0) > 0) console.log(`  ${count - (kinds0.get(kind) ?? 0)}× ${kind}`);

  // 2. Steady: appends at `rate`, one waiting read per append.
  const watch = new CheckpointWatch(database.db, LIVE_SCHEMA);
  await runner.stop();
  batches.length = 0;
  const steady = new ProjectionRunner({
    database,
    store,
    onBatch: (batch) => batches.push(batch),
    onCommitted: watch.reached,
  });
  await steady.start();
  const lags: number[] = [];
  const inFlight: Promise<void>[] = [];
  const steadyStatements0 = statements.count;
  const steadyNode0 = process.cpuUsage();
  const steadyPg0 = await backendsCpu(database.db);
  const t0 = performance.now();
  for (let i = 0; performance.now() - t0 < seconds * 1000; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(
      (async () => {
        const appended = await store.appendToStream(streams[i % streams.length], [activity()], {
          expectedRevision: 'any',
        });
        const acknowledged = performance.now();
        const reached = await watch.wait(appended.position, 30_000);
        if (!reached) throw new Error(`not projected within 30 s: ${encodePosition(appended.position)}`);
        lags.push(performance.now() - acknowledged);
      })(),
    );
  }
  await Promise.all(inFlight);
  const steadySeconds = (performance.now() - t0) / 1000;
  const steadyNode = cpuMs(process.cpuUsage(steadyNode0));
  const steadyPg = (await backendsCpu(database.db)) - steadyPg0;
  await steady.stop();
  lags.sort((a, b) => a - b);
  const events = batches.reduce((sum, batch) => sum + batch.events, 0);
  const batchMs = batches.map((batch) => batch.seconds * 1000).sort((a, b) => a - b);
  printTable(
    [
      'steady',
      'appends/s',
      'lag p50 ms',
      'lag p99 ms',
      'lag max ms',
      'batches',
      'events/batch',
      'batch p50 ms',
      'batch p99 ms',
      'statements/append',
      'Node CPU ms/append',
      'PG CPU ms/append',
    ],
    [
      [
        'in-process',
        lags.length / steadySeconds,
        percentile(lags, 0.5),
        percentile(lags, 0.99),
        lags.at(-1) ?? Number.NaN,
        batches.length,
        events / batches.length,
        percentile(batchMs, 0.5),
        percentile(batchMs, 0.99),
        (statements.count - steadyStatements0) / lags.length,
        steadyNode / lags.length,
        steadyPg / lags.length,
      ],
    ],
  );
} finally {
  await database.drop();
}

function activity(): NewEvent {
  return {
    eventId: randomUUID(),
    type: 'ActivityLogged',
    data: { activityId: randomUUID(), kind: 'call' },
    metadata: { actorId: 'bench', occurredAt: new Date() },
  };
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

/** utime + stime so far of this database's backends, in milliseconds (from /proc). */
async function backendsCpu(db: Kysely<DB>): Promise<number> {
  const { rows } = await sql<{ pid: number }>`
    select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`.execute(db);
  let total = 0;
  for (const { pid } of rows) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
    } catch {
      // a backend that has exited since
    }
  }
  return total;
}

async function inParallel(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}
