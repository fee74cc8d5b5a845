/**
 * Read-model benchmark, on PostgreSQL, every figure next to a raw baseline from the same run:
 *
 *   npm run bench:read-models                          # ~110k deals ≈ 1M events (several minutes)
 *   BENCH_DEALS=20000 npm run bench:read-models        # quicker
 *
 * 1. Seeds a synthetic history (deterministic, seed 42) of BENCH_DEALS deals over 12 months.
 * 2. Rebuild: projects the whole store into a fresh schema (the CLI's build phase), reporting
 *    events/s and the process's peak RSS; baseline: multi-row INSERTs (1,000 rows each) of the same
 *    number of rows into a table shaped like deal_versions — raw PostgreSQL bulk-insert throughput.
 * 3. Latency at that size: the board's first page and the funnel (each policy, 12 months), p50/p99
 *    over BENCH_ITERATIONS, next to a raw SQL query that fetches the same core rows without the
 *    product's extras (top-20 open deals per stage; entries per stage of the cohort).
 *
 * BENCH_PGLITE=1: the same on the embedded default (PGlite in a temporary directory, its COPY from
 * /dev/blob for the rebuild, the raw INSERTs on PGlite too); use a smaller BENCH_DEALS (e.g. 10000).
 * BENCH_FUNNEL=0 leaves the funnel and issue 15's reports out (the rebuild, board and pipeline metrics only).
 * BENCH_REUSE=1 (with BENCH_DB) skips the rebuild and measures the latencies on the read models already there.
 * BENCH_OPEN_DEALS=100000 BENCH_DB=bench_board_open: instead, the board at that many open deals (issue
 * 16) — a pipeline whose deals are all open (1–2 events each: open-deals.seed.ts; BENCH_OPEN_HISTORY=9
 * adds 9 changes to each, ~1M events in all, kept e.g. as BENCH_DB=bench_board_open_1m), kept under BENCH_DB
 * and seeded once; the read models are rebuilt, then the board's first page unfiltered and with each
 * filter against the raw top-N query with the same condition.
 * 4. Issue 15's report ratios, each against the unmapped, unsegmented `any` funnel of the same run:
 *    the funnel in a stage map (pairs of stages merged, the last ignored), a 12-point monthly funnel
 *    series, and the funnel of a segment (kind=new: every synthetic deal, so the filter saves nothing;
 *    an amount band).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase, type Database } from '@dealstream/database';
import { SqlEventStore, migrateEventStore } from '@dealstream/event-store';
import {
  LIVE_SCHEMA,
  board,
  buildReadModels,
  createReadModelSchema,
  ensureReadModelSchema,
  funnel,
  pipelineDefinition,
  pipelineMetrics,
  seriesBuckets,
  type FunnelPolicy,
  type ReportStageMap,
  type Segment,
} from '@dealstream/read-models';
import { writeSyntheticHistory } from '@dealstream/seeding';
import { createPostgresTestDatabase } from '../support/test-database.js';
import { percentile, printTable } from './bench-kit.js';
import { writeOpenDeals } from './open-deals.seed.js';

const deals = Number(process.env.BENCH_DEALS ?? 110_000);
const iterations = Number(process.env.BENCH_ITERATIONS ?? 50);
// BENCH_DB=<name>: keep the seeded database under that name and reuse it on the next run (skips the
// seeding, which is most of a 1M-event run); the read models are rebuilt from scratch either way.
const kept = process.env.BENCH_DB;
const openDeals = Number(process.env.BENCH_OPEN_DEALS ?? 0);
// BENCH_FUNNEL=0: the rebuild, the board and the pipeline metrics only (the funnel rows and issue 15's take most of a run).
const withFunnel = process.env.BENCH_FUNNEL !== '0';
// BENCH_REUSE=1 (with BENCH_DB): keep the read models the last run built there (no rebuild, no raw INSERTs): the latencies only.
const reuse = Boolean(kept) && process.env.BENCH_REUSE === '1';
if (openDeals > 0) {
  await boardAtOpenDeals(openDeals, kept ?? 'bench_board_open');
  process.exit(0);
}
const database: Database & { drop?: () => Promise<void> } =
  process.env.BENCH_PGLITE === '1'
    ? await openPGliteInTemporaryDirectory()
    : kept
      ? await openKeptDatabase(kept)
      : await createPostgresTestDatabase({ poolSize: 12 });
const end = new Date('2026-11-01T00:00:00Z');
try {
  await migrateEventStore(database.db);
  if (!reuse) await sql`drop schema if exists read_models cascade`.execute(database.db);
  await sql`drop schema if exists raw_baseline cascade`.execute(database.db);
  await ensureReadModelSchema(database.db);
  const store = new SqlEventStore(database.db);

  let t = performance.now();
  const seeded =
    (kept && (await alreadySeeded(database))) ||
    (await writeSyntheticHistory(store, { seed: 42, deals, months: 12, end, concurrency: 8 }));
  const seedSeconds = (performance.now() - t) / 1000;
  console.log(`seeded ${seeded.deals} deals, ${seeded.events} events in ${seedSeconds.toFixed(1)} s`);

  if (!reuse) {
    // Rebuild throughput vs raw bulk insert
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
    t = performance.now();
    // BENCH_UNLOGGED=1: the build fills its tables UNLOGGED, then SET LOGGED (what it saves or costs);
    // BENCH_PIPELINE=0: one batch at a time (what the pipeline saves).
    const applied = await buildReadModels(database.db, store, LIVE_SCHEMA, 2000, undefined, {
      unlogged: process.env.BENCH_UNLOGGED === '1',
      pipelined: process.env.BENCH_PIPELINE !== '0',
    });
    const rebuildSeconds = (performance.now() - t) / 1000;
    clearInterval(sampler);
    await createReadModelSchema(database.db, 'raw_baseline');
    t = performance.now();
    for (let i = 0; i < applied; i += 1000) {
      const n = Math.min(1000, applied - i);
      await sql`insert into raw_baseline.deal_versions (deal_id, revision, valid_from, valid_to, recorded_from, recorded_to, pipeline_id, stage_id, status, owner_id, amount, currency, stage_entered_at, created_at)
        select gen_random_uuid(), g, now(), 'infinity', now(), 'infinity', gen_random_uuid(), gen_random_uuid(), 'open', 'owner', 1000, 'EUR', now(), now()
        from generate_series(${i}::bigint, ${i + n - 1}::bigint) g`.execute(database.db);
    }
    const rawSeconds = (performance.now() - t) / 1000;
    console.log(`\nrebuild (${applied} events)`);
    printTable(
      ['what', 'rows/s', 'seconds', 'peak RSS MB'],
      [
        [
          'rebuild: events projected',
          applied / rebuildSeconds,
          rebuildSeconds,
          Math.round(Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 1048576),
        ],
        ['raw bulk INSERT (1,000-row statements)', applied / rawSeconds, rawSeconds, '-'],
        ['ratio rebuild/raw', applied / rebuildSeconds / (applied / rawSeconds), '', ''],
      ],
    );
  }

  // Latency at this size
  const now = end;
  const boardOnce = () =>
    board(database.db, LIVE_SCHEMA, seeded.pipelineId, { asOf: { axis: 'occurred' }, now, filters: {}, limit: 20 });
  const rawBoard = () =>
    sql`select deal_id, stage_id, amount from (
      select deal_id, stage_id, amount, row_number() over (partition by stage_id order by amount desc, deal_id) rn
      from ${sql.id(LIVE_SCHEMA)}.deals where pipeline_id = ${seeded.pipelineId}::uuid and status = 'open') x where rn <= 21`.execute(
      database.db,
    );
  const boardFiltered = () =>
    board(database.db, LIVE_SCHEMA, seeded.pipelineId, {
      asOf: { axis: 'occurred' },
      now,
      filters: { minAmount: 10_000, maxAmount: 50_000 },
      limit: 20,
    });
  const rawBoardFiltered = () =>
    sql`select deal_id, stage_id, amount from (
      select deal_id, stage_id, amount, row_number() over (partition by stage_id order by amount desc, deal_id) rn
      from ${sql.id(LIVE_SCHEMA)}.deals where pipeline_id = ${seeded.pipelineId}::uuid and status = 'open'
        and amount between 10000 and 50000) x where rn <= 21`.execute(database.db);
  const from = new Date(end.getTime() - 365 * 86_400_000);
  const past = new Date(end.getTime() - 182 * 86_400_000);
  const metricsNow = () => pipelineMetrics(database.db, LIVE_SCHEMA, seeded.pipelineId, { axis: 'occurred' }, now);
  const metricsPast = () =>
    pipelineMetrics(database.db, LIVE_SCHEMA, seeded.pipelineId, { axis: 'occurred', at: past }, past);
  const funnelOf = (policy: FunnelPolicy) => () =>
    funnel(database.db, LIVE_SCHEMA, seeded.pipelineId, { from, to: end, policy, asOf: { axis: 'occurred' }, now });
  const rawFunnel = () =>
    sql`select t.to_stage_id, count(distinct t.deal_id) from ${sql.id(LIVE_SCHEMA)}.stage_transitions c
      join ${sql.id(LIVE_SCHEMA)}.stage_transitions t on t.deal_id = c.deal_id
      where c.pipeline_id = ${seeded.pipelineId}::uuid and c.kind = 'created' and c.at >= ${from.toISOString()}::timestamptz and c.at < ${end.toISOString()}::timestamptz
      group by t.to_stage_id`.execute(database.db);
  const rows: (string | number)[][] = [];
  const cases = [
    ['board first page', boardOnce, rawBoard],
    ['board first page, amount 10,000–50,000', boardFiltered, rawBoardFiltered],
    ['pipeline metrics 6 months ago (raw: current)', metricsPast, metricsNow],
    ...(withFunnel ? (['any', 'implied', 'strict'] as const) : []).map(
      (policy) => [`funnel (${policy}, 12 months)`, funnelOf(policy), rawFunnel] as const,
    ),
  ] as const;
  for (const [name, product, raw] of cases) {
    const [a, b] = await timePaired(product, raw);
    rows.push([name, a.p50, a.p99, b.p50, b.p99, a.p50 / b.p50]);
  }
  const { rows: openRows } = await sql<{
    n: string;
  }>`select count(*)::text as n from ${sql.id(LIVE_SCHEMA)}.deals where status = 'open'`.execute(database.db);
  console.log(`\nlatency at ${seeded.deals} deals (${openRows[0].n} open), ${iterations} iterations (ms)`);
  printTable(['query', 'p50', 'p99', 'raw p50', 'raw p99', 'p50 ratio'], rows);

  // Issue 15: mapped, series and segmented funnels against the plain one (the same run).
  if (withFunnel) {
    const definition = (await pipelineDefinition(database.db, LIVE_SCHEMA, seeded.pipelineId, { axis: 'occurred' }))!;
    const live = definition.stages.map((s) => s.stageId);
    const targets = Array.from({ length: Math.ceil((live.length - 1) / 2) }, (_, i) => ({
      targetId: `t${i}`,
      name: `T${i}`,
    }));
    const map: ReportStageMap = {
      targets,
      assignments: [...live, ...Object.keys(definition.removedStages)].map((stageId, i) => ({
        stageId,
        countsAs: i < live.length - 1 ? `t${Math.floor(i / 2)}` : 'ignore',
      })),
    };
    const plain =
      (segment?: Segment, stageMap?: ReportStageMap, period = { from, to: end }) =>
      () =>
        funnel(database.db, LIVE_SCHEMA, seeded.pipelineId, {
          ...period,
          policy: 'any',
          asOf: { axis: 'occurred' },
          now,
          ...(segment ? { segment } : {}),
          ...(stageMap ? { stageMap } : {}),
        });
    const months = seriesBuckets(from, end, 'month')!;
    const series = async () => {
      for (const bucket of months) await plain(undefined, undefined, bucket)();
    };
    const base = await timeIt(plain());
    const reportRows: (string | number)[][] = [['funnel (any, 12 months): the base', base.p50, base.p99, 1, '']];
    for (const [name, run, bound] of [
      ['funnel in a stage map', plain(undefined, map), '≤ 1.5'],
      [`monthly funnel series (${months.length} points)`, series, '≤ 4'],
      ['funnel, segment kind=new (all deals)', plain({ kinds: ['new'] }), '≤ 1'],
      ['funnel, segment amount 10,000–50,000', plain({ minAmount: 10_000, maxAmount: 50_000 }), '≤ 1'],
    ] as const) {
      const timed = await timeIt(run);
      reportRows.push([name, timed.p50, timed.p99, timed.p50 / base.p50, bound]);
    }
    console.log(`\nissue 15 reports at ${seeded.deals} deals, ${iterations} iterations (ms)`);
    printTable(['query', 'p50', 'p99', 'p50 ÷ base', 'issue bound'], reportRows);
  }
} finally {
  await (database.drop ? database.drop() : database.close());
}

/** The board's first page at `count` open deals, unfiltered and with each filter, against raw top-N queries. */
async function boardAtOpenDeals(count: number, name: string): Promise<void> {
  const database = await openKeptDatabase(name);
  try {
    await migrateEventStore(database.db);
    await sql`drop schema if exists read_models cascade`.execute(database.db);
    await ensureReadModelSchema(database.db);
    const store = new SqlEventStore(database.db);
    const end = new Date('2026-11-01T00:00:00Z');
    let t = performance.now();
    const { rows: streams } = await sql<{
      n: string;
    }>`select count(*)::text as n from event_store.streams where stream_id like 'deal-%'`.execute(database.db);
    // Seeded by an earlier run: only the pipeline's (already stored) append, for its id.
    const seeded = await writeOpenDeals(store, {
      seed: 7,
      deals: Number(streams[0].n) >= count ? 0 : count,
      end,
      history: Number(process.env.BENCH_OPEN_HISTORY ?? 0),
    });
    console.log(
      `seeded ${seeded.deals} open deals, ${seeded.events} events in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    t = performance.now();
    const applied = await buildReadModels(database.db, store, LIVE_SCHEMA, 2000);
    console.log(`projected ${applied} events in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    await sql`vacuum analyze read_models.deals`.execute(database.db);
    const pipelineId = seeded.pipelineId;
    const boardWith = (filters: Parameters<typeof board>[3]['filters']) => () =>
      board(database.db, LIVE_SCHEMA, pipelineId, { asOf: { axis: 'occurred' }, now: end, filters, limit: 20 });
    const raw = (condition: ReturnType<typeof sql>) => () =>
      sql`select deal_id, stage_id, amount from (
        select deal_id, stage_id, amount, row_number() over (partition by stage_id order by amount desc, deal_id) rn
        from ${sql.id(LIVE_SCHEMA)}.deals where pipeline_id = ${pipelineId}::uuid and status = 'open' and ${condition}) x where rn <= 21`.execute(
        database.db,
      );
    const stalledSince = new Date(end.getTime() - 21 * 86_400_000).toISOString();
    const cases = [
      ['board first page', boardWith({}), raw(sql`true`)],
      [
        'amount 10,000–50,000',
        boardWith({ minAmount: 10_000, maxAmount: 50_000 }),
        raw(sql`amount between 10000 and 50000`),
      ],
      ['owner owner-3', boardWith({ ownerIds: ['owner-3'] }), raw(sql`owner_id = 'owner-3'`)],
      ['currency USD', boardWith({ currencies: ['USD'] }), raw(sql`currency = 'USD'`)],
      ['stalled', boardWith({ stalled: true }), raw(sql`stage_entered_at < ${stalledSince}::timestamptz`)],
    ] as const;
    const rows: (string | number)[][] = [];
    for (const [what, product, baseline] of cases) {
      const [a, b] = await timePaired(product, baseline);
      rows.push([what, a.p50, a.p99, b.p50, b.p99, a.p50 / b.p50]);
    }
    const { rows: open } = await sql<{
      n: string;
    }>`select count(*)::text as n from ${sql.id(LIVE_SCHEMA)}.deals where status = 'open'`.execute(database.db);
    console.log(`\nboard at ${open[0].n} open deals, ${iterations} iterations (ms)`);
    printTable(['board first page', 'p50', 'p99', 'raw p50', 'raw p99', 'p50 ratio'], rows);
  } finally {
    await database.close();
  }
}

/** PGlite (the embedded default) in a new temporary directory, removed by `drop`. */
async function openPGliteInTemporaryDirectory(): Promise<Database & { drop: () => Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-pglite-'));
  const database = await openDatabase({ kind: 'pglite', dataDir });
  return {
    ...database,
    drop: async () => {
      await database.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** What an earlier run seeded into a kept database, if it did. */
async function alreadySeeded(db: Database) {
  // Raw: the event store's own tables, read once to skip seeding.
  const { rows } = await sql<{ pipeline: string | null; deals: string; events: string }>`
    select (select substr(min(stream_id), 10) from event_store.streams where stream_id like 'pipeline-%') as pipeline,
      (select count(*) from event_store.streams where stream_id like 'deal-%')::text as deals,
      (select count(*) from event_store.events)::text as events`.execute(db.db);
  const row = rows[0];
  // Follow-on deals have streams of their own: fewer streams than BENCH_DEALS means an unfinished seeding.
  return row.pipeline && Number(row.deals) >= deals
    ? { pipelineId: row.pipeline, deals: Number(row.deals), events: Number(row.events) }
    : undefined;
}

/** An existing database of that name (seeded by an earlier run: seeding again appends nothing), or a new one. */
async function openKeptDatabase(name: string): Promise<Database> {
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [name]);
  if (!rowCount) await admin.query(`create database ${name}`);
  await admin.end();
  return openDatabase({
    kind: 'postgres',
    connectionString: `postgres://postgres@127.0.0.1:5432/${name}`,
    poolSize: 12,
    timeouts: { statementTimeoutMs: 0, lockTimeoutMs: 0, connectTimeoutMs: 0, idleInTransactionTimeoutMs: 0 },
  });
}

/**
 * The product and its raw baseline timed in alternation (product, raw, product, raw, …), so a burst of
 * load on this shared machine falls on both sides alike instead of on one side's whole series.
 */
async function timePaired(
  product: () => Promise<unknown>,
  raw: () => Promise<unknown>,
): Promise<[{ p50: number; p99: number }, { p50: number; p99: number }]> {
  await product(); // warm-up
  await raw();
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < iterations; i++) {
    for (const [run, samples] of [
      [product, a],
      [raw, b],
    ] as const) {
      const t0 = performance.now();
      await run();
      samples.push(performance.now() - t0);
    }
  }
  const summary = (samples: number[]) => {
    samples.sort((x, y) => x - y);
    return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
  };
  return [summary(a), summary(b)];
}

async function timeIt(run: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  await run(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await run();
    samples.push(performance.now() - t0);
  }
  samples.sort((x, y) => x - y);
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}
