import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodePosition, type EventStore, type GlobalPosition, type ReadAllOptions } from '@dealstream/event-store';
import { EVENT_STORE } from '@dealstream/command-handling';
import { toEventView } from '@dealstream/audit';
import type { EventStreamConfig } from '../config/app-config.js';
import { ApiProblem } from '../problem/api-problem.js';
import type { ApiMetrics } from '../metrics/api-metrics.js';
import { API_METRICS } from '../metrics/metrics.tokens.js';
import { EventsNotifier } from './events-notifier.js';
import { eventFrame, heartbeatFrame, openingFrame } from './sse-frames.js';
import { StreamSlots } from './stream-slots.js';

export const EVENT_STREAM_CONFIG = Symbol('EVENT_STREAM_CONFIG');

/** Events read from the store per round trip. */
const BATCH_SIZE = 500;
/** The `retry:` hint: how long a browser's EventSource waits before reconnecting. */
const RETRY_MS = 2000;

export interface StreamRequest {
  readonly tokenKey: string;
  readonly after: GlobalPosition | undefined;
  readonly filter: NonNullable<ReadAllOptions['filter']>;
  /** End the stream after this many events (undefined: never). */
  readonly limit: number | undefined;
  /** When the caller's token expires (ms since the epoch): the stream ends there, a new token reconnects. */
  readonly expiresAtMs: number | undefined;
  /** Called once the stream may open (a slot was free), before anything is written: the framework lets go of the response. */
  readonly onOpen?: () => void;
}

/**
 * Serves `GET /events/stream`: the global feed as Server-Sent Events. Each stream reads the store
 * with `readAll` after its own cursor — exactly as `GET /events` pages — so it inherits the feed's
 * guarantee: every event once, in one order, never one that commits late skipped (the SQL store
 * holds back rows behind the oldest running transaction, and the cursor only moves over rows that
 * were read). It waits for the store's NOTIFY, or `pollMs`, whichever comes first; writes only
 * when the socket takes more (backpressure), and ends on close, at `maxLifetimeMs` or when the
 * caller's token expires (whichever is first), after `limit` events, or when the app shuts down.
 */
@Injectable()
export class EventStreamService implements OnModuleDestroy {
  private readonly slots: StreamSlots;
  private readonly open = new Set<() => void>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(EVENT_STREAM_CONFIG) private readonly config: EventStreamConfig,
    private readonly notifier: EventsNotifier,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
  ) {
    this.slots = new StreamSlots(config.maxPerToken);
  }

  /** Throws 429 when the token holds its bound; otherwise streams until one of the ends above. */
  async serve(request: IncomingMessage, response: ServerResponse, stream: StreamRequest): Promise<void> {
    const releaseSlot = this.slots.tryAcquire(stream.tokenKey);
    if (!releaseSlot) {
      throw new ApiProblem(
        429,
        'too-many-streams',
        `This token holds ${this.config.maxPerToken} open event streams on this instance already (EVENTS_STREAM_MAX_PER_TOKEN); close one or retry later`,
        {},
        { 'Retry-After': '5' },
      );
    }
    this.metrics.eventStreamsOpen.inc();
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      releaseSlot();
      this.metrics.eventStreamsOpen.dec();
    };
    stream.onOpen?.();
    response.statusCode = 200;
    response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    response.setHeader('Cache-Control', 'no-store');
    response.setHeader('X-Accel-Buffering', 'no'); // nginx: do not buffer the stream
    response.flushHeaders();
    if (request.method === 'HEAD') {
      release();
      response.end();
      return;
    }
    response.socket?.setNoDelay(true);

    let closed = false;
    let pending = false;
    let wake: (() => void) | undefined;
    const poke = () => {
      pending = true;
      wake?.();
    };
    let stopDraining: (() => void) | undefined;
    const end = () => {
      closed = true;
      wake?.();
      stopDraining?.();
    };
    request.on('close', end);
    response.on('close', end);
    this.open.add(end);
    const unsubscribe = this.notifier.subscribe(poke);
    const lifetimeMs = Math.min(
      this.config.maxLifetimeMs,
      stream.expiresAtMs === undefined ? Infinity : Math.max(0, stream.expiresAtMs - Date.now()),
    );
    const lifetime = setTimeout(end, lifetimeMs);
    const heartbeat = setInterval(() => {
      if (!closed && !response.writableNeedDrain) response.write(heartbeatFrame());
    }, this.config.heartbeatMs);
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        if (pending || closed) return resolve();
        const timer = setTimeout(done, ms);
        wake = done;
        function done() {
          clearTimeout(timer);
          resolve();
        }
      }).finally(() => (wake = undefined));
    const drained = () =>
      new Promise<void>((resolve) => {
        if (closed || !response.writableNeedDrain) return resolve();
        // Only the socket (or the end of the stream) ends this wait: a NOTIFY must not make the
        // stream read and write on while the consumer has not taken what it was sent.
        response.once('drain', done);
        stopDraining = done;
        function done() {
          response.off('drain', done);
          resolve();
        }
      }).finally(() => (stopDraining = undefined));

    try {
      response.write(openingFrame(RETRY_MS));
      let cursor = stream.after;
      let sent = 0;
      while (!closed) {
        pending = false; // a NOTIFY from here on wakes the sleep below
        const want = stream.limit === undefined ? BATCH_SIZE : Math.min(BATCH_SIZE, stream.limit - sent);
        const batch = await this.store.readAll({ after: cursor, limit: want, filter: stream.filter });
        for (const event of batch.events) {
          if (closed) break;
          response.write(eventFrame(encodePosition(event.position), toEventView(event)));
          sent++;
        }
        cursor = batch.cursor;
        if (stream.limit !== undefined && sent >= stream.limit) break;
        if (response.writableNeedDrain) await drained();
        else if (batch.events.length === 0) await sleep(this.config.pollMs);
      }
    } catch {
      // The store failed (timeout, lost connection) after the headers went out: end the stream; the
      // client reconnects with Last-Event-ID and loses nothing.
    } finally {
      closed = true;
      clearTimeout(lifetime);
      clearInterval(heartbeat);
      unsubscribe();
      this.open.delete(end);
      release();
      if (!response.writableEnded) response.end();
    }
  }

  /** Ends every open stream, so that closing the HTTP server does not wait for them. */
  onModuleDestroy(): void {
    for (const end of this.open) end();
  }
}
