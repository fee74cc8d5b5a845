import { setFlagsFromString } from 'node:v8';

/**
 * Bounds how far V8 lets the old generation grow before its next full collection, for this process and
 * every worker thread it starts afterwards: `--heap-growing-percent` is read at each collection, so
 * setting it at start takes effect without a command-line flag. `0` leaves V8's own heuristic.
 */
export function applyHeapGrowingPercent(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
