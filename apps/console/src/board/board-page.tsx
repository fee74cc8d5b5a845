import { DndContext, KeyboardSensor, PointerSensor, useSensor, useSensors, type DragEndEvent } from '@dnd-kit/core';
import type { DealstreamClient } from '@dealstream/client';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, problemText, type Board, type BoardDeal, type BoardStage } from '../api.js';
import { can, type Session } from '../session.js';
import { BoardColumn } from './board-column.js';
import { BoardFiltersForm } from './board-filters.js';
import { PAGE, readBoard, readMore, type BoardView } from './board-query.js';
import { NewDeal } from './new-deal.js';

/** Others' changes show within this (the issue asks for 2 s). */
const FOLLOW_MS = 1000;

export function BoardPage({
  api,
  session,
  pipelineId,
}: {
  api: DealstreamClient;
  session: Session;
  pipelineId: string;
}) {
  const [board, setBoard] = useState<Board>();
  const [view, setView] = useState<BoardView>({ filters: {} });
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [conflict, setConflict] = useState<string>();
  const busy = useRef(false);
  const shown = useRef(PAGE);
  const shownKey = useRef('');

  const refresh = useCallback(
    async (minPosition?: string) => {
      try {
        const next = await readBoard(api, pipelineId, view, shown.current, minPosition);
        // The same answer again (a poll while nothing changed) keeps the cards as they are: no re-render.
        const key = `${next.readPosition} ${JSON.stringify(view)} ${shown.current} ${next.asOf ?? ''}`;
        if (key === shownKey.current && !minPosition) return;
        shownKey.current = key;
        setBoard(next);
        setError(undefined);
      } catch (e) {
        setError(
          e instanceof ApiError && e.status === 404
            ? 'No pipeline has this id (or it is not visible yet).'
            : problemText(e),
        );
      }
    },
    [api, pipelineId, view],
  );

  useEffect(() => {
    setBoard(undefined);
    void refresh();
  }, [refresh]);

  // Follow others' changes: read the board again every second while it shows "now" and nothing is in flight.
  useEffect(() => {
    if (view.asOf) return;
    const timer = setInterval(() => {
      if (!busy.current && document.visibilityState === 'visible') void refresh();
    }, FOLLOW_MS);
    return () => clearInterval(timer);
  }, [refresh, view.asOf]);

  const writable = !view.asOf && can(session, 'deals:write') && board?.pipeline.status === 'active';

  const move = async (deal: BoardDeal, fromStageId: string, toStageId: string) => {
    if (!board || fromStageId === toStageId) return;
    const target = board.stages.find((stage) => stage.stageId === toStageId);
    busy.current = true;
    setBoard(moveLocally(board, deal, fromStageId, toStageId));
    shownKey.current = ''; // whatever the API answers next replaces the local move
    setConflict(undefined);
    setNotice(undefined);
    try {
      const {
        data,
        error: problem,
        response,
      } = await api.POST('/deals/{id}/stage', {
        params: { path: { id: deal.dealId }, header: { 'If-Match': `"${deal.revision}"` } },
        body: { toStageId },
      });
      if (data) {
        setNotice(`Moved “${deal.title}” to ${target?.name ?? 'the stage'}.`);
        await refresh(data.position);
      } else if (response.status === 412) {
        setConflict(`“${deal.title}” was changed by someone else; the board now shows it as it is.`);
        await refresh();
      } else {
        setError(problemText(problem, response.status));
        await refresh();
      }
    } catch (e) {
      setError(problemText(e));
      await refresh();
    } finally {
      busy.current = false;
    }
  };

  const more = async (stage: BoardStage) => {
    try {
      const page = await readMore(api, pipelineId, view, stage);
      if (!page) return;
      shown.current = Math.max(shown.current, page.deals.length);
      setBoard(
        (current) =>
          current && { ...current, stages: current.stages.map((s) => (s.stageId === page.stageId ? page : s)) },
      );
    } catch (e) {
      setError(problemText(e));
    }
  };

  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 5 } }),
    useSensor(KeyboardSensor),
  );
  const onDragEnd = ({ active, over }: DragEndEvent) => {
    const data = active.data.current as { deal: BoardDeal; fromStageId: string } | undefined;
    if (data && over) void move(data.deal, data.fromStageId, String(over.id));
  };

  return (
    <section aria-labelledby="board-title" className="board-page">
      <div className="board-bar">
        <h1 id="board-title">{board?.pipeline.name ?? 'Board'}</h1>
        {board?.pipeline.status === 'archived' && <span className="badge">archived</span>}
        {can(session, 'metrics:read') && <a href={`#/pipelines/${pipelineId}/funnel`}>Funnel versus pipeline</a>}
      </div>
      <BoardFiltersForm
        currency={board?.pipeline.currency ?? undefined}
        view={view}
        onChange={(next) => {
          shown.current = PAGE;
          setView(next);
        }}
      />
      {view.asOf && (
        <p className="as-of" role="status">
          The board as it was at {new Date(view.asOf).toLocaleString()} — read-only.
        </p>
      )}
      <div aria-live="polite">
        {conflict && (
          <p role="alert" className="conflict">
            {conflict}
          </p>
        )}
        {notice && <p className="notice">{notice}</p>}
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {writable && board && <NewDeal api={api} board={board} onCreated={(position) => void refresh(position)} />}
      {board && board.stages.length > 0 && (
        <DndContext sensors={sensors} onDragEnd={onDragEnd}>
          <div className="board">
            {board.stages.map((stage) => (
              <BoardColumn
                key={stage.stageId}
                stage={stage}
                stages={board.stages}
                onMove={writable ? (deal, from, to) => void move(deal, from, to) : undefined}
                onMore={(s) => void more(s)}
              />
            ))}
          </div>
        </DndContext>
      )}
      {board && board.stages.every((stage) => stage.count === 0) && !view.asOf && (
        <p className="empty">
          No open deals{Object.keys(view.filters).length ? ' match these filters' : ''}.{' '}
          {writable ? 'Add one with “New deal”.' : ''}
        </p>
      )}
      {!board && !error && <p>Loading…</p>}
    </section>
  );
}

/** The card in its new column at once; the next read of the board puts the totals right. */
function moveLocally(board: Board, deal: BoardDeal, fromStageId: string, toStageId: string): Board {
  return {
    ...board,
    stages: board.stages.map((stage) =>
      stage.stageId === fromStageId
        ? { ...stage, deals: stage.deals.filter((d) => d.dealId !== deal.dealId) }
        : stage.stageId === toStageId
          ? { ...stage, deals: [deal, ...stage.deals] }
          : stage,
    ),
  };
}
