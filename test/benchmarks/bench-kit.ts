import { sql, type Kysely } from 'kysely';

/** Small helpers shared by the benchmark scripts: timed concurrent loops, a plain table printer, the raw baseline's table. */

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
