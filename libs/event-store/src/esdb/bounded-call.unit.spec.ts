import { PassThrough } from 'node:stream';
import { EventStoreError } from '../port/event-store.errors.js';
import { boundedCall, collectRead, type CancellableRead } from './bounded-call.js';

const never = <T>() => new Promise<T>(() => undefined);
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

/** A read like the client's: an object-mode Readable with cancel(); records what was done to it. */
function fakeRead(items: unknown[] = [], end = true): CancellableRead & { cancelled: boolean; stream: PassThrough } {
  const stream = new PassThrough({ objectMode: true });
  for (const item of items) stream.write(item);
  if (end) stream.end();
  return Object.assign(stream, {
    cancelled: false,
    stream,
    async cancel(this: { cancelled: boolean }) {
      this.cancelled = true;
    },
  });
}

describe('boundedCall', () => {
  it('answers what the operation answers, within the bound', async () => {
    await expect(boundedCall('op', 1_000, async () => 42)).resolves.toBe(42);
  });

  it('rejects with the operation’s own error, unchanged', async () => {
    const error = new Error('refused');
    await expect(boundedCall('op', 1_000, async () => Promise.reject(error))).rejects.toBe(error);
    await expect(
      boundedCall('op', 1_000, () => {
        throw error;
      }),
    ).rejects.toBe(error);
  });

  it('rejects with EventStoreError timeout when the operation never settles, and aborts its signal', async () => {
    let signal: AbortSignal | undefined;
    const error = await boundedCall('EventStoreDB readAll', 30, (s) => {
      signal = s;
      return never();
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventStoreError);
    expect(error).toMatchObject({ code: 'timeout', message: 'EventStoreDB readAll: no answer within 30 ms' });
    expect(signal?.aborted).toBe(true);
  });

  it('absorbs a rejection that arrives after the bound (jest fails a test on an unhandled rejection)', async () => {
    let rejectLate: (error: Error) => void = () => undefined;
    const late = new Promise<never>((_, reject) => (rejectLate = reject));
    await expect(boundedCall('op', 10, () => late)).rejects.toMatchObject({ code: 'timeout' });
    rejectLate(new Error('channel closed'));
    await tick();
  });
});

describe('collectRead', () => {
  it('collects every item of a read', async () => {
    await expect(collectRead(fakeRead([1, 2, 3]), new AbortController().signal)).resolves.toEqual([1, 2, 3]);
  });

  it('propagates a read error', async () => {
    const read = fakeRead([], false);
    const collected = collectRead(read, new AbortController().signal);
    read.stream.destroy(Object.assign(new Error('stream not found'), { type: 'stream-not-found' }));
    await expect(collected).rejects.toMatchObject({ type: 'stream-not-found' });
  });

  it('cancels the gRPC call and destroys the stream on abort, and rejects instead of answering short', async () => {
    const read = fakeRead([1], false);
    const controller = new AbortController();
    const collected = collectRead(read, controller.signal);
    await tick();
    controller.abort();
    await expect(collected).rejects.toThrow();
    expect(read.cancelled).toBe(true);
    expect(read.stream.destroyed).toBe(true);
  });
});
