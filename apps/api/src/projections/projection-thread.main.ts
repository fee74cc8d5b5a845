import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '@dealstream/database';
import { SqlEventStore } from '@dealstream/event-store';
import { ProjectionRunner } from '@dealstream/read-models';
import type { ProjectionThreadData, ThreadMessage } from './projection-thread.js';

/**
 * The API's projection runner on a worker thread (PostgreSQL profile; see projection-thread.ts): its
 * own event loop and its own small pool, so its round trips wait for PostgreSQL only, never for a turn
 * of the API's event loop busy with requests. It tells the main thread every committed position (which
 * answers the reads waiting for it and runs the after-batch reactor there), its status, and its log
 * lines; it stops when the main thread says so. It imports only the database, the event store and the
 * read models: every module a thread loads costs its memory again (the reactor's would add ~25 MB).
 */
const port = parentPort!;
const data = workerData as ProjectionThreadData;
const post = (message: ThreadMessage) => port.postMessage(message);
const log = (entry: Record<string, unknown>) => post({ type: 'log', entry });

// The runner's session (which holds the advisory lock) and a spare; LISTEN has a connection of its own.
// The database layer's own events (a connection lost, LISTEN re-established) go where the API's go.
const database = await openDatabase(
  { ...data.database, poolSize: 2 },
  { log: (entry) => post({ type: 'log', entry, from: 'database' }) },
);
const store = new SqlEventStore(database.db);
const runner = new ProjectionRunner({
  database,
  store,
  log,
  ...(data.batchSize ? { batchSize: data.batchSize } : {}),
  ...(data.minBatchIntervalMs ? { minBatchIntervalMs: data.minBatchIntervalMs } : {}),
  // The batch's event types go along: the main thread's reaction runs only after batches that call for it.
  onCommitted: (position, events) =>
    post({ type: 'committed', position, eventTypes: [...new Set(events.map((event) => event.type))] }),
  // Role changes and failures between batches reach the main thread within this tick.
  onBatch: () => sendStatus(),
});
let lastSent = '';
function sendStatus(): void {
  const status = runner.status();
  const key = `${status.role}|${status.eventsApplied}|${status.lastError ?? ''}`;
  if (key === lastSent) return;
  lastSent = key;
  post({ type: 'status', status });
}
const statusTimer = setInterval(sendStatus, 100);
const started = runner.start();
port.on('message', (message: ThreadMessage) => {
  if (message.type === 'hurry') runner.hurry();
  if (message.type !== 'stop') return;
  void (async () => {
    clearInterval(statusTimer);
    await started.catch(() => {}); // a stop that arrives while starting waits for the start
    await runner.stop();
    await store.close();
    await database.close();
    post({ type: 'status', status: runner.status() });
    post({ type: 'stopped' });
    port.close(); // nothing left on this thread's loop: it ends
  })();
});
await started;
sendStatus();
post({ type: 'started' });
