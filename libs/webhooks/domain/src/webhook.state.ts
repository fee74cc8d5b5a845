import type { WebhookTarget } from './webhook.events.js';

/** `'unregistered'` is the state of a stream with no events yet. */
export type WebhookStatus = 'unregistered' | 'active' | 'paused' | 'deleted';

export interface WebhookState extends WebhookTarget {
  readonly status: WebhookStatus;
  readonly subscriptionId: string;
  readonly secretId: string;
  readonly secretFingerprint: string;
  /** Why it is paused (null while active). */
  readonly pausedReason: 'manual' | 'failing' | null;
  /** Number of events folded. */
  readonly version: number;
}

export function initialWebhookState(): WebhookState {
  return {
    status: 'unregistered',
    subscriptionId: '',
    url: '',
    eventTypes: [],
    categories: [],
    description: '',
    secretId: '',
    secretFingerprint: '',
    pausedReason: null,
    version: 0,
  };
}
