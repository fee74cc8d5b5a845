import type { EventStore } from './event-store.port.js';
import type { RecordedEvent } from './event-store.types.js';
import type { GlobalPosition } from './global-position.js';

export interface EventSubscriptionHandlers {
  /** Every event after the start position, in global order, system events excluded. */
  onEvent(event: RecordedEvent): void;
  /** The subscription broke; it delivers nothing more. Resubscribing is the caller's job. */
  onError(error: unknown): void;
}

export interface EventSubscription {
  close(): Promise<void>;
  /**
   * Backpressure: stop delivering until `resume()`. What the transport already carries may still
   * arrive (a few events); the server is then held back by flow control, so a consumer that is
   * behind holds a bounded number of events whatever the size of the store.
   */
  pause(): void;
  resume(): void;
}

/**
 * An event store that can push the global order (a catch-up subscription) instead of being polled.
 * EventStoreDB does; the SQL store is read with `readAll` and woken by NOTIFY.
 */
export interface SubscribableEventStore extends EventStore {
  subscribeToAll(after: GlobalPosition, handlers: EventSubscriptionHandlers): EventSubscription;
}

export function isSubscribable(store: EventStore): store is SubscribableEventStore {
  return typeof (store as Partial<SubscribableEventStore>).subscribeToAll === 'function';
}
