import { START, type EventStore, type GlobalPosition, type RecordedEvent } from '@dealstream/event-store';
import {
  WEBHOOK_STREAM_CATEGORY,
  WEBHOOK_STREAM_PREFIX,
  webhookDecider,
  type WebhookEvent,
  type WebhookState,
} from '@dealstream/webhooks-domain';

export interface KnownSubscription {
  readonly state: WebhookState;
  /** Revision of the subscription's stream last folded. */
  readonly revision: bigint;
}

/**
 * Every subscription, folded from the `webhook` category of the global feed — the streams are the
 * truth, so there is no table to keep in step with them. `catchUp` reads only what is new and
 * answers it, so the caller can apply each change once (a resume's rewind).
 */
export class SubscriptionRegistry {
  private cursor: GlobalPosition = START;
  private readonly known = new Map<string, KnownSubscription>();

  constructor(private readonly store: EventStore) {}

  async catchUp(): Promise<RecordedEvent<WebhookEvent>[]> {
    const fresh: RecordedEvent<WebhookEvent>[] = [];
    for (;;) {
      const batch = await this.store.readAll<WebhookEvent>({
        after: this.cursor,
        limit: 500,
        filter: { streamCategories: [WEBHOOK_STREAM_CATEGORY] },
      });
      for (const event of batch.events) {
        const id = event.streamId.slice(WEBHOOK_STREAM_PREFIX.length);
        const before = this.known.get(id)?.state ?? webhookDecider.initialState();
        this.known.set(id, { state: webhookDecider.evolve(before, event), revision: event.revision });
        fresh.push(event);
      }
      const moved = batch.cursor.major !== this.cursor.major || batch.cursor.minor !== this.cursor.minor;
      this.cursor = batch.cursor;
      if (batch.events.length === 0 || !moved) return fresh;
    }
  }

  get(subscriptionId: string): KnownSubscription | undefined {
    return this.known.get(subscriptionId);
  }

  all(): [string, KnownSubscription][] {
    return [...this.known.entries()];
  }
}
