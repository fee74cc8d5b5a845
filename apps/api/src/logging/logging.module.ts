import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Inject,
  Module,
  RequestMethod,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { pino, type Level, type Logger } from 'pino';
import { correlationIdOf } from './correlation-id.js';
import { redactUrl } from './redact-url.js';

const REQUEST_LOGGER = Symbol('REQUEST_LOGGER');
/**
 * Every path, `/` included. Not `{/*splat}` (nestjs-pino's default): on Fastify, @fastify/middie
 * 9.3.6 prefixes a path without a leading slash with one, and `/{/*splat}` matches only `/`.
 */
const EVERY_REQUEST = { path: '/{*splat}', method: RequestMethod.ALL };

type LoggedRequest = IncomingMessage & {
  id?: string;
  log?: Logger;
  originalUrl?: string;
  principal?: { actorId: string };
};

/**
 * Structured JSON logs (pino): one line per request with method, path, status, duration, the
 * actor and the correlation id. The correlation id comes from X-Correlation-Id when it is sane,
 * else from the trace-id of a valid W3C `traceparent`, else is generated; it is echoed in the response header and lands in every event's metadata.
 * The logged URL has credentials redacted (redactUrl): a token sent in the query string never
 * reaches the log. `destination` replaces stdout (tests read the lines from it).
 *
 * The request line is written by `requestLog` rather than pino-http: its level is known only once
 * the response is (info below 400, warn for 4xx, error for 5xx), so nothing is built for it — no
 * serialised request, no per-request bindings — unless that level is enabled. At LOG_LEVEL=warn a
 * successful request costs the correlation id and one small child logger (for the logs made while
 * it runs, which carry the correlation id).
 */
export function loggingModule(level: string, destination?: { write(line: string): void }): DynamicModule {
  const root = destination ? pino({ level }, destination) : pino({ level });
  return {
    module: LoggingModule,
    // useExisting: nestjs-pino does not mount pino-http; its own middleware binds `request.log`
    // (set by requestLog) to the logs made while the request runs.
    imports: [LoggerModule.forRoot({ pinoHttp: { logger: root }, useExisting: true, forRoutes: [EVERY_REQUEST] })],
    providers: [{ provide: REQUEST_LOGGER, useValue: root }],
  };
}

@Module({})
class LoggingModule implements NestModule {
  constructor(@Inject(REQUEST_LOGGER) private readonly root: Logger) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(requestLog(this.root)).forRoutes(EVERY_REQUEST);
  }
}

/** The request-log middleware: correlation id in, header out, one line when the response is done. */
function requestLog(root: Logger) {
  return (request: LoggedRequest, response: ServerResponse, next: () => void): void => {
    const id = correlationIdOf(request);
    response.setHeader('X-Correlation-Id', id);
    request.id = id;
    request.log = root.child({ correlationId: id });
    const startedAt = Date.now();
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      response.removeListener('finish', onFinish);
      response.removeListener('close', onClose);
      response.removeListener('error', finish);
      const level: Level = error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info';
      if (!root.isLevelEnabled(level)) return;
      const line: Record<string, unknown> = {
        correlationId: id,
        req: { method: request.method, url: redactUrl(request.originalUrl ?? request.url ?? '') },
        actorId: request.principal?.actorId,
        res: { statusCode: response.statusCode },
        responseTime: Date.now() - startedAt,
      };
      if (error || response.statusCode >= 500) {
        line.err = error ?? new Error(`failed with status code ${response.statusCode}`);
        root[level](line, 'request errored');
      } else {
        root[level](line, response.writableFinished ? 'request completed' : 'request aborted');
      }
    };
    const onFinish = () => finish();
    const onClose = () => finish();
    response.on('finish', onFinish);
    response.on('close', onClose);
    response.on('error', finish);
    next();
  };
}
