import { EventStoreError, WrongExpectedRevisionError } from '../port/event-store.errors.js';
import type { ExpectedRevision } from '../port/event-store.types.js';
import { fromEsdbCurrentRevision } from './esdb-mapping.js';

/** What the adapter was doing when the client failed: fills in what the client's error omits. */
export interface EsdbErrorContext {
  readonly operation: 'appendToStream' | 'readStream' | 'streamRevision' | 'readAll' | 'subscribeToAll';
  readonly streamId?: string;
  /** The port's expected revision of the append, reported back as `expected` unchanged. */
  readonly expectedRevision?: ExpectedRevision;
}

/** gRPC status codes the client can surface as plain errors (it does not convert every path). */
const GRPC = { CANCELLED: 1, DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, ABORTED: 10, UNAVAILABLE: 14 } as const;

/**
 * Translates an @eventstore/db-client failure into the port's errors; anything the port has no
 * code for is returned unchanged (the caller rethrows it).
 *
 * Matched by the client's `type` strings and gRPC `code`s rather than `instanceof`, because the
 * client throws its typed errors on some paths and raw gRPC errors on others — e.g. a refused port
 * fails `appendToStream` with a plain `Error` carrying code 14 (the server-features call is not
 * converted) but `readStream` with an `UnavailableError`.
 *
 * - WrongExpectedVersionError → WrongExpectedRevisionError (`expected` as the caller passed it,
 *   `actual` = the stream's revision, undefined for "no stream").
 * - unavailable / not-leader / cancelled by the server / code 14 / failed discovery / a closed
 *   channel → `unavailable`.
 * - deadline-exceeded / timeout (gRPC ABORTED) / code 4 → `timeout`: the call's bound passed and
 *   its outcome is unknown, which is what `timeout` tells a caller (retry with the same event ids).
 * - maximum append size / invalid argument → `invalid-append`.
 */
export function mapEsdbError(error: unknown, context: EsdbErrorContext): unknown {
  if (error instanceof EventStoreError) return error;
  if (typeof error !== 'object' || error === null) return error;
  const { type, code, message } = error as { type?: unknown; code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  const cause = { cause: error };
  const where = `EventStoreDB ${context.operation}${context.streamId ? ` on ${context.streamId}` : ''}`;

  switch (type) {
    case 'wrong-expected-version': {
      const details = error as { streamName?: unknown; expectedVersion?: unknown; actualVersion?: unknown };
      const streamId = context.streamId ?? (typeof details.streamName === 'string' ? details.streamName : '');
      const expected = context.expectedRevision ?? (details.expectedVersion as ExpectedRevision);
      return new WrongExpectedRevisionError(streamId, expected, fromEsdbCurrentRevision(details.actualVersion));
    }
    case 'unknown':
      // "Server Is Not Ready" / "Server Is Too Busy" on the batch-append path, or any status the
      // client does not know: not served as asked — retry later (503 with Retry-After in the API).
      return new EventStoreError('unavailable', `${where}: the server could not serve the call (${text})`, cause);
    case 'cancelled':
      // The server cancelled the call: an append's outcome is unknown (it may have been written),
      // which is what `timeout` tells a caller; anything else was not served.
      if (context.operation === 'appendToStream')
        return new EventStoreError('timeout', `${where}: the server ended the call (${text})`, cause);
      return new EventStoreError('unavailable', `${where}: server unavailable (${text})`, cause);
    case 'unavailable':
    case 'not-leader':
      return new EventStoreError('unavailable', `${where}: server unavailable (${text})`, cause);
    case 'deadline-exceeded':
    case 'timeout':
      return new EventStoreError('timeout', `${where}: the server did not answer in time (${text})`, cause);
    case 'maximum-append-size-exceeded':
    case 'invalid-argument':
      return new EventStoreError('invalid-append', `${where}: ${text}`, cause);
  }
  if (type === undefined) {
    if (code === GRPC.UNAVAILABLE || code === GRPC.CANCELLED)
      return new EventStoreError('unavailable', `${where}: server unavailable (${text})`, cause);
    if (code === GRPC.DEADLINE_EXCEEDED || code === GRPC.ABORTED)
      return new EventStoreError('timeout', `${where}: the server did not answer in time (${text})`, cause);
    if (/^Failed to discover after \d+ attempts/.test(text))
      return new EventStoreError('unavailable', `${where}: ${text}`, cause);
    // grpc-js, for a call on a channel that was closed (the adapter closes a client's channel on close()).
    if (/^Channel has been shut down/.test(text)) return new EventStoreError('unavailable', `${where}: ${text}`, cause);
  }
  return error;
}

/** The client's way of saying "this stream does not exist" on a read: the port reads it as empty. */
export function isStreamNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { type?: unknown }).type === 'stream-not-found';
}

/**
 * The client's way of saying "this stream was hard-deleted (tombstoned)" on a read. dealstream never
 * deletes streams, so this is someone else's doing: `readStream` and `streamRevision` read it as a
 * stream without events, which an audit anchor then reports as `stream-missing`.
 */
export function isStreamDeleted(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { type?: unknown }).type === 'stream-deleted';
}
