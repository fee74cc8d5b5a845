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
 * reads the checkpoint per tick; `poke` — called by an in-process runner when it commits a batch —
 * reads it at once, so a waiter is answered as soon as the batch that reaches it is visible. Only
 * positions read from the database are trusted, never the poke's own (after a rebuild's swap the
 * live checkpoint is the swapped-in one), and nothing is read while nobody waits.
 */
export class CheckpointWatch {
  private readonly waiters = new Set<Waiter>();
  private reading = false;
  /** A poke arrived while a read was in flight (it may have begun before the commit): read again. */
  private readAgain = false;
  private tick: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly db: ReadModelDb,
    private readonly schema: string,
    /** Fallback tick while reads wait and no poke comes (the projection runs in another process). */
    private readonly pollMs = 25,
  ) {}

  /** The position reached once it is at least `target`, or undefined when `timeoutMs` passed first. */
  wait(target: GlobalPosition, timeoutMs: number): Promise<GlobalPosition | undefined> {
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
      for (const waiter of this.waiters)
        if (comparePositions(position, waiter.target) >= 0) this.settle(waiter, position);
    } catch {
      // A failed read (the database is away) is retried at the next tick; each waiter still ends at its timeout.
    } finally {
      this.reading = false;
    }
    if (this.waiters.size > 0) this.schedule(this.readAgain ? 0 : this.pollMs);
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
