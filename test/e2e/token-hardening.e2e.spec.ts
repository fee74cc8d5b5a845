import { SignJWT, decodeJwt } from 'jose';
import { DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from '@dealstream/auth';
import { DEFAULT_CLI_TOKEN_LIFETIME, tokenCommand } from '../../apps/cli/src/token.command.js';
import { TEST_JWT_SECRET, startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

const key = new TextEncoder().encode(TEST_JWT_SECRET);
const now = () => Math.floor(Date.now() / 1000);

/** A token signed with the right secret, with exactly the claims given (nothing added). */
function signed(claims: { sub?: string; iat?: number; exp?: number; nbf?: number; roles?: string[] }): Promise<string> {
  const { sub, iat, exp, nbf, roles = ['ops'] } = claims;
  return new SignJWT({
    roles,
    ...(sub !== undefined ? { sub } : {}),
    ...(iat !== undefined ? { iat } : {}),
    ...(exp !== undefined ? { exp } : {}),
    ...(nbf !== undefined ? { nbf } : {}),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(key);
}

/** Bearer tokens: lifetime bound, clock skew, scheme case, usable subject; every refusal writes nothing. */
describe('bearer token hardening (PostgreSQL)', () => {
  let api: ApiHarness;

  beforeAll(async () => {
    api = await startApiOnPostgres({ projectionsInProcess: false });
  });
  afterAll(() => api.close());

  /** A write (POST /pipelines) with the given Authorization header: status, code, and events written. */
  async function write(authorization: string) {
    const before = await api.eventCount();
    const response = await api
      .http()
      .post('/pipelines')
      .set('Authorization', authorization)
      .send({ name: 'P', stages: [{ name: 'A', probability: 5 }] });
    return {
      status: response.status,
      code: response.body.code as string | undefined,
      written: (await api.eventCount()) - before,
      body: response.body,
    };
  }

  it('refuses tokens that live longer than the maximum (24h by default) or are issued in the future, with 401 and nothing written', async () => {
    const t = now();
    const cases: [string, Parameters<typeof signed>[0]][] = [
      ['exp 1e300', { sub: 'alice', iat: t, exp: 1e300 }],
      ['exp 1e300 without iat', { sub: 'alice', exp: 1e300 }],
      ['lifetime of 24h + 1s', { sub: 'alice', iat: t, exp: t + DEFAULT_MAX_TOKEN_LIFETIME_SECONDS + 1 }],
      ['no iat, 25h left', { sub: 'alice', exp: t + 25 * 3600 }],
      ['iat an hour ahead', { sub: 'alice', iat: t + 3600, exp: t + 7200 }],
      ['iat just beyond the skew', { sub: 'alice', iat: t + DEFAULT_CLOCK_SKEW_SECONDS + 5, exp: t + 3600 }],
      ['nbf an hour ahead', { sub: 'alice', iat: t, nbf: t + 3600, exp: t + 7200 }],
      ['expired beyond the skew', { sub: 'alice', iat: t - 3600, exp: t - DEFAULT_CLOCK_SKEW_SECONDS - 5 }],
      ['iat of 1e300', { sub: 'alice', iat: 1e300, exp: 1e300 }],
      ['no exp', { sub: 'alice', iat: t }],
    ];
    const answered = [];
    for (const [name, claims] of cases) {
      const result = await write(`Bearer ${await signed(claims)}`);
      answered.push([name, result.status, result.code, result.written]);
    }
    expect(answered).toEqual(cases.map(([name]) => [name, 401, 'unauthorized', 0]));
  });

  it('accepts a token at the lifetime bound and clocks within the skew', async () => {
    const t = now();
    const cases: [string, Parameters<typeof signed>[0]][] = [
      ['lifetime of exactly 24h', { sub: 'alice', iat: t, exp: t + DEFAULT_MAX_TOKEN_LIFETIME_SECONDS }],
      ['no iat, 5 minutes left', { sub: 'alice', exp: t + 300 }],
      ['iat 10 s ahead', { sub: 'alice', iat: t + 10, exp: t + 3600 }],
      ['nbf 10 s ahead', { sub: 'alice', iat: t, nbf: t + 10, exp: t + 3600 }],
      ['expired 5 s ago', { sub: 'alice', iat: t - 3600, exp: t - 5 }],
    ];
    const answered = [];
    for (const [name, claims] of cases) answered.push([name, (await write(`Bearer ${await signed(claims)}`)).status]);
    expect(answered).toEqual(cases.map(([name]) => [name, 201]));
  });

  it('takes the scheme in any case (RFC 9110 §11.1) and refuses other schemes', async () => {
    const token = await api.token(['ops']);
    const schemes = ['Bearer', 'bearer', 'BEARER', 'bEaReR'];
    const accepted = [];
    for (const scheme of schemes) accepted.push([scheme, (await write(`${scheme} ${token}`)).status]);
    expect(accepted).toEqual(schemes.map((scheme) => [scheme, 201]));
    const refused = [];
    for (const header of [`Basic ${token}`, `Bearer${token}`, `Token ${token}`, token, `Bearer ${token} extra`]) {
      const result = await write(header);
      refused.push([result.status, result.code, result.written]);
    }
    expect(refused).toEqual(Array(5).fill([401, 'unauthorized', 0]));
  });

  it('refuses a sub with NUL, control characters, lone surrogates, line separators or bidi overrides: 401, nothing written', async () => {
    const subs = [
      '\u0000',
      'ali\u0000ce',
      'alice\n',
      'ali\u0007ce',
      '\u007f',
      'ali\u0085ce',
      '\uD800',
      'a\uDC00b',
      'ali\u2028ce',
      'ali\u202Eecila',
      '',
      'x'.repeat(201),
    ];
    const answered = [];
    for (const sub of subs) {
      const result = await write(`Bearer ${await signed({ sub, iat: now(), exp: now() + 600 })}`);
      answered.push([JSON.stringify(sub), result.status, result.code, result.written]);
      // And a read: same 401, never a 500.
      const read = await api
        .http()
        .get('/events')
        .set('Authorization', `Bearer ${await signed({ sub, iat: now(), exp: now() + 600, roles: ['admin'] })}`);
      answered.push([JSON.stringify(sub), read.status, read.body.code, 0]);
    }
    expect(answered).toEqual(
      subs.flatMap((sub) => [
        [JSON.stringify(sub), 401, 'unauthorized', 0],
        [JSON.stringify(sub), 401, 'unauthorized', 0],
      ]),
    );
    // Non-ASCII that is well formed stays fine: an astral character (a surrogate pair) and accents.
    for (const sub of ['zoë', 'user-😀']) {
      const result = await write(`Bearer ${await signed({ sub, iat: now(), exp: now() + 600 })}`);
      expect([sub, result.status]).toEqual([sub, 201]);
    }
  });

  describe('the CLI token command', () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env = { ...saved };
    });

    async function cliToken(args: string[]): Promise<string> {
      process.env.AUTH_JWT_SECRET = TEST_JWT_SECRET;
      const chunks: string[] = [];
      const original = process.stdout.write.bind(process.stdout);
      process.stdout.write = (chunk: string) => {
        chunks.push(String(chunk));
        return true;
      };
      try {
        await tokenCommand(args);
      } finally {
        process.stdout.write = original;
      }
      return chunks.join('').trim();
    }

    it('mints by default a token the API accepts, within the maximum lifetime', async () => {
      expect(DEFAULT_CLI_TOKEN_LIFETIME).toBe('12h');
      const token = await cliToken(['--sub', 'cli-user', '--roles', 'ops']);
      const claims = decodeJwt(token);
      expect(claims.exp! - claims.iat!).toBe(12 * 3600);
      expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS);
      expect((await write(`Bearer ${token}`)).status).toBe(201);
    });

    it('refuses to mint what the API would refuse: a lifetime above AUTH_MAX_TOKEN_LIFETIME, an unusable sub', async () => {
      await expect(cliToken(['--sub', 'cli-user', '--expires', '25h'])).rejects.toThrow(/AUTH_MAX_TOKEN_LIFETIME/);
      process.env.AUTH_MAX_TOKEN_LIFETIME = '1h';
      await expect(cliToken(['--sub', 'cli-user', '--expires', '2h'])).rejects.toThrow(/3600 s/);
      await expect(cliToken(['--sub', 'cli-user', '--expires', '2 days'])).rejects.toThrow(/--expires/);
      await expect(cliToken(['--sub', 'ali\u0000ce'])).rejects.toThrow(/--sub/);
      delete process.env.AUTH_MAX_TOKEN_LIFETIME;
      const token = await cliToken(['--sub', 'cli-user', '--roles', 'ops', '--expires', '30m']);
      expect((await write(`Bearer ${token}`)).status).toBe(201);
    });
  });
});

describe('a configured AUTH_MAX_TOKEN_LIFETIME and AUTH_CLOCK_SKEW', () => {
  it('bounds the lifetime and the skew by the configured values', async () => {
    const api = await startApiOnPostgres({
      projectionsInProcess: false,
      tokenPolicy: { maxLifetimeSeconds: 600, clockSkewSeconds: 0 },
    });
    try {
      const t = now();
      const status = async (claims: Parameters<typeof signed>[0]) =>
        (
          await api
            .http()
            .get('/events')
            .set('Authorization', `Bearer ${await signed({ roles: ['admin'], ...claims })}`)
        ).status;
      expect(await status({ sub: 'a', iat: t, exp: t + 600 })).toBe(200);
      expect(await status({ sub: 'a', iat: t, exp: t + 601 })).toBe(401);
      expect(await status({ sub: 'a', iat: t + 5, exp: t + 300 })).toBe(401);
    } finally {
      await api.close();
    }
  });
});
