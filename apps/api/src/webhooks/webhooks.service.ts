import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { CommandHandling, derivedId, type CommandContext, type WriteResult } from '@dealstream/command-handling';
import type { Database } from '@dealstream/database';
import { decodePosition, type RecordedEvent } from '@dealstream/event-store';
import {
  newWebhookSecret,
  secretFingerprint,
  SubscriptionRegistry,
  TargetRefusedError,
  type TargetPolicy,
} from '@dealstream/webhooks';
import {
  webhookDecider,
  webhookStreamName,
  type WebhookCommand,
  type WebhookState,
  type WebhookTarget,
} from '@dealstream/webhooks-domain';
import { DATABASE } from '../database.provider.js';
import { ApiProblem } from '../problem/api-problem.js';
import type { WebhookAttemptPageDto, WebhookSubscriptionDto } from './dtos/webhook.dto.js';

export const WEBHOOK_TARGET_POLICY = Symbol('WEBHOOK_TARGET_POLICY');

/** How long a rotated-out secret keeps signing. */
const SECRET_GRACE_HOURS = 24;

/** Matching events counted at most per subscription for `backlog` (a read stays cheap however far behind). */
const BACKLOG_COUNT_LIMIT = 10_000;

/**
 * The webhook routes' work: writes go through the subscription decider into `webhook-<id>` (so
 * every change is an audited event); reads fold those streams and join the worker's checkpoint.
 */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly writes: CommandHandling,
    @Inject(DATABASE) private readonly database: Database,
    @Inject(WEBHOOK_TARGET_POLICY) private readonly policy: TargetPolicy,
  ) {}

  async register(
    target: WebhookTarget,
    context: CommandContext,
  ): Promise<{ id: string; secret: string; result: WriteResult }> {
    await this.vet(target.url);
    const id = derivedId(context, 'webhook') ?? randomUUID();
    // A retried Idempotency-Key replays the first answer (secret included) before reaching here.
    const secret = newWebhookSecret();
    const secretId = randomUUID();
    await this.database.db
      .insertInto('webhooks.secrets')
      .values({ subscription_id: id, secret_id: secretId, secret })
      .onConflict((oc) => oc.columns(['subscription_id', 'secret_id']).doNothing())
      .execute();
    const result = await this.decide(
      id,
      {
        type: 'RegisterWebhook',
        data: { subscriptionId: id, ...target, secretId, secretFingerprint: secretFingerprint(secret) },
      },
      context,
    ).catch(async (error: unknown) => {
      await this.database.db.deleteFrom('webhooks.secrets').where('secret_id', '=', secretId).execute();
      throw error;
    });
    return { id, secret, result };
  }

  /** Changes the target in place; a new URL is vetted like a registration's (422 webhook-target-refused). */
  async change(id: string, changes: Partial<WebhookTarget>, context: CommandContext): Promise<WriteResult> {
    if (changes.url !== undefined) await this.vet(changes.url);
    return this.decide(id, { type: 'ChangeWebhook', data: changes }, context);
  }

  async decide(id: string, command: WebhookCommand, context?: CommandContext): Promise<WriteResult> {
    return this.writes.handle(webhookStreamName(id), webhookDecider, context ?? systemContext(), (state) => {
      if (command.type !== 'RegisterWebhook' && state.status === 'unregistered') throw notFound(id);
      return webhookDecider.decide(command, state);
    });
  }

  /**
   * A new secret, answered once; the older ones keep signing for SECRET_GRACE_HOURS (every POST then
   * carries one signature per secret), so receivers can switch without missing a request.
   */
  async rotateSecret(id: string, context: CommandContext): Promise<{ secret: string; result: WriteResult }> {
    const secret = newWebhookSecret();
    const secretId = randomUUID();
    const result = await this.decide(
      id,
      { type: 'RotateWebhookSecret', data: { secretId, secretFingerprint: secretFingerprint(secret) } },
      context,
    );
    // After the event: a rotation refused (unknown, deleted) leaves the secrets as they were.
    await this.database.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('webhooks.secrets')
        .set({ retire_after: sql<Date>`now() + ${SECRET_GRACE_HOURS} * interval '1 hour'` })
        .where('subscription_id', '=', id)
        .where('retire_after', 'is', null)
        .execute();
      await trx.insertInto('webhooks.secrets').values({ subscription_id: id, secret_id: secretId, secret }).execute();
    });
    return { secret, result };
  }

  async delete(id: string, context: CommandContext): Promise<WriteResult> {
    const result = await this.decide(id, { type: 'DeleteWebhook', data: {} }, context);
    await this.database.db.deleteFrom('webhooks.secrets').where('subscription_id', '=', id).execute();
    return result;
  }

  /** A subscription as it stands, or 404 (never registered, or deleted). */
  async show(id: string): Promise<WebhookSubscriptionDto> {
    const { state, revision } = await this.writes.aggregate(webhookStreamName(id), webhookDecider);
    if (revision === undefined || state.status === 'unregistered' || state.status === 'deleted') throw notFound(id);
    return this.view(id, state, revision);
  }

  async list(backlogLimit = BACKLOG_COUNT_LIMIT): Promise<WebhookSubscriptionDto[]> {
    const registry = new SubscriptionRegistry(this.writes.store);
    await registry.catchUp();
    const live = registry
      .all()
      .filter(([, known]) => known.state.status === 'active' || known.state.status === 'paused');
    return Promise.all(live.map(([id, known]) => this.view(id, known.state, known.revision, backlogLimit)));
  }

  /** The largest backlog among active and paused subscriptions, each counted up to `limit` (metrics, readiness). */
  async largestBacklog(limit = BACKLOG_COUNT_LIMIT): Promise<number> {
    const subscriptions = await this.list(limit);
    return Math.max(0, ...subscriptions.map((subscription) => subscription.delivery.backlog));
  }

  async attempts(id: string, before: string | undefined, limit: number): Promise<WebhookAttemptPageDto> {
    await this.show(id);
    let query = this.database.db
      .selectFrom('webhooks.attempts')
      .selectAll()
      .where('subscription_id', '=', id)
      .orderBy('attempt_id', 'desc')
      .limit(limit + 1);
    if (before !== undefined) query = query.where('attempt_id', '<', before);
    const rows = await query.execute();
    const page = rows.slice(0, limit);
    return {
      attempts: page.map((row) => ({
        attemptId: String(row.attempt_id),
        webhookId: row.webhook_id,
        eventId: row.event_id,
        streamId: row.stream_id,
        eventType: row.event_type,
        position: row.position,
        attempt: row.attempt,
        outcome: row.outcome,
        status: row.status,
        error: row.error,
        durationMs: row.duration_ms,
        responseExcerpt: row.response_excerpt,
        attemptedAt: new Date(row.attempted_at).toISOString(),
      })),
      next: rows.length > limit ? String(page[page.length - 1].attempt_id) : null,
    };
  }

  async history(id: string): Promise<RecordedEvent[]> {
    const events = await this.writes.store.readStream(webhookStreamName(id));
    if (events.length === 0) throw notFound(id);
    return events;
  }

  private async view(
    id: string,
    state: WebhookState,
    revision: bigint,
    backlogLimit = BACKLOG_COUNT_LIMIT,
  ): Promise<WebhookSubscriptionDto> {
    const checkpoint = await this.database.db
      .selectFrom('webhooks.checkpoints')
      .select(['position', 'failures', 'next_attempt_at', 'last_error', 'delivered'])
      .where('subscription_id', '=', id)
      .executeTakeFirst();
    return {
      id,
      url: state.url,
      eventTypes: [...state.eventTypes],
      categories: [...state.categories],
      description: state.description,
      status: state.status === 'paused' ? 'paused' : 'active',
      pausedReason: state.pausedReason,
      secretFingerprint: state.secretFingerprint,
      revision: revision.toString(),
      delivery: {
        checkpoint: checkpoint?.position ?? null,
        failures: checkpoint?.failures ?? 0,
        nextAttemptAt: checkpoint?.next_attempt_at ? new Date(checkpoint.next_attempt_at).toISOString() : null,
        lastError: checkpoint?.last_error ?? null,
        delivered: Number(checkpoint?.delivered ?? 0),
        backlog: checkpoint ? await this.backlog(state, checkpoint.position, backlogLimit) : 0,
      },
    };
  }

  private async backlog(state: WebhookState, position: string, limit: number): Promise<number> {
    let after = decodePosition(position);
    let count = 0;
    while (count < limit) {
      const batch = await this.writes.store.readAll({
        after,
        limit: Math.min(1000, limit - count),
        filter: {
          ...(state.eventTypes.length ? { eventTypes: state.eventTypes } : {}),
          ...(state.categories.length ? { streamCategories: state.categories } : {}),
        },
      });
      count += batch.events.length;
      if (batch.events.length === 0) break;
      after = batch.cursor;
    }
    return Math.min(count, limit);
  }

  private async vet(url: string): Promise<void> {
    // A URL that breaks its own rules is the decider's to refuse (422 invalid-webhook, every problem at once).
    if (!URL.canParse(url) || !['http:', 'https:'].includes(new URL(url).protocol)) return;
    try {
      await this.policy.vet(url);
    } catch (error) {
      if (error instanceof TargetRefusedError)
        throw new ApiProblem(422, 'webhook-target-refused', error.message, { details: { reason: error.reason } });
      throw error;
    }
  }
}

function notFound(id: string): ApiProblem {
  return new ApiProblem(404, 'webhook-not-found', `webhook subscription ${id} does not exist (or was deleted)`);
}

function systemContext(): CommandContext {
  return { actorId: 'system:webhooks', correlationId: randomUUID(), now: new Date() };
}
