import type { DatabaseConfig } from '@dealstream/database';
import { databaseConfigFromEnv } from '@dealstream/database';
import type { HttpTimeouts } from '../http/request-limits.js';

/** Everything the service reads from its environment, read once at start. */
export interface AppConfig {
  readonly port: number;
  readonly dataDir: string;
  readonly database: DatabaseConfig;
  /** Largest accepted JSON body, in bytes. */
  readonly bodyLimitBytes: number;
  readonly logLevel: string;
  /** PROJECTIONS=external: apps/projector runs the projections; default in-process. */
  readonly projectionsInProcess: boolean;
  /** READ_WAIT_MS: longest a read waits for its minPosition (default 5000). */
  readonly readWaitMs: number;
  /** PROJECTION_SILENCE_MS: a catch-up subscription silent this long while events wait is replaced (default 30000). */
  readonly subscriptionSilenceMs: number;
  /** HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS / HTTP_KEEP_ALIVE_TIMEOUT_MS (defaults 10 s, 30 s, 5 s). */
  readonly http: HttpTimeouts;
  /** The environment the event store is chosen from (EVENTSTORE_CONNECTION_STRING selects EventStoreDB). */
  readonly env: NodeJS.ProcessEnv;
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
}

export function appConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AppConfig {
  return {
    port: Number(env.PORT ?? 3000),
    dataDir: env.DATA_DIR ?? './data',
    database: databaseConfigFromEnv(env),
    bodyLimitBytes: Number(env.BODY_LIMIT_BYTES ?? 64 * 1024),
    logLevel: env.LOG_LEVEL ?? 'info',
    projectionsInProcess: env.PROJECTIONS !== 'external',
    readWaitMs: Number(env.READ_WAIT_MS ?? 5000),
    subscriptionSilenceMs: Number(env.PROJECTION_SILENCE_MS ?? 30_000),
    http: {
      headersTimeoutMs: positiveMs(env.HTTP_HEADERS_TIMEOUT_MS, 10_000, 'HTTP_HEADERS_TIMEOUT_MS'),
      requestTimeoutMs: positiveMs(env.HTTP_REQUEST_TIMEOUT_MS, 30_000, 'HTTP_REQUEST_TIMEOUT_MS'),
      keepAliveTimeoutMs: positiveMs(env.HTTP_KEEP_ALIVE_TIMEOUT_MS, 5_000, 'HTTP_KEEP_ALIVE_TIMEOUT_MS'),
    },
    env,
    auth: {
      secret: env.AUTH_JWT_SECRET || undefined,
      publicKeyPem: env.AUTH_JWT_PUBLIC_KEY || undefined,
      publicKeyAlgorithm: env.AUTH_JWT_ALGORITHM || 'RS256',
      issuer: env.AUTH_JWT_ISSUER || undefined,
      audience: env.AUTH_JWT_AUDIENCE || undefined,
    },
  };
}

/** A timeout in milliseconds: a positive integer (0 would switch Node's bound off). */
function positiveMs(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number of milliseconds, got '${raw}'`);
  return value;
}
