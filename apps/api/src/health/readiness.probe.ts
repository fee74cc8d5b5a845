import { sql, type Kysely } from 'kysely';
import { describeError, type Database, type DB } from '@dealstream/database';
import { SqlEventStore, encodePosition, type EventStore } from '@dealstream/event-store';
import { LIVE_SCHEMA, projectionLag, projectionLeader } from '@dealstream/read-models';
import type { RunnerHandle } from '../projections/projection-thread.js';

export const READINESS_OPTIONS = Symbol.for('dealstream.ReadinessOptions');

export interface ReadinessOptions {
  /** READY_TIMEOUT_MS: the whole probe answers within this bound (default 2000). */
  readonly timeoutMs: number;
  /** READY_MAX_LAG_MS: not ready when the oldest event not yet projected is older (default 30000; 0 = not checked). */
  readonly maxLagMs: number;
  /** READY_REQUIRE_LEADER: not ready while no runner holds the projection lock anywhere (default true). */
  readonly requireLeader: boolean;
  /** WEBHOOK_READY_MAX_BACKLOG: not ready while a webhook subscription has more matching events undelivered (default 0 = not checked). */
  readonly maxWebhookBacklog?: number;
}

/** The largest webhook backlog, counted up to `limit` (WebhooksService). */
export type WebhookBacklog = (limit: number) => Promise<number>;

type CheckStatus = 'ok' | 'failed' | 'timeout' | 'skipped';

interface Check {
  status: CheckStatus;
  error?: string;
  [detail: string]: unknown;
}

/** What one probe found; the error texts are for admins and logs only, never for anonymous callers. */
export interface ReadinessReport {
  readonly ready: boolean;
  /** The database answered `select` within the bound (what /health has always meant). */
  readonly databaseReachable: boolean;
  readonly tookMs: number;
  readonly checks: Record<'database' | 'writes' | 'projections' | 'leader' | 'webhooks', Check>;
}

/**
 * The readiness probe: everything an instance needs to serve, checked inside one transaction whose
 * statement and lock timeouts are the probe's bound (so a probe stuck behind a lock is cancelled by
 * the server, not left holding a pool connection), and raced against the same bound.
 *
 * Each check runs under a savepoint, so one that fails does not hide the others.
 *
 * 1. database — `select now()` answers.
 * 2. writes — the SQL store's tables can take the lock an append takes (`row exclusive` on
 *    event_store.streams and event_store.events) within the bound: a table locked by a migration,
 *    a `lock table` or a stuck DDL fails it, while `select 1` would still pass.
 * 3. projections — the oldest event not yet projected is at most `maxLagMs` old.
 * 4. leader — some runner (this API's or a projector worker's) holds the projection lock; on the
 *    embedded PGlite the in-process runner is active.
 */
export class ReadinessProbe {
  constructor(
    private readonly database: Database,
    private readonly store: EventStore,
    private readonly runner: RunnerHandle | null,
    private readonly options: ReadinessOptions,
    private readonly webhookBacklog?: WebhookBacklog,
  ) {}

  /** `databaseOnly`: just the first check (what `/health` needs; it never calls the event store). */
  async check(options: { databaseOnly?: boolean } = {}): Promise<ReadinessReport> {
    const started = Date.now();
    const checks: ReadinessReport['checks'] = {
      database: { status: 'skipped' },
      writes: { status: 'skipped' },
      projections: { status: 'skipped' },
      leader: { status: 'skipped' },
      webhooks: { status: 'skipped' },
    };
    let current: keyof typeof checks = 'database';
    const bound = this.options.timeoutMs;
    // Each check's statements get what is left of 90 % of the bound, so a check stuck behind a lock
    // fails with its own reason before the probe's race gives up, and the probe's connection is
    // back in the pool by the time the answer is sent.
    const deadline = started + Math.max(1, Math.floor(bound * 0.9));
    const step = async (
      trx: Kysely<DB>,
      name: keyof typeof checks,
      run: () => Promise<Omit<Check, 'status'> & { status?: CheckStatus }>,
    ) => {
      current = name;
      const left = deadline - Date.now();
      if (left <= 0) {
        checks[name] = { status: 'timeout', error: `no time left within READY_TIMEOUT_MS=${bound} ms` };
        return;
      }
      await trx
        .selectNoFrom((eb) => [
          eb
            .fn<string>('set_config', [sql.lit('statement_timeout'), eb.val(String(left)), sql.lit(true)])
            .as('statement_timeout'),
          eb
            .fn<string>('set_config', [sql.lit('lock_timeout'), eb.val(String(left)), sql.lit(true)])
            .as('lock_timeout'),
        ])
        .execute();
      // Raw savepoints: Kysely's savepoint API exists only on a controlled transaction, not inside execute().
      await sql`savepoint readiness_check`.execute(trx);
      try {
        const result = await run();
        checks[name] = { status: 'ok', ...result };
        await sql`release savepoint readiness_check`.execute(trx);
      } catch (error) {
        checks[name] = { status: 'failed', error: describeError(error) };
        await sql`rollback to savepoint readiness_check`.execute(trx); // the next checks still run
      }
    };
    const probe = this.database.db
      .transaction()
      .execute(async (trx) => {
        let now = new Date();
        await step(trx, 'database', async () => {
          const row = await trx.selectNoFrom((eb) => eb.fn<Date | string>('now').as('now')).executeTakeFirstOrThrow();
          now = new Date(row.now);
          return { latencyMs: Date.now() - started };
        });
        if (checks.database.status !== 'ok' || options.databaseOnly) throw new Abort();
        await step(trx, 'writes', () => this.writes(trx));
        await step(trx, 'projections', () => this.projections(trx, now));
        await step(trx, 'leader', () => this.leader(trx));
        await step(trx, 'webhooks', () => this.webhooks());
        throw new Abort(); // roll back: the write probe took row-exclusive locks
      })
      .catch((error) => {
        if (!(error instanceof Abort) && checks.database.status === 'skipped')
          checks.database = { status: 'failed', error: describeError(error) };
      });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      probe.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), bound);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) checks[current] = { status: 'timeout', error: `no answer within READY_TIMEOUT_MS=${bound} ms` };
    // `skipped` after a passed database check means "not applicable here" (no SQL store to lock).
    const passed = (check: Check) => check.status === 'ok' || check.status === 'skipped';
    const databaseReachable = checks.database.status === 'ok';
    return {
      ready:
        databaseReachable &&
        passed(checks.writes) &&
        passed(checks.projections) &&
        passed(checks.leader) &&
        passed(checks.webhooks),
      databaseReachable,
      tookMs: Date.now() - started,
      checks: { ...checks },
    };
  }

  private async projections(trx: Kysely<DB>, now: Date) {
    // The SQL store is read inside the probe's transaction (bounded by it); EventStoreDB by its own bound.
    const store = this.store instanceof SqlEventStore ? new SqlEventStore(trx) : this.store;
    const lag = await projectionLag(trx, store, LIVE_SCHEMA, { countLimit: 1 });
    const lagMs = lag.oldestPendingRecordedAt ? Math.max(0, now.getTime() - lag.oldestPendingRecordedAt.getTime()) : 0;
    const within = this.options.maxLagMs === 0 || lagMs <= this.options.maxLagMs;
    return {
      status: within ? ('ok' as const) : ('failed' as const),
      checkpoint: encodePosition(lag.checkpoint),
      pending: lag.behind > 0,
      lagMs,
      maxLagMs: this.options.maxLagMs,
      ...(within
        ? {}
        : {
            error: `the oldest event not yet projected was recorded ${lagMs} ms ago (READY_MAX_LAG_MS=${this.options.maxLagMs})`,
          }),
    };
  }

  private async leader(trx: Kysely<DB>) {
    const own = this.runner?.status().role;
    const thisInstance = this.runner ? own : 'external';
    if (this.database.config.kind === 'pglite') {
      const active = own === 'active';
      return {
        status: active || !this.options.requireLeader ? ('ok' as const) : ('failed' as const),
        known: active,
        thisInstance,
        ...(active ? {} : { error: 'the in-process runner is not active' }),
      };
    }
    const leader = await projectionLeader(trx);
    const status = leader.held || !this.options.requireLeader ? ('ok' as const) : ('failed' as const);
    return {
      status,
      known: leader.held,
      thisInstance,
      ...(leader.held
        ? {
            holder: {
              pid: leader.pid,
              applicationName: leader.applicationName ?? null,
              clientAddress: leader.clientAddress ?? null,
            },
          }
        : {}),
      ...(leader.held ? {} : { error: 'no projection runner holds the projection lock (is a projector running?)' }),
    };
  }

  /**
   * Every instance turns red at once when a receiver falls behind: set WEBHOOK_READY_MAX_BACKLOG
   * only where a stuck receiver should stop traffic (docs/operations.md).
   */
  private async webhooks() {
    const max = this.options.maxWebhookBacklog ?? 0;
    if (max === 0 || !this.webhookBacklog) return { status: 'skipped' as const };
    const backlog = await this.webhookBacklog(max + 1);
    return {
      status: backlog <= max ? ('ok' as const) : ('failed' as const),
      backlog,
      maxBacklog: max,
      ...(backlog <= max
        ? {}
        : { error: `a webhook subscription has more than ${max} events undelivered (WEBHOOK_READY_MAX_BACKLOG)` }),
    };
  }

  private async writes(trx: Kysely<DB>) {
    if (!(this.store instanceof SqlEventStore)) return { status: 'skipped' as const };
    // Raw: the builder has no LOCK TABLE.
    await sql`lock table event_store.streams, event_store.events in row exclusive mode`.execute(trx);
    return {};
  }
}

class Abort extends Error {}
