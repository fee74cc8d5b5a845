import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Kysely } from 'kysely';
import type { DB } from '@dealstream/database';
import type { EventStore } from '@dealstream/event-store';
import {
  LIVE_SCHEMA,
  PROJECTION_NAME,
  listParkedStreams,
  projectionLag,
  type ProjectionRunner,
} from '@dealstream/read-models';

/** Events counted at most per scrape for the lag gauge (as the API's). */
const LAG_COUNT_LIMIT = 10_000;
const ROLES = ['starting', 'active', 'standby', 'reconnecting', 'stopped'] as const;

/**
 * The projector worker's own Prometheus figures: its batches (duration, outcome, events) as it
 * applies them, and — read from the database at scrape time, per projection — the lag in events
 * and seconds, the checkpoint and the parked streams; plus its runner's role and the process metrics.
 * Label `projection` names the projection (`read-models`, the one there is today).
 */
export class ProjectorMetrics {
  readonly registry = new Registry();
  private readonly batchDuration = new Histogram({
    name: 'dealstream_projector_batch_duration_seconds',
    help: 'One batch transaction of the projection runner (rows, checkpoint, commit), by projection and outcome',
    labelNames: ['projection', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly batches = new Counter({
    name: 'dealstream_projector_batches_total',
    help: 'Batches attempted by this worker, by projection and outcome (committed, failed: rolled back and retried)',
    labelNames: ['projection', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly eventsApplied = new Counter({
    name: 'dealstream_projector_events_applied_total',
    help: 'Events this worker applied to the read models (committed batches)',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });

  private readonly webhookDeliveries = new Counter({
    name: 'dealstream_webhook_deliveries_total',
    help: 'Webhook delivery attempts by this worker, by outcome (as the API counts its own)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The runner's `onBatch` option. */
  readonly onBatch = (batch: { events: number; seconds: number; committed: boolean }): void => {
    const outcome = batch.committed ? 'committed' : 'failed';
    this.batchDuration.observe({ projection: PROJECTION_NAME, outcome }, batch.seconds);
    this.batches.inc({ projection: PROJECTION_NAME, outcome });
    if (batch.committed) this.eventsApplied.inc({ projection: PROJECTION_NAME }, batch.events);
  };

  /** The webhook delivery worker's `onAttempt` option. */
  readonly onWebhookAttempt = (outcome: string): void => {
    this.webhookDeliveries.inc({ outcome });
  };

  /** Registers the scrape-time gauges, read from the database and from this worker's runner. */
  observe(db: Kysely<DB>, store: EventStore, runner: ProjectionRunner): void {
    let pending: ReturnType<typeof projectionLag> | undefined;
    const lag = () => {
      pending ??= projectionLag(db, store, LIVE_SCHEMA, { countLimit: LAG_COUNT_LIMIT }).finally(() =>
        setImmediate(() => (pending = undefined)),
      );
      return pending;
    };
    const registers = [this.registry];
    const labelNames = ['projection'] as const;
    new Gauge({
      name: 'dealstream_projection_lag_events',
      help: 'Events committed and not yet projected, per projection (counted up to 10,000)',
      labelNames,
      registers,
      async collect() {
        this.set({ projection: PROJECTION_NAME }, (await lag()).behind);
      },
    });
    new Gauge({
      name: 'dealstream_projection_lag_seconds',
      help: 'Age of the oldest event not yet projected, per projection (0 when up to date)',
      labelNames,
      registers,
      async collect() {
        const oldest = (await lag()).oldestPendingRecordedAt?.getTime();
        this.set({ projection: PROJECTION_NAME }, oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
      },
    });
    new Gauge({
      name: 'dealstream_parked_streams',
      help: 'Streams held back because an event could not be projected',
      registers,
      async collect() {
        this.set((await listParkedStreams(db)).length);
      },
    });
    new Gauge({
      name: 'dealstream_projector_runner_role',
      help: "1 for this worker's runner role (active: it holds the projection lock; standby: another worker does)",
      labelNames: ['projection', 'role'] as const,
      registers,
      collect() {
        const role = runner.status().role;
        for (const each of ROLES) this.set({ projection: PROJECTION_NAME, role: each }, each === role ? 1 : 0);
      },
    });
  }

  /**
   * Serves `GET /metrics` on its own port (PROJECTOR_METRICS_PORT; the worker has no other HTTP).
   * With `token` (METRICS_TOKEN) set, only `Authorization: Bearer <token>` may read it.
   */
  async listen(port: number, host: string, token?: string): Promise<{ port: number; close(): Promise<void> }> {
    const server = http.createServer((request, response) => {
      void (async () => {
        if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
          response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
          return;
        }
        if (token !== undefined && !bearerMatches(request.headers.authorization, token)) {
          response.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('unauthorized\n');
          return;
        }
        try {
          const body = await this.registry.metrics();
          response.writeHead(200, { 'content-type': this.registry.contentType }).end(body);
        } catch (error) {
          response.writeHead(503, { 'content-type': 'text/plain' }).end(`metrics unavailable: ${String(error)}\n`);
        }
      })();
    });
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    return {
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1].trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
