// A worker thread's entry when the code runs from its TypeScript sources (jest): registers the loader
// below in this worker, then loads the worker's TypeScript entry (workerData.tsEntry). jest.config.js
// names this file in DEALSTREAM_TS_WORKER_BOOTSTRAP; libs/import/src/import-worker-client.ts uses it.
import { register } from 'node:module';
import { workerData } from 'node:worker_threads';

register('./ts-worker-loader.js', import.meta.url);
await import(workerData.tsEntry);
