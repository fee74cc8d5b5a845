import { readFileSync, readdirSync } from 'node:fs';
import { sql, type Kysely } from 'kysely';

/** Small helpers shared by the benchmark scripts: timed concurrent loops, a plain table printer, the raw baseline's table, CPU read from /proc. */

export interface LoopResult {
  operations: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Runs `operation` in `concurrency` loops for `seconds`, counting completions and latencies.
 * Each loop gets its index and its own iteration counter.
 */
export async function runFor(
  seconds: number,
  concurrency: number,
  operation: (worker: number, iteration: number) => Promise<unknown>,
): Promise<LoopResult> {
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let iteration = 0; performance.now() < deadline; iteration++) {
        const t0 = performance.now();
        await operation(worker, iteration);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    operations: latencies.length,
    seconds: elapsed,
    perSecond: latencies.length / elapsed,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

/**
 * One loop's slices taken together: throughput over all of them, the median of their p50 and the
 * largest p99 (interleaved measurements, e.g. raw and the system under test alternating).
 */
export function combineLoops(parts: readonly LoopResult[]): LoopResult {
  const operations = parts.reduce((sum, part) => sum + part.operations, 0);
  const elapsed = parts.reduce((sum, part) => sum + part.seconds, 0);
  const p50s = parts.map((part) => part.p50Ms).sort((a, b) => a - b);
  return {
    operations,
    seconds: elapsed,
    perSecond: operations / elapsed,
    p50Ms: p50s[Math.floor(p50s.length / 2)],
    p99Ms: Math.max(...parts.map((part) => part.p99Ms)),
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = [
    headers,
    ...rows.map((row) => row.map((cell) => (typeof cell === 'number' ? formatNumber(cell) : cell))),
  ];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => String(row[i]).length)));
  for (const [index, row] of cells.entries()) {
    console.log(row.map((cell, i) => String(cell).padStart(widths[i])).join('  '));
    if (index === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(2);
}

/**
 * The raw baseline's table: shaped like event_store.events (same columns that matter, the same
 * unique indexes and reading-order index), written with single-row autocommit INSERTs.
 */
export async function createRawEventsTable<D>(db: Kysely<D>): Promise<void> {
  await sql`
    create table raw_events (
      global_position bigint generated always as identity primary key,
      transaction_id xid8 not null default pg_current_xact_id(),
      event_id uuid not null unique,
      stream_id text not null,
      stream_revision bigint not null,
      type text not null,
      data jsonb not null,
      actor_id text not null,
      occurred_at timestamptz not null,
      recorded_at timestamptz not null default now(),
      hash text not null,
      unique (stream_id, stream_revision)
    )`.execute(db);
  await sql`create index raw_events_order on raw_events (transaction_id, global_position)`.execute(db);
}

const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

/** utime + stime of a process, or of one of its threads, in milliseconds (fields 14 and 15 of /proc/<pid>/stat). */
export function processCpuMs(pid: number, thread?: number): number {
  try {
    const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0; // a backend or thread that has exited since
  }
}

/**
 * CPU so far of the database's backends (with this application name, when given) — the asking
 * backend included: with one client the raw read's backend is the pooled connection that asks
 * (excluding it read 0 ms).
 */
export async function cpuSnapshot<D>(db: Kysely<D>, applicationName?: string): Promise<Map<number, number>> {
  const { rows } = await sql<{ pid: number }>`
    select pid from pg_stat_activity
    where datname = current_database()
      and (${applicationName ?? null}::text is null or application_name = ${applicationName ?? null})`.execute(db);
  return new Map(rows.map(({ pid }) => [pid, processCpuMs(pid)]));
}

/** CPU of those backends since `before` (a backend that came after counts from its start). */
export async function cpuSince<D>(
  db: Kysely<D>,
  before: Map<number, number>,
  applicationName?: string,
): Promise<number> {
  const after = await cpuSnapshot(db, applicationName);
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/**
 * `run`'s result with the CPU it took, in ms: this process's (every thread) and the database's
 * backends' (those with this application name, when given) — a raw baseline's whole cost.
 */
export async function withCpu<D, T>(
  db: Kysely<D>,
  run: () => Promise<T>,
  applicationName?: string,
): Promise<{ result: T; cpuMs: number }> {
  const backends0 = await cpuSnapshot(db, applicationName);
  const own0 = process.cpuUsage();
  const result = await run();
  const own = process.cpuUsage(own0);
  return { result, cpuMs: (own.user + own.system) / 1000 + (await cpuSince(db, backends0, applicationName)) };
}

/**
 * This process's CPU by thread while it runs (`stop()`): its main thread, its busiest other thread
 * (a worker doing the work, e.g. the import's), and all its other threads together (V8's GC and
 * compiler helpers, libuv's pool). A thread that ends meanwhile counts with its last sample (every
 * 100 ms), which `stop()` takes once more.
 */
export function threadCpuSampler(): { stop(): { mainMs: number; busiestMs: number; othersMs: number } } {
  const read = () => {
    const cpu = new Map<number, number>();
    for (const thread of readdirSync('/proc/self/task'))
      cpu.set(Number(thread), processCpuMs(process.pid, Number(thread)));
    return cpu;
  };
  const before = read();
  const last = new Map(before);
  const sample = () => {
    for (const [thread, ms] of read()) if (ms > 0) last.set(thread, ms);
  };
  const timer = setInterval(sample, 100);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const spent = [...last].map(([thread, ms]) => ({ thread, ms: ms - (before.get(thread) ?? 0) }));
      const mainMs = spent.find(({ thread }) => thread === process.pid)?.ms ?? 0;
      const others = spent.filter(({ thread }) => thread !== process.pid).sort((a, b) => b.ms - a.ms);
      const busiestMs = others[0]?.ms ?? 0;
      return { mainMs, busiestMs, othersMs: others.slice(1).reduce((sum, { ms }) => sum + ms, 0) };
    },
  };
}
