import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import type { Options } from 'pino-http';
import { redactUrl } from './redact-url.js';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Structured JSON logs (pino): one line per request with method, path, status, duration, the
 * actor and the correlation id. The correlation id comes from X-Correlation-Id when it is sane,
 * else is generated; it is echoed in the response header and lands in every event's metadata.
 * The logged URL has credentials redacted (redactUrl): a token sent in the query string never
 * reaches the log. `destination` replaces stdout (tests read the lines from it).
 */
export function loggingModule(level: string, destination?: { write(line: string): void }) {
  const options: Options = {
    level,
    genReqId(request: IncomingMessage, response: ServerResponse) {
      const header = request.headers['x-correlation-id'];
      const id = typeof header === 'string' && CORRELATION_ID.test(header) ? header : randomUUID();
      response.setHeader('X-Correlation-Id', id);
      return id;
    },
    customAttributeKeys: { reqId: 'correlationId' },
    customProps: (request: IncomingMessage) => ({
      actorId: (request as IncomingMessage & { principal?: { actorId: string } }).principal?.actorId,
    }),
    serializers: {
      req: (request: { method: string; url: string }) => ({ method: request.method, url: redactUrl(request.url) }),
      res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
    },
    customLogLevel: (_request: IncomingMessage, response: ServerResponse, error?: Error) =>
      error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
  };
  return LoggerModule.forRoot({ pinoHttp: destination ? [options, destination] : options });
}
