import {
  comparePositions,
  type EventSubscription,
  type GlobalPosition,
  type RecordedEvent,
  type SubscribableEventStore,
} from '@dealstream/event-store';

export type SubscriptionState = 'idle' | 'subscribing' | 'live' | 'backoff' | 'stopped';

export interface SubscriptionStatus {
  readonly state: SubscriptionState;
  /** Times the subscription was replaced after an error or a silence. */
  readonly restarts: number;
  readonly lastEventAt: string | null;
  readonly lastError: string | null;
}

export interface SubscriptionSupervisorOptions {
  readonly store: SubscribableEventStore;
  /** No event for this long while the store has events after the last one delivered = stalled. */
  readonly silenceMs?: number;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /**
   * Most events held for the runner: past it the subscription is paused until the runner has taken
   * half of them (backpressure; memory stays flat however far behind the runner is). Default 2000.
   */
  readonly maxBuffered?: number;
}

/**
 * Keeps a catch-up subscription to the global order alive for the projection runner. The Node
 * EventStoreDB client does not resubscribe by itself, so: on an error, or when the subscription has
 * been silent past `silenceMs` while the store does hold events after the last one it delivered (probed
 * with one bounded `readAll`), it drops what it buffered and subscribes again from the last
 * committed checkpoint, backing off exponentially while failures repeat.
 */
export class SubscriptionSupervisor {
  private state: SubscriptionState = 'idle';
  private restarts = 0;
  private failuresInRow = 0;
  private lastEventAt: number | null = null;
  private lastActivity = Date.now();
  private lastError: string | null = null;
  private committed: GlobalPosition = { major: 0n, minor: 0n };
  private buffered: GlobalPosition = this.committed;
  private buffer: RecordedEvent[] = [];
  private subscription: EventSubscription | undefined;
  private generation = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private probing = false;
  private readonly silenceMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxBuffered: number;
  private paused = false;

  constructor(private readonly options: SubscriptionSupervisorOptions) {
    this.silenceMs = options.silenceMs ?? 30_000;
    this.initialBackoffMs = options.initialBackoffMs ?? 200;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.maxBuffered = Math.max(1, options.maxBuffered ?? 2000);
  }

  /** Events held for the runner now (at most `maxBuffered`, plus what was in flight when it paused). */
  get bufferedCount(): number {
    return this.buffer.length;
  }

  start(from: GlobalPosition): void {
    this.committed = from;
    this.subscribe();
    this.watchdog = setInterval(() => void this.checkSilence(), Math.max(10, Math.floor(this.silenceMs / 3)));
  }

  /** Up to `limit` buffered events in global order, waiting at most `maxWaitMs` for the first. */
  async take(limit: number, maxWaitMs: number): Promise<RecordedEvent[]> {
    if (this.buffer.length === 0 && this.state !== 'stopped') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, maxWaitMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = undefined;
    }
    const taken = this.buffer.splice(0, limit);
    if (this.paused && this.buffer.length <= this.maxBuffered / 2) {
      this.paused = false;
      this.lastActivity = Date.now(); // silence while paused was ours, not the subscription's
      this.subscription?.resume();
    }
    return taken;
  }

  /** The runner applied everything up to `position`: a resubscription starts there. */
  commit(position: GlobalPosition): void {
    this.committed = position;
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    clearInterval(this.watchdog);
    clearTimeout(this.retry);
    this.wake?.();
    await this.subscription?.close();
    this.subscription = undefined;
  }

  status(): SubscriptionStatus {
    return {
      state: this.state,
      restarts: this.restarts,
      lastEventAt: this.lastEventAt === null ? null : new Date(this.lastEventAt).toISOString(),
      lastError: this.lastError,
    };
  }

  private subscribe(): void {
    if (this.state === 'stopped') return;
    const generation = ++this.generation;
    this.state = 'subscribing';
    this.buffer = [];
    this.paused = false;
    this.buffered = this.committed;
    this.lastActivity = Date.now();
    try {
      this.subscription = this.options.store.subscribeToAll(this.committed, {
        onEvent: (event) => {
          if (generation !== this.generation || this.state === 'stopped') return;
          // After a resubscription the server may repeat what we already hold: keep the order strict.
          if (comparePositions(event.position, this.buffered) <= 0) return;
          this.buffered = event.position;
          this.buffer.push(event);
          this.state = 'live';
          this.failuresInRow = 0;
          this.lastEventAt = this.lastActivity = Date.now();
          if (!this.paused && this.buffer.length >= this.maxBuffered) {
            this.paused = true;
            this.subscription?.pause();
          }
          this.wake?.();
        },
        onError: (error) => {
          if (generation === this.generation) this.fail(error);
        },
      });
      if (this.state === 'subscribing') this.state = 'live';
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    if (this.state === 'stopped') return;
    this.lastError = error instanceof Error ? error.message : String(error);
    this.generation++;
    const old = this.subscription;
    this.subscription = undefined;
    void old?.close().catch(() => undefined);
    this.buffer = [];
    this.paused = false;
    this.state = 'backoff';
    this.restarts++;
    const delay = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** this.failuresInRow);
    this.failuresInRow++;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.subscribe(), delay);
  }

  /** Silent for too long while there is something to deliver: the subscription is stuck. */
  private async checkSilence(): Promise<void> {
    if (this.state !== 'live' || this.probing || this.buffer.length > 0 || this.paused) return;
    if (Date.now() - this.lastActivity < this.silenceMs) return;
    this.probing = true;
    const generation = this.generation;
    try {
      // After what the subscription delivered, not after the commit: events it delivered that the
      // runner is still applying are a slow runner, not a stuck subscription.
      const probe = await this.options.store.readAll({ after: this.buffered, limit: 1 });
      this.lastActivity = Date.now();
      if (probe.events.length > 0 && generation === this.generation && this.buffer.length === 0) {
        this.fail(new Error(`subscription silent for ${this.silenceMs} ms while the store has newer events`));
      }
    } catch (error) {
      if (generation === this.generation) this.fail(error);
    } finally {
      this.probing = false;
    }
  }
}
