import { DomainError, type DomainErrorKind } from '@dealstream/decider';

/** Every code the webhook decider throws, with its one kind (409 conflict, 422 invalid). Add, never rename. */
export const webhookErrorKinds = {
  'webhook-already-registered': 'conflict',
  'webhook-deleted': 'conflict',
  'webhook-already-paused': 'conflict',
  'webhook-not-paused': 'conflict',
  'invalid-webhook': 'invalid',
} as const satisfies Record<string, DomainErrorKind>;

export type WebhookErrorCode = keyof typeof webhookErrorKinds;

export function webhookError(
  code: WebhookErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): DomainError<WebhookErrorCode> {
  return new DomainError(code, webhookErrorKinds[code], message, details);
}
