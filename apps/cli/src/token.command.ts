import { parseArgs } from 'node:util';
import {
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  ROLES,
  isRole,
  isUsableSubject,
  mintToken,
  parseDurationSeconds,
  readOrCreateSecret,
  type Role,
} from '@dealstream/auth';

/** The CLI's default token lifetime: a working day, under the API's default maximum (24h). */
export const DEFAULT_CLI_TOKEN_LIFETIME = '12h';

/**
 * `dealstream token --sub alice --roles sales,ops [--expires 12h]`: prints a bearer token signed
 * with AUTH_JWT_SECRET, or with the secret the embedded default keeps in DATA_DIR. Refuses what the
 * API would refuse: a lifetime above AUTH_MAX_TOKEN_LIFETIME (same variable, same default) or a sub
 * that cannot be recorded as an actor.
 */
export async function tokenCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      sub: { type: 'string', default: 'dev-user' },
      roles: { type: 'string', default: 'admin' },
      expires: { type: 'string', default: DEFAULT_CLI_TOKEN_LIFETIME },
    },
  });
  const roles = values.roles
    .split(',')
    .map((role) => role.trim())
    .filter(Boolean);
  const unknown = roles.filter((role) => !isRole(role));
  if (unknown.length) throw new Error(`unknown role(s) ${unknown.join(', ')}; choose from ${ROLES.join(', ')}`);
  if (!isUsableSubject(values.sub))
    throw new Error(
      '--sub must be 1..200 characters without control characters, lone surrogates or bidirectional overrides',
    );
  const lifetime = parseDurationSeconds(values.expires, '--expires');
  const max = process.env.AUTH_MAX_TOKEN_LIFETIME
    ? parseDurationSeconds(process.env.AUTH_MAX_TOKEN_LIFETIME, 'AUTH_MAX_TOKEN_LIFETIME')
    : DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  if (lifetime <= 0 || lifetime > max)
    throw new Error(
      `--expires must be above 0 and at most AUTH_MAX_TOKEN_LIFETIME (${max} s); the API refuses longer-lived tokens`,
    );
  const secret = process.env.AUTH_JWT_SECRET || readOrCreateSecret(process.env.DATA_DIR ?? './data').secret;
  const token = await mintToken({
    subject: values.sub,
    roles: roles as Role[],
    secret,
    expiresIn: `${lifetime}s`,
    issuer: process.env.AUTH_JWT_ISSUER || undefined,
    audience: process.env.AUTH_JWT_AUDIENCE || undefined,
  });
  process.stdout.write(`${token}\n`);
}
