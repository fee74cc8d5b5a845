import type { WebhookTarget } from './webhook.events.js';
import { webhookError } from './webhook.errors.js';

const MAX_FILTER_ENTRIES = 100;
const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9]{0,99}$/;
const CATEGORY = /^[a-z0-9][a-z0-9_]{0,63}$/;

/**
 * The target's own rules, whatever the deployment: an absolute http(s) URL without credentials or
 * fragment, filters that name types and categories as the store spells them. Where the URL may
 * point (https only, no private addresses) is the deployment's policy, checked by the application.
 */
export function requireValidTarget(target: WebhookTarget): WebhookTarget {
  const problems: string[] = [];
  let url: URL | undefined;
  try {
    url = new URL(target.url);
  } catch {
    problems.push('url is not an absolute URL');
  }
  if (url) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push('url must be http or https');
    if (url.username || url.password) problems.push('url must not carry credentials');
    if (url.hash) problems.push('url must not carry a fragment');
  }
  if (target.url.length > 2000) problems.push('url is longer than 2000 characters');
  const badTypes = target.eventTypes.filter((type) => !EVENT_TYPE.test(type));
  if (badTypes.length) problems.push(`not event type names: ${badTypes.join(', ')}`);
  const badCategories = target.categories.filter((category) => !CATEGORY.test(category));
  if (badCategories.length) problems.push(`not stream categories: ${badCategories.join(', ')}`);
  if (target.eventTypes.length > MAX_FILTER_ENTRIES || target.categories.length > MAX_FILTER_ENTRIES)
    problems.push(`at most ${MAX_FILTER_ENTRIES} event types and ${MAX_FILTER_ENTRIES} categories`);
  if (target.description.length > 500) problems.push('description is longer than 500 characters');
  if (problems.length) throw webhookError('invalid-webhook', problems.join('; '), { problems });
  return {
    url: url!.toString(),
    eventTypes: [...new Set(target.eventTypes)],
    categories: [...new Set(target.categories)],
    description: target.description.trim(),
  };
}
