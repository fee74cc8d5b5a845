import type { DealstreamClient } from '@dealstream/client';
import { ok, type Board, type BoardStage } from '../api.js';

interface BoardFilters {
  readonly ownerId?: string;
  readonly stalled?: boolean;
  readonly minAmount?: number;
  readonly maxAmount?: number;
}

export interface BoardView {
  readonly filters: BoardFilters;
  /** ISO instant: the board as it was then (read-only); undefined: now. */
  readonly asOf?: string;
}

/** Deals per column on the first page; "more" pages add this many. */
export const PAGE = 50;

function query(view: BoardView) {
  const { ownerId, stalled, minAmount, maxAmount } = view.filters;
  return {
    ...(view.asOf ? { asOf: view.asOf } : {}),
    ...(ownerId ? { ownerId } : {}),
    ...(stalled !== undefined ? { stalled: stalled ? ('true' as const) : ('false' as const) } : {}),
    ...(minAmount !== undefined ? { minAmount } : {}),
    ...(maxAmount !== undefined ? { maxAmount } : {}),
  };
}

/**
 * The board with at least `limit` deals per column (the pages "more" already showed stay shown when
 * it is read again); `minPosition` waits until the read models reflect the caller's own write.
 */
export async function readBoard(
  api: DealstreamClient,
  pipelineId: string,
  view: BoardView,
  limit: number,
  minPosition?: string,
): Promise<Board> {
  return ok(
    await api.GET('/pipelines/{id}/board', {
      params: {
        path: { id: pipelineId },
        query: { ...query(view), limit: Math.min(200, Math.max(PAGE, limit)), ...(minPosition ? { minPosition } : {}) },
      },
    }),
  );
}

/** The next page of one column, by the API's keyset cursor. */
export async function readMore(
  api: DealstreamClient,
  pipelineId: string,
  view: BoardView,
  stage: BoardStage,
): Promise<BoardStage | undefined> {
  if (!stage.nextCursor) return undefined;
  const board = ok(
    await api.GET('/pipelines/{id}/board', {
      params: {
        path: { id: pipelineId },
        query: { ...query(view), limit: PAGE, stageId: stage.stageId, cursor: stage.nextCursor },
      },
    }),
  );
  const page = board.stages.find((s) => s.stageId === stage.stageId);
  return page ? { ...stage, deals: [...stage.deals, ...page.deals], nextCursor: page.nextCursor } : undefined;
}
