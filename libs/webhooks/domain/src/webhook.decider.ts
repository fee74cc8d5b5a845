import type { Decider } from '@dealstream/decider';
import type { WebhookCommand } from './webhook.commands.js';
import { webhookError } from './webhook.errors.js';
import type { WebhookEvent, WebhookTarget } from './webhook.events.js';
import { initialWebhookState, type WebhookState } from './webhook.state.js';
import { requireValidTarget } from './webhook.validation.js';

/** Checks run in this order: the command's own fields (`invalid`), then the subscription's status (`conflict`). */
export function decideWebhook(command: WebhookCommand, state: WebhookState): WebhookEvent[] {
  switch (command.type) {
    case 'RegisterWebhook': {
      const { subscriptionId, secretId, secretFingerprint, ...target } = command.data;
      const valid = requireValidTarget(target);
      if (state.status !== 'unregistered')
        throw webhookError('webhook-already-registered', `webhook subscription ${subscriptionId} exists already`);
      return [
        {
          type: 'WebhookSubscriptionRegistered',
          data: { subscriptionId, ...valid, secretId, secretFingerprint },
        },
      ];
    }
    case 'ChangeWebhook': {
      requireNotDeleted(state);
      const current: WebhookTarget = {
        url: state.url,
        eventTypes: state.eventTypes,
        categories: state.categories,
        description: state.description,
      };
      const next = requireValidTarget({ ...current, ...definedFields(command.data) });
      const changed = changedFields(current, next);
      // Nothing differs: nothing to record (a retried change is not a second change).
      return Object.keys(changed).length ? [{ type: 'WebhookSubscriptionChanged', data: changed }] : [];
    }
    case 'PauseWebhook':
      requireNotDeleted(state);
      if (state.status === 'paused')
        throw webhookError('webhook-already-paused', `webhook subscription ${state.subscriptionId} is paused already`);
      return [{ type: 'WebhookSubscriptionPaused', data: { ...command.data } }];
    case 'ResumeWebhook':
      requireNotDeleted(state);
      if (state.status !== 'paused' && command.data.fromPosition === null)
        throw webhookError(
          'webhook-not-paused',
          `webhook subscription ${state.subscriptionId} is not paused; give fromPosition to replay`,
        );
      return [{ type: 'WebhookSubscriptionResumed', data: { fromPosition: command.data.fromPosition } }];
    case 'RotateWebhookSecret':
      requireNotDeleted(state);
      return [{ type: 'WebhookSecretRotated', data: { ...command.data } }];
    case 'DeleteWebhook':
      requireNotDeleted(state);
      return [{ type: 'WebhookSubscriptionDeleted', data: {} }];
    default: {
      const _exhaustive: never = command;
      throw new Error(`Unknown webhook command: ${(_exhaustive as { type: string }).type}`);
    }
  }
}

function definedFields(fields: Partial<WebhookTarget>): Partial<WebhookTarget> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

/** The fields of `next` that differ from `current` (filters compared as sets). */
function changedFields(current: WebhookTarget, next: WebhookTarget): Partial<WebhookTarget> {
  const sameSet = (a: readonly string[], b: readonly string[]) =>
    a.length === b.length && a.every((item) => b.includes(item));
  return {
    ...(next.url !== current.url ? { url: next.url } : {}),
    ...(!sameSet(next.eventTypes, current.eventTypes) ? { eventTypes: next.eventTypes } : {}),
    ...(!sameSet(next.categories, current.categories) ? { categories: next.categories } : {}),
    ...(next.description !== current.description ? { description: next.description } : {}),
  };
}

function requireNotDeleted(state: WebhookState): void {
  if (state.status === 'deleted')
    throw webhookError('webhook-deleted', `webhook subscription ${state.subscriptionId} was deleted`);
}

export function evolveWebhook(state: WebhookState, event: WebhookEvent): WebhookState {
  const version = state.version + 1;
  switch (event.type) {
    case 'WebhookSubscriptionRegistered':
      return { ...event.data, status: 'active', pausedReason: null, version };
    case 'WebhookSubscriptionChanged':
      return { ...state, ...event.data, version };
    case 'WebhookSubscriptionPaused':
      return { ...state, status: 'paused', pausedReason: event.data.reason, version };
    case 'WebhookSubscriptionResumed':
      return { ...state, status: 'active', pausedReason: null, version };
    case 'WebhookSecretRotated':
      return { ...state, ...event.data, version };
    case 'WebhookSubscriptionDeleted':
      return { ...state, status: 'deleted', version };
    default:
      return { ...state, version };
  }
}

export const webhookDecider: Decider<WebhookState, WebhookCommand, WebhookEvent> = {
  decide: decideWebhook,
  evolve: evolveWebhook,
  initialState: initialWebhookState,
};
