import { SignJWT } from 'jose';
import type { Role } from './roles.js';

export interface MintTokenOptions {
  readonly subject: string;
  readonly roles: readonly Role[];
  readonly secret: string;
  /** jose duration, e.g. '12h', '30m'. */
  readonly expiresIn?: string;
  readonly issuer?: string;
  readonly audience?: string;
}

/**
 * Signs an HS256 token the API accepts.
 *
 * @example await mintToken({ subject: 'alice', roles: ['sales'], secret })
 */
export async function mintToken(options: MintTokenOptions): Promise<string> {
  let jwt = new SignJWT({ roles: [...options.roles] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.subject)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '12h');
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
