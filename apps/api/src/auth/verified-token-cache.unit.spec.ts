import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SignJWT } from 'jose';
import { mintToken } from '@dealstream/auth';
import { ApiProblem } from '../problem/api-problem.js';
import type { Principal } from './auth.decorators.js';
import { AuthGuard } from './auth.guard.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

const SECRET = 'unit-secret-that-is-long-enough-for-hs256-0123456789';

describe('VerifiedTokenCache', () => {
  const alice: Principal = { actorId: 'alice', roles: ['sales'] };

  it('keys by the SHA-256 of the token, never the token itself', () => {
    const key = VerifiedTokenCache.keyOf('a.b.c');
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 bytes, base64url
    expect(key).not.toContain('a.b.c');
    expect(VerifiedTokenCache.keyOf('a.b.d')).not.toBe(key);
  });

  it('answers a principal only before its exp', () => {
    const cache = new VerifiedTokenCache();
    cache.set('k', alice, 1000);
    expect(cache.get('k', 999)).toEqual(alice);
    expect(cache.get('k', 1000)).toBeUndefined();
    expect(cache.get('k', 999)).toBeUndefined(); // dropped once seen expired
  });

  it('holds at most maxEntries tokens, evicting the least recently used', () => {
    const cache = new VerifiedTokenCache(2);
    cache.set('a', alice, 1000);
    cache.set('b', alice, 1000);
    cache.get('a', 0);
    cache.set('c', alice, 1000);
    expect(cache.size).toBe(2);
    expect(['a', 'b', 'c'].map((key) => cache.get(key, 0) !== undefined)).toEqual([true, false, true]);
  });
});

describe('AuthGuard with verified tokens cached', () => {
  const guard = new AuthGuard(
    new Reflector(),
    { kind: 'secret', secret: new TextEncoder().encode(SECRET), source: 'env' },
    {
      tokenPolicy: { maxLifetimeSeconds: 3600, clockSkewSeconds: 0 },
    },
  );
  class Routes {
    write() {}
  }
  const call = async (token: string) => {
    // A Fastify request as the guard reads it: the matched route's template, the Node request under it.
    const request = {
      method: 'POST',
      url: '/deals/5f0c2c1e-1d2b-4c3a-9e8f-7a6b5c4d3e2f/activities',
      routeOptions: { url: '/deals/:id/activities' },
      headers: { authorization: `Bearer ${token}` },
      query: {},
      raw: {},
    } as { principal?: Principal };
    const context = {
      getHandler: () => Routes.prototype.write,
      getClass: () => Routes,
      switchToHttp: () => ({ getRequest: () => request }),
    } as unknown as ExecutionContext;
    try {
      await guard.canActivate(context);
      return { status: 200, principal: request.principal };
    } catch (error) {
      const problem = error as ApiProblem;
      return { status: problem.status, detail: problem.detail };
    }
  };

  it('answers the same token the same way every time: principal, roles and 403 alike', async () => {
    const sales = await mintToken({ subject: 'sam', roles: ['sales'], secret: SECRET, expiresIn: '10m' });
    const analyst = await mintToken({ subject: 'ann', roles: ['analyst'], secret: SECRET, expiresIn: '10m' });
    for (let i = 0; i < 3; i++) {
      expect(await call(sales)).toEqual({
        status: 200,
        principal: { actorId: 'sam', roles: ['sales'], expiresAt: expect.any(Number) },
      });
      expect((await call(analyst)).status).toBe(403);
    }
  });

  it('a token with a forged signature is refused even while the genuine one is cached', async () => {
    const genuine = await mintToken({ subject: 'sam', roles: ['sales'], secret: SECRET, expiresIn: '10m' });
    expect((await call(genuine)).status).toBe(200);
    const [header, payload] = genuine.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(43)}`;
    expect(await call(forged)).toEqual({ status: 401, detail: 'The token is invalid' });
    const admin = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), roles: ['admin'] })).toString('base64url')}.${genuine.split('.')[2]}`;
    expect(await call(admin)).toEqual({ status: 401, detail: 'The token is invalid' });
  });

  it('never accepts a cached token at or after its exp', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await new SignJWT({ roles: ['sales'] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('sam')
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(SECRET));
    expect((await call(token)).status).toBe(200);
    expect((await call(token)).status).toBe(200); // from the cache
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    expect(await call(token)).toEqual({ status: 401, detail: 'The token has expired' });
  }, 10_000);
});
