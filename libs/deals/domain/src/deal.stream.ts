/** Stream names are part of the stored data: changing the prefix orphans every existing deal. */
export const DEAL_STREAM_PREFIX = 'deal-';

/** `dealStreamName('9c1e…')` → `'deal-9c1e…'` */
export function dealStreamName(dealId: string): string {
  return `${DEAL_STREAM_PREFIX}${dealId}`;
}
