import { mintToken } from '@dealstream/auth';

/** Who the printed sign-in URL signs in as: the embedded default is one person trying dealstream out. */
export const SIGN_IN_SUBJECT = 'console-admin';
const SIGN_IN_LIFETIME_SECONDS = 12 * 3600;

/**
 * The console's sign-in URL that `npm start` prints on the embedded default: an admin token in the
 * URL fragment (`#token=`), which browsers never send to a server, so it reaches no request log.
 * The console moves it into session storage and removes it from the address bar.
 *
 * @example await consoleSignInUrl({ port: 3000, secret, maxLifetimeSeconds: 86400 })
 */
export async function consoleSignInUrl(options: {
  readonly port: number;
  readonly secret: string;
  readonly maxLifetimeSeconds: number;
  readonly issuer?: string;
  readonly audience?: string;
}): Promise<string> {
  const token = await mintToken({
    subject: SIGN_IN_SUBJECT,
    roles: ['admin'],
    secret: options.secret,
    expiresIn: `${Math.min(SIGN_IN_LIFETIME_SECONDS, options.maxLifetimeSeconds)}s`,
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  });
  return `http://localhost:${options.port}/#token=${token}`;
}
