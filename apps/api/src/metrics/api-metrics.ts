import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { isEventStoreError, type EventStore } from '@dealstream/event-store';
import { DomainError } from '@dealstream/decider';
import { ContentionDeadlineError, NotFoundError, PreconditionFailedError } from '@dealstream/command-handling';

/** What a command came to; a fixed set, so the label never grows with input. */
type CommandOutcome = 'ok' | 'rejected' | 'not-found' | 'conflict' | 'unavailable' | 'error';

/** What one append came to. */
type AppendOutcome = 'appended' | 'already-stored' | 'conflict' | 'error';

/** Figures read at scrape time, each from where it lives (database, this instance). */
export interface ScrapeSources {
  projection(): Promise<{ behind: number; lagSeconds: number; position: number } | undefined>;
  parkedStreams(): Promise<number>;
}

/**
 * The API's Prometheus registry (prom-client): every instrument, named `dealstream_*` except the
 * conventional `http_request_duration_seconds` and the default process/event-loop metrics. Labels
 * carry route templates, command classes and outcomes — never an id or a principal.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route template and status, from the first byte in to the last byte out',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly commands = new Counter({
    name: 'dealstream_commands_total',
    help: 'Commands handled, by command type and outcome (ok, rejected, not-found, conflict, unavailable, error)',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly appends = new Counter({
    name: 'dealstream_appends_total',
    help: 'Appends to the event store, by outcome (appended, already-stored, conflict = wrong expected revision, error)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly appendedEvents = new Counter({
    name: 'dealstream_appended_events_total',
    help: 'Events written by appends (a retried append that found its events stored writes none)',
    registers: [this.registry],
  });
  readonly appendDuration = new Histogram({
    name: 'dealstream_append_duration_seconds',
    help: 'Duration of one append, whatever its outcome',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly eventStreamsOpen = new Gauge({
    name: 'dealstream_event_streams_open',
    help: 'Open GET /events/stream (Server-Sent Events) streams on this instance',
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'dealstream_webhook_deliveries_total',
    help: 'Webhook delivery attempts by this instance, by outcome (delivered, failed, timeout, refused-target)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition (text format 0.0.4) and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Counts one command by its class name and what it came to. */
  async countCommand<T>(type: string, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      this.commands.inc({ type, outcome: 'ok' });
      return result;
    } catch (error) {
      this.commands.inc({ type, outcome: commandOutcome(error) });
      throw error;
    }
  }

  /** The store with its appends measured; every other member is the store's own (tests reach its options). */
  meter<S extends EventStore>(store: S): S {
    // The store's own method, taken now: the measured append calls it, never a replacement assigned later.
    const original = store.appendToStream.bind(store);
    const append: EventStore['appendToStream'] = async (streamId, events, options) => {
      const stop = this.appendDuration.startTimer();
      try {
        const result = await original(streamId, events, options);
        const outcome: AppendOutcome = result.alreadyStored ? 'already-stored' : 'appended';
        this.appends.inc({ outcome });
        if (!result.alreadyStored) this.appendedEvents.inc(events.length);
        return result;
      } catch (error) {
        const outcome: AppendOutcome = isEventStoreError(error, 'wrong-expected-revision') ? 'conflict' : 'error';
        this.appends.inc({ outcome });
        throw error;
      } finally {
        stop();
      }
    };
    // The bulk path (an import's batch): every append counted by its outcome; the batch is one
    // transaction, not one append, so it adds no observation to the append duration.
    const originalMany = store.appendMany?.bind(store);
    const appendMany: EventStore['appendMany'] = originalMany
      ? async (appends) => {
          const outcomes = await originalMany(appends);
          outcomes.forEach((outcome, index) => {
            if (outcome.ok) {
              this.appends.inc({ outcome: outcome.value.alreadyStored ? 'already-stored' : 'appended' });
              if (!outcome.value.alreadyStored) this.appendedEvents.inc(appends[index].events.length);
            } else
              this.appends.inc({
                outcome: isEventStoreError(outcome.error, 'wrong-expected-revision') ? 'conflict' : 'error',
              });
          });
          return outcomes;
        }
      : undefined;
    // A test that injects a fault assigns its own appendToStream on the store (wrapping the one it read
    // before, i.e. this measured one): that assignment wins, and its inner call comes back here.
    return new Proxy(store, {
      get: (target, property, receiver) => {
        if (property === 'appendToStream' && !Object.hasOwn(target, 'appendToStream')) return append;
        if (property === 'appendMany' && appendMany && !Object.hasOwn(target, 'appendMany')) return appendMany;
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
  }

  /** The webhook backlog gauge, read at scrape time from the subscriptions' checkpoints. */
  observeWebhooks(largestBacklog: WebhookScrape): void {
    new Gauge({
      name: 'dealstream_webhook_backlog_events',
      help: 'Matching events not yet delivered, of the subscription furthest behind (active or paused; counted up to 10,000)',
      registers: [this.registry],
      async collect() {
        this.set(await largestBacklog());
      },
    });
  }

  /** Registers the gauges read at scrape time (once the app's services exist). */
  observe(sources: ScrapeSources): void {
    // One read of the projection figures per scrape, shared by the three gauges.
    let pending: ReturnType<ScrapeSources['projection']> | undefined;
    const projection = () => {
      pending ??= sources.projection().finally(() => setImmediate(() => (pending = undefined)));
      return pending;
    };
    const gauge = (name: string, help: string, read: () => Promise<number | undefined> | number | undefined) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          const value = await read();
          if (value === undefined) this.reset();
          else this.set(value);
        },
      });
    gauge(
      'dealstream_projection_lag_events',
      'Events committed and not yet projected into the live read models (counted up to 10,000)',
      async () => (await projection())?.behind,
    );
    gauge(
      'dealstream_projection_lag_seconds',
      'Age of the oldest event not yet projected (0 when up to date)',
      async () => (await projection())?.lagSeconds,
    );
    gauge(
      'dealstream_projection_position',
      'Events applied to the live read models so far (the checkpoint, as a count)',
      async () => (await projection())?.position,
    );
    gauge('dealstream_parked_streams', 'Streams held back because an event could not be projected', () =>
      sources.parkedStreams(),
    );
  }
}

/** Registered once the webhook module exists: the largest backlog, read at scrape time. */
export interface WebhookScrape {
  (): Promise<number>;
}

function commandOutcome(error: unknown): CommandOutcome {
  if (error instanceof DomainError) return 'rejected';
  if (error instanceof NotFoundError) return 'not-found';
  if (error instanceof PreconditionFailedError || error instanceof ContentionDeadlineError) return 'conflict';
  if (isEventStoreError(error, 'wrong-expected-revision')) return 'conflict';
  if (isEventStoreError(error, 'timeout') || isEventStoreError(error, 'unavailable')) return 'unavailable';
  return 'error';
}
