import { useDraggable } from '@dnd-kit/core';
import { money, type BoardDeal, type BoardStage } from '../api.js';

export interface CardProps {
  readonly deal: BoardDeal;
  readonly stage: BoardStage;
  readonly stages: readonly BoardStage[];
  /** Undefined: the card cannot move (as-of board, or the token may not write deals). */
  readonly onMove?: (deal: BoardDeal, fromStageId: string, toStageId: string) => void;
}

export function DealCard({ deal, stage, stages, onMove }: CardProps) {
  const { attributes, listeners, setNodeRef, transform, isDragging } = useDraggable({
    id: deal.dealId,
    data: { deal, fromStageId: stage.stageId },
    disabled: !onMove,
  });
  const style = transform ? { transform: `translate3d(${transform.x}px, ${transform.y}px, 0)` } : undefined;
  return (
    <li
      ref={setNodeRef}
      style={style}
      className={`deal${deal.stalled ? ' stalled' : ''}${isDragging ? ' dragging' : ''}`}
      data-deal-id={deal.dealId}
      aria-label={deal.title}
    >
      <div className="deal-head">
        {onMove && (
          <button
            type="button"
            className="handle"
            aria-label={`Drag ${deal.title} to another stage`}
            {...attributes}
            {...listeners}
          >
            ⠿
          </button>
        )}
        <a className="deal-title" href={`#/deals/${deal.dealId}`}>
          {deal.title}
        </a>
      </div>
      <div className="deal-account">{deal.account}</div>
      <div className="deal-amount">{money(deal.amount, deal.currency)}</div>
      <div className="deal-meta">
        <span title="Owner">{deal.ownerId}</span> · <span>{Math.floor(deal.daysInStage)} d in stage</span>
        {deal.stalled && (
          <span className="stalled-mark" title="Longer in this stage than its goal">
            {' '}
            · stalled
          </span>
        )}
      </div>
      {onMove && (
        <label className="move">
          <span className="visually-hidden">Move {deal.title} to</span>
          <select
            value={stage.stageId}
            onChange={(event) => onMove(deal, stage.stageId, event.target.value)}
            aria-label={`Move ${deal.title} to stage`}
          >
            {stages.map((s) => (
              <option key={s.stageId} value={s.stageId}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
      )}
    </li>
  );
}
