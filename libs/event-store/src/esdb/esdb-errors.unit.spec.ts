import {
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  ErrorType,
  InvalidArgumentError,
  MaxAppendSizeExceededError,
  NotLeaderError,
  StreamDeletedError,
  StreamNotFoundError,
  TimeoutError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
  convertToCommandError,
} from '@eventstore/db-client';
import { EventStoreError, IdempotencyConflictError, WrongExpectedRevisionError } from '../port/event-store.errors.js';
import { isStreamDeleted, isStreamNotFound, mapEsdbError, type EsdbErrorContext } from './esdb-errors.js';

const append: EsdbErrorContext = { operation: 'appendToStream', streamId: 'deal-1', expectedRevision: 2n };
const read: EsdbErrorContext = { operation: 'readStream', streamId: 'deal-1' };

/** A gRPC ServiceError as @grpc/grpc-js produces it (code, details, metadata). */
function serviceError(code: number, details: string, metadata: Record<string, string> = {}) {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: { getMap: () => metadata } });
}

describe('mapping client errors to the port', () => {
  it('maps WrongExpectedVersionError to WrongExpectedRevisionError with the caller’s expectation and the actual revision', () => {
    const error = new WrongExpectedVersionError(undefined, { streamName: 'deal-1', expected: 2n, current: 4n });
    const mapped = mapEsdbError(error, append);
    expect(mapped).toBeInstanceOf(WrongExpectedRevisionError);
    expect(mapped).toMatchObject({ code: 'wrong-expected-revision', streamId: 'deal-1', expected: 2n, actual: 4n });
  });

  it("maps a missing stream ('no_stream' current revision) to actual undefined", () => {
    const error = new WrongExpectedVersionError(undefined, {
      streamName: 'deal-1',
      expected: 0n,
      current: 'no_stream',
    });
    expect(mapEsdbError(error, { ...append, expectedRevision: 0n })).toMatchObject({ expected: 0n, actual: undefined });
  });

  it('keeps the port’s spelling of the expectation (stream_exists, no_stream) in the error', () => {
    const error = new WrongExpectedVersionError(undefined, {
      streamName: 'deal-1',
      expected: 'stream_exists',
      current: 'no_stream',
    });
    expect(mapEsdbError(error, { ...append, expectedRevision: 'stream_exists' })).toMatchObject({
      expected: 'stream_exists',
      actual: undefined,
    });
    const exists = new WrongExpectedVersionError(undefined, {
      streamName: 'deal-1',
      expected: 'no_stream',
      current: 1n,
    });
    expect(mapEsdbError(exists, { ...append, expectedRevision: 'no_stream' })).toMatchObject({
      expected: 'no_stream',
      actual: 1n,
    });
  });

  it('falls back to the error’s own stream and expectation when the context has none', () => {
    const error = new WrongExpectedVersionError(undefined, { streamName: 'deal-9', expected: 3n, current: 5n });
    expect(mapEsdbError(error, { operation: 'appendToStream' })).toMatchObject({
      streamId: 'deal-9',
      expected: 3n,
      actual: 5n,
    });
  });

  it('reads a WrongExpectedVersion sent as gRPC metadata (the unary append path)', () => {
    const error = convertToCommandError(
      serviceError(9, 'wrong expected version', {
        exception: 'wrong-expected-version',
        'stream-name': 'deal-1',
        'expected-version': '2',
        'actual-version': '7',
      }),
    );
    expect(error).toBeInstanceOf(WrongExpectedVersionError);
    expect(mapEsdbError(error, append)).toMatchObject({ code: 'wrong-expected-revision', expected: 2n, actual: 7n });
  });

  it.each([
    ['UnavailableError', new UnavailableError(undefined, 'down')],
    ['CancelledError (cancelled by the server)', new CancelledError(undefined, 'cancelled')],
    [
      'NotLeaderError',
      new NotLeaderError(
        serviceError(5, 'not leader', { 'leader-endpoint-host': 'node-2', 'leader-endpoint-port': '2113' }) as never,
      ),
    ],
    [
      'plain gRPC error code 14 (refused port, from the server-features call)',
      serviceError(14, 'UNAVAILABLE: No connection established'),
    ],
    ['plain gRPC error code 1 (CANCELLED)', serviceError(1, 'CANCELLED')],
    ['failed cluster discovery', new Error('Failed to discover after 10 attempts.')],
    ['a call on a channel the adapter closed (grpc-js)', new Error('Channel has been shut down')],
  ])('maps %s to unavailable', (_, error) => {
    const mapped = mapEsdbError(error, read);
    expect(mapped).toBeInstanceOf(EventStoreError);
    expect(mapped).toMatchObject({ code: 'unavailable', cause: error });
  });

  it.each([
    ['DeadlineExceededError', new DeadlineExceededError(undefined, 'deadline')],
    ['TimeoutError (gRPC ABORTED)', new TimeoutError(undefined, 'aborted')],
    ['plain gRPC error code 4 (DEADLINE_EXCEEDED)', serviceError(4, 'Deadline exceeded')],
  ])('maps %s to timeout', (_, error) => {
    expect(mapEsdbError(error, append)).toMatchObject({ code: 'timeout', cause: error });
  });

  it.each([
    ['MaxAppendSizeExceededError', MaxAppendSizeExceededError.fromMaxAppendSize(1024)],
    ['InvalidArgumentError', new InvalidArgumentError('fromRevision value must be a non-negative integer')],
  ])('maps %s to invalid-append', (_, error) => {
    expect(mapEsdbError(error, append)).toMatchObject({ code: 'invalid-append', cause: error });
  });

  it.each([
    ['AccessDeniedError', new AccessDeniedError(undefined, 'denied')],
    ['StreamDeletedError', StreamDeletedError.fromStreamName('deal-1')],
    ['a plain Error', new Error('boom')],
    ['a gRPC code the port has no word for (7, PERMISSION_DENIED)', serviceError(7, 'denied')],
  ])('returns %s unchanged: the port has no code for it', (_, error) => {
    expect(mapEsdbError(error, append)).toBe(error);
  });

  it('maps UnknownError (the batch path\'s "Server Is Not Ready" / "Server Is Too Busy") to unavailable, and a cancelled read to unavailable', () => {
    expect(mapEsdbError(new UnknownError(undefined, 'Could not recognize Server Is Not Ready'), append)).toMatchObject({
      code: 'unavailable',
    });
    expect(mapEsdbError(new UnknownError(undefined, 'boom'), read)).toMatchObject({ code: 'unavailable' });
    expect(mapEsdbError(serviceError(1, 'Cancelled by the server'), read)).toMatchObject({ code: 'unavailable' });
  });

  it('passes the port’s own errors and non-objects through', () => {
    const conflict = new IdempotencyConflictError('deal-1', ['e-1']);
    expect(mapEsdbError(conflict, append)).toBe(conflict);
    expect(mapEsdbError('text', append)).toBe('text');
    expect(mapEsdbError(undefined, append)).toBeUndefined();
  });

  it('has a decision for every error type the client knows (a new type fails here until it is mapped)', () => {
    const decisions = Object.fromEntries(
      Object.values(ErrorType).map((type) => {
        const mapped = mapEsdbError(
          Object.assign(new Error(type), { type, streamName: 'deal-1', actualVersion: 1n }),
          append,
        );
        return [type, mapped instanceof EventStoreError ? mapped.code : 'unchanged'];
      }),
    );
    expect(decisions).toEqual({
      timeout: 'timeout',
      'deadline-exceeded': 'timeout',
      unavailable: 'unavailable',
      cancelled: 'timeout', // on an append: the server ended it, the outcome is unknown
      unknown: 'unavailable',
      'not-leader': 'unavailable',
      'stream-not-found': 'unchanged', // reads turn it into [] before mapping (isStreamNotFound)
      'no-stream': 'unchanged',
      'not-found': 'unchanged',
      'access-denied': 'unchanged',
      'invalid-argument': 'invalid-append',
      'invalid-transaction': 'unchanged',
      'stream-deleted': 'unchanged', // the port's reads turn it into [] before mapping (isStreamDeleted)
      'scavenge-not-found': 'unchanged',
      'wrong-expected-version': 'wrong-expected-revision',
      'maximum-append-size-exceeded': 'invalid-append',
      'missing-required-metadata-property': 'unchanged',
      'persistent-subscription-failed': 'unchanged',
      'persistent-subscription-does-not-exist': 'unchanged',
      'persistent-subscription-exists': 'unchanged',
      'persistent-subscription-dropped': 'unchanged',
      'maximum-subscribers-reached': 'unchanged',
      'user-not-found': 'unchanged',
      'user-conflict': 'unchanged',
      unsupported: 'unchanged',
    });
  });
});

describe('isStreamNotFound', () => {
  it('recognises the client’s StreamNotFoundError only', () => {
    expect(isStreamNotFound(new StreamNotFoundError(undefined, 'deal-1'))).toBe(true);
    expect(isStreamNotFound(new UnavailableError(undefined, 'down'))).toBe(false);
    expect(isStreamNotFound(undefined)).toBe(false);
  });
});

describe('isStreamDeleted', () => {
  it('recognises the client’s StreamDeletedError only (a hard-deleted stream), not a missing one', () => {
    expect(isStreamDeleted(StreamDeletedError.fromStreamName('deal-1'))).toBe(true);
    expect(isStreamDeleted(new StreamNotFoundError(undefined, 'deal-1'))).toBe(false);
    expect(isStreamDeleted(null)).toBe(false);
  });
});
