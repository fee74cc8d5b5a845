import { headerOf, type HttpRequest } from './http-exchange.js';
import type { CommandContext } from '@dealstream/command-handling';
import type { Principal } from '../auth/auth.decorators.js';
import { idempotencyOf } from '../idempotency/idempotency-key.js';
import { ApiProblem } from '../problem/api-problem.js';

const IF_MATCH = /^"(0|[1-9][0-9]{0,18})"$/;
const MAX_REVISION = (1n << 63n) - 1n;

/** The CommandContext of a request: actor from the token, correlation id, Idempotency-Key, If-Match. */
export function commandContextOf(request: HttpRequest & { id?: unknown; principal?: Principal }): CommandContext {
  const principal = request.principal;
  if (!principal) throw new ApiProblem(401, 'unauthorized', 'Authorization: Bearer <JWT> is required');
  const keyed = idempotencyOf(request);
  return {
    actorId: principal.actorId,
    correlationId: typeof request.id === 'string' || typeof request.id === 'number' ? String(request.id) : '',
    ...(keyed ? { idempotencyKey: keyed.fingerprint.key, requestHash: keyed.hash } : {}),
    ...parseIfMatch(headerOf(request, 'if-match')),
    now: new Date(),
  };
}

function parseIfMatch(header: string | undefined): { ifMatchRevision?: bigint } {
  if (header === undefined) return {};
  const match = IF_MATCH.exec(header.trim());
  // A revision is a signed 64-bit stream revision: 19 digits may still exceed 2^63 − 1.
  if (!match || BigInt(match[1]) > MAX_REVISION)
    throw new ApiProblem(400, 'invalid-if-match', 'If-Match must be one strong ETag as returned by this API, e.g. "3"');
  return { ifMatchRevision: BigInt(match[1]) };
}
