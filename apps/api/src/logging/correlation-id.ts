import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** W3C Trace Context `traceparent`: version, trace-id, parent-id, flags (version ff is invalid; ids not all zeros). */
const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-(?!0{32})([0-9a-f]{32})-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}(?:-.*)?$/;

type Correlated = IncomingMessage & { correlationId?: string };

/**
 * The request's correlation id: X-Correlation-Id when sane, else the W3C trace-id of a valid
 * `traceparent` (so a trace follows the change into every event's metadata and on to its webhook),
 * else a new one. Derived once per request (Fastify's `genReqId`, so it is also `request.id`).
 */
export function correlationIdOf(request: IncomingMessage): string {
  const correlated = request as Correlated;
  if (correlated.correlationId !== undefined) return correlated.correlationId;
  const header = request.headers['x-correlation-id'];
  const trace = TRACEPARENT.exec(String(request.headers.traceparent ?? '').trim());
  correlated.correlationId =
    typeof header === 'string' && CORRELATION_ID.test(header) ? header : trace ? trace[1] : randomUUID();
  return correlated.correlationId;
}

/**
 * The fields a log line written while a request runs carries to name it: its correlation id (Fastify's
 * request id, from `correlationIdOf` above), when the request has one.
 *
 * @example logger.warn(correlationOf(request), 'the answer was not recorded')
 */
export function correlationOf(request: { id?: unknown }): { correlationId?: string } {
  const { id } = request;
  return typeof id === 'string' && id !== '' ? { correlationId: id } : {};
}
