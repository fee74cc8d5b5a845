import { v5 as uuidv5 } from 'uuid';

/**
 * Who asks, under which correlation, and on what conditions: everything a write needs besides the
 * command itself. Built by the HTTP layer from the token and headers, never from the request body.
 */
export interface CommandContext {
  /** The authenticated principal (JWT `sub`). */
  readonly actorId: string;
  /** Shared by everything one request caused; lands on every event. */
  readonly correlationId: string;
  /** `Idempotency-Key`: makes a retried write return the first answer and append nothing. */
  readonly idempotencyKey?: string;
  /**
   * Hash of the request the key came with (method, route, target, canonical body). Folded into every
   * derived id, so the same key on a different request can never be taken for a retry of the first
   * one — even once the API's key record is gone.
   */
  readonly requestHash?: string;
  /** `If-Match`: the stream revision the client last saw; the write happens only if it still holds. */
  readonly ifMatchRevision?: bigint;
  /** Business time of the change (occurredAt); the request time unless backdated. */
  readonly now: Date;
}

/** Namespace of every name-based UUID dealstream derives (RFC 9562 v5). Never change it. */
const DEALSTREAM_NAMESPACE = '5b0d9a1c-3f8e-4f57-9c1e-2d6a7e4b8c90';

/**
 * A UUID derived from the idempotency key, so a retry produces the very same ids (event ids, new
 * deal ids) and every adapter — EventStoreDB included — recognises the retry. Keys are scoped by
 * actor: two principals using the same key are two different requests. With a `requestHash`, ids
 * are also scoped to the request: one key on two different requests derives two sets of ids.
 *
 * @example derivedId(context, 'event', 'deal-1', 0)
 */
export function derivedId(
  context: Pick<CommandContext, 'actorId' | 'idempotencyKey' | 'requestHash'>,
  ...parts: (string | number)[]
): string | undefined {
  if (context.idempotencyKey === undefined) return undefined;
  const scope =
    context.requestHash === undefined
      ? [context.actorId, context.idempotencyKey]
      : [context.actorId, context.idempotencyKey, context.requestHash];
  return uuidv5([...scope, ...parts.map(String)].join('\u0000'), DEALSTREAM_NAMESPACE);
}
