import { parseArgs } from 'node:util';
import { ROLES, isRole, mintToken, readOrCreateSecret, type Role } from '@dealstream/auth';

/**
 * `dealstream token --sub alice --roles sales,ops [--expires 12h]`: prints a bearer token signed
 * with AUTH_JWT_SECRET, or with the secret the embedded default keeps in DATA_DIR.
 */
export async function tokenCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      sub: { type: 'string', default: 'dev-user' },
      roles: { type: 'string', default: 'admin' },
      expires: { type: 'string', default: '12h' },
    },
  });
  const roles = values.roles!.split(',').map((role) => role.trim()).filter(Boolean);
  const unknown = roles.filter((role) => !isRole(role));
  if (unknown.length) throw new Error(`unknown role(s) ${unknown.join(', ')}; choose from ${ROLES.join(', ')}`);
  const secret = process.env.AUTH_JWT_SECRET || readOrCreateSecret(process.env.DATA_DIR ?? './data').secret;
  const token = await mintToken({
    subject: values.sub!,
    roles: roles as Role[],
    secret,
    expiresIn: values.expires,
    issuer: process.env.AUTH_JWT_ISSUER || undefined,
    audience: process.env.AUTH_JWT_AUDIENCE || undefined,
  });
  process.stdout.write(`${token}\n`);
}
