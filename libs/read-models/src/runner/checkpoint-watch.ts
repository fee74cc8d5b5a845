import { comparePositions, type GlobalPosition } from '@dealstream/event-store';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { readCheckpoint } from './checkpoint.js';

interface Waiter {
  readonly target: GlobalPosition;
  readonly resolve: (position: GlobalPosition | undefined) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * Read-your-writes for many readers at once: every read waiting for a position shares one watch of
 * the checkpoint instead of polling it on its own (a hundred waiting reads were a hundred queries
 * every 25 ms, on the same pool as the commands and the projection). While anyone waits, one query
 * reads the checkpoint per tick; an in-process runner calls `reached` with the position of every
 * batch it commits, which answers the waiters it reaches at once (`poke` reads the checkpoint now
 * instead). Besides that position — which its batch's compare-and-set wrote, see `reached` — only
 * positions read from the database are trusted, and nothing is read while nobody waits. The highest
 * position either way is remembered: the live checkpoint never moves back (see `reached`), so a read
 * whose target is at or below it is answered at once, without a query (with the runner on its own
 * thread, its commit usually reaches this thread before the read that waits for it).
 */
export class CheckpointWatch {
  private readonly waiters = new Set<Waiter>();
  private reading = false;
  /** A poke arrived while a read was in flight (it may have begun before the commit): read again. */
  private readAgain = false;
  private tick: ReturnType<typeof setTimeout> | undefined;
  /** The highest position the live checkpoint is known to have reached. */
  private known: GlobalPosition | undefined;
  private waitListener: (() => void) | undefined;

  constructor(
    private readonly db: ReadModelDb,
    private readonly schema: string,
    /** Fallback tick while reads wait and no poke comes (the projection runs in another process). */
    private readonly pollMs = 25,
  ) {}

  /**
   * Told whenever a read starts waiting for a position beyond the highest one known (the API's
   * projection thread then reads the global order at once instead of spacing its reads).
   */
  onWait(listener: () => void): void {
    this.waitListener = listener;
  }

  /** The position reached once it is at least `target`, or undefined when `timeoutMs` passed first. */
  wait(target: GlobalPosition, timeoutMs: number): Promise<GlobalPosition | undefined> {
    if (this.known && comparePositions(this.known, target) >= 0) return Promise.resolve(this.known);
    this.waitListener?.();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        target,
        resolve,
        timer: setTimeout(() => {
          this.forget(waiter);
          resolve(undefined);
        }, timeoutMs),
      };
      this.waiters.add(waiter);
      // The first read is this waiter's own: a reject (the database is down) goes to its request.
      readCheckpoint(this.db, this.schema).then(
        ({ position }) => {
          this.learn(position);
          if (comparePositions(position, target) >= 0) this.settle(waiter, position);
          else this.schedule(this.pollMs);
        },
        (error: unknown) => {
          clearTimeout(waiter.timer);
          this.forget(waiter);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /** A batch committed: read the checkpoint now if anyone waits. */
  readonly poke = (): void => {
    if (this.waiters.size > 0) this.schedule(0);
  };

  /**
   * A batch of the in-process runner committed, moving the live checkpoint to `position`: the
   * waiters it reaches are answered at once, without reading the checkpoint again (one query and one
   * turn of a busy event loop less per batch between a commit and the reads waiting for it). That
   * position is as good as one read from the database: the batch's compare-and-set found the live
   * checkpoint at its start and moved it there in the committed transaction, under the swap lock; and
   * the live checkpoint never moves back — a rebuild's swap first brings the rebuilt and the live
   * tables to the same position (rebuild.ts). Waiters beyond it wait for the next batch (or the
   * tick, which keeps reading the checkpoint while anyone waits).
   */
  readonly reached = (position: GlobalPosition): void => {
    this.learn(position);
    for (const waiter of this.waiters)
      if (comparePositions(position, waiter.target) >= 0) this.settle(waiter, position);
  };

  private schedule(delayMs: number): void {
    if (this.reading) {
      if (delayMs === 0) this.readAgain = true;
      return;
    }
    if (this.tick !== undefined) {
      if (delayMs > 0) return;
      clearTimeout(this.tick);
    }
    this.tick = setTimeout(() => {
      this.tick = undefined;
      void this.read();
    }, delayMs);
    this.tick.unref?.(); // a tick alone never keeps a process alive
  }

  private async read(): Promise<void> {
    if (this.waiters.size === 0) return;
    this.reading = true;
    this.readAgain = false;
    try {
      const { position } = await readCheckpoint(this.db, this.schema);
      this.learn(position);
      for (const waiter of this.waiters)
        if (comparePositions(position, waiter.target) >= 0) this.settle(waiter, position);
    } catch {
      // A failed read (the database is away) is retried at the next tick; each waiter still ends at its timeout.
    } finally {
      this.reading = false;
    }
    if (this.waiters.size > 0) this.schedule(this.readAgain ? 0 : this.pollMs);
  }

  private learn(position: GlobalPosition): void {
    if (!this.known || comparePositions(position, this.known) > 0) this.known = position;
  }

  private settle(waiter: Waiter, position: GlobalPosition): void {
    if (!this.forget(waiter)) return;
    clearTimeout(waiter.timer);
    waiter.resolve(position);
  }

  /** Drops a waiter; the tick stops with the last one. */
  private forget(waiter: Waiter): boolean {
    const known = this.waiters.delete(waiter);
    if (this.waiters.size === 0 && this.tick !== undefined) {
      clearTimeout(this.tick);
      this.tick = undefined;
    }
    return known;
  }
}
