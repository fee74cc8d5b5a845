import { EventStoreError } from '../port/event-store.errors.js';

/**
 * Runs `operation` with a hard bound: rejects with `EventStoreError('timeout')` once `timeoutMs` has
 * passed, and aborts the signal handed to the operation so it can cancel what it started.
 *
 * Why our own timer: against a server that accepts TCP but never answers, @eventstore/db-client
 * hangs forever even with `deadline` (its first server-features call has none; reads run with an
 * infinite deadline). The operation's promise always gets handlers here, so whatever it does after
 * the bound (a late result, or a rejection when its client is disposed) is absorbed and can never
 * become an unhandled rejection.
 */
export function boundedCall<T>(
  label: string,
  timeoutMs: number,
  operation: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new EventStoreError('timeout', `${label}: no answer within ${timeoutMs} ms`));
      controller.abort();
    }, timeoutMs);
    let running: Promise<T>;
    try {
      running = operation(controller.signal);
    } catch (error) {
      clearTimeout(timer);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the operation's own error, passed through unchanged
      reject(error);
      return;
    }
    // After the timer fired, these settle an already-rejected promise: a no-op that still counts
    // as handling the late outcome.
    running.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the operation's own error, passed through unchanged
        reject(error);
      },
    );
  });
}

/** What `collectRead` needs of a client read (the client's StreamingRead, a Readable): iterate, cancel, destroy. */
export interface CancellableRead extends AsyncIterable<unknown> {
  on(event: 'error', listener: (error: Error) => void): unknown;
  cancel(): Promise<void>;
  destroy(): unknown;
}

/**
 * Collects a client read into an array, cancelling the gRPC call and destroying the stream when
 * `signal` aborts. Throws the abort reason if aborted, so a cancelled read never passes as a short one.
 */
export async function collectRead<T>(read: CancellableRead, signal: AbortSignal): Promise<T[]> {
  // The client's read stream re-emits gRPC errors with a bare `emit('error')` from a promise chain,
  // possibly after we stopped iterating. Node 20's async iterator happens to leave a listener
  // behind; our own makes a late error harmless without relying on that detail.
  read.on('error', ignore);
  const abort = () => {
    read.cancel().catch(ignore);
    read.destroy();
  };
  if (signal.aborted) abort();
  signal.addEventListener('abort', abort, { once: true });
  try {
    const items: T[] = [];
    for await (const item of read) items.push(item as T);
    signal.throwIfAborted();
    return items;
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

function ignore(): void {}
