import type { ServerResponse } from 'node:http';
import { Module, type DynamicModule } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { LoggerModule } from 'nestjs-pino';
import { pino, type Level, type Logger } from 'pino';
import { redactUrl } from './redact-url.js';

/** The root pino logger of the app (the request log writes through it). */
export const REQUEST_LOGGER = Symbol('REQUEST_LOGGER');

/**
 * Structured JSON logs (pino): one line per request with method, path, status, duration, the
 * actor and the correlation id. The correlation id comes from X-Correlation-Id when it is sane,
 * else from the trace-id of a valid W3C `traceparent`, else is generated (correlation-id.ts, Fastify's
 * `genReqId`); it is echoed in the response header and lands in every event's metadata.
 * The logged URL has credentials redacted (redactUrl): a token sent in the query string never
 * reaches the log. `destination` replaces stdout (tests read the lines from it).
 *
 * The request line is written by `logRequests`, a Fastify `onRequest` hook, rather than pino-http
 * or a Nest middleware (which on Fastify runs through @fastify/middie, matching every path on every
 * request): its level is known only once the response is (info below 400, warn for 4xx, error for
 * 5xx), so nothing is built for it unless that level is enabled. At LOG_LEVEL=warn a successful
 * request costs its correlation id and nothing else.
 *
 * No log context is bound per request (nestjs-pino's `runInContext`, an AsyncLocalStorage): on
 * Node 20 that turns on async hooks for every promise of every request, 5–12% of the API's main
 * thread per command (test/benchmarks/README.md, "2026-12-08"). The logs written while a request
 * runs name its correlation id themselves (`correlationOf` in correlation-id.ts): the failed
 * request's error in ProblemDetailsFilter, the Idempotency-Key warnings.
 */
export function loggingModule(level: string, destination?: { write(line: string): void }): DynamicModule {
  const root = destination ? pino({ level }, destination) : pino({ level });
  return {
    module: LoggingModule,
    // useExisting: nestjs-pino mounts no pino-http; `forRoutes: []`: nor its binding middleware —
    // `logRequests` binds each request's logger itself.
    imports: [LoggerModule.forRoot({ pinoHttp: { logger: root }, useExisting: true, forRoutes: [] })],
    providers: [{ provide: REQUEST_LOGGER, useValue: root }],
    exports: [REQUEST_LOGGER],
  };
}

@Module({})
class LoggingModule {}

type Principaled = { principal?: { actorId: string } };

/**
 * The request log as a Fastify `onRequest` hook (add it first: it ran first as a middleware): the
 * correlation id into the response header, and one line when the response is done — or closed
 * before it was.
 */
export function logRequests(fastify: FastifyInstance, root: Logger): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const id = request.id;
    const response: ServerResponse = reply.raw;
    response.setHeader('X-Correlation-Id', id);
    const startedAt = Date.now();
    let finished = false;
    const finish = (error?: Error) => {
      if (finished) return;
      finished = true;
      response.removeListener('finish', onEnd);
      response.removeListener('close', onEnd);
      response.removeListener('error', finish);
      const status = response.statusCode;
      const level: Level = error || status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      if (!root.isLevelEnabled(level)) return;
      const line: Record<string, unknown> = {
        correlationId: id,
        req: { method: request.method, url: redactUrl(request.raw.url ?? '') },
        actorId: (request.raw as Principaled).principal?.actorId,
        res: { statusCode: status },
        responseTime: Date.now() - startedAt,
      };
      if (error || status >= 500) {
        line.err = error ?? new Error(`failed with status code ${status}`);
        root[level](line, 'request errored');
      } else {
        root[level](line, response.writableFinished ? 'request completed' : 'request aborted');
      }
    };
    const onEnd = () => finish();
    response.on('finish', onEnd);
    response.on('close', onEnd);
    response.on('error', finish);
    done();
  });
}
