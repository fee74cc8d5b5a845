import { fastify as createFastify, type FastifyInstance } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import { pino } from 'pino';
import { correlationIdOf } from './correlation-id.js';
import { logRequests } from './logging.module.js';

/**
 * The request log as a Fastify hook (it was a Nest middleware run by @fastify/middie): the header,
 * the line per response at its level, and no log context bound to the request (an AsyncLocalStorage
 * store costs every promise of every request; the logs made while one runs name its correlation id).
 */
describe('logRequests', () => {
  const lines: Record<string, unknown>[] = [];
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    const root = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    // As the app has it: nestjs-pino's root is ours (useExisting); its `logger` is a request's bound
    // child while one is bound (`runInContext`), else the logger it gives outside any request.
    const context = new PinoLogger({ pinoHttp: { logger: root }, useExisting: true });
    const outside = context.logger;
    app = createFastify({ genReqId: correlationIdOf });
    logRequests(app, root);
    app.get('/ok', async () => ({ ok: true }));
    app.get('/inside', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return { store: context.logger === outside ? 'none' : 'bound' };
    });
    app.get('/missing', async (_request, reply) => reply.code(404).send({ missing: true }));
    app.get('/broken', async (_request, reply) => reply.code(503).send({ broken: true }));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  // A real socket (light-my-request's inject does not load under Jest's ESM runtime).
  const get = async (path: string, correlationId: string) => {
    const response = await fetch(`${base}${path}`, { headers: { 'x-correlation-id': correlationId } });
    await response.text();
    await new Promise((resolve) => setImmediate(resolve)); // the response's `finish` has run
    return response;
  };
  afterAll(() => app.close());
  beforeEach(() => (lines.length = 0));

  it('echoes the correlation id and writes nothing for a success at warn', async () => {
    const response = await get('/ok', 'corr-ok');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-correlation-id')).toBe('corr-ok');
    expect(lines).toEqual([]);
  });

  it('writes one warn line for a 4xx and one error line for a 5xx, with the redacted URL', async () => {
    await get('/missing?access_token=secret', 'corr-404');
    await get('/broken', 'corr-503');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 40,
      correlationId: 'corr-404',
      req: { method: 'GET', url: '/missing?access_token=REDACTED' },
      res: { statusCode: 404 },
      msg: 'request completed',
    });
    expect(typeof lines[0].responseTime).toBe('number');
    expect(lines[1]).toMatchObject({
      level: 50,
      correlationId: 'corr-503',
      res: { statusCode: 503 },
      msg: 'request errored',
    });
  });

  it('binds no log context to the request (nestjs-pino gives the same logger inside it as outside)', async () => {
    const response = await fetch(`${base}/inside`, { headers: { 'x-correlation-id': 'corr-inside' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ store: 'none' });
    expect(lines).toEqual([]);
  });
});
