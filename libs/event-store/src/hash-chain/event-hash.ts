import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { EventProvenance } from '../port/event-store.types.js';

/** The fields an event's hash covers: everything the writer decided plus where and when it was stored. */
export interface HashedEventContent {
  readonly streamId: string;
  readonly revision: bigint;
  readonly eventId: string;
  readonly type: string;
  readonly data: object;
  readonly actorId: string;
  readonly commandId?: string | null;
  readonly correlationId?: string | null;
  readonly causationId?: string | null;
  readonly occurredAt: Date;
  readonly recordedAt: Date;
  /** Imported events only; absent (not null) on every other event, so their hashes never changed. */
  readonly provenance?: EventProvenance | null;
}

/** Version prefix of the hash format, so the algorithm can change without ambiguity later. */
export const HASH_ALGORITHM = 'sha256-jcs-v1';

/**
 * The canonical form of an event, chained to its predecessor: RFC 8785 JSON (JCS: sorted keys,
 * ECMAScript number and string forms) of the content plus `previousHash` (null for revision 0).
 * Revisions are decimal strings and instants ISO-8601 UTC with milliseconds, so the form survives
 * JSON and jsonb round trips. Absent optional ids are `null`.
 */
export function canonicalEventForm(content: HashedEventContent, previousHash: string | null): string {
  const form = canonicalize({
    alg: HASH_ALGORITHM,
    streamId: content.streamId,
    revision: content.revision.toString(),
    eventId: content.eventId,
    type: content.type,
    data: content.data,
    actorId: content.actorId,
    commandId: content.commandId ?? null,
    correlationId: content.correlationId ?? null,
    causationId: content.causationId ?? null,
    occurredAt: content.occurredAt.toISOString(),
    recordedAt: content.recordedAt.toISOString(),
    previousHash,
    // Only when present: events without provenance keep the form (and hash) they always had.
    ...(content.provenance ? { provenance: content.provenance } : {}),
  });
  if (form === undefined) throw new TypeError('event content is not serialisable as JSON');
  return form;
}

/** Hex SHA-256 of the canonical form. */
export function hashEvent(content: HashedEventContent, previousHash: string | null): string {
  return createHash('sha256').update(canonicalEventForm(content, previousHash), 'utf8').digest('hex');
}
