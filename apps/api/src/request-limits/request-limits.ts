/* eslint-disable no-control-regex -- these patterns look for control characters on purpose: refusing them is their job */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
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

/** Runs after the JSON body parser, before validation and class-transformer. */
export function checkJsonBody(request: Request, _response: Response, next: NextFunction): void {
  const fault = request.body === undefined ? undefined : jsonBodyFault(request.body);
  next(fault ? new ApiProblem(400, fault.code, fault.detail) : undefined);
}

/** Query parameters (names and values) are single-line text: no control characters, no lone surrogates. */
export function checkQueryString(request: Request, _response: Response, next: NextFunction): void {
  const raw = request.originalUrl ?? request.url;
  const query = raw.includes('?') ? raw.slice(raw.indexOf('?') + 1) : '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(query.replace(/\+/g, ' '));
  } catch {
    next(new ApiProblem(400, 'invalid-query', 'The query string is not valid percent-encoded UTF-8'));
    return;
  }
  if (!isStorable(decoded, QUERY_CONTROL)) {
    next(
      new ApiProblem(
        400,
        'invalid-characters',
        'Query parameters may hold no NUL, no control characters and no lone surrogates',
      ),
    );
    return;
  }
  next();
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
  server.on('clientError', answerClientError);
}

function answerClientError(error: Error & { code?: string }, socket: Socket): void {
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
