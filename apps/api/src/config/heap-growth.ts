import { setFlagsFromString } from 'node:v8';

export const DEFAULT_HEAP_GROWING_PERCENT = 50;

/** HEAP_GROWING_PERCENT: a whole number (default 50; 0 = V8's own heuristic); anything else refused at start. */
export function heapGrowingPercentFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.HEAP_GROWING_PERCENT;
  if (raw === undefined || raw === '') return DEFAULT_HEAP_GROWING_PERCENT;
  if (!/^\d{1,4}$/.test(raw))
    throw new Error(`HEAP_GROWING_PERCENT must be a whole number of percent, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/**
 * Bounds how far V8 lets the old generation grow before its next full collection, for this process and
 * every worker thread it starts afterwards: `--heap-growing-percent` is read when a full collection
 * sets the next limit, so setting it at start takes effect without a command-line flag — as long as it
 * is set before the collections that module loading causes (main.ts imports apply-heap-growth.ts
 * first), or the limit they set stands until the next one. `0` leaves V8's own heuristic.
 */
export function applyHeapGrowingPercent(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
