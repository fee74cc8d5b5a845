/**
 * The HTTP write path end to end, next to raw PostgreSQL measured in the same run on the same server:
 *
 *   npm run bench:http                      # PostgreSQL at TEST_POSTGRES_URL (default 127.0.0.1:5432)
 *   BENCH_SECONDS=10 npm run bench:http
 *   BENCH_ROUNDS=5 npm run bench:http       # the commands table in 5 alternating slices per level (default 3)
 *
 * Creates its own database, starts the built API (dist/apps/api/src/main.js) as a child process on it
 * (projections in-process, LOG_LEVEL=warn), mints a token and then measures:
 * - `POST /deals/:id/activities` from 1 / 4 / 16 / 64 keep-alive clients, each on its own deals, next
 *   to single-row autocommit INSERTs into a table shaped like event_store.events at the same
 *   concurrency (the raw baseline of event-store-append.bench.ts) — the two alternating in
 *   BENCH_ROUNDS slices (raw, commands, raw, …; since 2026-12-08, when one 5 s measurement of each,
 *   one after the other, moved the 16-client ratio by ±25% between runs of one build), with the
 *   16-client ratio of each round printed too;
 * - CPU per command of the API process and of its PostgreSQL backends (from /proc), and of the bench's
 *   own HTTP client (`client CPU`: on the same cores, so part of what a command costs here), against
 *   the bench's own CPU plus its backends per raw INSERT;
 * - the API's peak RSS during the 16-client run;
 * - at 16 clients, the HTTP floor: the same clients posting the same body to a bare node:http server
 *   (no framework, no database, its own process), next to raw INSERTs measured right before it
 *   (BENCH_FLOOR=0 skips it) — no HTTP command can cost less than that plus its database work;
 * - projection lag: write acknowledged → visible to `GET /deals/:id?minPosition=<the write's
 *   position>`, at half the highest command rate measured (open loop, after one uncounted second at
 *   that rate) for one write in ten, and for another one in ten ack → a plain `GET /deals/:id`
 *   answers (the floor: what a read takes at that load without waiting for anything);
 * - commands (16 clients) on 1,000-event deals against 10-event deals;
 * - `GET /events` pages of 100 (one client) against the same keyset read by SQL through the same driver,
 *   each after one uncounted pass of BENCH_SECONDS (JIT and PostgreSQL's buffers warmed for both).
 * The ratios are the figures to compare across machines and changes.
 *
 * Diagnostics (not for the recorded figures): BENCH_API_NODE_ARGS adds node flags to the API child
 * (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), BENCH_API_PG_OPTIONS sets the API's connection
 * `options` (e.g. `-c log_min_duration_statement=0` to log every statement it sends), and
 * BENCH_COMMANDS_ONLY=1 stops after the commands table, BENCH_UNTIL_LAG=1 after the projection lag, and
 * BENCH_LAG_RATE=<commands/s> measures the lag at that rate instead of half the max (to compare builds at
 * one rate on a machine whose load moves the max).
 * BENCH_EVENTS_ONLY=1 measures `GET /events` alone: it seeds the feed with BENCH_SECONDS of commands from
 * 16 clients (events shaped as in the full run: activities with their command and correlation ids),
 * waits for the projection, then times the route and the raw keyset read BENCH_FEED_ROUNDS times
 * (default 1), alternating, each for BENCH_SECONDS, printing each pair and its ratio.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { DB } from '@dealstream/database';
import { Pool } from 'undici';
import { mintToken } from '@dealstream/auth';
import { SqlEventStore, encodePosition, type NewEvent } from '@dealstream/event-store';
import { createPostgresTestDatabase } from '../support/test-database.js';
import {
  combineLoops,
  cpuSince,
  cpuSnapshot,
  createRawEventsTable,
  percentile,
  printTable,
  processCpuMs,
  runFor,
  withCpu,
  type LoopResult,
} from './bench-kit.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
/** The commands table: each level's raw INSERTs and commands in this many alternating slices of BENCH_SECONDS ÷ rounds. */
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const eventsOnly = process.env.BENCH_EVENTS_ONLY === '1';
const levels = eventsOnly ? [] : (process.env.BENCH_LEVELS ?? '1,4,16,64').split(',').map(Number);
const SECRET = 'bench-secret-that-is-long-enough-for-hs256-0123456789';
const APP_NAME = 'dealstream-api-bench';

const database = await createPostgresTestDatabase({ poolSize: 70 });
const dataDir = await mkdtemp(join(tmpdir(), 'ds-http-bench-'));
const port = await freePort();
const apiUrl = new URL(database.url!);
apiUrl.searchParams.set('application_name', APP_NAME);
if (process.env.BENCH_API_PG_OPTIONS) apiUrl.searchParams.set('options', process.env.BENCH_API_PG_OPTIONS);
const nodeArgs = (process.env.BENCH_API_NODE_ARGS ?? '').split(' ').filter(Boolean);
const child = spawn(process.execPath, [...nodeArgs, 'dist/apps/api/src/main.js'], {
  env: {
    ...process.env,
    DATABASE_URL: apiUrl.toString(),
    PORT: String(port),
    DATA_DIR: dataDir,
    AUTH_JWT_SECRET: SECRET,
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
// Stopping the bench (Ctrl-C, kill) stops its API too; `finally` below does it on a normal end.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    child.kill('SIGTERM');
    process.exit(130);
  });
const base = `http://127.0.0.1:${port}`;
const pool = new Pool(base, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 });
try {
  await waitForApi();
  await createRawEventsTable(database.db);
  const token = `Bearer ${await mintToken({ subject: 'bench', roles: ['admin'], secret: SECRET, expiresIn: '1h' })}`;
  const headers = { authorization: token, 'content-type': 'application/json' };

  const pipelineId = (await post('/pipelines', {
    name: 'Bench',
    currency: 'EUR',
    stages: [1, 2, 3].map((i) => ({ stageId: randomUUID(), name: `Stage ${i}`, probability: 10 * i })),
  })) as { id: string };
  const newDeal = async () =>
    (
      (await post('/deals', { pipelineId: pipelineId.id, title: 'T', account: 'A', amount: 100, currency: 'EUR' })) as {
        id: string;
      }
    ).id;
  const deals = await inParallel(256, 16, newDeal);
  console.log(
    `HTTP write path — PostgreSQL, ${seconds}s per measurement (the commands table: raw and commands alternating in ${rounds} rounds); POST /deals/:id/activities, one deal per client at a time`,
  );

  // Commands and raw INSERTs per concurrency level.
  const rows: (string | number)[][] = [];
  let maxRate = 0;
  let rssPeakMb = 0;
  const roundRatios: string[] = [];
  let apiSplit = '';
  for (const clients of levels) {
    // Raw INSERTs and commands alternate in `rounds` slices (raw, commands, raw, …), so a host that
    // speeds up or slows down within the minute weighs on both alike; CPU is counted per slice.
    const rawParts: LoopResult[] = [];
    const commandParts: LoopResult[] = [];
    let rawCpuMs = 0;
    let benchMsTotal = 0;
    let apiMsTotal = 0;
    let apiMainMsTotal = 0;
    let pgMsTotal = 0;
    const sampler = clients === 16 ? sampleRss(child.pid!) : undefined;
    const perWorker = Math.floor(deals.length / clients);
    for (let round = 0; round < rounds; round++) {
      const rawSlice = await timeRawInserts(database.db, seconds / rounds, clients, 'raw');
      rawParts.push(rawSlice.loop);
      rawCpuMs += rawSlice.cpuMs;

      const apiCpu0 = processCpuMs(child.pid!);
      const apiMainCpu0 = processCpuMs(child.pid!, child.pid);
      const pgCpu0 = await cpuSnapshot(database.db, APP_NAME);
      const benchCpu0 = process.cpuUsage();
      commandParts.push(
        await runFor(seconds / rounds, clients, (worker, iteration) =>
          post(`/deals/${deals[worker * perWorker + (iteration % perWorker)]}/activities`, { kind: 'call' }),
        ),
      );
      const benchCpu = process.cpuUsage(benchCpu0);
      benchMsTotal += (benchCpu.user + benchCpu.system) / 1000;
      apiMsTotal += processCpuMs(child.pid!) - apiCpu0;
      apiMainMsTotal += processCpuMs(child.pid!, child.pid) - apiMainCpu0;
      pgMsTotal += await cpuSince(database.db, pgCpu0, APP_NAME);
    }
    if (sampler) rssPeakMb = sampler.stop();
    const raw = combineLoops(rawParts);
    const commands = combineLoops(commandParts);
    if (clients === 16) {
      const main = apiMainMsTotal / commands.operations;
      apiSplit = `API CPU per command at 16 clients: main thread ${main.toFixed(2)} ms, its other threads (projection worker, V8's GC and compiler) ${(apiMsTotal / commands.operations - main).toFixed(2)} ms`;
      roundRatios.push(...commandParts.map((part, round) => (part.perSecond / rawParts[round].perSecond).toFixed(2)));
    }
    const rawMsPerOp = rawCpuMs / raw.operations;
    const benchMs = benchMsTotal / commands.operations;
    const apiMs = apiMsTotal / commands.operations;
    const pgMs = pgMsTotal / commands.operations;
    maxRate = Math.max(maxRate, commands.perSecond);
    rows.push([
      String(clients),
      commands.perSecond,
      commands.p50Ms,
      commands.p99Ms,
      raw.perSecond,
      raw.p50Ms,
      commands.perSecond / raw.perSecond,
      apiMs,
      pgMs,
      benchMs,
      rawMsPerOp,
    ]);
  }
  if (rows.length > 0)
    printTable(
      [
        'clients',
        'commands/s',
        'p50 ms',
        'p99 ms',
        'raw INSERT/s',
        'raw p50 ms',
        'cmd/raw',
        'API CPU ms/cmd',
        'PG CPU ms/cmd',
        'client CPU ms/cmd',
        'raw CPU ms/insert',
      ],
      rows,
    );
  if (roundRatios.length > 0)
    console.log(`cmd/raw at 16 clients, round by round (${rounds} rounds): ${roundRatios.join(' / ')}`);
  if (apiSplit) console.log(apiSplit);
  if (rows.length > 0) console.log(`API peak RSS during the 16-client run: ${rssPeakMb.toFixed(0)} MB`);
  if (levels.includes(16) && process.env.BENCH_FLOOR !== '0') printFloor(await httpFloor(16, database.db));
  if (eventsOnly) {
    const perWorker = Math.floor(deals.length / 16);
    const seeded = await runFor(seconds, 16, (worker, iteration) =>
      post(`/deals/${deals[worker * perWorker + (iteration % perWorker)]}/activities`, { kind: 'call' }),
    );
    console.log(`seeded ${seeded.operations} commands`);
    const rounds = Number(process.env.BENCH_FEED_ROUNDS ?? 1);
    for (let round = 0; round < rounds; round++) printFeed(await eventFeedRatio(database.db));
  } else if (process.env.BENCH_COMMANDS_ONLY !== '1') {
    // Projection lag at half the highest command rate, open loop, once the projection has caught up
    // with the runs above (at full rate it may fall behind; that backlog is not this figure).
    const marker = (await post(`/deals/${deals[0]}/activities`, { kind: 'note' })) as { position: string };
    await waitForProjection(deals[0], marker.position);
    const lagRate = Number(process.env.BENCH_LAG_RATE ?? maxRate / 2);
    // One second at that rate first, not counted: the runs above sent no reads and held 16
    // connections, so the first reads and the first connections beyond 16 would land in the figure.
    await projectionLag(lagRate, deals, 1);
    const lag = await projectionLag(lagRate, deals, seconds);
    console.log(
      `projection lag at ${lagRate.toFixed(0)} commands/s (${process.env.BENCH_LAG_RATE ? 'fixed' : 'half the max'}): p50 ${lag.p50.toFixed(1)} ms, p99 ${lag.p99.toFixed(1)} ms, max ${lag.max.toFixed(1)} ms over ${lag.samples} writes (ack → GET /deals/:id?minPosition answers; one write in ten); another one in ten, ack → a plain GET /deals/:id answers: p50 ${lag.readP50.toFixed(1)} ms, p99 ${lag.readP99.toFixed(1)} ms`,
    );

    if (process.env.BENCH_UNTIL_LAG !== '1') {
      // Stream length: 64 deals of 1,000 events against 256 deals of 10, 16 clients.
      const store = new SqlEventStore(database.db);
      const longDeals = await inParallel(64, 16, newDeal);
      let lastPosition = '';
      await inParallel(longDeals.length, 4, async (index) => {
        const id = longDeals[index];
        const events: NewEvent[] = Array.from({ length: 999 }, () => activityEvent());
        const appended = await store.appendToStream(`deal-${id}`, events, { expectedRevision: 0n });
        lastPosition = encodePosition(appended.position);
      });
      const shortDeals = await inParallel(256, 16, newDeal);
      await inParallel(shortDeals.length, 4, async (index) => {
        await store.appendToStream(
          `deal-${shortDeals[index]}`,
          Array.from({ length: 9 }, () => activityEvent()),
          { expectedRevision: 0n },
        );
      });
      await waitForProjection(longDeals[0], lastPosition);
      const onDeals = (set: string[]) => {
        const perWorker = Math.floor(set.length / 16);
        return runFor(seconds, 16, (worker, iteration) =>
          post(`/deals/${set[worker * perWorker + (iteration % perWorker)]}/activities`, { kind: 'email' }),
        );
      };
      const short = await onDeals(shortDeals);
      const long = await onDeals(longDeals);
      const shortAgain = await onDeals(shortDeals);
      const shortBoth: LoopResult = {
        ...short,
        perSecond: (short.perSecond + shortAgain.perSecond) / 2,
        p50Ms: (short.p50Ms + shortAgain.p50Ms) / 2,
      };
      printTable(
        ['deal length', 'commands/s', 'p50 ms', 'p99 ms', 'p50 ÷ 10-event p50'],
        [
          [
            '10 events (before and after)',
            shortBoth.perSecond,
            shortBoth.p50Ms,
            Math.max(short.p99Ms, shortAgain.p99Ms),
            1,
          ],
          ['1,000 events', long.perSecond, long.p50Ms, long.p99Ms, long.p50Ms / shortBoth.p50Ms],
        ],
      );

      // GET /events pages against the same keyset read by SQL.
      printFeed(await eventFeedRatio(database.db));
    }
  }

  /** CPU per page beside the rates: on a busy machine the rates follow the load, the CPU much less. */
  function printFeed(feed: Awaited<ReturnType<typeof eventFeedRatio>>): void {
    printTable(
      ['read, pages of 100', 'pages/s', 'p50 ms', 'p99 ms', 'API CPU ms/page', 'PG CPU ms/page', 'bench CPU ms/page'],
      [
        ['GET /events', feed.route.perSecond, feed.route.p50Ms, feed.route.p99Ms, ...feed.routeCpu],
        ['raw keyset select', feed.raw.perSecond, feed.raw.p50Ms, feed.raw.p99Ms, '', ...feed.rawCpu],
        ['ratio route/raw', feed.route.perSecond / feed.raw.perSecond, '', '', '', '', ''],
      ],
    );
  }

  /**
   * The floor under any HTTP command on this machine: the same clients posting the same body to a bare
   * node:http server (its own process, no framework, no database) that reads it and answers a small
   * JSON 201 — beside raw INSERTs measured right before it. A command cannot cost less CPU than this
   * plus its database work.
   */
  async function httpFloor(clients: number, db: Kysely<DB>) {
    const floorPort = await freePort();
    const server = spawn(
      process.execPath,
      [
        '-e',
        `require('node:http').createServer((q, s) => { let b = ''; q.on('data', (c) => (b += c)); q.on('end', () => { const out = JSON.stringify({ id: q.url, kind: JSON.parse(b).kind }); s.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) }); s.end(out); }); }).listen(${floorPort}, '127.0.0.1', () => console.log('up'));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await once(server.stdout, 'data');
      const floorPool = new Pool(`http://127.0.0.1:${floorPort}`, { connections: clients, pipelining: 1 });
      const { loop: raw, cpuMs: rawCpuMs } = await timeRawInserts(db, seconds, clients, 'floor');
      const rawMs = rawCpuMs / raw.operations;
      const serverCpu0 = processCpuMs(server.pid!);
      const clientCpu0 = process.cpuUsage();
      const bare = await runFor(seconds, clients, async (worker, iteration) => {
        const response = await floorPool.request({
          method: 'POST',
          path: `/deals/${worker}-${iteration}/activities`,
          headers,
          body: JSON.stringify({ kind: 'call' }),
        });
        await response.body.text();
        if (response.statusCode !== 201) throw new Error(`floor server: ${response.statusCode}`);
      });
      const clientCpu = process.cpuUsage(clientCpu0);
      await floorPool.close();
      return {
        clients,
        bare,
        raw,
        rawMs,
        serverMs: (processCpuMs(server.pid!) - serverCpu0) / bare.operations,
        clientMs: (clientCpu.user + clientCpu.system) / 1000 / bare.operations,
      };
    } finally {
      server.kill();
    }
  }

  function printFloor(floor: Awaited<ReturnType<typeof httpFloor>>): void {
    printTable(
      [
        'HTTP floor',
        'requests/s',
        'p50 ms',
        'raw INSERT/s',
        'floor/raw',
        'server CPU ms/req',
        'client CPU ms/req',
        'raw CPU ms/insert',
      ],
      [
        [
          `bare node:http, ${floor.clients} clients`,
          floor.bare.perSecond,
          floor.bare.p50Ms,
          floor.raw.perSecond,
          floor.bare.perSecond / floor.raw.perSecond,
          floor.serverMs,
          floor.clientMs,
          floor.rawMs,
        ],
      ],
    );
  }

  async function post(path: string, body: object): Promise<unknown> {
    const response = await pool.request({ method: 'POST', path, headers, body: JSON.stringify(body) });
    const text = await response.body.text();
    if (response.statusCode >= 300) throw new Error(`POST ${path}: ${response.statusCode} ${text}`);
    return JSON.parse(text) as unknown;
  }

  async function get(path: string): Promise<{ status: number; text: string }> {
    const response = await pool.request({ method: 'GET', path, headers: { authorization: token } });
    return { status: response.statusCode, text: await response.body.text() };
  }

  async function waitForProjection(dealId: string, position: string): Promise<void> {
    for (;;) {
      const { status } = await get(`/deals/${dealId}?minPosition=${position}`);
      if (status === 200) return;
    }
  }

  async function projectionLag(rate: number, targets: string[], forSeconds: number) {
    const lags: number[] = [];
    const reads: number[] = [];
    const inFlight: Promise<void>[] = [];
    const interval = 1000 / rate;
    const started = performance.now();
    for (let i = 0; performance.now() - started < forSeconds * 1000; i++) {
      const due = started + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      inFlight.push(
        (async () => {
          const dealId = targets[i % targets.length];
          const written = (await post(`/deals/${dealId}/activities`, { kind: 'meeting' })) as { position: string };
          const acknowledged = performance.now();
          // One write in ten is followed by the read waiting for it, another one in ten by a plain read
          // (the floor the lag is measured against), the rest by none: reading after every write doubled
          // the request rate, so at half the maximum command rate the API was saturated by the probe
          // itself and every read queued behind it (lag = floor ≈ 1.7 s at 2,471/s).
          if (i % 10 !== 0 && i % 10 !== 5) return;
          if (i % 10 === 5) {
            const { status } = await get(`/deals/${dealId}`);
            if (status !== 200) throw new Error(`GET /deals/${dealId}: ${status}`);
            reads.push(performance.now() - acknowledged);
            return;
          }
          // A 503 read-model-behind (READ_WAIT_MS passed) is asked again: the lag is until it answers.
          await waitForProjection(dealId, written.position);
          lags.push(performance.now() - acknowledged);
        })(),
      );
    }
    await Promise.all(inFlight);
    lags.sort((a, b) => a - b);
    reads.sort((a, b) => a - b);
    return {
      p50: percentile(lags, 0.5),
      p99: percentile(lags, 0.99),
      max: lags.at(-1)!,
      samples: lags.length,
      readP50: percentile(reads, 0.5),
      readP99: percentile(reads, 0.99),
    };
  }

  /**
   * The feed is measured once the in-process projection has caught up with every event appended so far
   * (the stream-length run appends 64k events behind the API's back): until then the API spends its CPU
   * projecting them.
   */
  async function eventFeedRatio(db: Kysely<DB>) {
    const head = encodePosition(await new SqlEventStore(db).headPosition());
    while ((await get(`/pipelines?minPosition=${head}`)).status !== 200);
    let cursor: string | undefined;
    const routeLoop = () =>
      runFor(seconds, 1, async () => {
        const { status, text } = await get(`/events?limit=100${cursor ? `&after=${cursor}` : ''}`);
        if (status !== 200) throw new Error(`GET /events: ${status} ${text}`);
        const page = JSON.parse(text) as { events: unknown[]; next: string };
        cursor = page.events.length === 100 ? page.next : undefined;
      });
    let after: [string, string] = ['0', '0'];
    const rawLoop = () =>
      runFor(seconds, 1, async () => {
        const { rows } = await keysetPage(after).execute(db);
        after = rows.length === 100 ? [rows[99].transaction_id, rows[99].global_position] : ['0', '0'];
      });
    // One uncounted pass of each first: the first timed loop otherwise paid alone for the JIT warming up
    // its path and for reading the events' pages into PostgreSQL's buffers (the route ran first, and its
    // first round was 0.46-0.58 where later rounds were 0.58-0.66: test/benchmarks/README.md, 2026-12-07 g).
    await routeLoop();
    await rawLoop();
    cursor = undefined;
    after = ['0', '0'];
    const apiCpu0 = processCpuMs(child.pid!);
    const apiPg0 = await cpuSnapshot(db, APP_NAME);
    const routeOwn0 = process.cpuUsage();
    const route = await routeLoop();
    const routeOwn = process.cpuUsage(routeOwn0);
    const routeCpu = [
      (processCpuMs(child.pid!) - apiCpu0) / route.operations,
      (await cpuSince(db, apiPg0, APP_NAME)) / route.operations,
      (routeOwn.user + routeOwn.system) / 1000 / route.operations,
    ];
    const rawPg0 = await cpuSnapshot(db, '');
    const rawOwn0 = process.cpuUsage();
    const raw = await rawLoop();
    const rawOwn = process.cpuUsage(rawOwn0);
    const rawCpu = [
      (await cpuSince(db, rawPg0, '')) / raw.operations,
      (rawOwn.user + rawOwn.system) / 1000 / raw.operations,
    ];
    if (process.env.BENCH_EXPLAIN) {
      const plan = await sql<{ 'QUERY PLAN': string }>`explain analyze ${keysetPage(after)}`.execute(db);
      console.log(plan.rows.map((row) => row['QUERY PLAN']).join('\n'));
    }
    return { route, raw, routeCpu, rawCpu };
  }
} finally {
  await pool.close();
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  await database.drop();
  await rm(dataDir, { recursive: true, force: true });
}

function activityEvent(): NewEvent {
  return {
    eventId: randomUUID(),
    type: 'ActivityLogged',
    data: { activityId: randomUUID(), kind: 'call' },
    metadata: { actorId: 'bench', occurredAt: new Date() },
  };
}

async function waitForApi(): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode}`);
    const ok = await fetch(`${base}/health/live`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error('the API did not come up within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The raw baseline for `seconds` from `clients` loops, each on its own stream (`<prefix>-<run>-<loop>`),
 * with its CPU: the bench's own and its backends' (those without an application name).
 */
async function timeRawInserts(
  db: Kysely<DB>,
  seconds: number,
  clients: number,
  prefix: string,
): Promise<{ loop: LoopResult; cpuMs: number }> {
  const runId = randomUUID().slice(0, 8);
  const { result: loop, cpuMs } = await withCpu(
    db,
    () =>
      runFor(seconds, clients, (worker, iteration) => rawInsert(`${prefix}-${runId}-${worker}`, iteration).execute(db)),
    '',
  );
  return { loop, cpuMs };
}

/** The raw baseline's single-row INSERT into the events-shaped table (bench-kit's createRawEventsTable). */
function rawInsert(streamId: string, revision: number) {
  return sql`insert into raw_events (event_id, stream_id, stream_revision, type, data, actor_id, occurred_at, hash)
    values (${randomUUID()}::uuid, ${streamId}, ${revision}, 'ActivityLogged', ${JSON.stringify({ activityId: randomUUID(), kind: 'call' })}::jsonb, 'bench', now(), 'x')`;
}

/** The same keyset condition, order and columns as SqlEventStore.readAll, typed by hand (a baseline, not a port). */
function keysetPage(after: readonly [string, string]) {
  return sql<{ transaction_id: string; global_position: string }>`
    select e.event_id::text, e.stream_id, e.stream_revision::text, e.type, e.data, e.actor_id, e.command_id,
           e.correlation_id, e.causation_id, e.occurred_at, e.recorded_at, e.transaction_id::text,
           e.global_position::text, e.previous_hash, e.hash
    from event_store.events e
    where (e.transaction_id, e.global_position) > (${after[0]}::xid8, ${after[1]}::bigint)
      and e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
    order by e.transaction_id, e.global_position limit 100`;
}

function sampleRss(pid: number): { stop(): number } {
  let peakKb = 0;
  const timer = setInterval(() => {
    const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (match) peakKb = Math.max(peakKb, Number(match[1]));
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return peakKb / 1024;
    },
  };
}

async function inParallel<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await task(index);
      }
    }),
  );
  return results;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
