import type { Event } from '@dealstream/decider';

/*
 * Facts about one webhook subscription, in its own stream `webhook-<id>`; who and when live in the
 * envelope's metadata, so a subscription's audit is the audit of any stream. The secret is never in
 * an event (events are immutable and readable through GET /events): only its id and a fingerprint.
 */

export interface WebhookTarget {
  readonly url: string;
  /** Event types delivered; empty = every type. */
  readonly eventTypes: string[];
  /** Stream categories delivered (`deal`, `pipeline`, …); empty = every category. */
  readonly categories: string[];
  readonly description: string;
}

export type WebhookSubscriptionRegistered = Event<
  'WebhookSubscriptionRegistered',
  WebhookTarget & { subscriptionId: string; secretId: string; secretFingerprint: string }
>;

/** The target changed in place: the fields that changed, with their new values (the others stay). */
export type WebhookSubscriptionChanged = Event<'WebhookSubscriptionChanged', Partial<WebhookTarget>>;

/** `failing`: the delivery worker gave up after the bound (or a 410 Gone); `manual`: an admin paused it. */
export type WebhookSubscriptionPaused = Event<
  'WebhookSubscriptionPaused',
  { reason: 'manual' | 'failing'; failures: number; lastError: string | null }
>;

/** `fromPosition`: a feed cursor to replay from (null: go on from the checkpoint). */
export type WebhookSubscriptionResumed = Event<'WebhookSubscriptionResumed', { fromPosition: string | null }>;

/** A new signing secret; the previous ones keep signing for a grace period (the application's). */
export type WebhookSecretRotated = Event<'WebhookSecretRotated', { secretId: string; secretFingerprint: string }>;

export type WebhookSubscriptionDeleted = Event<'WebhookSubscriptionDeleted', Record<string, never>>;

export type WebhookEvent =
  | WebhookSubscriptionRegistered
  | WebhookSubscriptionChanged
  | WebhookSubscriptionPaused
  | WebhookSubscriptionResumed
  | WebhookSecretRotated
  | WebhookSubscriptionDeleted;
