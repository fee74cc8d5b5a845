import { describeError } from '@dealstream/database';

/**
 * The after-batch reaction (the stage-relocation reactor) run one at a time: asked while it runs, it
 * runs once more when that run ends, however often it was asked. A failure is logged and reported by
 * the run's promise (true when its last attempt failed) so the owner can retry it; the next ask retries
 * it anyway. Used by the in-process runner (ProjectionRunner) and, on the main thread, by the API's
 * projection thread (apps/api/src/projections/projection-thread.ts).
 */
export class AfterBatchReaction {
  private running: Promise<boolean> | undefined;
  private again = false;

  constructor(
    private readonly react: () => Promise<unknown>,
    private readonly log: (entry: Record<string, unknown>) => void,
    /** Checked between runs: once true, an asked-again run is dropped. */
    private readonly stopping: () => boolean,
  ) {}

  /** Starts a run unless one runs (then one more after it); the run in progress: true when it failed. */
  ask(): Promise<boolean> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run();
    return this.running;
  }

  /** The run in progress, if any, to await before closing what it uses. */
  async settled(): Promise<void> {
    await this.running;
  }

  private async run(): Promise<boolean> {
    let failed: boolean;
    try {
      do {
        this.again = false;
        failed = false;
        try {
          await this.react();
        } catch (error) {
          failed = true;
          this.log({
            level: 'error',
            msg: 'after-batch reaction failed; retried after the next batch',
            error: describeError(error),
          });
        }
      } while (this.again && !this.stopping());
    } finally {
      this.running = undefined; // synchronously after the last check: no ask falls in between
    }
    return failed;
  }
}
