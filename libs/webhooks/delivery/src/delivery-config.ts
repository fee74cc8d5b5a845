/**
 * The webhook settings every process that may deliver reads from its environment — the API and the
 * projector worker alike, so one set of variables means the same thing wherever delivery runs.
 */
export interface WebhookConfig {
  /** WEBHOOK_DELIVERY: `in-process` (default) runs the delivery worker in this process; `off` does not. */
  readonly deliveryInProcess: boolean;
  /** WEBHOOK_ALLOWED_TARGETS: hosts, addresses or CIDRs a webhook may reach although private/loopback/link-local (default none). */
  readonly allowedTargets: string;
  /** WEBHOOK_MAX_FAILURES: consecutive failed attempts after which a subscription is paused (default 15). */
  readonly maxFailures: number;
  /** WEBHOOK_BACKOFF_BASE_MS (5000) and WEBHOOK_BACKOFF_MAX_MS (3600000): backoff ≈ min(max, base·2^(n−1)), jittered to ½–1×. */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** WEBHOOK_TIMEOUT_MS: bound of one POST (default 10000). */
  readonly timeoutMs: number;
  /** WEBHOOK_POLL_MS: how often the worker looks for work (default 1000). */
  readonly pollMs: number;
  /** WEBHOOK_LEASE_MS: how long a claimed subscription stays with a worker that died (default 30000; above 2 × timeout + 1 s). */
  readonly leaseMs: number;
  /** WEBHOOK_ATTEMPT_RETENTION_DAYS: attempt rows are purged after this many days (default 7; 0 = kept). */
  readonly attemptRetentionMs: number;
}

/** Reads and checks the settings; a value out of range stops the process at start, naming the variable. */
export function webhookConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookConfig {
  const delivery = env.WEBHOOK_DELIVERY ?? 'in-process';
  if (delivery !== 'in-process' && delivery !== 'off')
    throw new Error(`WEBHOOK_DELIVERY must be 'in-process' or 'off', got '${delivery}'`);
  const timeoutMs = positive(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 'milliseconds');
  const leaseMs = positive(env, 'WEBHOOK_LEASE_MS', 30_000, 'milliseconds');
  // A worker stops taking events at half its lease; the POST it started must end before the lease does.
  if (leaseMs < 2 * timeoutMs + 1000)
    throw new Error(`WEBHOOK_LEASE_MS (${leaseMs}) must exceed 2 × WEBHOOK_TIMEOUT_MS (${timeoutMs}) + 1000`);
  const retentionRaw = env.WEBHOOK_ATTEMPT_RETENTION_DAYS;
  if (retentionRaw !== undefined && retentionRaw !== '' && !/^\d{1,9}$/.test(retentionRaw))
    throw new Error(
      `WEBHOOK_ATTEMPT_RETENTION_DAYS must be a whole number of days, got ${JSON.stringify(retentionRaw)}`,
    );
  return {
    deliveryInProcess: delivery === 'in-process',
    allowedTargets: env.WEBHOOK_ALLOWED_TARGETS ?? '',
    maxFailures: positive(env, 'WEBHOOK_MAX_FAILURES', 15, 'attempts'),
    backoffBaseMs: positive(env, 'WEBHOOK_BACKOFF_BASE_MS', 5_000, 'milliseconds'),
    backoffMaxMs: positive(env, 'WEBHOOK_BACKOFF_MAX_MS', 3_600_000, 'milliseconds'),
    timeoutMs,
    pollMs: positive(env, 'WEBHOOK_POLL_MS', 1_000, 'milliseconds'),
    leaseMs,
    attemptRetentionMs: 86_400_000 * (retentionRaw ? Number(retentionRaw) : 7),
  };
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number, unit: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive whole number of ${unit}, got '${raw}'`);
  return value;
}
