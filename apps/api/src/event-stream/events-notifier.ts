import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Database } from '@dealstream/database';
import { EVENTS_NOTIFY_CHANNEL } from '@dealstream/event-store';
import { DATABASE } from '../database.provider.js';

/**
 * One LISTEN on the store's NOTIFY channel for every open stream of this instance (a LISTEN holds a
 * connection of its own), opened when the first stream starts. A notification is a hint to read the
 * store, never a delivery: streams also poll, and read from their own cursor either way. The
 * reconnecting listener pokes with '' after it re-establishes LISTEN, which wakes every stream too.
 */
@Injectable()
export class EventsNotifier implements OnModuleDestroy {
  private readonly subscribers = new Set<() => void>();
  private listening: Promise<() => Promise<void>> | undefined;

  constructor(@Inject(DATABASE) private readonly database: Database) {}

  /** Calls `onNotify` on every append committed anywhere (best effort); returns the unsubscribe. */
  subscribe(onNotify: () => void): () => void {
    this.subscribers.add(onNotify);
    this.listening ??= this.database
      .listen(EVENTS_NOTIFY_CHANNEL, () => {
        for (const subscriber of this.subscribers) subscriber();
      })
      .catch(() => {
        // No LISTEN (cannot happen on a server: the listener retries in the background): streams poll.
        this.listening = undefined;
        return async () => {};
      });
    return () => this.subscribers.delete(onNotify);
  }

  async onModuleDestroy(): Promise<void> {
    this.subscribers.clear();
    const unlisten = await this.listening;
    this.listening = undefined;
    await unlisten?.().catch(() => {}); // the database may be closed already: its listener with it
  }
}
