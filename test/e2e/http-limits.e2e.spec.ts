import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { sql } from 'kysely';
import { mintToken } from '@dealstream/auth';
import { createApp, type ApiApplication } from '../../apps/api/src/bootstrap.js';
import { appConfigFromEnv, type AppConfig } from '../../apps/api/src/config/app-config.js';
import { TIMEOUT_CHECK_INTERVAL_MS } from '../../apps/api/src/request-limits/request-limits.js';
import { TEST_JWT_SECRET } from '../support/api-harness.js';
import { createPostgresTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The HTTP server's time bounds, over raw sockets (supertest always sends whole requests): a body
 * shorter than its Content-Length, headers that never end, an idle keep-alive connection.
 */
describe('HTTP time bounds (raw sockets)', () => {
  const timeouts = { headersTimeoutMs: 800, requestTimeoutMs: 1500, keepAliveTimeoutMs: 600 };
  let testDb: TestDatabase;
  let app: ApiApplication;
  let port: number;
  let token: string;

  beforeAll(async () => {
    testDb = await createPostgresTestDatabase({ poolSize: 2 });
    const config: AppConfig = {
      ...appConfigFromEnv({}),
      database: { kind: 'postgres', connectionString: testDb.url!, poolSize: 4 },
      logLevel: 'silent',
      auth: { secret: TEST_JWT_SECRET, publicKeyAlgorithm: 'RS256' },
      http: timeouts,
    };
    ({ app } = await createApp(config));
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
    token = await mintToken({ subject: 'alice', roles: ['admin'], secret: TEST_JWT_SECRET, expiresIn: '1h' });
  });
  afterAll(async () => {
    await app?.close();
    await testDb?.drop();
  });

  const eventCount = async () =>
    Number((await sql<{ n: string }>`select count(*)::text as n from event_store.events`.execute(testDb.db)).rows[0].n);

  /** Writes `request`, then waits for the server to close the connection; answers what it sent and when. */
  function exchange(request: string): Promise<{ response: string; elapsedMs: number }> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      let response = '';
      const socket: Socket = connect(port, '127.0.0.1', () => socket.write(request));
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (response += chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve({ response, elapsedMs: Date.now() - started }));
      setTimeout(() => {
        socket.destroy();
        reject(new Error(`connection still open after 10 s; received ${JSON.stringify(response)}`));
      }, 10_000).unref();
    });
  }

  it('sets the configured bounds on the server', () => {
    const server = app.getHttpServer() as Server & { connectionsCheckingInterval: number };
    expect({
      request: server.requestTimeout,
      headers: server.headersTimeout,
      keepAlive: server.keepAliveTimeout,
      check: server.connectionsCheckingInterval,
    }).toEqual({
      request: 1500,
      headers: 800,
      keepAlive: 600,
      check: TIMEOUT_CHECK_INTERVAL_MS,
    });
  });

  it('answers a body shorter than its Content-Length with 408 problem+json within the request bound, writing nothing', async () => {
    const before = await eventCount();
    const partial = '{"name":"P","stages":[{"name":"A",';
    const { response, elapsedMs } = await exchange(
      `POST /pipelines HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n${partial}`,
    );
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(response).toMatch(/\r\nContent-Type: application\/problem\+json\r\n/i);
    const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));
    expect(body).toMatchObject({
      status: 408,
      code: 'request-timeout',
      type: 'https://dealstream.dev/problems/request-timeout',
    });
    expect(elapsedMs).toBeGreaterThanOrEqual(timeouts.requestTimeoutMs - 50);
    expect(elapsedMs).toBeLessThanOrEqual(timeouts.requestTimeoutMs + TIMEOUT_CHECK_INTERVAL_MS + 500);
    expect(await eventCount()).toBe(before);
  });

  it('answers headers that never end with 408 within the headers bound', async () => {
    const { response, elapsedMs } = await exchange(`GET /health HTTP/1.1\r\nHost: test\r\nX-Slow: `);
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(elapsedMs).toBeGreaterThanOrEqual(timeouts.headersTimeoutMs - 50);
    expect(elapsedMs).toBeLessThanOrEqual(timeouts.headersTimeoutMs + TIMEOUT_CHECK_INTERVAL_MS + 500);
  });

  it('answers malformed HTTP with 400 problem+json', async () => {
    const { response } = await exchange('NOT HTTP AT ALL\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(response).toMatch(/"code":"malformed-http"/);
  });

  it('closes an idle keep-alive connection after the keep-alive bound', async () => {
    const { response, elapsedMs } = await exchange(`GET /health/live HTTP/1.1\r\nHost: test\r\n\r\n`);
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(elapsedMs).toBeGreaterThanOrEqual(timeouts.keepAliveTimeoutMs - 50);
    expect(elapsedMs).toBeLessThanOrEqual(timeouts.keepAliveTimeoutMs + 1500);
  });
});

describe('HTTP time bounds: configuration', () => {
  it('defaults to 10 s for headers, 30 s for the whole request, 5 s keep-alive', () => {
    expect(appConfigFromEnv({}).http).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
    });
  });

  it('reads HTTP_*_TIMEOUT_MS and refuses a bound that is not a positive whole number', () => {
    expect(
      appConfigFromEnv({
        HTTP_HEADERS_TIMEOUT_MS: '2000',
        HTTP_REQUEST_TIMEOUT_MS: '4000',
        HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000',
      }).http,
    ).toEqual({
      headersTimeoutMs: 2000,
      requestTimeoutMs: 4000,
      keepAliveTimeoutMs: 1000,
    });
    for (const bad of ['0', '-1', '1.5', 'soon'])
      expect(() => appConfigFromEnv({ HTTP_REQUEST_TIMEOUT_MS: bad })).toThrow(/HTTP_REQUEST_TIMEOUT_MS/);
  });
});
