import type { ColumnType, Generated, Kysely } from 'kysely';

/**
 * `webhooks.secrets`: signing secrets, never in an event (events are immutable and readable through
 * GET /events). Deleting a subscription deletes its secrets; its events stay.
 */
interface SecretsTable {
  subscription_id: string;
  secret_id: string;
  secret: string;
  created_at: Generated<Date | string>;
  /** Set by a rotation on the older secrets: they sign until then. */
  retire_after: ColumnType<Date | string | null, Date | string | null | undefined, Date | string | null>;
}

/**
 * `webhooks.checkpoints`: one row per subscription the delivery worker has seen. `position` is the
 * feed cursor (encodePosition: fixed-width hex, sorts as text) of the last event delivered or skipped
 * by the filter; it moves in the same transaction as the attempt row of a delivery.
 * `applied_revision` is the subscription stream revision last applied (a resume rewinds once).
 */
interface CheckpointsTable {
  subscription_id: string;
  position: string;
  applied_revision: ColumnType<string, string | bigint, string | bigint>;
  failures: number;
  next_attempt_at: Date | string | null;
  last_error: string | null;
  delivered: ColumnType<string, string | number | undefined, string | number>;
  lease_owner: string | null;
  lease_until: Date | string | null;
  updated_at: Generated<Date | string>;
}

/** `webhooks.attempts`: every POST made, successful or not. */
interface AttemptsTable {
  attempt_id: Generated<string>;
  subscription_id: string;
  webhook_id: string;
  event_id: string;
  stream_id: string;
  event_type: string;
  position: string;
  /** 1 for the first try of this event (per resume: a replay counts again from 1). */
  attempt: number;
  outcome: 'delivered' | 'failed' | 'timeout' | 'refused-target';
  status: number | null;
  error: string | null;
  duration_ms: number;
  response_excerpt: string | null;
  attempted_at: Generated<Date | string>;
}

export interface WebhookTables {
  'webhooks.secrets': SecretsTable;
  'webhooks.checkpoints': CheckpointsTable;
  'webhooks.attempts': AttemptsTable;
}

export type WebhookDb = Kysely<WebhookTables>;

declare module '@dealstream/database' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
  interface DB extends WebhookTables {}
}
