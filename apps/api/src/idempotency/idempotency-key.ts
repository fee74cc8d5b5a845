import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { headerOf, pathOf, routeTemplateOf, type HttpRequest } from '../controller-kit/http-exchange.js';
import { ApiProblem } from '../problem/api-problem.js';

/** Longest accepted Idempotency-Key (after unquoting), in characters. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** What a key is bound to on its first use (draft-ietf-httpapi-idempotency-key-header, "fingerprint"). */
export interface RequestFingerprint {
  readonly actorId: string;
  readonly key: string;
  readonly method: string;
  /** The route template, e.g. `/deals/:id/lose`. */
  readonly route: string;
  /** The request target as sent: path and query. */
  readonly target: string;
  /** SHA-256 (hex) of the RFC 8785 (JCS) canonical form of the JSON body; of `null` when there is none. */
  readonly bodySha256: string;
}

/**
 * The Idempotency-Key header, or undefined when absent. The draft defines it as a Structured Field
 * string (`"…"`, RFC 9651: printable ASCII, `\"` and `\\` escaped); the bare form (`abc-1`, visible
 * ASCII, no quote) is accepted too and names the same key as `"abc-1"`. 1–255 characters; anything
 * else is 400 `invalid-idempotency-key`.
 */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = header.startsWith('"') ? unquote(header) : /^[\x21\x23-\x7e]+$/.test(header) ? header : undefined;
  if (key === undefined || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new ApiProblem(
      400,
      'invalid-idempotency-key',
      `Idempotency-Key must be 1–${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters: a quoted string ("…", with \\" and \\\\ escaped) or a bare token without spaces or quotes`,
    );
  }
  return key;
}

function unquote(header: string): string | undefined {
  if (header.length < 2 || !header.endsWith('"')) return undefined;
  let key = '';
  const inner = header.slice(1, -1);
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '\\') {
      const next = inner[++i];
      if (next !== '"' && next !== '\\') return undefined;
      key += next;
    } else if (c === '"' || c < ' ' || c > '~') {
      return undefined;
    } else {
      key += c;
    }
  }
  return key;
}

type KeyedRequest = HttpRequest & {
  principal?: { actorId: string };
  idempotency?: { fingerprint: RequestFingerprint; hash: string };
};

/**
 * The fingerprint of a request carrying an Idempotency-Key (undefined without one), computed once
 * per request from the body as the client sent it (before validation and transformation).
 */
export function idempotencyOf(request: HttpRequest): { fingerprint: RequestFingerprint; hash: string } | undefined {
  const keyed = request as KeyedRequest;
  if (keyed.idempotency) return keyed.idempotency;
  const key = parseIdempotencyKey(headerOf(request, 'idempotency-key'));
  const actorId = keyed.principal?.actorId;
  if (key === undefined || actorId === undefined) return undefined;
  const fingerprint: RequestFingerprint = {
    actorId,
    key,
    method: request.method.toUpperCase(),
    route: routePath(request),
    target: request.originalUrl ?? request.url,
    bodySha256: sha256(canonicalBody(request.body)),
  };
  const hash = sha256([fingerprint.method, fingerprint.route, fingerprint.target, fingerprint.bodySha256].join('\n'));
  keyed.idempotency = { fingerprint, hash };
  return keyed.idempotency;
}

function canonicalBody(body: unknown): string {
  try {
    return canonicalize(body ?? null) ?? 'null';
  } catch {
    // Not representable in JCS (e.g. a number that overflowed to Infinity): still deterministic.
    return `invalid:${JSON.stringify(body)}`;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The matched route's template (`/deals/:id/win`), or the path when no route matched. */
function routePath(request: HttpRequest): string {
  return routeTemplateOf(request) ?? pathOf(request);
}
