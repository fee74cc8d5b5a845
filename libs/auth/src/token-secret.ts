import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const GENERATED_SECRET_FILE = 'auth-secret';

/**
 * The HS256 secret kept in the data folder on the embedded default, created on first use with
 * file mode 0600. The API verifies with it and `npm run token` signs with it.
 */
export function readOrCreateSecret(dataDir: string): { secret: string; generated: boolean } {
  const file = join(dataDir, GENERATED_SECRET_FILE);
  if (existsSync(file)) return { secret: readFileSync(file, 'utf8').trim(), generated: false };
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      return { secret: readFileSync(file, 'utf8').trim(), generated: false };
    throw error;
  }
  chmodSync(file, 0o600);
  return { secret, generated: true };
}
