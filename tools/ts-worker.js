// Runs a worker thread's TypeScript entry from the sources (Jest runs the code from its .ts files, where
// a Worker cannot load them — the API's projection thread, the import's worker): registers
// tools/ts-worker-hooks.js (swc, the tsconfig path aliases, `./x.js` → `./x.ts`) and imports
// `workerData.entry`. Built code never comes here (dist has .js).
import { register } from 'node:module';
import { workerData } from 'node:worker_threads';

register('./ts-worker-hooks.js', import.meta.url);
await import(workerData.entry);
