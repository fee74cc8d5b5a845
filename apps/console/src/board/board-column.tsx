import { useDroppable } from '@dnd-kit/core';
import { money, type BoardDeal, type BoardStage } from '../api.js';
import { DealCard } from './deal-card.js';

export interface ColumnProps {
  readonly stage: BoardStage;
  readonly stages: readonly BoardStage[];
  readonly onMove?: (deal: BoardDeal, fromStageId: string, toStageId: string) => void;
  readonly onMore: (stage: BoardStage) => void;
}

export function BoardColumn({ stage, stages, onMove, onMore }: ColumnProps) {
  const { setNodeRef, isOver } = useDroppable({ id: stage.stageId, disabled: !onMove });
  const titleId = `stage-${stage.stageId}`;
  return (
    <section
      ref={setNodeRef}
      className={`column${isOver ? ' over' : ''}`}
      aria-labelledby={titleId}
      data-stage-id={stage.stageId}
    >
      <header className="column-head">
        <h2 id={titleId}>
          {stage.name}
          {stage.probability !== null && <span className="probability"> {stage.probability}%</span>}
        </h2>
        <p className="column-count">
          <span data-testid="count">{stage.count}</span> {stage.count === 1 ? 'deal' : 'deals'}
          {stage.stalledCount > 0 && (
            <span className="stalled-count">
              {' '}
              · <span data-testid="stalled">{stage.stalledCount}</span> stalled
            </span>
          )}
        </p>
        <ul className="totals" aria-label={`${stage.name} totals`}>
          {stage.totals.map((total) => (
            <li key={total.currency} data-currency={total.currency}>
              Σ <span data-testid="amount">{money(total.amount, total.currency)}</span> · weighted{' '}
              <span data-testid="weighted">{money(total.weightedAmount, total.currency)}</span>
            </li>
          ))}
        </ul>
      </header>
      {stage.deals.length === 0 ? (
        <p className="empty">{onMove ? 'No deals. Drag one here.' : 'No deals.'}</p>
      ) : (
        <ul className="deals">
          {stage.deals.map((deal) => (
            <DealCard key={deal.dealId} deal={deal} stage={stage} stages={stages} onMove={onMove} />
          ))}
        </ul>
      )}
      {stage.nextCursor && (
        <button type="button" className="more" onClick={() => onMore(stage)}>
          More ({stage.count - stage.deals.length} not shown)
        </button>
      )}
    </section>
  );
}
