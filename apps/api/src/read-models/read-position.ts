import { headerOf, type HttpReply, type HttpRequest } from '../controller-kit/http-exchange.js';
import type { Kysely } from 'kysely';
import type { DB } from '@dealstream/database';
import { encodePosition, parseClientPosition, type GlobalPosition } from '@dealstream/event-store';
import { LIVE_SCHEMA, readCheckpoint, type CheckpointWatch } from '@dealstream/read-models';
import { ApiProblem } from '../problem/api-problem.js';

/**
 * Read-your-writes: a read may name the position a write answered (`minPosition` query parameter
 * or `X-Min-Position` header); it then waits, up to `waitMs`, for the read models to reach it. Every
 * read answers `X-Read-Position`: the position the data reflects. Waiting reads share one watch of
 * the checkpoint (`CheckpointWatch`), which the in-process runner tells of every batch it commits.
 */
export async function awaitReadPosition(
  db: Kysely<DB>,
  watch: CheckpointWatch,
  request: HttpRequest,
  response: HttpReply,
  maxWaitMs: number,
): Promise<GlobalPosition> {
  const raw = (request.query as { minPosition?: string }).minPosition ?? headerOf(request, 'x-min-position');
  let reached: GlobalPosition | undefined;
  if (raw !== undefined) {
    const target = parseClientPosition(raw);
    if (!target)
      throw new ApiProblem(
        400,
        'invalid-position',
        'minPosition must be a position returned by a write (two hex parts, each below 2^63)',
      );
    reached = await watch.wait(target, maxWaitMs);
    if (!reached) {
      throw new ApiProblem(
        503,
        'read-model-behind',
        `The read models have not reached ${raw} within ${maxWaitMs} ms; retry`,
        { minPosition: raw },
        { 'Retry-After': '1' },
      );
    }
  } else {
    reached = (await readCheckpoint(db, LIVE_SCHEMA)).position;
  }
  response.header('X-Read-Position', encodePosition(reached));
  return reached;
}
