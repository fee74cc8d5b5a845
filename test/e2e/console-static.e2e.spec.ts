import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createApp, type ApiApplication } from '../../apps/api/src/bootstrap.js';
import { appConfigFromEnv } from '../../apps/api/src/config/app-config.js';
import { SIGN_IN_SUBJECT, SignInCodes } from '../../apps/api/src/console/sign-in-codes.js';

/**
 * The web console is static files the API serves at `/` (CONSOLE_DIR): the page and its bundles
 * answer GET with a strict Content-Security-Policy; every other path and method is the API's, as
 * before (a miss is a 404 problem+json); none of it is in the OpenAPI document. A hand-written build
 * here, so the test does not depend on Vite's output.
 */
describe('the web console served beside the API (embedded default)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dealstream-console-'));
  const consoleDir = join(dataDir, 'console');
  let app: ApiApplication;
  let served: boolean;

  beforeAll(async () => {
    mkdirSync(join(consoleDir, 'assets'), { recursive: true });
    writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>console</title><div id="root"></div>');
    writeFileSync(join(consoleDir, 'assets', 'index-abc123.js'), 'console.log("console");');
    writeFileSync(join(consoleDir, '.secret'), 'never served');
    ({ app, consoleServed: served } = await createApp({
      ...appConfigFromEnv({ DATA_DIR: dataDir, CONSOLE_DIR: consoleDir }),
      logLevel: 'silent',
    }));
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the page at / with a strict policy and no caching of the page', async () => {
    expect(served).toBe(true);
    const page = await request(app.getHttpServer()).get('/').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('<div id="root">');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves hashed bundles as immutable', async () => {
    const bundle = await request(app.getHttpServer()).get('/assets/index-abc123.js').expect(200);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
    expect(bundle.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('leaves every other path and method to the API: 404 problem+json, 401 without a token', async () => {
    const missing = await request(app.getHttpServer()).get('/assets/nope.js').expect(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.body.code).toBe('route-not-found');
    await request(app.getHttpServer()).get('/.secret').expect(404);
    const post = await request(app.getHttpServer()).post('/').send({}).expect(404);
    expect(post.body.code).toBe('route-not-found');
    const deal = await request(app.getHttpServer()).get('/deals/3b1f6f5e-7d3c-4b8e-9a51-0c2d7e6f1a01').expect(401);
    expect(deal.body.code).toBe('unauthorized');
  });

  it('is not part of the OpenAPI document', async () => {
    const document = await request(app.getHttpServer()).get('/openapi.json').expect(200);
    const paths = Object.keys(document.body.paths);
    expect(paths).not.toContain('/');
    expect(paths.filter((path) => path.startsWith('/assets'))).toEqual([]);
  });

  it('the printed sign-in URL carries a one-time code in the fragment: it signs in once, as admin', async () => {
    const url = new URL(app.get(SignInCodes).issue(4321)!);
    expect(`${url.origin}${url.pathname}${url.search}`).toBe('http://localhost:4321/');
    const code = /^#sign-in=([A-Za-z0-9_-]{43})$/.exec(url.hash)?.[1];
    expect(code).toBeDefined();

    const signedIn = await request(app.getHttpServer()).post('/console/sign-in').send({ code }).expect(200);
    expect(signedIn.body).toMatchObject({ subject: SIGN_IN_SUBJECT, roles: ['admin'] });
    const claims = JSON.parse(Buffer.from(signedIn.body.token.split('.')[1], 'base64url').toString('utf8'));
    expect(claims).toMatchObject({ sub: SIGN_IN_SUBJECT, roles: ['admin'] });
    expect(claims.exp - claims.iat).toBeGreaterThanOrEqual(12 * 3600 - 2); // 12 h from when the URL was printed
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(12 * 3600);
    expect(Math.abs(Date.parse(signedIn.body.expiresAt) / 1000 - claims.exp)).toBeLessThanOrEqual(1);
    const feed = await request(app.getHttpServer())
      .get('/events?limit=1')
      .set('Authorization', `Bearer ${signedIn.body.token}`);
    expect(feed.status).toBe(200);

    // Once only: the same URL again signs nobody in — also not by replaying a first answer under an Idempotency-Key.
    const again = await request(app.getHttpServer()).post('/console/sign-in').send({ code }).expect(401);
    expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(again.body.code).toBe('sign-in-code-invalid');
  });

  it('never keeps a sign-in for an Idempotency-Key replay: the same key and code again is 401', async () => {
    // A caller that also sends a token (the guard then knows an actor, so a key could be scoped to it).
    const codes = app.get(SignInCodes);
    const bearer = `Bearer ${
      (
        await request(app.getHttpServer())
          .post('/console/sign-in')
          .send({ code: new URL(codes.issue(4321)!).hash.slice('#sign-in='.length) })
          .expect(200)
      ).body.token
    }`;
    const code = new URL(codes.issue(4321)!).hash.slice('#sign-in='.length);
    const signIn = () =>
      request(app.getHttpServer())
        .post('/console/sign-in')
        .set('Authorization', bearer)
        .set('Idempotency-Key', '5b0e8f52-2a43-4bde-9d6f-3f2a7c1e9a10')
        .send({ code });
    expect((await signIn()).status).toBe(200);
    const replayed = await signIn();
    expect([replayed.status, replayed.body.code, replayed.body.token]).toEqual([
      401,
      'sign-in-code-invalid',
      undefined,
    ]);
  });

  it('refuses a wrong code (401), a malformed one (400), and the previous code once a new URL is printed', async () => {
    const codes = app.get(SignInCodes);
    const first = new URL(codes.issue(4321)!).hash.slice('#sign-in='.length);
    const second = new URL(codes.issue(4321)!).hash.slice('#sign-in='.length);
    const wrong = await request(app.getHttpServer())
      .post('/console/sign-in')
      .send({ code: 'A'.repeat(43) })
      .expect(401);
    expect(wrong.body.code).toBe('sign-in-code-invalid');
    const malformed = await request(app.getHttpServer()).post('/console/sign-in').send({ code: 'short' }).expect(400);
    expect(malformed.body.code).toBe('validation-failed');
    await request(app.getHttpServer()).post('/console/sign-in').send({ code: first }).expect(401);
    await request(app.getHttpServer()).post('/console/sign-in').send({ code: second }).expect(200);
  });
});

describe('without a console build', () => {
  it('serves nothing at /: the API answers 404 problem+json as before', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dealstream-noconsole-'));
    const { app, consoleServed } = await createApp({
      ...appConfigFromEnv({ DATA_DIR: dataDir, CONSOLE_DIR: join(dataDir, 'none') }),
      logLevel: 'silent',
    });
    try {
      await app.init();
      expect(consoleServed).toBe(false);
      const root = await request(app.getHttpServer()).get('/').expect(404);
      expect(root.body.code).toBe('route-not-found');
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
