import { importSPKI, type CryptoKey } from 'jose';
import { readOrCreateSecret } from '@dealstream/auth';
import type { AppConfig } from '../config/app-config.js';

/** How incoming tokens are verified: an HS256 secret, or a public key (RS256/ES256). */
export type VerificationKey =
  | { kind: 'secret'; secret: Uint8Array; source: 'env' | 'generated' | 'data-dir' }
  | { kind: 'public-key'; key: CryptoKey; algorithms: string[] };

/**
 * Resolves the verification key. On the embedded default with nothing configured, a random secret
 * is generated once and kept in DATA_DIR, so `npm start` works out of the box and tokens survive a
 * restart; on a PostgreSQL server a secret or key must be configured explicitly.
 */
export async function resolveVerificationKey(config: AppConfig): Promise<VerificationKey> {
  if (config.auth.publicKeyPem) {
    const algorithm = config.auth.publicKeyAlgorithm;
    return {
      kind: 'public-key',
      key: await importSPKI(config.auth.publicKeyPem, algorithm),
      algorithms: [algorithm],
    };
  }
  if (config.auth.secret)
    return { kind: 'secret', secret: new TextEncoder().encode(config.auth.secret), source: 'env' };
  if (config.database.kind !== 'pglite') {
    throw new Error('AUTH_JWT_SECRET (or AUTH_JWT_PUBLIC_KEY) must be set when DATABASE_URL points to a server');
  }
  const { secret, generated } = readOrCreateSecret(config.dataDir);
  return { kind: 'secret', secret: new TextEncoder().encode(secret), source: generated ? 'generated' : 'data-dir' };
}
