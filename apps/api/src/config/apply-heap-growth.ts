/**
 * Imported first by main.ts, for its effect: HEAP_GROWING_PERCENT applied before any other module
 * loads (heap-growth.ts says why it must come before them).
 */
import { applyHeapGrowingPercent, heapGrowingPercentFromEnv } from './heap-growth.js';

applyHeapGrowingPercent(heapGrowingPercentFromEnv(process.env));
