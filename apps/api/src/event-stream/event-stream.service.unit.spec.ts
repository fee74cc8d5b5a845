import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventStore, ReadAllBatch } from '@dealstream/event-store';
import { ApiMetrics } from '../metrics/api-metrics.js';
import { EventStreamService } from './event-stream.service.js';
import type { EventsNotifier } from './events-notifier.js';

/** A socket that takes one write and then is full until `drain`. */
class FullSocketResponse extends EventEmitter {
  writes: string[] = [];
  writableNeedDrain = false;
  writableEnded = false;
  statusCode = 0;
  socket = { setNoDelay: () => undefined };
  setHeader = () => this;
  flushHeaders = () => undefined;
  write(chunk: string): boolean {
    this.writes.push(chunk);
    this.writableNeedDrain = true;
    return false;
  }
  end(): void {
    this.writableEnded = true;
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('EventStreamService backpressure', () => {
  it('waits for drain while the socket is full: NOTIFYs do not make it read and write on', async () => {
    let reads = 0;
    // Always one more event: a store far ahead of a slow consumer.
    const store = {
      readAll: async (): Promise<ReadAllBatch> => {
        reads++;
        const position = { major: BigInt(reads), minor: 0n };
        return {
          cursor: position,
          events: [
            {
              eventId: `00000000-0000-4000-8000-${String(reads).padStart(12, '0')}`,
              streamId: 'deal-x',
              revision: BigInt(reads),
              type: 'Touched',
              data: {},
              metadata: { actorId: 'a', occurredAt: new Date(0) },
              recordedAt: new Date(0),
              position,
            },
          ],
        };
      },
    } as unknown as EventStore;
    let poke: () => void = () => undefined;
    const notifier = {
      subscribe: (onNotify: () => void) => ((poke = onNotify), () => undefined),
    } as unknown as EventsNotifier;
    const service = new EventStreamService(
      store,
      { maxPerToken: 1, heartbeatMs: 60_000, pollMs: 60_000, maxLifetimeMs: 60_000 },
      notifier,
      new ApiMetrics(),
    );
    const request = Object.assign(new EventEmitter(), { method: 'GET' }) as unknown as IncomingMessage;
    const response = new FullSocketResponse();
    const serving = service.serve(request, response as unknown as ServerResponse, {
      tokenKey: 'k',
      after: undefined,
      filter: {},
      limit: undefined,
      expiresAtMs: undefined,
    });
    await tick();
    expect(reads).toBe(1);
    for (let i = 0; i < 10; i++) {
      poke();
      await tick();
    }
    expect(reads).toBe(1); // was 11: every NOTIFY ended the wait for drain
    response.writableNeedDrain = false;
    response.emit('drain');
    await tick();
    expect(reads).toBe(2); // the socket took it: the stream reads on
    response.emit('close');
    await serving;
    expect(response.writableEnded).toBe(true);
    expect(response.writes.filter((w) => w.startsWith('id: '))).toHaveLength(2);
  });
});
