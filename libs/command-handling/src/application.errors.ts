/** The client's `If-Match` revision no longer holds: HTTP 412, nothing was written. */
export class PreconditionFailedError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: bigint,
    readonly actual: bigint | undefined,
  ) {
    super(`${streamId} is at revision ${actual === undefined ? 'none' : String(actual)}, not ${String(expected)}`);
    this.name = 'PreconditionFailedError';
  }
}

/** The addressed resource does not exist: HTTP 404. */
export class NotFoundError extends Error {
  constructor(
    readonly resource: 'deal' | 'pipeline' | 'stage-map',
    readonly id: string,
  ) {
    super(`${resource} ${id} does not exist`);
    this.name = 'NotFoundError';
  }
}

/**
 * A write without If-Match lost the race for its stream until its ContentionPolicy deadline passed:
 * HTTP 503 with Retry-After, nothing was written (every lost attempt appended nothing).
 */
export class ContentionDeadlineError extends Error {
  constructor(
    readonly streamId: string,
    readonly attempts: number,
    readonly elapsedMs: number,
  ) {
    super(`${streamId} kept changing: gave up after ${attempts} attempts in ${elapsedMs} ms`);
    this.name = 'ContentionDeadlineError';
  }
}
