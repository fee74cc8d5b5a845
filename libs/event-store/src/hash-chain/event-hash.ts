import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

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
  });
  if (form === undefined) throw new TypeError('event content is not serialisable as JSON');
  return form;
}

/** Hex SHA-256 of the canonical form. */
export function hashEvent(content: HashedEventContent, previousHash: string | null): string {
  return createHash('sha256').update(canonicalEventForm(content, previousHash), 'utf8').digest('hex');
}

/** What the writer knows of an event before the store places it: its content without revision and record time. */
export type WriterEventContent = Omit<HashedEventContent, 'revision' | 'recordedAt'>;

/**
 * The canonical form of an event cut around the three members only the store knows at append time
 * (`previousHash`, `recordedAt`, `revision`, which sort together between `occurredAt` and
 * `streamId`): `head` is the members before them, `tail` the members after, each without braces.
 * The SQL store sends these and the database puts the form together (`assembleCanonicalForm` says
 * how, in the same words as the SQL): JCS serialises every member on its own and joins them in key
 * order, so the pieces of a subset are exactly the substrings of the whole.
 */
export function canonicalEventParts(content: WriterEventContent): { head: string; tail: string } {
  const head = canonicalize({
    actorId: content.actorId,
    alg: HASH_ALGORITHM,
    causationId: content.causationId ?? null,
    commandId: content.commandId ?? null,
    correlationId: content.correlationId ?? null,
    data: content.data,
    eventId: content.eventId,
    occurredAt: content.occurredAt.toISOString(),
  });
  const tail = canonicalize({ streamId: content.streamId, type: content.type });
  if (head === undefined || tail === undefined) throw new TypeError('event content is not serialisable as JSON');
  return { head: head.slice(1, -1), tail: tail.slice(1, -1) };
}

/**
 * The canonical form from its parts, as `event_store.append_batch` builds it in SQL (the migration
 * `0002_append_batch_function`): equal to `canonicalEventForm` for the same event (unit-tested).
 */
export function assembleCanonicalForm(
  parts: { head: string; tail: string },
  previousHash: string | null,
  recordedAt: Date,
  revision: bigint,
): string {
  return (
    `{${parts.head},"previousHash":${previousHash === null ? 'null' : `"${previousHash}"`}` +
    `,"recordedAt":"${recordedAt.toISOString()}","revision":"${revision.toString()}",${parts.tail}}`
  );
}
