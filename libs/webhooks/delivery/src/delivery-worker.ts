import { randomBytes, randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { v5 as uuidv5 } from 'uuid';
import { toEventView } from '@dealstream/audit';
import { handleCommand } from '@dealstream/command-handling';
import { isDomainError } from '@dealstream/decider';
import {
  comparePositions,
  decodePosition,
  encodePosition,
  type EventStore,
  type RecordedEvent,
} from '@dealstream/event-store';
import { webhookDecider, webhookStreamName, type WebhookEvent } from '@dealstream/webhooks-domain';
import type { WebhookConfig } from './delivery-config.js';
import { SubscriptionRegistry, type KnownSubscription } from './subscription-registry.js';
import { TargetRefusedError, type TargetPolicy } from './target-policy.js';
import { postWebhook, type PostOutcome } from './webhook-post.js';
import { signWebhook } from './webhook-signature.js';
import type { WebhookTables } from './webhook.tables.js';

/** Namespace of webhook-ids: UUID v5 of (subscription id, event id). Never change it. */
const WEBHOOK_ID_NAMESPACE = '1f0a3c52-8d4e-4b7a-9f61-3c2e5d8b7a90';

/** The actor of the events the worker itself appends (a pause after the bound). */
export const DELIVERY_ACTOR = 'system:webhook-delivery';

export type DeliveryOutcome = PostOutcome['outcome'] | 'refused-target';

/** The worker's settings are WEBHOOK_* (delivery-config.ts); attempt rows are kept forever when no retention is given. */
export interface DeliveryWorkerOptions extends Pick<
  WebhookConfig,
  'maxFailures' | 'backoffBaseMs' | 'backoffMaxMs' | 'timeoutMs' | 'pollMs' | 'leaseMs'
> {
  readonly db: Kysely<WebhookTables>;
  readonly store: EventStore;
  readonly policy: TargetPolicy;
  readonly attemptRetentionMs?: number;
  readonly log?: (entry: Record<string, unknown>) => void;
  /** Called once per attempt (metrics). */
  readonly onAttempt?: (outcome: DeliveryOutcome) => void;
  /**
   * Test-only fault injection: runs after the POST answered and before its record commits. A throw
   * there is what a crash between the two leaves behind: a POST the checkpoint does not know of.
   */
  readonly beforeRecord?: () => Promise<void>;
}

/** The webhook-id of an event for a subscription: the same on every retry and every replay. */
export function webhookIdOf(subscriptionId: string, eventId: string): string {
  return uuidv5(`${subscriptionId}\u0000${eventId}`, WEBHOOK_ID_NAMESPACE);
}

/** The subscription's filter as the store's readAll takes it (empty lists: everything). */
function filterOf({ state: { eventTypes, categories } }: KnownSubscription) {
  return {
    ...(eventTypes.length ? { eventTypes } : {}),
    ...(categories.length ? { streamCategories: categories } : {}),
  };
}

/**
 * A W3C `traceparent` continuing the trace of the request that wrote the event: its correlation id is
 * a trace-id when that request carried one (the API takes it from `traceparent`). A new span id per POST.
 */
function traceparentOf(event: RecordedEvent): { traceparent?: string } {
  const traceId = event.metadata.correlationId;
  if (!traceId || !/^[0-9a-f]{32}$/.test(traceId) || /^0+$/.test(traceId)) return {};
  return { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
}

/**
 * Backoff after the n-th consecutive failure: d = min(max, base·2^(n−1)), waited as d/2 + random·d/2
 * ("equal jitter": spread, but never less than half, so a failing receiver gets its rest).
 */
export function backoffMs(failures: number, baseMs: number, maxMs: number, random = Math.random): number {
  const d = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(d / 2 + random() * (d / 2));
}

/**
 * Delivers the global feed to every active subscription, one event in flight per subscription, in
 * global order (hence in order per stream). Per subscription: claim it (a lease row, so N workers
 * share the work and one that dies is replaced after `leaseMs`), read after its checkpoint with its
 * filter, POST, and record the attempt and move the checkpoint in one transaction. A crash between
 * the POST and that commit sends the event again with the same webhook-id: at-least-once.
 */
export class WebhookDeliveryWorker {
  private readonly owner = `worker-${randomUUID()}`;
  private readonly registry: SubscriptionRegistry;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private lastPurge = 0;

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.registry = new SubscriptionRegistry(options.store);
  }

  start(): void {
    this.stopping = false;
    const loop = async () => {
      while (!this.stopping) {
        try {
          await this.tick();
        } catch (error) {
          this.options.log?.({ level: 'warn', msg: 'webhook delivery round failed', error: String(error) });
        }
        if (this.stopping) break;
        await new Promise<void>((resolve) => {
          this.timer = setTimeout(resolve, this.options.pollMs);
          this.wake = resolve;
        });
      }
    };
    this.running = loop();
  }

  /** Lets the deliveries in flight finish and record, then releases this worker's claims. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.wake?.();
    await this.running;
    await this.options.db
      .updateTable('webhooks.checkpoints')
      .set({ lease_owner: null, lease_until: null })
      .where('lease_owner', '=', this.owner)
      .execute()
      .catch(() => {});
  }

  /** Looks for work now instead of at the next poll. */
  poke(): void {
    this.wake?.();
  }

  /** One round: catch up on subscription changes, then deliver what each active subscription is due. */
  async tick(): Promise<void> {
    if (Date.now() - this.lastPurge > 3_600_000) {
      this.lastPurge = Date.now();
      await this.purgeAttempts();
    }
    for (const event of await this.registry.catchUp()) await this.applySubscriptionEvent(event);
    await Promise.all(
      this.registry
        .all()
        .filter(([, known]) => known.state.status === 'active')
        .map(([id, known]) => this.deliverDue(id, known)),
    );
  }

  /** Deletes attempt rows older than the retention, and secrets past their grace period. */
  async purgeAttempts(): Promise<number> {
    await this.options.db
      .deleteFrom('webhooks.secrets')
      .where('retire_after', '<', sql<Date>`now()`)
      .execute();
    const retentionMs = this.options.attemptRetentionMs ?? 7 * 86_400_000;
    if (retentionMs === 0) return 0;
    const result = await this.options.db
      .deleteFrom('webhooks.attempts')
      // Raw: interval arithmetic on the database clock.
      .where('attempted_at', '<', sql<Date>`now() - ${retentionMs} * interval '1 millisecond'`)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  private async applySubscriptionEvent(event: RecordedEvent<WebhookEvent>): Promise<void> {
    const { db } = this.options;
    const subscriptionId = event.streamId.slice('webhook-'.length);
    const revision = event.revision.toString();
    if (event.type === 'WebhookSubscriptionRegistered') {
      // Delivery starts after the registration: the subscription receives what happens from then on.
      await db
        .insertInto('webhooks.checkpoints')
        .values({
          subscription_id: subscriptionId,
          position: encodePosition(event.position),
          applied_revision: revision,
          failures: 0,
          next_attempt_at: null,
          last_error: null,
          lease_owner: null,
          lease_until: null,
        })
        .onConflict((oc) => oc.column('subscription_id').doNothing())
        .execute();
      return;
    }
    // Each change applies once: a worker that folds the streams again from the start finds them applied.
    const fromPosition = event.type === 'WebhookSubscriptionResumed' ? event.data.fromPosition : null;
    await db
      .updateTable('webhooks.checkpoints')
      .set((eb) => ({
        applied_revision: revision,
        ...(event.type === 'WebhookSubscriptionResumed'
          ? { failures: 0, next_attempt_at: null, ...(fromPosition ? { position: fromPosition } : {}) }
          : {}),
        updated_at: eb.fn<Date>('now'),
      }))
      .where('subscription_id', '=', subscriptionId)
      .where('applied_revision', '<', revision)
      .execute();
  }

  private async deliverDue(subscriptionId: string, known: KnownSubscription): Promise<void> {
    const { db, leaseMs, maxFailures } = this.options;
    // A read first: an idle subscription costs one select and one store read per poll, never a write.
    const row = await db
      .selectFrom('webhooks.checkpoints')
      .select('position')
      .where('subscription_id', '=', subscriptionId)
      .executeTakeFirst();
    if (!row) return;
    const next = await this.options.store.readAll({
      after: decodePosition(row.position),
      limit: 1,
      filter: filterOf(known),
    });
    if (next.events.length === 0 && comparePositions(next.cursor, decodePosition(row.position)!) === 0) return;
    // Raw: interval arithmetic on the database clock (leases and backoff never use a process's clock).
    const claimed = await db
      .updateTable('webhooks.checkpoints')
      .set({ lease_owner: this.owner, lease_until: sql<Date>`now() + ${leaseMs} * interval '1 millisecond'` })
      .where('subscription_id', '=', subscriptionId)
      .where('failures', '<', maxFailures)
      .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', sql<Date>`now()`)]))
      .where((eb) =>
        eb.or([
          eb('lease_owner', 'is', null),
          eb('lease_owner', '=', this.owner),
          eb('lease_until', '<', sql<Date>`now()`),
        ]),
      )
      .returning(['position', 'failures'])
      .executeTakeFirst();
    if (!claimed) return;
    try {
      await this.deliverFrom(subscriptionId, known, claimed.position, claimed.failures);
    } finally {
      await db
        .updateTable('webhooks.checkpoints')
        .set({ lease_owner: null, lease_until: null })
        .where('subscription_id', '=', subscriptionId)
        .where('lease_owner', '=', this.owner)
        .execute();
    }
  }

  private async deliverFrom(
    subscriptionId: string,
    known: KnownSubscription,
    startPosition: string,
    startFailures: number,
  ): Promise<void> {
    const { store } = this.options;
    let position = startPosition;
    let failures = startFailures;
    const deadline = Date.now() + this.options.leaseMs / 2;
    while (!this.stopping && Date.now() < deadline) {
      const batch = await store.readAll({
        after: decodePosition(position),
        limit: 100,
        filter: filterOf(known),
      });
      for (const event of batch.events) {
        if (this.stopping) return;
        const result = await this.attempt(subscriptionId, known, event, position, failures);
        if (result === 'lost') return;
        if (result !== 'delivered') return; // backoff: the next round after next_attempt_at
        position = encodePosition(event.position);
        failures = 0;
      }
      // Events the filter skipped after the last delivered one: the checkpoint passes them too.
      const cursor = encodePosition(batch.cursor);
      if (comparePositions(batch.cursor, decodePosition(position)!) > 0) {
        const moved = await this.moveCheckpoint(subscriptionId, position, cursor);
        if (!moved) return;
        position = cursor;
      }
      if (batch.events.length === 0) return;
    }
  }

  private async moveCheckpoint(subscriptionId: string, from: string, to: string): Promise<boolean> {
    const result = await this.options.db
      .updateTable('webhooks.checkpoints')
      .set({ position: to })
      .where('subscription_id', '=', subscriptionId)
      .where('position', '=', from)
      .where('lease_owner', '=', this.owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** POSTs one event and records it; 'lost' when the checkpoint moved under this worker (a resume). */
  private async attempt(
    subscriptionId: string,
    known: KnownSubscription,
    event: RecordedEvent,
    position: string,
    failures: number,
  ): Promise<'delivered' | 'failed' | 'lost'> {
    const { db, policy } = this.options;
    const webhookId = webhookIdOf(subscriptionId, event.eventId);
    const body = JSON.stringify(toEventView(event));
    let result:
      PostOutcome | { outcome: 'refused-target'; status: null; error: string; durationMs: number; excerpt: null };
    try {
      const { url, addresses } = await policy.vet(known.state.url);
      // The current secret and, during a rotation's grace period, the older ones.
      const secrets = await db
        .selectFrom('webhooks.secrets')
        .select('secret')
        .where('subscription_id', '=', subscriptionId)
        .where((eb) => eb.or([eb('retire_after', 'is', null), eb('retire_after', '>', sql<Date>`now()`)]))
        .orderBy('created_at', 'desc')
        .execute();
      if (secrets.length === 0) throw new Error(`no secret stored for webhook subscription ${subscriptionId}`);
      const timestamp = Math.floor(Date.now() / 1000);
      result = await postWebhook(
        url,
        addresses,
        {
          'content-type': 'application/json',
          'user-agent': 'dealstream-webhooks/1',
          'webhook-id': webhookId,
          'webhook-timestamp': String(timestamp),
          // During a rotation every current secret signs (space-separated), as Standard Webhooks allows.
          'webhook-signature': secrets.map(({ secret }) => signWebhook(secret, webhookId, timestamp, body)).join(' '),
          ...traceparentOf(event),
        },
        body,
        this.options.timeoutMs,
      );
    } catch (error) {
      if (!(error instanceof TargetRefusedError)) throw error;
      result = { outcome: 'refused-target', status: null, error: error.message, durationMs: 0, excerpt: null };
    }
    this.options.onAttempt?.(result.outcome);
    await this.options.beforeRecord?.();
    const delivered = result.outcome === 'delivered';
    const nextFailures = delivered ? 0 : failures + 1;
    const waitMs = delivered
      ? 0
      : Math.max(
          backoffMs(nextFailures, this.options.backoffBaseMs, this.options.backoffMaxMs),
          Math.min(
            this.options.backoffMaxMs,
            ('retryAfterSeconds' in result ? (result.retryAfterSeconds ?? 0) : 0) * 1000,
          ),
        );
    // One transaction: the delivery record and the checkpoint (or the failure count) move together.
    const moved = await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('webhooks.attempts')
        .values({
          subscription_id: subscriptionId,
          webhook_id: webhookId,
          event_id: event.eventId,
          stream_id: event.streamId,
          event_type: event.type,
          position: encodePosition(event.position),
          attempt: failures + 1,
          outcome: result.outcome,
          status: result.status,
          error: result.error,
          duration_ms: result.durationMs,
          response_excerpt: result.excerpt,
        })
        .execute();
      const update = await trx
        .updateTable('webhooks.checkpoints')
        .set((eb) =>
          delivered
            ? {
                position: encodePosition(event.position),
                failures: 0,
                next_attempt_at: null,
                last_error: null,
                delivered: sql<string>`delivered + 1`,
                updated_at: eb.fn<Date>('now'),
              }
            : {
                failures: nextFailures,
                next_attempt_at: sql<Date>`now() + ${waitMs} * interval '1 millisecond'`,
                last_error: result.error,
                updated_at: eb.fn<Date>('now'),
              },
        )
        .where('subscription_id', '=', subscriptionId)
        .where('position', '=', position)
        .where('lease_owner', '=', this.owner)
        .executeTakeFirst();
      return Number(update.numUpdatedRows) === 1;
    });
    if (!moved) return 'lost';
    if (delivered) return 'delivered';
    const gone = result.status === 410;
    if (gone || nextFailures >= this.options.maxFailures) await this.pause(subscriptionId, nextFailures, result.error);
    return 'failed';
  }

  private async pause(subscriptionId: string, failures: number, lastError: string | null): Promise<void> {
    try {
      await handleCommand(
        this.options.store,
        webhookStreamName(subscriptionId),
        (state) =>
          webhookDecider.decide({ type: 'PauseWebhook', data: { reason: 'failing', failures, lastError } }, state),
        {
          decider: webhookDecider,
          context: { actorId: DELIVERY_ACTOR, correlationId: randomUUID(), now: new Date() },
        },
      );
      this.options.log?.({ level: 'warn', msg: 'webhook subscription paused', subscriptionId, failures, lastError });
    } catch (error) {
      // Paused or deleted meanwhile: nothing left to do.
      if (!isDomainError(error)) throw error;
    }
  }
}
