import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { handleCommand } from '@dealstream/command-handling';
import type { EventStore } from '@dealstream/event-store';
import { newWebhookSecret, type WebhookTables } from '@dealstream/webhooks';
import { webhookDecider, webhookStreamName } from '@dealstream/webhooks-domain';

/**
 * Registers a subscription the way the API does, without the API: its secret row, then the
 * `RegisterWebhook` command through the webhook decider. Answers the subscription id.
 */
export async function registerTestSubscription(
  db: Kysely<WebhookTables>,
  store: EventStore,
  url: string,
  eventTypes: string[],
): Promise<string> {
  const id = randomUUID();
  const secretId = randomUUID();
  await db
    .insertInto('webhooks.secrets')
    .values({ subscription_id: id, secret_id: secretId, secret: newWebhookSecret() })
    .execute();
  await handleCommand(
    store,
    webhookStreamName(id),
    (state) =>
      webhookDecider.decide(
        {
          type: 'RegisterWebhook',
          data: {
            subscriptionId: id,
            url,
            eventTypes,
            categories: [],
            description: '',
            secretId,
            secretFingerprint: 'f',
          },
        },
        state,
      ),
    { decider: webhookDecider, context: { actorId: 'test', correlationId: randomUUID(), now: new Date() } },
  );
  return id;
}
