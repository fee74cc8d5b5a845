import { webhookConfigFromEnv } from './delivery-config.js';

describe('webhookConfigFromEnv (the API and the projector worker read the same settings)', () => {
  it('answers the documented defaults', () => {
    expect(webhookConfigFromEnv({})).toEqual({
      deliveryInProcess: true,
      allowedTargets: '',
      maxFailures: 15,
      backoffBaseMs: 5_000,
      backoffMaxMs: 3_600_000,
      timeoutMs: 10_000,
      pollMs: 1_000,
      leaseMs: 30_000,
      attemptRetentionMs: 7 * 86_400_000,
    });
  });

  it('reads every variable', () => {
    expect(
      webhookConfigFromEnv({
        WEBHOOK_DELIVERY: 'off',
        WEBHOOK_ALLOWED_TARGETS: '127.0.0.1,10.0.0.0/8',
        WEBHOOK_MAX_FAILURES: '4',
        WEBHOOK_BACKOFF_BASE_MS: '100',
        WEBHOOK_BACKOFF_MAX_MS: '200',
        WEBHOOK_TIMEOUT_MS: '2000',
        WEBHOOK_POLL_MS: '50',
        WEBHOOK_LEASE_MS: '5001',
        WEBHOOK_ATTEMPT_RETENTION_DAYS: '0',
      }),
    ).toEqual({
      deliveryInProcess: false,
      allowedTargets: '127.0.0.1,10.0.0.0/8',
      maxFailures: 4,
      backoffBaseMs: 100,
      backoffMaxMs: 200,
      timeoutMs: 2000,
      pollMs: 50,
      leaseMs: 5001,
      attemptRetentionMs: 0,
    });
  });

  it.each([
    [{ WEBHOOK_DELIVERY: 'projector' }, "WEBHOOK_DELIVERY must be 'in-process' or 'off', got 'projector'"],
    [{ WEBHOOK_TIMEOUT_MS: '0' }, "WEBHOOK_TIMEOUT_MS must be a positive whole number of milliseconds, got '0'"],
    [{ WEBHOOK_MAX_FAILURES: '2.5' }, "WEBHOOK_MAX_FAILURES must be a positive whole number of attempts, got '2.5'"],
    [{ WEBHOOK_LEASE_MS: '20999' }, 'WEBHOOK_LEASE_MS (20999) must exceed 2 × WEBHOOK_TIMEOUT_MS (10000) + 1000'],
    [
      { WEBHOOK_ATTEMPT_RETENTION_DAYS: '-1' },
      'WEBHOOK_ATTEMPT_RETENTION_DAYS must be a whole number of days, got "-1"',
    ],
  ])('refuses %j at start', (env, message) => {
    expect(() => webhookConfigFromEnv(env)).toThrow(message);
  });
});
