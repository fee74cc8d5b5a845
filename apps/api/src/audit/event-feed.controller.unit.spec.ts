import 'reflect-metadata';
import Fastify from 'fastify';
import { serveLeanRoutes } from '../controller-kit/lean-routes.js';
import type { IdempotentWrites } from '../idempotency/idempotency.interceptor.js';
import { ProblemDetailsFilter } from '../problem/problem-details.filter.js';
import { apiValidationPipe } from '../controller-kit/api-validation.pipe.js';
import { EventFeedController } from './event-feed.controller.js';

describe('the event feed (GET /events)', () => {
  it('is served lean, without Nest per-request layers (a decorator only Nest serves would put it back on the slow path)', async () => {
    const fastify = Fastify();
    const lean = serveLeanRoutes(fastify, [{ type: EventFeedController, instance: {} }], {
      guard: { canActivate: () => true },
      idempotency: {} as IdempotentWrites,
      validation: apiValidationPipe(),
      problems: new ProblemDetailsFilter(),
      requireNonEmptyParams: (_url, handler) => handler,
    });
    await fastify.close();
    expect([...lean]).toEqual(['GET /events']);
  });

  it('answers the page the SQL store serialised as it is, typed JSON, and a store without it from readAll', async () => {
    const page = { eventsJson: '{"eventId":"a"},{"eventId":"b"}', count: 2, cursor: { major: 1n, minor: 2n } };
    const types: string[] = [];
    const reply = { type: (type: string) => types.push(type) } as never;
    const withJson = new EventFeedController({ readAllJson: async () => page } as never);
    expect(await withJson.feed({}, reply)).toBe(
      '{"events":[{"eventId":"a"},{"eventId":"b"}],"next":"0000000000000001-0000000000000002"}',
    );
    expect(types).toEqual(['application/json; charset=utf-8']);
    const withoutJson = new EventFeedController({
      readAllJson: async () => undefined,
      readAll: async () => ({ events: [], cursor: { major: 3n, minor: 4n } }),
    } as never);
    expect(await withoutJson.feed({}, reply)).toEqual({ events: [], next: '0000000000000003-0000000000000004' });
  });

  it('sends the page over HTTP as the UTF-8 of the store text: JSON type, byte length, body', async () => {
    const eventsJson = '{"eventId":"a","actorId":"Zoë 😀 東京","data":{"s":"\\u2028 \\""}}';
    const store = { readAllJson: async () => ({ eventsJson, count: 1, cursor: { major: 1n, minor: 2n } }) };
    const fastify = Fastify();
    serveLeanRoutes(fastify, [{ type: EventFeedController, instance: new EventFeedController(store as never) }], {
      guard: { canActivate: () => true },
      // GET: IdempotentWrites passes reads through.
      idempotency: { run: (_request, _reply, _status, next) => next() } as IdempotentWrites,
      validation: apiValidationPipe(),
      problems: new ProblemDetailsFilter(),
      requireNonEmptyParams: (_url, handler) => handler,
    });
    fastify.get('/events', () => 'not lean');
    try {
      await fastify.listen({ port: 0, host: '127.0.0.1' });
      const { port } = fastify.server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/events?limit=1`);
      const body = Buffer.from(await response.arrayBuffer());
      const expected = `{"events":[${eventsJson}],"next":"0000000000000001-0000000000000002"}`;
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(expected)));
      expect(body.equals(Buffer.from(expected, 'utf8'))).toBe(true);
      expect(JSON.parse(body.toString('utf8'))).toEqual({
        events: [{ eventId: 'a', actorId: 'Zoë 😀 東京', data: { s: '\u2028 "' } }],
        next: '0000000000000001-0000000000000002',
      });
    } finally {
      await fastify.close();
    }
  });
});
