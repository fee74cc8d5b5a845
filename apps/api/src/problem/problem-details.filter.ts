import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDomainError } from '@dealstream/decider';
import { ContentionDeadlineError, NotFoundError, PreconditionFailedError } from '@dealstream/command-handling';
import { databaseFaultOf } from '@dealstream/database';
import { isEventStoreError } from '@dealstream/event-store';
import { redactUrl } from '../logging/redact-url.js';
import { correlationOf } from '../logging/correlation-id.js';
import { ApiProblem } from './api-problem.js';
import { PROBLEM_TYPE_BASE, domainErrorStatus } from './problem-codes.js';

interface Problem {
  status: number;
  code: string;
  title: string;
  detail: string;
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/**
 * The one place errors become HTTP: RFC 9457 `application/problem+json`, a stable `code` (also the
 * tail of `type`), never a stack trace. Unknown errors are logged and answered as a bare 500.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.answer(exception, http.getRequest(), http.getResponse());
  }

  /**
   * Answers `exception` as problem+json: on a Fastify request and reply, or on the Node ones when a
   * middleware failed — and for the router's own refusals (Fastify's `frameworkErrors`, before Nest).
   */
  answer(
    exception: unknown,
    request: FastifyRequest | (IncomingMessage & { id?: string; originalUrl?: string }),
    response: FastifyReply | ServerResponse,
  ): void {
    const problem = this.toProblem(exception, request);
    if (problem.status >= 500)
      this.logger.error(
        correlationOf(request),
        exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
      );
    const body = JSON.stringify({
      ...problem.extensions,
      type: `${PROBLEM_TYPE_BASE}${problem.code}`,
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      // Never echo a credential sent in the URL (a token in the query string).
      instance: redactUrl(request.originalUrl ?? request.url ?? ''),
      code: problem.code,
      ...(request.id ? { correlationId: String(request.id) } : {}),
    });
    const headers = { ...problem.headers, 'Content-Type': 'application/problem+json; charset=utf-8' };
    if ('raw' in response) {
      // A stream answered by hand (the event stream) has its headers out already: nothing more to say.
      if (response.sent || response.raw.headersSent) return;
      void response.status(problem.status).headers(headers).send(body);
      return;
    }
    if (response.headersSent) return;
    response.writeHead(problem.status, { ...headers, 'Content-Length': Buffer.byteLength(body) }).end(body);
  }

  private toProblem(exception: unknown, request: object): Problem {
    if (exception instanceof ApiProblem) {
      return {
        status: exception.status,
        code: exception.code,
        title: titleOf(exception.code),
        detail: exception.detail,
        extensions: { ...exception.extensions },
        headers: { ...exception.headers },
      };
    }
    if (isDomainError(exception)) {
      // Domain details go under `details`: they may carry names such as `status` (a deal's).
      const details = Object.keys(exception.details).length ? { details: { ...exception.details } } : {};
      return {
        status: domainErrorStatus(exception),
        code: exception.code,
        title: titleOf(exception.code),
        detail: exception.message,
        extensions: details,
      };
    }
    if (exception instanceof NotFoundError) {
      return {
        status: 404,
        code: `${exception.resource}-not-found`,
        title: titleOf(`${exception.resource}-not-found`),
        detail: exception.message,
      };
    }
    if (exception instanceof PreconditionFailedError) {
      return {
        status: 412,
        code: 'precondition-failed',
        title: 'Precondition failed',
        detail: `If-Match revision ${String(exception.expected)} no longer holds: the stream is at ${exception.actual === undefined ? 'no revision' : String(exception.actual)}`,
        extensions: { currentRevision: exception.actual === undefined ? null : String(exception.actual) },
      };
    }
    if (exception instanceof ContentionDeadlineError) {
      return {
        status: 503,
        code: 'write-contention',
        title: 'Write contention',
        detail: `${exception.streamId} kept changing for ${exception.elapsedMs} ms (${exception.attempts} attempts); nothing was written, retry later`,
        headers: { 'Retry-After': '1' },
      };
    }
    if (isEventStoreError(exception, 'wrong-expected-revision')) {
      return {
        status: 409,
        code: 'concurrency-conflict',
        title: 'Concurrency conflict',
        detail: 'The resource kept changing while this write was decided; retry it',
      };
    }
    if (isEventStoreError(exception, 'idempotency-conflict')) {
      return {
        status: 409,
        code: 'idempotency-key-conflict',
        title: 'Idempotency key conflict',
        detail: 'This Idempotency-Key was already used for a different write',
      };
    }
    if (isEventStoreError(exception, 'timeout') || isEventStoreError(exception, 'unavailable')) {
      return {
        status: 503,
        code: 'event-store-unavailable',
        title: 'Event store unavailable',
        detail: 'The event store did not answer in time; retry with the same Idempotency-Key',
        headers: { 'Retry-After': '1' },
      };
    }
    // Reads, audit queries and anything else on the pool: the database's own faults are 503 too.
    const fault = databaseFaultOf(exception);
    if (fault === 'timeout') {
      return {
        status: 503,
        code: 'database-timeout',
        title: 'Database timeout',
        detail: 'The database did not answer within its bound; retry shortly',
        headers: { 'Retry-After': '1' },
      };
    }
    if (fault === 'unavailable') {
      return {
        status: 503,
        code: 'database-unavailable',
        title: 'Database unavailable',
        detail: 'The database is unavailable; retry shortly',
        headers: { 'Retry-After': '1' },
      };
    }
    // Nest wraps Fastify's own errors (body limit, media type, URL) in an HttpException whose `cause` is the original.
    const cause = (exception instanceof HttpException && exception.cause ? exception.cause : exception) as {
      code?: unknown;
    };
    // The router could not percent-decode the path (a path parameter); every one of them is a UUID.
    if (cause?.code === 'FST_ERR_BAD_URL') {
      return {
        status: 400,
        code: 'invalid-id',
        title: 'Invalid id',
        detail: 'A path parameter is not percent-encoded UTF-8, so it is not a UUID',
      };
    }
    if (cause?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return {
        status: 413,
        code: 'payload-too-large',
        title: 'Payload too large',
        detail: `The request body exceeds ${(request as { routeOptions?: { bodyLimit?: number } }).routeOptions?.bodyLimit ?? 'the limit of'} bytes`,
      };
    }
    if (cause?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return {
        status: 415,
        code: 'unsupported-media-type',
        title: 'Unsupported media type',
        detail: 'Send the body as application/json',
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = status === 404 ? 'route-not-found' : status === 405 ? 'method-not-allowed' : `http-${status}`;
      return { status, code, title: titleOf(code), detail: status === 404 ? 'No such route' : exception.message };
    }
    return {
      status: 500,
      code: 'internal-error',
      title: 'Internal error',
      detail: 'An unexpected error occurred; it has been logged with the correlation id',
    };
  }
}

function titleOf(code: string): string {
  const words = code.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
