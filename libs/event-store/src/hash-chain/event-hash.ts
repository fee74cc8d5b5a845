import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { EventProvenance, NewEvent } from '../port/event-store.types.js';

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

/** What the writer knows of an event before the store places it: its content without revision and record time. */
export type WriterEventContent = Omit<HashedEventContent, 'revision' | 'recordedAt'>;

/** The writer's content of an event appended to `streamId`: its id in lower case, provenance only when it has one. */
export function writerContent(streamId: string, event: NewEvent): WriterEventContent {
  const { actorId, commandId, correlationId, causationId, occurredAt, provenance } = event.metadata;
  return {
    streamId,
    eventId: event.eventId.toLowerCase(),
    type: event.type,
    data: event.data,
    actorId,
    commandId,
    correlationId,
    causationId,
    occurredAt,
    ...(provenance ? { provenance } : {}),
  };
}

/** An event's canonical form without the members only the store knows, in three pieces (see canonicalEventParts). */
export interface CanonicalEventParts {
  /** Members sorting before `previousHash`, without braces. */
  readonly head: string;
  /** `"provenance":{…}` when the event has provenance (it sorts between `previousHash` and `recordedAt`), else ''. */
  readonly middle: string;
  /** Members sorting after `revision` (`streamId`, `type`), without braces. */
  readonly tail: string;
  /** `data` in its RFC 8785 form (inside `head` too): the bulk path stores it as the `data` column. */
  readonly data: string;
}

/**
 * The canonical form of an event cut around the three members only the store knows at append time
 * (`previousHash`, `recordedAt`, `revision`, which sort together between `occurredAt` and
 * `streamId`; an imported event's `provenance` sorts between the first two): `head` is the members
 * before them, `middle` the provenance, `tail` the members after. The SQL store sends these and the
 * database puts the form together (`assembleCanonicalForm` says how, in the same words as the SQL):
 * JCS serialises every member on its own and joins them in key order, so the pieces of a subset are
 * exactly the substrings of the whole.
 */
export function canonicalEventParts(content: WriterEventContent): CanonicalEventParts {
  // Only `data` (and an unusual provenance) goes through `canonicalize`: the other members are strings,
  // null or a fixed ISO instant, whose RFC 8785 form is JSON.stringify's (§3.2.2.2), and the keys are
  // written in their sorted order. An append's canonical form was computed twice over before (the
  // whole head object sorted and serialised again around data); the property test holds the pieces
  // equal to `canonicalEventForm` for random strings, lone surrogates included.
  const data = canonicalData(content.data);
  if (data === undefined) throw new TypeError('event content is not serialisable as JSON');
  const head =
    `"actorId":${jcsText(content.actorId)},"alg":"${HASH_ALGORITHM}",` +
    `"causationId":${jcsText(content.causationId ?? null)},"commandId":${jcsText(content.commandId ?? null)},` +
    `"correlationId":${jcsText(content.correlationId ?? null)},"data":${data},` +
    `"eventId":${jcsText(content.eventId)},"occurredAt":"${content.occurredAt.toISOString()}"`;
  const tail = `"streamId":${jcsText(content.streamId)},"type":${jcsText(content.type)}`;
  return { head, middle: content.provenance ? provenancePiece(content.provenance) : '', tail, data };
}

/** Code units that may be half of a surrogate pair: where a string may be ill-formed (checked exactly then). */
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * `canonicalize(data)` — the same text, or the same error — written member by member for the flat
 * objects events carry (string, finite number, boolean and null members: JSON.stringify's forms, keys
 * sorted by code unit), without the library's per-call Set, per-string surrogate scan and arrays of
 * parts; any other shape, or a string with a surrogate, goes through `canonicalize` (a property test
 * holds the two equal).
 */
export function canonicalData(data: object): string | undefined {
  if (Array.isArray(data) || typeof (data as { toJSON?: unknown }).toJSON === 'function') return canonicalize(data);
  const record = data as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let form = '';
  for (const key of keys) {
    const value = record[key];
    let member: string;
    if (value === undefined || typeof value === 'symbol') continue;
    if (typeof value === 'string') {
      if (SURROGATE.test(value)) return canonicalize(data);
      member = JSON.stringify(value);
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return canonicalize(data);
      member = JSON.stringify(value);
    } else if (typeof value === 'boolean' || value === null) member = String(value);
    else return canonicalize(data);
    if (SURROGATE.test(key)) return canonicalize(data);
    form += (form === '' ? '{' : ',') + JSON.stringify(key) + ':' + member;
  }
  return form === '' ? '{}' : form + '}';
}

/** A string or null member value in its RFC 8785 form; anything else through `canonicalize`. */
function jcsText(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  const form = canonicalize(value);
  if (form === undefined) throw new TypeError('event content is not serialisable as JSON');
  return form;
}

/** `"provenance":{…}`: its four string members in sorted order, or `canonicalize` for any other shape. */
function provenancePiece(provenance: EventProvenance): string {
  const { importId, sourceActor, sourceRecordId, sourceSystem } = provenance;
  if (
    Object.keys(provenance).length === 4 &&
    typeof importId === 'string' &&
    typeof sourceActor === 'string' &&
    typeof sourceRecordId === 'string' &&
    typeof sourceSystem === 'string'
  )
    return (
      `"provenance":{"importId":${JSON.stringify(importId)},"sourceActor":${JSON.stringify(sourceActor)},` +
      `"sourceRecordId":${JSON.stringify(sourceRecordId)},"sourceSystem":${JSON.stringify(sourceSystem)}}`
    );
  const form = canonicalize({ provenance });
  if (form === undefined) throw new TypeError('event content is not serialisable as JSON');
  return form.slice(1, -1);
}

/**
 * The canonical form from its parts, as `event_store.append_batch` builds it in SQL (the migration
 * `0003_event_provenance`): equal to `canonicalEventForm` for the same event (unit-tested).
 */
export function assembleCanonicalForm(
  parts: Pick<CanonicalEventParts, 'head' | 'middle' | 'tail'>,
  previousHash: string | null,
  recordedAt: Date | string,
  revision: bigint,
): string {
  const recorded = typeof recordedAt === 'string' ? recordedAt : recordedAt.toISOString();
  return (
    `{${parts.head},"previousHash":${previousHash === null ? 'null' : `"${previousHash}"`}` +
    (parts.middle === '' ? '' : `,${parts.middle}`) +
    `,"recordedAt":"${recorded}","revision":"${revision.toString()}",${parts.tail}}`
  );
}
