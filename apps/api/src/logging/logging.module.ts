import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Structured JSON logs (pino): one line per request with method, path, status, duration, the
 * actor and the correlation id. The correlation id comes from X-Correlation-Id when it is sane,
 * else is generated; it is echoed in the response header and lands in every event's metadata.
 */
export function loggingModule(level: string) {
  return LoggerModule.forRoot({
    pinoHttp: {
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
        req: (request: { method: string; url: string }) => ({ method: request.method, url: request.url }),
        res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
      },
      customLogLevel: (_request: IncomingMessage, response: ServerResponse, error?: Error) =>
        error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
    },
  });
}
