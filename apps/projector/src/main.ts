import { databaseConfigFromEnv, openDatabase, waitForDatabase } from '@dealstream/database';
import { openEventStore } from '@dealstream/event-store';
import { StageRelocationReactor } from '@dealstream/deals-application';
import {
  DEFAULT_BATCH_SIZE,
  LIVE_SCHEMA,
  ProjectionRunner,
  dealsInRemovedStages,
  ensureReadModelSchema,
} from '@dealstream/read-models';
import { TargetPolicy, WebhookDeliveryWorker, migrateWebhookSchema, webhookConfigFromEnv } from '@dealstream/webhooks';
import { ProjectorMetrics } from './projector-metrics.js';

/**
 * The projection worker: runs the read-model projections outside the API (set PROJECTIONS=external
 * on the API). Several may run; one holds the projection's advisory lock and works, the others wait
 * in standby and take over when it dies. Needs DATABASE_URL (a PostgreSQL server).
 *
 * It also delivers webhooks unless WEBHOOK_DELIVERY=off, with the same WEBHOOK_* settings as the API:
 * set WEBHOOK_DELIVERY=off on the API instances to keep delivery out of the processes that serve
 * requests. Every process that delivers shares the work by a lease per subscription.
 */
const log = (entry: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), service: 'projector', ...entry })}\n`);

const config = databaseConfigFromEnv();
const webhooks = webhookConfigFromEnv();
if (config.kind !== 'postgres') {
  log({
    level: 'error',
    msg: 'the projector worker needs DATABASE_URL; the embedded default runs projections inside the API',
  });
  process.exit(2);
}
const database = await openDatabase(config, { log });
// Waits for the database (refused, starting up, restarting) with backoff up to DB_STARTUP_WAIT_MS, logging why.
let opened: Awaited<ReturnType<typeof openEventStore>> | undefined;
let schema: unknown;
try {
  await waitForDatabase(database, {
    timeoutMs: Number(process.env.DB_STARTUP_WAIT_MS ?? 60_000),
    log,
    probe: async () => {
      opened ??= await openEventStore(database.db);
      schema = await ensureReadModelSchema(database.db);
      if (webhooks.deliveryInProcess) await migrateWebhookSchema(database.db);
    },
  });
} catch (error) {
  log({ level: 'error', msg: 'projector cannot start', error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}
const { store, kind } = opened!;
log({ msg: 'read models', schema, eventStore: kind });

const faultDelayMs = Number(process.env.PROJECTOR_FAULT_DELAY_MS ?? 0);
const metrics = new ProjectorMetrics();
const runner = new ProjectionRunner({
  onBatch: metrics.onBatch,
  database,
  store,
  batchSize: Number(process.env.PROJECTOR_BATCH_SIZE ?? DEFAULT_BATCH_SIZE),
  log,
  subscription: { silenceMs: Number(process.env.PROJECTION_SILENCE_MS ?? 30_000) },
  afterBatch: new StageRelocationReactor(() => dealsInRemovedStages(database.db, LIVE_SCHEMA), store).run,
  ...(faultDelayMs > 0 ? { beforeCheckpoint: () => new Promise((resolve) => setTimeout(resolve, faultDelayMs)) } : {}),
});
await runner.start();
metrics.observe(database.db, store, runner);
const delivery = webhooks.deliveryInProcess
  ? new WebhookDeliveryWorker({
      db: database.db,
      store,
      policy: new TargetPolicy(webhooks.allowedTargets),
      ...webhooks,
      log,
      onAttempt: metrics.onWebhookAttempt,
    })
  : undefined;
delivery?.start();
// Its own metrics port (the worker serves no other HTTP): off unless PROJECTOR_METRICS_PORT is set.
const metricsPort = process.env.PROJECTOR_METRICS_PORT;
const metricsServer = metricsPort
  ? await metrics.listen(
      Number(metricsPort),
      process.env.PROJECTOR_METRICS_HOST ?? '0.0.0.0',
      process.env.METRICS_TOKEN || undefined,
    )
  : undefined;
log({
  msg: 'projector started',
  webhookDelivery: delivery ? 'in-process' : 'off',
  ...(metricsServer ? { metricsPort: metricsServer.port } : {}),
});

let lastReported = -1;
const report = setInterval(() => {
  const status = runner.status();
  if (status.eventsApplied !== lastReported || status.lastError) log({ msg: 'status', ...status, position: undefined });
  lastReported = status.eventsApplied;
}, 5000);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void (async () => {
      clearInterval(report);
      await metricsServer?.close();
      await delivery?.stop();
      await runner.stop();
      await store.close();
      await database.close();
      log({ msg: 'projector stopped', signal });
      process.exit(0);
    })();
  });
}
