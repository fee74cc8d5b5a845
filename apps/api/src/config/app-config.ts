import type { DatabaseConfig } from '@dealstream/database';
import { databaseConfigFromEnv } from '@dealstream/database';
import { webhookConfigFromEnv, type WebhookConfig } from '@dealstream/webhooks';
import {
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  parseDurationSeconds,
  type TokenPolicy,
} from '@dealstream/auth';
import type { HttpTimeouts } from '../request-limits/request-limits.js';
import { heapGrowingPercentFromEnv } from './heap-growth.js';

/** Everything the service reads from its environment, read once at start. */
export interface AppConfig {
  readonly port: number;
  readonly dataDir: string;
  readonly database: DatabaseConfig;
  /** Largest accepted JSON body, in bytes. */
  readonly bodyLimitBytes: number;
  readonly logLevel: string;
  /** Where the request log goes instead of stdout; never read from the environment (tests set it). */
  readonly logDestination?: { write(line: string): void };
  /** PROJECTIONS=external: apps/projector runs the projections; default in-process. */
  readonly projectionsInProcess: boolean;
  /**
   * PROJECTION_THREAD=worker|main: where the API's own runner runs on a PostgreSQL server with the SQL
   * event store — a worker thread (default: its batches never wait for the request loop) or the main
   * thread. PGlite and EventStoreDB always use the main thread.
   */
  readonly projectionThread: 'worker' | 'main';
  /**
   * PROJECTION_BATCH_INTERVAL_MS: on the worker thread, the least time between the starts of two of its
   * reads of the global order (default 50; 0 = read again as soon as a batch commits). Under load it
   * gathers into one batch what arrives meanwhile; an idle runner reads at once.
   */
  readonly projectionBatchIntervalMs: number;
  /**
   * HEAP_GROWING_PERCENT: how far V8 lets the old generation grow past what the last full collection
   * kept alive before it collects again, in percent (default 50; 0 = V8's own heuristic, up to ~300%).
   * Garbage that outlives two young collections (a request's objects, replaced cache entries) piles
   * up to that bound, so it sets most of the API's peak RSS under load; applied before any other module
   * loads (config/apply-heap-growth.ts, imported first by main.ts).
   */
  readonly heapGrowingPercent: number;
  /** READ_WAIT_MS: longest a read waits for its minPosition (default 5000). */
  readonly readWaitMs: number;
  /** PROJECTION_SILENCE_MS: a catch-up subscription silent this long while events wait is replaced (default 30000). */
  readonly subscriptionSilenceMs: number;
  /** Readiness (`/health/ready`): READY_TIMEOUT_MS (2000), READY_MAX_LAG_MS (30000, 0 = off), READY_REQUIRE_LEADER (true). */
  readonly readiness: {
    readonly timeoutMs: number;
    readonly maxLagMs: number;
    readonly requireLeader: boolean;
    /** WEBHOOK_READY_MAX_BACKLOG (0 = not checked). */
    readonly maxWebhookBacklog?: number;
  };
  /** DB_STARTUP_WAIT_MS: how long start-up waits for the database to answer, with backoff (default 60000; 0 = try once). */
  readonly startupWaitMs: number;
  /** WRITE_CONTENTION_DEADLINE_MS: how long a write without If-Match keeps deciding again under contention (default 10000). */
  readonly writeContentionDeadlineMs: number;
  /** Idempotency-Key: lease of a request in flight, and how long keys are kept (see README "Idempotency-Key"). */
  readonly idempotency: {
    /** IDEMPOTENCY_LEASE_MS (default 60000). */
    readonly leaseMs: number;
    /** IDEMPOTENCY_KEY_RETENTION_HOURS (default 24). */
    readonly retentionMs: number;
  };
  /** `GET /events/stream` (Server-Sent Events): bounds and timings, see README "Live stream". */
  readonly eventStream: EventStreamConfig;
  /** HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS / HTTP_KEEP_ALIVE_TIMEOUT_MS (defaults 10 s, 30 s, 5 s). */
  readonly http: HttpTimeouts;
  /** The environment the event store is chosen from (EVENTSTORE_CONNECTION_STRING selects EventStoreDB). */
  readonly env: NodeJS.ProcessEnv;
  /** AUTH_MAX_TOKEN_LIFETIME (default 24h) and AUTH_CLOCK_SKEW (default 30s): what a token's times must satisfy. */
  readonly tokenPolicy: TokenPolicy;
  readonly auth: {
    /** HS256 shared secret (AUTH_JWT_SECRET). */
    readonly secret?: string;
    /** PEM public key for RS256/ES256 tokens (AUTH_JWT_PUBLIC_KEY), instead of a secret. */
    readonly publicKeyPem?: string;
    /** Algorithm of the public key's tokens (AUTH_JWT_ALGORITHM), RS256 unless set. */
    readonly publicKeyAlgorithm: string;
    readonly issuer?: string;
    readonly audience?: string;
  };
  /** CONSOLE_DIR: the built web console (apps/console → dist/console) served at `/`; not served when it holds no index.html. */
  readonly consoleDir: string;
  /** Webhooks (docs/webhooks.md): where they may point, the delivery worker's timings and bounds. */
  readonly webhooks: WebhookConfig;
  /** METRICS_TOKEN: a static bearer for `GET /metrics` besides ops/admin JWTs (at least 32 characters); none when unset. */
  readonly metricsToken?: string;
}

export interface EventStreamConfig {
  /** EVENTS_STREAM_MAX_PER_TOKEN: concurrent streams one bearer token may hold on one API instance (default 5; 429 beyond). */
  readonly maxPerToken: number;
  /** EVENTS_STREAM_HEARTBEAT_MS: a comment line this often keeps proxies from closing an idle stream (default 15000). */
  readonly heartbeatMs: number;
  /** EVENTS_STREAM_POLL_MS: the store is read at least this often without a NOTIFY (default 1000). */
  readonly pollMs: number;
  /** EVENTS_STREAM_MAX_LIFETIME_MS: a stream is ended after this long; the client reconnects with Last-Event-ID (default 3600000). */
  readonly maxLifetimeMs: number;
}

export function appConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AppConfig {
  return {
    port: Number(env.PORT ?? 3000),
    dataDir: env.DATA_DIR ?? './data',
    consoleDir: env.CONSOLE_DIR ?? './dist/console',
    database: databaseConfigFromEnv(env),
    bodyLimitBytes: Number(env.BODY_LIMIT_BYTES ?? 64 * 1024),
    logLevel: env.LOG_LEVEL ?? 'info',
    projectionsInProcess: env.PROJECTIONS !== 'external',
    projectionThread: projectionThread(env.PROJECTION_THREAD),
    projectionBatchIntervalMs: milliseconds(env, 'PROJECTION_BATCH_INTERVAL_MS', 50),
    heapGrowingPercent: heapGrowingPercentFromEnv(env),
    readWaitMs: Number(env.READ_WAIT_MS ?? 5000),
    subscriptionSilenceMs: Number(env.PROJECTION_SILENCE_MS ?? 30_000),
    readiness: {
      timeoutMs: Number(env.READY_TIMEOUT_MS ?? 2000),
      maxLagMs: Number(env.READY_MAX_LAG_MS ?? 30_000),
      requireLeader: (env.READY_REQUIRE_LEADER ?? 'true') !== 'false',
      maxWebhookBacklog: wholeNumber(env, 'WEBHOOK_READY_MAX_BACKLOG', 0, 'events'),
    },
    startupWaitMs: Number(env.DB_STARTUP_WAIT_MS ?? 60_000),
    writeContentionDeadlineMs: milliseconds(env, 'WRITE_CONTENTION_DEADLINE_MS', 10_000),
    idempotency: {
      leaseMs: milliseconds(env, 'IDEMPOTENCY_LEASE_MS', 60_000),
      retentionMs: 3_600_000 * wholeNumber(env, 'IDEMPOTENCY_KEY_RETENTION_HOURS', 24),
    },
    eventStream: {
      maxPerToken: positiveMs(env.EVENTS_STREAM_MAX_PER_TOKEN, 5, 'EVENTS_STREAM_MAX_PER_TOKEN', 'streams'),
      heartbeatMs: positiveMs(env.EVENTS_STREAM_HEARTBEAT_MS, 15_000, 'EVENTS_STREAM_HEARTBEAT_MS'),
      pollMs: positiveMs(env.EVENTS_STREAM_POLL_MS, 1_000, 'EVENTS_STREAM_POLL_MS'),
      maxLifetimeMs: positiveMs(env.EVENTS_STREAM_MAX_LIFETIME_MS, 3_600_000, 'EVENTS_STREAM_MAX_LIFETIME_MS'),
    },
    http: {
      headersTimeoutMs: positiveMs(env.HTTP_HEADERS_TIMEOUT_MS, 10_000, 'HTTP_HEADERS_TIMEOUT_MS'),
      requestTimeoutMs: positiveMs(env.HTTP_REQUEST_TIMEOUT_MS, 30_000, 'HTTP_REQUEST_TIMEOUT_MS'),
      keepAliveTimeoutMs: positiveMs(env.HTTP_KEEP_ALIVE_TIMEOUT_MS, 5_000, 'HTTP_KEEP_ALIVE_TIMEOUT_MS'),
    },
    env,
    tokenPolicy: {
      maxLifetimeSeconds: env.AUTH_MAX_TOKEN_LIFETIME
        ? positive(
            parseDurationSeconds(env.AUTH_MAX_TOKEN_LIFETIME, 'AUTH_MAX_TOKEN_LIFETIME'),
            'AUTH_MAX_TOKEN_LIFETIME',
          )
        : DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
      clockSkewSeconds: env.AUTH_CLOCK_SKEW
        ? parseDurationSeconds(env.AUTH_CLOCK_SKEW, 'AUTH_CLOCK_SKEW')
        : DEFAULT_CLOCK_SKEW_SECONDS,
    },
    auth: {
      secret: env.AUTH_JWT_SECRET || undefined,
      publicKeyPem: env.AUTH_JWT_PUBLIC_KEY || undefined,
      publicKeyAlgorithm: env.AUTH_JWT_ALGORITHM || 'RS256',
      issuer: env.AUTH_JWT_ISSUER || undefined,
      audience: env.AUTH_JWT_AUDIENCE || undefined,
    },
    webhooks: webhookConfigFromEnv(env),
    ...(env.METRICS_TOKEN ? { metricsToken: metricsToken(env.METRICS_TOKEN) } : {}),
  };
}

function metricsToken(value: string): string {
  if (value.length < 32 || /\s/.test(value))
    throw new Error('METRICS_TOKEN must be at least 32 characters without whitespace');
  return value;
}

function positive(seconds: number, name: string): number {
  if (seconds <= 0) throw new RangeError(`${name} must be above zero`);
  return seconds;
}

/** A non-negative integer number of milliseconds from the environment; refuses anything else at start. */
function milliseconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  return wholeNumber(env, name, fallback, 'milliseconds');
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, unit = 'hours'): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw new Error(`${name} must be a whole number of ${unit}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** A timeout in milliseconds: a positive integer (0 would switch Node's bound off). */
function positiveMs(raw: string | undefined, fallback: number, name: string, unit = 'milliseconds'): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive whole number of ${unit}, got '${raw}'`);
  return value;
}

function projectionThread(value: string | undefined): 'worker' | 'main' {
  if (value === undefined || value === '' || value === 'worker') return 'worker';
  if (value === 'main') return 'main';
  throw new Error(`PROJECTION_THREAD must be worker or main, not ${JSON.stringify(value)}`);
}
