import { Worker } from 'node:worker_threads';
import { describeError, type DatabaseConfig } from '@dealstream/database';
import type { GlobalPosition } from '@dealstream/event-store';
import { AfterBatchReaction, type ProjectionRunner, type RunnerStatus } from '@dealstream/read-models';

/** What the API needs of its projection runner, wherever it runs (this thread or a worker thread). */
export type RunnerHandle = Pick<ProjectionRunner, 'start' | 'stop' | 'status'>;

/** Handed to the worker (structured clone): the database to open, and the TypeScript entry under Jest. */
export interface ProjectionThreadData {
  readonly database: Extract<DatabaseConfig, { kind: 'postgres' }>;
  readonly batchSize?: number;
  readonly minBatchIntervalMs?: number;
  /** Set when the API runs from its TypeScript sources: tools/ts-worker.js imports it. */
  readonly entry?: string;
}

/** Between the API's main thread and its projection thread, both ways. */
export type ThreadMessage =
  | { readonly type: 'committed'; readonly position: GlobalPosition; readonly eventTypes: readonly string[] }
  | { readonly type: 'status'; readonly status: RunnerStatus }
  | { readonly type: 'log'; readonly entry: Record<string, unknown>; readonly from?: 'database' }
  | { readonly type: 'started' }
  | { readonly type: 'stopped' }
  | { readonly type: 'stop' }
  | { readonly type: 'hurry' };

export interface ProjectionThreadOptions {
  readonly database: Extract<DatabaseConfig, { kind: 'postgres' }>;
  /** Told every position a batch of the thread's runner commits (on this thread: wakes the waiting reads). */
  readonly onCommitted: (position: GlobalPosition) => void;
  readonly log: (entry: Record<string, unknown>) => void;
  /** The thread's database layer's own events (a connection lost, LISTEN re-established); default `log`. */
  readonly databaseLog?: (entry: Record<string, unknown>) => void;
  /**
   * Runs on this thread after the thread's batches commit (the stage-relocation reactor), as the
   * runner's `afterBatch` does in-process: one run at a time, one more run when batches committed
   * while it ran, a failure logged and retried (after the next commit, or `retryReactionMs`).
   */
  readonly afterBatch?: () => Promise<unknown>;
  /**
   * Whether a committed batch of these event types calls for `afterBatch` (default: every batch does).
   * The stage-relocation reactor's `calledForBy`: under a load of activities a batch calls for none, and
   * each run is a query on this thread and the API's pool.
   */
  readonly afterBatchCalledFor?: (eventTypes: readonly string[]) => boolean;
  readonly retryReactionMs?: number;
  readonly batchSize?: number;
  /** The runner's `minBatchIntervalMs` (default 0): under load, fewer and larger batches. */
  readonly minBatchIntervalMs?: number;
  /** After the thread died unexpectedly (a crash, not a database fault: the runner retries those itself). */
  readonly restartDelayMs?: number;
  /** How long `stop` waits for the thread's runner to finish its batch and close before terminating it. */
  readonly stopTimeoutMs?: number;
}

/**
 * The API's projection runner on a worker thread (PostgreSQL profile, PROJECTION_THREAD=worker, the
 * default there). In the API's own event loop every round trip of a batch waited for a turn of a loop
 * busy with requests (~20 ms each at half the maximum command rate, ~6 per batch), and the reads
 * waiting on minPosition waited for those batches (test/benchmarks/README.md, issue 13). On its own
 * thread — own event loop, own pool and LISTEN connection (projection-thread.main.ts) — a batch waits
 * for PostgreSQL only; each commit comes back as one message, which answers the waiting reads through
 * `onCommitted` (`CheckpointWatch.reached`). The runner is the same `ProjectionRunner`, with the same
 * advisory lock, parking, checkpoint and after-batch reactor; only its thread differs. PGlite cannot
 * be opened from two threads, so the embedded profile keeps the runner on the main thread.
 *
 * Same life as the in-process runner: `start` resolves once the thread's runner has started (its
 * LISTEN is up); `stop` lets it finish its batch, close its connections and end the thread (the app
 * calls it before the database closes). A thread that dies unexpectedly is started again.
 */
export class ProjectionThread implements RunnerHandle {
  private worker: Worker | undefined;
  private exited: Promise<void> = Promise.resolve();
  private latest: RunnerStatus = { role: 'starting', position: undefined, eventsApplied: 0, lastError: undefined };
  private stopping = false;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly reaction: AfterBatchReaction | undefined;
  private retryReaction: ReturnType<typeof setTimeout> | undefined;
  /** A `hurry` was sent and no commit has come back since. */
  private hurrying = false;

  constructor(private readonly options: ProjectionThreadOptions) {
    this.reaction = options.afterBatch
      ? new AfterBatchReaction(options.afterBatch, options.log, () => this.stopping)
      : undefined;
  }

  start(): Promise<void> {
    return this.spawn();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    // Not waiting for a start in progress: the thread answers `stop` once its runner has started, and a
    // start that never ends (a LISTEN that cannot be opened) is cut by the terminate below.
    const worker = this.worker;
    if (worker) {
      worker.postMessage({ type: 'stop' } satisfies ThreadMessage);
      const timer = setTimeout(() => void worker.terminate(), this.options.stopTimeoutMs ?? 15_000);
      await this.exited;
      clearTimeout(timer);
    }
    clearTimeout(this.retryReaction);
    await this.reaction?.settled();
    this.latest = { ...this.latest, role: 'stopped' };
  }

  /**
   * A read waits for a position not yet committed: the thread's runner reads the global order now
   * instead of spacing its reads (`ProjectionRunner.hurry`). One message until the next commit comes back.
   */
  hurry(): void {
    if (this.hurrying || !this.worker) return;
    this.hurrying = true;
    this.worker.postMessage({ type: 'hurry' } satisfies ThreadMessage);
  }

  /** The thread's runner as it last reported (every 100 ms at most when something changed, and at each commit). */
  status(): RunnerStatus {
    return this.latest;
  }

  private spawn(): Promise<void> {
    const { url, entry } = threadEntry();
    const data: ProjectionThreadData = {
      database: this.options.database,
      ...(this.options.batchSize ? { batchSize: this.options.batchSize } : {}),
      ...(this.options.minBatchIntervalMs ? { minBatchIntervalMs: this.options.minBatchIntervalMs } : {}),
      ...(entry ? { entry } : {}),
    };
    const worker = new Worker(url, { workerData: data, resourceLimits: THREAD_RESOURCE_LIMITS });
    this.worker = worker;
    this.hurrying = false;
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    return new Promise((resolve, reject) => {
      let started = false;
      let failure: string | undefined;
      worker.on('message', (message: ThreadMessage) => {
        switch (message.type) {
          case 'committed':
            this.hurrying = false;
            this.latest = { ...this.latest, position: message.position };
            this.options.onCommitted(message.position);
            if (this.options.afterBatchCalledFor?.(message.eventTypes) ?? true) this.react();
            break;
          case 'status':
            this.latest = message.status;
            break;
          case 'log':
            (message.from === 'database' ? (this.options.databaseLog ?? this.options.log) : this.options.log)(
              message.entry,
            );
            break;
          case 'started':
            started = true;
            resolve();
            // Once per (re)start, whatever its batches: a deal left in a removed stage before is found
            // even if every batch after it is of events that call for no run.
            if (this.options.afterBatchCalledFor) this.react();
            break;
        }
      });
      worker.on('error', (error) => {
        failure = describeError(error);
        this.latest = { ...this.latest, lastError: failure };
        this.options.log({ level: 'error', msg: 'projection thread failed', error: failure });
      });
      worker.once('exit', (code) => {
        if (this.worker === worker) this.worker = undefined;
        if (!started)
          reject(new Error(`the projection thread ended (exit code ${code}) before it started: ${failure}`));
        if (started && !this.stopping) this.restart(code);
      });
    });
  }

  /**
   * Starts the after-batch reaction unless one runs (then it runs once more when that ends). A failed
   * run is retried on a timer too: no batch may come for a while (the in-process runner retries at its
   * poll tick).
   */
  private react(): void {
    if (!this.reaction || this.stopping) return;
    clearTimeout(this.retryReaction);
    void this.reaction.ask().then((failed) => {
      if (!failed || this.stopping) return;
      clearTimeout(this.retryReaction);
      this.retryReaction = setTimeout(() => this.react(), this.options.retryReactionMs ?? 500);
    });
  }

  private restart(code: number): void {
    const retryInMs = this.options.restartDelayMs ?? 1000;
    this.latest = { ...this.latest, role: 'reconnecting' };
    this.options.log({ level: 'error', msg: 'projection thread ended; starting it again', exitCode: code, retryInMs });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.spawn().catch((error: unknown) => {
        this.options.log({ level: 'error', msg: 'projection thread did not start', error: describeError(error) });
        if (!this.stopping) this.restart(-1);
      });
    }, retryInMs);
  }
}

/**
 * The thread's young generation: V8's default let it grow to 32 MB (committed, so in the API's RSS)
 * for batches whose objects live a few ms; this much is plenty for batches of a few thousand events
 * and keeps the API's RSS under its 300 MB budget (test/benchmarks/README.md, 2026-12-07 e).
 */
const THREAD_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 12 } as const;

/**
 * The thread's entry: the compiled sibling in dist; from the TypeScript sources (Jest), the .ts file
 * through tools/ts-worker.js, which compiles it and what it imports as Jest does.
 */
function threadEntry(): { url: URL; entry?: string } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { url: new URL('./projection-thread.main.js', here) };
  return {
    url: new URL('../../../../tools/ts-worker.js', here),
    entry: new URL('./projection-thread.main.ts', here).href,
  };
}
