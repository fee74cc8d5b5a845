/** Stream names are stored data: changing the prefix orphans every subscription. Category: `webhook`. */
export const WEBHOOK_STREAM_PREFIX = 'webhook-';
export const WEBHOOK_STREAM_CATEGORY = 'webhook';

/** `webhookStreamName('0b6f…')` → `'webhook-0b6f…'` */
export function webhookStreamName(subscriptionId: string): string {
  return `${WEBHOOK_STREAM_PREFIX}${subscriptionId}`;
}
