import { SignInCodes } from './sign-in-codes.js';

const secret = new TextEncoder().encode('a-generated-secret-of-enough-length-0123456789');
const codeOf = (url: string) => new URL(url).hash.slice('#sign-in='.length);

describe('SignInCodes (the one-time sign-in URL of the embedded default)', () => {
  it('is good once', async () => {
    const codes = new SignInCodes({ secret, maxLifetimeSeconds: 86_400 });
    const code = codeOf(codes.issue(3000)!);
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await codes.redeem(code))?.roles).toEqual(['admin']);
    expect(await codes.redeem(code)).toBeUndefined();
  });

  it('gives one session to two redeems racing with the same code', async () => {
    const codes = new SignInCodes({ secret, maxLifetimeSeconds: 86_400 });
    const code = codeOf(codes.issue(3000)!);
    const results = await Promise.all([codes.redeem(code), codes.redeem(code)]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('expires 12 h after it was printed, or sooner under AUTH_MAX_TOKEN_LIFETIME; the token ends with it', async () => {
    let now = new Date('2026-12-06T10:00:00Z');
    const codes = new SignInCodes({ secret, maxLifetimeSeconds: 86_400, now: () => now });
    const late = codeOf(codes.issue(3000)!);
    now = new Date('2026-12-06T22:00:00Z');
    expect(await codes.redeem(late)).toBeUndefined();

    now = new Date('2026-12-06T10:00:00Z');
    const capped = new SignInCodes({ secret, maxLifetimeSeconds: 3600, now: () => now });
    const code = codeOf(capped.issue(3000)!);
    now = new Date('2026-12-06T10:30:00Z');
    expect((await capped.redeem(code))?.expiresAt).toEqual(new Date('2026-12-06T11:00:00Z'));
  });

  it('refuses a wrong code, and the previous code once a new one is issued', async () => {
    const codes = new SignInCodes({ secret, maxLifetimeSeconds: 86_400 });
    const first = codeOf(codes.issue(3000)!);
    const second = codeOf(codes.issue(3000)!);
    expect(await codes.redeem('x'.repeat(43))).toBeUndefined();
    expect(await codes.redeem(first)).toBeUndefined();
    expect(await codes.redeem(second)).toBeDefined();
  });

  it('offers nothing without a generated secret (a configured AUTH_JWT_SECRET or key)', async () => {
    const codes = new SignInCodes({ maxLifetimeSeconds: 86_400 });
    expect(codes.offered).toBe(false);
    expect(codes.issue(3000)).toBeUndefined();
    expect(await codes.redeem('x'.repeat(43))).toBeUndefined();
  });
});
