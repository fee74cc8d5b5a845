import type { DatabaseConfig } from '@dealstream/database';
import { databaseConfigFromEnv } from '@dealstream/database';

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
  /** Readiness (`/health/ready`): READY_TIMEOUT_MS (2000), READY_MAX_LAG_MS (30000, 0 = off), READY_REQUIRE_LEADER (true). */
  readonly readiness: { readonly timeoutMs: number; readonly maxLagMs: number; readonly requireLeader: boolean };
  /** DB_STARTUP_WAIT_MS: how long start-up waits for the database to answer, with backoff (default 60000; 0 = try once). */
  readonly startupWaitMs: number;
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
    readiness: {
      timeoutMs: Number(env.READY_TIMEOUT_MS ?? 2000),
      maxLagMs: Number(env.READY_MAX_LAG_MS ?? 30_000),
      requireLeader: (env.READY_REQUIRE_LEADER ?? 'true') !== 'false',
    },
    startupWaitMs: Number(env.DB_STARTUP_WAIT_MS ?? 60_000),
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
