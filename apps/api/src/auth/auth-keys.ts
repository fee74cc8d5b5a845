import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importSPKI, type CryptoKey } from 'jose';
import type { AppConfig } from '../config/app-config.js';

/** How incoming tokens are verified: an HS256 secret, or a public key (RS256/ES256). */
export type VerificationKey =
  | { kind: 'secret'; secret: Uint8Array; source: 'env' | 'generated' | 'data-dir' }
  | { kind: 'public-key'; key: CryptoKey; algorithms: string[] };

export const GENERATED_SECRET_FILE = 'auth-secret';

/**
 * Resolves the verification key. On the embedded default with nothing configured, a random secret
 * is generated once and kept in DATA_DIR, so `npm start` works out of the box and tokens survive a
 * restart; on a PostgreSQL server a secret or key must be configured explicitly.
 */
export async function resolveVerificationKey(config: AppConfig): Promise<VerificationKey> {
  if (config.auth.publicKeyPem) {
    const algorithm = config.auth.publicKeyAlgorithm;
    return { kind: 'public-key', key: (await importSPKI(config.auth.publicKeyPem, algorithm)) as CryptoKey, algorithms: [algorithm] };
  }
  if (config.auth.secret) return { kind: 'secret', secret: new TextEncoder().encode(config.auth.secret), source: 'env' };
  if (config.database.kind !== 'pglite') {
    throw new Error('AUTH_JWT_SECRET (or AUTH_JWT_PUBLIC_KEY) must be set when DATABASE_URL points to a server');
  }
  const { secret, generated } = readOrCreateSecret(config.dataDir);
  return { kind: 'secret', secret: new TextEncoder().encode(secret), source: generated ? 'generated' : 'data-dir' };
}

/** The secret kept in the data folder, created on first use (file mode 0600). */
export function readOrCreateSecret(dataDir: string): { secret: string; generated: boolean } {
  const file = join(dataDir, GENERATED_SECRET_FILE);
  if (existsSync(file)) return { secret: readFileSync(file, 'utf8').trim(), generated: false };
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { secret, generated: true };
}
