import { sql } from 'kysely';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import {
  EVENTS_NOTIFY_CHANNEL,
  comparePositions,
  isSubscribable,
  SqlEventStore,
  type EventStore,
  type GlobalPosition,
  type RecordedEvent,
} from '@dealstream/event-store';
import { databaseFaultOf, describeError, type Database } from '@dealstream/database';
import { LIVE_SCHEMA } from '../schema/read-model.schema.js';
import {
  PROJECTION_NAME,
  beginBatchSql,
  compareAndSetCheckpoint,
  holdAgainstSwap,
  isStreamsParkedError,
  readCheckpoint,
} from './checkpoint.js';
import { withParking } from './parking.js';
import { SubscriptionSupervisor, type SubscriptionStatus } from './subscription-supervisor.js';
import { AfterBatchReaction } from './after-batch-reaction.js';

export interface ProjectionRunnerOptions {
  readonly database: Database;
  readonly store: EventStore;
  readonly schema?: string;
  /**
   * Most events per batch transaction (default 2,000). A batch takes whatever is readable up to this:
   * caught up it is a few events, behind it is this many. Its cost is mostly fixed (about ten round
   * trips, each waiting for a turn of the event loop and of the database), so a runner that falls
   * behind catches up by taking more per batch: at 500 it could not keep up with ~1,000 commands/s.
   */
  readonly batchSize?: number;
  /**
   * Least time between the starts of two reads of the global order (default 0: none). While events keep
   * coming, a runner that reads again as soon as its batch commits takes a few events per batch, and
   * a batch costs about the same whatever its size (its statements, its commit): at 1,700 commands/s it
   * ran ~170 batches a second of ~10 events. Spacing the reads gathers what arrives meanwhile into the
   * next batch — a runner that has been idle longer than this reads at once, so it costs latency only
   * under load, and at most this much — unless told to `hurry` (a read waits for a position).
   */
  readonly minBatchIntervalMs?: number;
  /** Fallback poll when no notification arrives (events held back by the xmin horizon, lost NOTIFY). */
  readonly pollIntervalMs?: number;
  /** How often a standby instance tries to become the active runner. */
  readonly standbyRetryMs?: number;
  /**
   * Backoff after a failure (a lost connection, a database restart, a failed batch): starts here and
   * doubles per consecutive failure up to `maxRetryBackoffMs`; a success resets it.
   */
  readonly initialRetryBackoffMs?: number;
  readonly maxRetryBackoffMs?: number;
  readonly log?: (entry: Record<string, unknown>) => void;
  /**
   * Fault injection for crash tests: runs inside each batch transaction after the rows are written
   * and before it commits, widening the window in which a kill lands mid-batch.
   */
  readonly beforeCheckpoint?: () => Promise<void>;
  /**
   * Runs after committed batches in the active runner only (e.g. the stage-relocation reactor,
   * which reacts to what the batch projected). It runs beside the projection, never in its way: one
   * run at a time, and batches that commit while it runs are covered by one more run when it ends.
   * Its failures are logged and retried after the next batch (or poll tick).
   */
  readonly afterBatch?: () => Promise<unknown>;
  /** Told the position of every batch this runner commits (e.g. to wake reads waiting for it), and its events. */
  readonly onCommitted?: (position: GlobalPosition, events: readonly RecordedEvent[]) => void;
  /** Told every batch attempt: its events, how long its transaction took, and whether it committed (metrics). */
  readonly onBatch?: (batch: { events: number; seconds: number; committed: boolean }) => void;
  /** For stores with a catch-up subscription (EventStoreDB): silence bound and backoff. */
  readonly subscription?: {
    silenceMs?: number;
    initialBackoffMs?: number;
    maxBackoffMs?: number;
    maxBuffered?: number;
  };
}

/** `reconnecting`: the last attempt failed on the database (connection lost, timeout); retrying with backoff. */
export type RunnerRole = 'starting' | 'active' | 'standby' | 'reconnecting' | 'stopped';

export interface RunnerStatus {
  readonly role: RunnerRole;
  readonly position: GlobalPosition | undefined;
  readonly eventsApplied: number;
  readonly lastError: string | undefined;
  /** Present when the store is followed through a catch-up subscription. */
  readonly subscription?: SubscriptionStatus;
}

/** How long batches look their streams up after parked streams were found, before believing none again. */
const PARKED_LOOKUP_MS = 10_000;

/** Events per batch transaction unless told otherwise (see `batchSize`). */
export const DEFAULT_BATCH_SIZE = 2000;

/** Advisory-lock key: one active runner per projection across every process on the database. */
const LOCK_KEY = sql`hashtext(${`dealstream.projection.${PROJECTION_NAME}`})`;

/**
 * Keeps the read models up to date: reads the global order in batches after the checkpoint, applies
 * each batch and moves the checkpoint in the same transaction (so a crash anywhere loses nothing and
 * applies nothing twice), then waits for the next NOTIFY or poll tick.
 *
 * On a PostgreSQL server, only the instance holding the projection's advisory lock applies batches;
 * the lock is a session lock on the connection the batches run on, so it dies with the process and a
 * standby takes over. The checkpoint update is also a compare-and-set on the previous position, so
 * even two runners that both believed they were active could not apply a batch twice.
 */
export class ProjectionRunner {
  private role: RunnerRole = 'starting';
  private position: GlobalPosition | undefined;
  private eventsApplied = 0;
  private lastError: string | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Set by a notification that arrived while not sleeping, so the next sleep returns at once. */
  private woken = false;
  private unlisten: (() => Promise<void>) | undefined;
  private supervisor: SubscriptionSupervisor | undefined;
  private readonly schema: string;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly standbyRetryMs: number;
  private consecutiveFailures = 0;
  /** The after-batch reaction: one run at a time, once more when batches committed while it ran. */
  private readonly reaction: AfterBatchReaction | undefined;
  /** NOTIFYs received, and how many had been received when the last non-empty batch was read. */
  private notifications = 0;
  private notificationsRead = 0;
  /** Consecutive empty reads after a NOTIFY announced events the read did not see yet. */
  private heldBackReads = 0;
  /** Until then (performance.now()), batches look their streams up in parked_streams (some are parked). */
  private lookUpParkedUntil = 0;
  /** When (performance.now()) the last read of the global order started; see `minBatchIntervalMs`. */
  private lastReadAt = -Infinity;
  /** Set by `hurry`: the next read is not spaced. Ends the spacing wait in progress, if any. */
  private hurried = false;
  private endSpacing: (() => void) | undefined;

  constructor(private readonly options: ProjectionRunnerOptions) {
    this.schema = options.schema ?? LIVE_SCHEMA;
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.standbyRetryMs = options.standbyRetryMs ?? 1000;
    this.reaction = options.afterBatch
      ? new AfterBatchReaction(
          options.afterBatch,
          (entry) => this.log(entry),
          () => this.stopping,
        )
      : undefined;
  }

  /** Backoff before the next attempt after `failures` consecutive failures. */
  private retryDelay(failures: number): number {
    const initial = this.options.initialRetryBackoffMs ?? 250;
    return Math.min(this.options.maxRetryBackoffMs ?? 5000, initial * 2 ** Math.max(0, failures - 1));
  }

  async start(): Promise<void> {
    this.unlisten = await this.options.database.listen(EVENTS_NOTIFY_CHANNEL, () => this.notify());
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.endSpacing?.();
    this.notify();
    await this.supervisor?.stop();
    await this.loop;
    await this.reaction?.settled();
    await this.unlisten?.();
    this.role = 'stopped';
  }

  /**
   * Someone waits for a position not yet projected (a read with minPosition): the next read of the
   * global order starts now rather than `minBatchIntervalMs` after the last one. Spacing trades lag
   * for CPU; a waiting reader is the one who would pay the lag.
   */
  hurry(): void {
    this.hurried = true;
    this.endSpacing?.();
  }

  status(): RunnerStatus {
    return {
      role: this.role,
      position: this.position,
      eventsApplied: this.eventsApplied,
      lastError: this.lastError,
      ...(this.supervisor ? { subscription: this.supervisor.status() } : {}),
    };
  }

  private async run(): Promise<void> {
    const { db } = this.options.database;
    while (!this.stopping) {
      try {
        if (this.options.database.config.kind === 'pglite') {
          // One process owns an embedded database: no lock, and holding its only session would stall the API.
          this.role = 'active';
          await this.follow(db);
        } else {
          await db.connection().execute(async (connection) => {
            const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${LOCK_KEY}) as locked`.execute(
              connection,
            );
            if (!rows[0].locked) {
              this.role = 'standby';
              return;
            }
            try {
              this.role = 'active';
              this.log({ msg: 'projection runner active', projection: PROJECTION_NAME });
              await this.follow(connection);
            } finally {
              await sql`select pg_advisory_unlock(${LOCK_KEY})`.execute(connection).catch(() => {});
            }
          });
          if (this.role === 'standby') await this.sleep(this.standbyRetryMs);
        }
      } catch (error) {
        // A database fault (restart, lost connection, timeout) is retried with backoff on a new
        // connection: the session — and with it the advisory lock — is gone, so leadership is
        // taken again from scratch (another instance may win it meanwhile). Never fatal.
        this.lastError = describeError(error);
        this.consecutiveFailures++;
        const fault = databaseFaultOf(error);
        if (fault && !this.stopping) this.role = 'reconnecting';
        const retryInMs = this.retryDelay(this.consecutiveFailures);
        this.log({
          level: 'error',
          msg: fault ? 'projection runner lost the database; reconnecting' : 'projection batch failed; retrying',
          error: this.lastError,
          fault,
          attempt: this.consecutiveFailures,
          retryInMs,
        });
        await this.sleep(retryInMs);
      }
    }
  }

  /**
   * Applies batches until stopped; runs on the connection that holds the lock (or the embedded db).
   * The checkpoint is read once: after that this runner is the only one moving it (the lock), and
   * should that ever be wrong, the compare-and-set fails the batch and the next attempt reads it again.
   */
  private async follow(db: ReadModelDb): Promise<void> {
    if (isSubscribable(this.options.store)) return this.followSubscription(db);
    const reader = this.readerOn(db);
    const checkpoint = await readCheckpoint(db, this.schema);
    this.position = checkpoint.position;
    this.eventsApplied = checkpoint.eventsApplied;
    while (!this.stopping) {
      await this.spaceReads();
      if (this.stopping) break; // a stop ends the spacing: no read after it
      const from: GlobalPosition = this.position;
      const announced = this.notifications;
      this.lastReadAt = performance.now();
      const batch = await reader.readAll({ after: from, limit: this.batchSize });
      if (batch.events.length === 0) {
        this.consecutiveFailures = 0; // caught up: the database answers again
        this.afterBatch(); // picks up reactions a failed attempt left behind
        await this.sleep(this.idleWait(announced));
        continue;
      }
      this.notificationsRead = announced;
      this.heldBackReads = 0;
      await this.applyBatch(db, batch.events, from, batch.cursor);
      this.afterBatch();
    }
  }

  /** Waits until `minBatchIntervalMs` have passed since the last read started (see the option). */
  private async spaceReads(): Promise<void> {
    const wait = this.lastReadAt + (this.options.minBatchIntervalMs ?? 0) - performance.now();
    if (wait > 0 && !this.stopping && !this.hurried)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => this.endSpacing?.(), wait);
        this.endSpacing = () => {
          clearTimeout(timer);
          this.endSpacing = undefined;
          resolve();
        };
      });
    this.hurried = false;
  }

  /**
   * Where the runner reads the global order: on a server, through the connection it already holds
   * (between its batches, outside any transaction) rather than the store's pool, where under load the
   * read queued behind every request's queries for a connection — 0.3–0.9 s per read against 2–17 ms
   * on its own connection (test/benchmarks/README.md, issue 13 c). Elsewhere (PGlite, other stores)
   * the store itself.
   */
  private readerOn(db: ReadModelDb): Pick<EventStore, 'readAll'> {
    const { store } = this.options;
    if (this.options.database.config.kind !== 'postgres' || !(store instanceof SqlEventStore)) return store;
    // The connection's Kysely is the database's (`Kysely<DB>`), which holds the event store's tables too.
    return store.readingThrough(db as unknown as Parameters<SqlEventStore['readingThrough']>[0]);
  }

  /**
   * How long to wait after an empty read. A NOTIFY the read did not answer means events are committed
   * but still held back by an older transaction in flight (the store reads only below the xmin
   * horizon, and a transaction that notifies nothing may be what holds it): look again soon, backing
   * off towards the poll interval, rather than a whole poll interval later.
   */
  private idleWait(announced: number): number {
    if (announced === this.notificationsRead) return this.pollIntervalMs;
    return Math.min(this.pollIntervalMs, 5 * 2 ** Math.min(10, this.heldBackReads++));
  }

  /**
   * One batch and its checkpoint in one transaction — the same for both loops. The swap lock comes
   * first (a rebuild's swap never lands between these statements); the checkpoint moves by
   * compare-and-set, so a batch another runner already applied is refused and rolled back. An event
   * no projection can apply parks its stream (runner/parking.ts) instead of stopping the batch.
   */
  private async applyBatch(
    db: ReadModelDb,
    events: readonly RecordedEvent[],
    from: GlobalPosition,
    next: GlobalPosition,
  ): Promise<void> {
    const started = performance.now();
    const report = (committed: boolean) =>
      this.options.onBatch?.({ events: events.length, seconds: (performance.now() - started) / 1000, committed });
    // The checkpoint moves first: one statement both locks its row until commit (a retry of
    // parked streams takes the same row lock, so it never lands between our look at the parked
    // streams and our commit) and refuses a batch another runner already applied. Rows and
    // checkpoint still commit together or not at all.
    const attempt = (noneParked: boolean) =>
      withParking(
        async (project) => {
          const work = async (trx: ReadModelDb) => {
            const newlyParked = await project(trx, this.schema, events);
            await this.options.beforeCheckpoint?.();
            return newlyParked;
          };
          if (this.options.database.config.kind === 'pglite')
            return db.transaction().execute(async (trx) => {
              await holdAgainstSwap(trx);
              await compareAndSetCheckpoint(trx, this.schema, from, next, events.length);
              return work(trx);
            });
          // On the runner's own connection: BEGIN, the swap lock, the compare-and-set (and, believing
          // no stream parked, the check of that belief) in one message.
          try {
            await beginBatchSql(this.schema, from, next, events.length, { noneParked }).execute(db);
            const newlyParked = await work(db);
            await sql`commit`.execute(db);
            return newlyParked;
          } catch (error) {
            // Never leave the session (which holds the advisory lock) inside a failed transaction.
            await sql`rollback`.execute(db).catch(() => {});
            throw error;
          }
        },
        { noneParked },
      );
    // Parked streams are rare (an operator's to fix): a batch believes there are none — one lookup of
    // its streams less — until the batch start finds some; then batches look their streams up for a while.
    const believeNoneParked =
      this.options.database.config.kind === 'postgres' && performance.now() >= this.lookUpParkedUntil;
    const parked = await attempt(believeNoneParked)
      .catch((error: unknown) => {
        if (!isStreamsParkedError(error)) throw error;
        this.lookUpParkedUntil = performance.now() + PARKED_LOOKUP_MS;
        return attempt(false);
      })
      .catch((error: unknown) => {
        report(false);
        throw error;
      });
    if (parked.length > 0) this.lookUpParkedUntil = performance.now() + PARKED_LOOKUP_MS;
    report(true);
    for (const entry of parked) {
      this.log({
        level: 'error',
        msg: 'stream parked: an event could not be projected; its later events wait, every other stream flows',
        streamId: entry.streamId,
        revision: entry.revision.toString(),
        eventType: entry.eventType,
        error: entry.error,
      });
    }
    this.position = next;
    this.eventsApplied += events.length;
    this.lastError = undefined;
    this.consecutiveFailures = 0;
    this.options.onCommitted?.(next, events);
  }

  /** Starts the after-batch reaction unless one is running (then it runs once more when that ends). */
  private afterBatch(): void {
    void this.reaction?.ask();
  }

  /**
   * Follows a catch-up subscription (EventStoreDB `$all`) from the checkpoint stored in PostgreSQL;
   * each batch and its checkpoint commit together, exactly as in the polling loop.
   */
  private async followSubscription(db: ReadModelDb): Promise<void> {
    const store = this.options.store;
    if (!isSubscribable(store)) return;
    const checkpoint = await readCheckpoint(db, this.schema);
    this.position = checkpoint.position;
    this.eventsApplied = checkpoint.eventsApplied;
    const supervisor = new SubscriptionSupervisor({
      store,
      maxBuffered: Math.max(2000, 2 * this.batchSize),
      ...this.options.subscription,
    });
    this.supervisor = supervisor;
    supervisor.start(checkpoint.position);
    try {
      while (!this.stopping) {
        const from: GlobalPosition = this.position;
        // A resubscription may repeat events this runner applied meanwhile: skip them.
        const taken = await supervisor.take(this.batchSize, this.pollIntervalMs);
        const events = taken.filter((event) => comparePositions(event.position, from) > 0);
        if (events.length === 0) {
          this.afterBatch(); // as in the polling loop: picks up reactions a failed attempt left behind
          continue;
        }
        const next: GlobalPosition = events.at(-1)!.position;
        await this.applyBatch(db, events, from, next);
        supervisor.commit(next);
        this.afterBatch();
      }
    } finally {
      await supervisor.stop();
    }
  }

  private notify(): void {
    this.notifications++;
    this.woken = true;
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private log(entry: Record<string, unknown>): void {
    this.options.log?.(entry);
  }
}
