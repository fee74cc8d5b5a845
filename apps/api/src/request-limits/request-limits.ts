/* eslint-disable no-control-regex -- these patterns look for control characters on purpose: refusing them is their job */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import { isWellFormedText } from '@dealstream/decider';
import { ApiProblem } from '../problem/api-problem.js';
import { PROBLEM_TYPE_BASE } from '../problem/problem-codes.js';

/*
 * What any request must be before a route sees it, whatever route it is for: JSON of bounded depth
 * holding only storable text, query strings without control characters, and a bounded time to
 * arrive. Field rules (lengths, ranges, dates) are the domain's; these are the ones every byte obeys.
 */

/**
 * Deepest JSON nesting accepted (objects and arrays; the body itself is level 1). The deepest body
 * the API defines is 3 levels (pipeline → stages[] → goal); 32 leaves room and stops the recursion in
 * class-transformer (a stack overflow, hence a 500, at ~10,000 levels) long before it starts.
 */
export const MAX_JSON_DEPTH = 32;

// C0 controls but tab, line feed and carriage return; DEL; C1 controls.
const BODY_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
// Query values are single-line: no control character at all.
const QUERY_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

// One scan finds every string that needs a closer look: a control character or any surrogate.
const SUSPECT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ud800-\udfff]/;

type BodyFault = { code: 'json-too-deep' | 'invalid-characters'; detail: string };

/**
 * Why a parsed JSON body is refused, or undefined. Recursion stops at MAX_JSON_DEPTH + 1, so a
 * hostile depth cannot overflow this walk (JSON.parse itself is not recursive in V8).
 */
export function jsonBodyFault(body: unknown): BodyFault | undefined {
  return walk(body, 1);
}

function walk(value: unknown, depth: number): BodyFault | undefined {
  if (typeof value === 'string') return isStorable(value, BODY_CONTROL) ? undefined : invalidCharacters('JSON strings');
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > MAX_JSON_DEPTH)
    return { code: 'json-too-deep', detail: `JSON may nest at most ${MAX_JSON_DEPTH} levels of objects and arrays` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const fault = walk(value[i], depth + 1);
      if (fault) return fault;
    }
    return undefined;
  }
  for (const key in value) {
    if (!isStorable(key, BODY_CONTROL)) return invalidCharacters('JSON keys');
    const fault = walk((value as Record<string, unknown>)[key], depth + 1);
    if (fault) return fault;
  }
  return undefined;
}

// Node ≥ 20 has the native check (ES2024); the domain's regex is the fallback.
const wellFormed: (text: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (text) => (text as string & { isWellFormed(): boolean }).isWellFormed()
    : isWellFormedText;

function isStorable(text: string, control: RegExp): boolean {
  return !SUSPECT.test(text) || (!control.test(text) && wellFormed(text));
}

function invalidCharacters(where: string) {
  return {
    code: 'invalid-characters' as const,
    detail: `${where} may hold no NUL, no control characters other than tab and line breaks, and no lone surrogates (\\ud800–\\udfff unpaired)`,
  };
}

// Before the first value: JSON whitespace (RFC 8259). A body must be an object or an array (as express's strict parser had it).
const FIRST_CHARACTER = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d])/;

/**
 * A JSON request body as received (UTF-8 text) → its value, or a 400 problem: not JSON, or JSON
 * that is not an object or array (`malformed-json`), nested too deep or holding unstorable
 * characters. Depth and characters are checked before class-transformer recurses into the value.
 * An empty body is no body (undefined).
 */
export function parseJsonBody(text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.length === 0) return undefined;
  const first = FIRST_CHARACTER.exec(body)?.[1];
  let value: unknown;
  try {
    if (first !== '{' && first !== '[') throw new SyntaxError('not an object or array');
    value = JSON.parse(body);
  } catch {
    throw new ApiProblem(400, 'malformed-json', 'The request body is not valid JSON');
  }
  const fault = jsonBodyFault(value);
  if (fault) throw new ApiProblem(400, fault.code, fault.detail);
  return value;
}

/** Bodies are UTF-8: a Content-Type naming another charset is refused (415) before the body is read. */
export function charsetFault(contentType: string | undefined): ApiProblem | undefined {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  return charset === undefined || charset === 'utf-8' || charset === 'utf8'
    ? undefined
    : new ApiProblem(415, 'unsupported-media-type', 'Send UTF-8 JSON');
}

/**
 * The request body decoded from its Content-Encoding (gzip, deflate, br; identity as it is), or a
 * 415 for any other. The body limit counts the decoded bytes.
 */
export function decodedBody(request: IncomingMessage, payload: Readable): Readable {
  const encoding = String(request.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
  if (encoding === 'identity' || encoding === '') return payload;
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : undefined;
  if (!decoder) throw new ApiProblem(415, 'unsupported-media-type', 'Send UTF-8 JSON');
  payload.on('error', (error) => decoder.destroy(error));
  return payload.pipe(decoder);
}

/** Query parameters (names and values) are single-line text: no control characters, no lone surrogates. */
export function queryStringFault(url: string): ApiProblem | undefined {
  const mark = url.indexOf('?');
  if (mark === -1) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(url.slice(mark + 1).replace(/\+/g, ' '));
  } catch {
    return new ApiProblem(400, 'invalid-query', 'The query string is not valid percent-encoded UTF-8');
  }
  return isStorable(decoded, QUERY_CONTROL)
    ? undefined
    : new ApiProblem(
        400,
        'invalid-characters',
        'Query parameters may hold no NUL, no control characters and no lone surrogates',
      );
}

/** Time bounds of the HTTP server (README, "Configuration"). */
export interface HttpTimeouts {
  /** Whole request line + headers must arrive within this (HTTP_HEADERS_TIMEOUT_MS). */
  readonly headersTimeoutMs: number;
  /** Whole request, body included, must arrive within this (HTTP_REQUEST_TIMEOUT_MS); else 408. */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (HTTP_KEEP_ALIVE_TIMEOUT_MS). */
  readonly keepAliveTimeoutMs: number;
}

/** How often Node looks for requests past their bounds: a late request is answered within this of its bound. */
export const TIMEOUT_CHECK_INTERVAL_MS = 250;

/**
 * Bounds how long a client may take to send a request. A body shorter than its Content-Length (or
 * headers that never end) is answered 408 problem+json within `requestTimeoutMs` (`headersTimeoutMs`)
 * plus at most TIMEOUT_CHECK_INTERVAL_MS, and the connection closed; malformed HTTP gets 400.
 */
export function applyHttpTimeouts(server: Server, timeouts: HttpTimeouts): void {
  server.requestTimeout = timeouts.requestTimeoutMs;
  server.headersTimeout = Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs);
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  // Read when the server starts listening (Node's default is 30 s, which would stretch every bound).
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = TIMEOUT_CHECK_INTERVAL_MS;
}

/** The server's `clientError` handler (Fastify's `clientErrorHandler`): 408, 431 or 400 problem+json, then close. */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, reason, code, detail] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [
          408,
          'Request Timeout',
          'request-timeout',
          'The request (headers and body as announced by Content-Length) did not arrive in time',
        ]
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'headers-too-large', 'The request headers are too large']
        : [400, 'Bad Request', 'malformed-http', 'The request is not valid HTTP/1.1'];
  const body = JSON.stringify({ type: `${PROBLEM_TYPE_BASE}${code}`, title: reason, status, detail, code });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
