import request from 'supertest';
import { mintToken, type Role } from '@dealstream/auth';
import type { PostgresTimeouts } from '@dealstream/database';
import { createApp } from '../../apps/api/src/bootstrap.js';
import { appConfigFromEnv, type AppConfig } from '../../apps/api/src/config/app-config.js';

const PRIVATE_JWT_SECRET = 'fault-secret-that-is-long-enough-for-hs256-0123456789';

/** The real API, in this process, on a database of a private PostgreSQL server (fault tests). */
export async function startApiOn(
  connectionString: string,
  options: { timeouts?: Partial<PostgresTimeouts>; poolSize?: number; config?: Partial<AppConfig> } = {},
) {
  const config: AppConfig = {
    ...appConfigFromEnv({}),
    database: {
      kind: 'postgres',
      connectionString,
      poolSize: options.poolSize ?? 6,
      ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    },
    logLevel: 'silent',
    auth: { secret: PRIVATE_JWT_SECRET, publicKeyAlgorithm: 'RS256' },
    ...options.config,
  };
  const { app } = await createApp(config);
  await app.init();
  return {
    app: app,
    http: () => request(app.getHttpServer()),
    token: async (roles: Role[], subject = 'alice') =>
      `Bearer ${await mintToken({ subject, roles, secret: PRIVATE_JWT_SECRET, expiresIn: '1h' })}`,
    close: () => app.close(),
  };
}
