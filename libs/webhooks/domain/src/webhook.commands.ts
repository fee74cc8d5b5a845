import type { Command } from '@dealstream/decider';
import type { WebhookTarget } from './webhook.events.js';

/** The secret itself is generated and stored by the application; the decider sees its id and fingerprint. */
export type RegisterWebhook = Command<
  'RegisterWebhook',
  WebhookTarget & { subscriptionId: string; secretId: string; secretFingerprint: string }
>;
export type PauseWebhook = Command<
  'PauseWebhook',
  { reason: 'manual' | 'failing'; failures: number; lastError: string | null }
>;
/** Without `fromPosition` only a paused subscription can be resumed; with one it is a replay, paused or not. */
export type ResumeWebhook = Command<'ResumeWebhook', { fromPosition: string | null }>;
export type RotateWebhookSecret = Command<'RotateWebhookSecret', { secretId: string; secretFingerprint: string }>;
export type DeleteWebhook = Command<'DeleteWebhook', Record<string, never>>;
/** Change the target in place: only the fields given; the secret and the delivery position stay. */
export type ChangeWebhook = Command<'ChangeWebhook', Partial<WebhookTarget>>;

export type WebhookCommand =
  RegisterWebhook | ChangeWebhook | PauseWebhook | ResumeWebhook | RotateWebhookSecret | DeleteWebhook;
