/*
 * A dealstream consumer in TypeScript, as docs/integration.md shows it; test/e2e/integration-example.e2e.spec.ts
 * runs it against the real API. Two ways in: page the feed (pull), or receive webhooks (push).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createDealstreamClient, type components } from '@dealstream/client';

export type FeedEvent = components['schemas']['AuditEventDto'];

/**
 * Pull: every event after `after` (a cursor you stored; omit it the first time), in global order,
 * page by page. Store the returned cursor only once you have handled the events: a crash then
 * re-reads at most the last page, which you dedupe by `eventId`.
 */
export async function readFeed(
  options: { baseUrl: string; token: string; after?: string; category?: string },
  handle: (event: FeedEvent) => Promise<void>,
): Promise<string | undefined> {
  const api = createDealstreamClient({ baseUrl: options.baseUrl, token: options.token });
  let cursor = options.after;
  for (;;) {
    const { data, error } = await api.GET('/events', {
      params: { query: { after: cursor, limit: 500, category: options.category } },
    });
    if (error) throw new Error(`GET /events: ${error.code}: ${error.detail}`);
    for (const event of data.events) await handle(event);
    if (data.events.length === 0) return cursor;
    cursor = data.next;
  }
}

/**
 * Push: checks one webhook request as Standard Webhooks says — the signature over
 * `${webhook-id}.${webhook-timestamp}.${body}` with the `whsec_` secret, and a timestamp within five
 * minutes (replays of old requests) — and answers the event, or undefined when it must be refused (401).
 */
export function verifyWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  nowMs = Date.now(),
): FeedEvent | undefined {
  const id = headers['webhook-id'];
  const timestamp = Number(headers['webhook-timestamp']);
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof signatures !== 'string' || !Number.isFinite(timestamp)) return undefined;
  if (Math.abs(nowMs / 1000 - timestamp) > 300) return undefined;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  const valid = signatures.split(' ').some((entry) => {
    const given = Buffer.from(entry.replace(/^v1,/, ''), 'base64');
    return entry.startsWith('v1,') && given.length === expected.length && timingSafeEqual(given, expected);
  });
  return valid ? (JSON.parse(body) as FeedEvent) : undefined;
}

/**
 * Delivery is at least once: the same event can arrive again (a retry after a lost answer, a replay),
 * always with the same `webhook-id`. Remember the ids you handled (in production: in the same
 * transaction as what you do with the event) and skip the repeats; answer 2xx either way.
 */
export class SeenWebhooks {
  private readonly seen = new Set<string>();

  /** True the first time an id is offered. */
  first(webhookId: string): boolean {
    if (this.seen.has(webhookId)) return false;
    this.seen.add(webhookId);
    return true;
  }
}
