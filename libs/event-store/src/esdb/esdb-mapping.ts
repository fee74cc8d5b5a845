import { EventStoreError } from '../port/event-store.errors.js';
import type {
  EventMetadata,
  EventProvenance,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  RecordedEvent,
} from '../port/event-store.types.js';
import type { GlobalPosition } from '../port/global-position.js';

// Pure translation between the port's types and @eventstore/db-client's shapes. Structural types
// (not the client's classes) so every function is testable without a server or a client.

/** The client's expected-revision values (`NO_STREAM`, `STREAM_EXISTS`, `ANY` are these strings). */
export type EsdbExpectedRevision = 'no_stream' | 'stream_exists' | 'any' | bigint;

/** EventStoreDB's `$all` position: commit and prepare positions in the transaction log. */
export interface EsdbPosition {
  readonly commit: bigint;
  readonly prepare: bigint;
}

/** The JSON metadata dealstream writes on every EventStoreDB event (a type alias, so it is JSON-indexable). */
export type EsdbEventMetadata = {
  readonly actorId: string;
  readonly commandId?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  /** ISO-8601 UTC with milliseconds. */
  readonly occurredAt: string;
  /** EventStoreDB's own names, so its projections and UI link related events too. */
  readonly $correlationId?: string;
  readonly $causationId?: string;
  /**
   * Random per append attempt. EventStoreDB answers a retried append with success whether it wrote
   * or only recognised the ids; reading this back tells the two apart (see EsdbEventStore).
   */
  readonly appendId: string;
  /** Imported events only (see EventMetadata.provenance). */
  readonly provenance?: EventProvenance;
  /**
   * Tamper evidence, as on the SQL store: when the adapter appended the event (ISO-8601 UTC, ms; the
   * event's `recordedAt`), the stream's previous event's hash (null at revision 0) and this event's
   * hash (`hashEvent` of its content and `previousHash`).
   */
  readonly recordedAt?: string;
  readonly previousHash?: string | null;
  readonly hash?: string;
};

/** The hash-chain fields of one event's metadata. */
export interface EsdbChainFields {
  readonly recordedAt: Date;
  readonly previousHash: string | null;
  readonly hash: string;
}

/** The fields of the client's RecordedEvent this adapter reads. */
export interface EsdbRecordedEventLike {
  readonly streamId: string;
  readonly id: string;
  readonly revision: bigint;
  readonly type: string;
  readonly data: unknown;
  readonly metadata?: unknown;
  readonly created: Date;
  readonly position?: EsdbPosition;
}

/** Maps the port's expected revision to the client's (the names coincide; exact revisions stay bigint); `invalid-append` for anything else. */
export function toEsdbExpectedRevision(expected: ExpectedRevision): EsdbExpectedRevision {
  if (expected === 'no_stream' || expected === 'stream_exists' || expected === 'any') return expected;
  if (typeof expected !== 'bigint' || expected < 0n)
    throw new EventStoreError('invalid-append', `not an expected revision: ${String(expected)}`);
  return expected;
}

/** Maps the client's current revision (`'no_stream'` or a bigint) to the port's (`undefined` or a bigint). */
export function fromEsdbCurrentRevision(current: unknown): bigint | undefined {
  if (typeof current === 'bigint') return current;
  if (typeof current === 'number' && Number.isSafeInteger(current)) return BigInt(current);
  if (typeof current === 'string' && /^\d+$/.test(current)) return BigInt(current);
  return undefined;
}

/** `{commit, prepare}` → `{major, minor}`: commit first, so pairs compare the way `$all` is ordered. */
export function fromEsdbPosition(position: EsdbPosition): GlobalPosition {
  return { major: position.commit, minor: position.prepare };
}

/** `{major, minor}` → `{commit, prepare}`: the inverse of `fromEsdbPosition`. */
export function toEsdbPosition(position: GlobalPosition): EsdbPosition {
  return { commit: position.major, prepare: position.minor };
}

/** The JSON metadata written with an event: the port's metadata plus ESDB's `$correlationId`/`$causationId`. */
export function toEsdbMetadata(metadata: EventMetadata, appendId: string, chain?: EsdbChainFields): EsdbEventMetadata {
  return {
    actorId: metadata.actorId,
    ...(metadata.commandId !== undefined ? { commandId: metadata.commandId } : {}),
    ...(metadata.correlationId !== undefined
      ? { correlationId: metadata.correlationId, $correlationId: metadata.correlationId }
      : {}),
    ...(metadata.causationId !== undefined
      ? { causationId: metadata.causationId, $causationId: metadata.causationId }
      : {}),
    occurredAt: metadata.occurredAt.toISOString(),
    appendId,
    ...(metadata.provenance !== undefined ? { provenance: metadata.provenance } : {}),
    ...(chain
      ? { recordedAt: chain.recordedAt.toISOString(), previousHash: chain.previousHash, hash: chain.hash }
      : {}),
  };
}

/**
 * Reads the port's metadata back. Events written by other producers may lack dealstream's fields:
 * then ESDB's `$correlationId`/`$causationId` are used, `occurredAt` falls back to `created`, and a
 * missing actor reads as ''.
 */
export function fromEsdbMetadata(raw: unknown, created: Date): EventMetadata {
  const meta = isRecord(raw) ? raw : {};
  const correlationId = stringField(meta, 'correlationId') ?? stringField(meta, '$correlationId');
  const causationId = stringField(meta, 'causationId') ?? stringField(meta, '$causationId');
  const commandId = stringField(meta, 'commandId');
  const provenance = provenanceField(meta.provenance);
  const occurredAtText = stringField(meta, 'occurredAt');
  const occurredAt =
    occurredAtText !== undefined && !Number.isNaN(Date.parse(occurredAtText))
      ? new Date(occurredAtText)
      : new Date(created.getTime());
  return {
    actorId: stringField(meta, 'actorId') ?? '',
    ...(commandId !== undefined ? { commandId } : {}),
    ...(correlationId !== undefined ? { correlationId } : {}),
    ...(causationId !== undefined ? { causationId } : {}),
    occurredAt,
    ...(provenance !== undefined ? { provenance } : {}),
  };
}

/** The append attempt that wrote an event (see `EsdbEventMetadata.appendId`), if dealstream wrote it. */
export function appendIdOf(raw: unknown): string | undefined {
  return isRecord(raw) ? stringField(raw, 'appendId') : undefined;
}

/**
 * The hash-chain fields an event's metadata carries, if it has them all (events written before the
 * chain, or by another producer, have none).
 */
export function chainOf(raw: unknown): EsdbChainFields | undefined {
  if (!isRecord(raw)) return undefined;
  const hash = stringField(raw, 'hash');
  const recordedAt = stringField(raw, 'recordedAt');
  const previousHash = raw.previousHash === null ? null : stringField(raw, 'previousHash');
  if (hash === undefined || previousHash === undefined || recordedAt === undefined) return undefined;
  if (Number.isNaN(Date.parse(recordedAt))) return undefined;
  return { hash, previousHash, recordedAt: new Date(recordedAt) };
}

/** The client's `jsonEvent(...)` input for one of our events. */
export function toEsdbEventData(
  event: NewEvent,
  appendId: string,
  chain?: EsdbChainFields,
): { id: string; type: string; data: Record<string, unknown>; metadata: EsdbEventMetadata } {
  return {
    id: event.eventId,
    type: event.type,
    data: event.data as Record<string, unknown>,
    metadata: toEsdbMetadata(event.metadata, appendId, chain),
  };
}

/**
 * A recorded ESDB event as the port's RecordedEvent: revision and position as bigints, `recordedAt`
 * from the chain's `recordedAt` in the metadata (what the hash covers), else ESDB's `created`;
 * `hash` and `previousHash` when the metadata carries the chain. Throws when the server did not report the event's position (servers older
 * than 22.6 omit it on stream reads; dealstream needs it for read-your-writes).
 */
export function fromEsdbRecordedEvent(event: EsdbRecordedEventLike): RecordedEvent {
  if (!event.position)
    throw new Error(
      `EventStoreDB reported no position for ${event.streamId}@${event.revision}: EventStoreDB 22.6 or later is required`,
    );
  const chain = chainOf(event.metadata);
  return {
    eventId: event.id.toLowerCase(),
    streamId: event.streamId,
    revision: event.revision,
    type: event.type,
    data: (isRecord(event.data) || Array.isArray(event.data) ? event.data : { value: event.data }) as object,
    metadata: fromEsdbMetadata(event.metadata, event.created),
    recordedAt: new Date((chain?.recordedAt ?? event.created).getTime()),
    position: fromEsdbPosition(event.position),
    ...(chain ? { hash: chain.hash, previousHash: chain.previousHash } : {}),
  };
}

/** System events (`$`-prefixed type or stream: stats, metadata, projection links) never leave the adapter. */
export function isSystemEvent(event: { readonly streamId: string; readonly type: string }): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

/** Stream category = the part of the stream id before the first '-' (the same rule as ESDB's `$ce-`). */
export function streamCategory(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash < 0 ? streamId : streamId.slice(0, dash);
}

/** True when a (non-system) event passes `readAll`'s type and category filters. */
export function matchesFilter(
  event: { readonly streamId: string; readonly type: string },
  filter: ReadAllOptions['filter'],
): boolean {
  if (filter?.eventTypes?.length && !filter.eventTypes.includes(event.type)) return false;
  if (filter?.streamCategories?.length && !filter.streamCategories.includes(streamCategory(event.streamId)))
    return false;
  return true;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function stringField(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}

/** The provenance written by `toEsdbMetadata`, if the event has a well-formed one. */
function provenanceField(raw: unknown): EventProvenance | undefined {
  if (!isRecord(raw)) return undefined;
  const importId = stringField(raw, 'importId');
  const sourceSystem = stringField(raw, 'sourceSystem');
  const sourceRecordId = stringField(raw, 'sourceRecordId');
  const sourceActor = stringField(raw, 'sourceActor');
  if (importId === undefined || sourceSystem === undefined || sourceRecordId === undefined || sourceActor === undefined)
    return undefined;
  return { importId, sourceSystem, sourceRecordId, sourceActor };
}
