import { useState, type FormEvent } from 'react';
import { toMinor } from '../api.js';
import type { BoardView } from './board-query.js';

/** Owner, stalled, amount range, and the instant to show the board at. */
export function BoardFiltersForm({
  currency,
  view,
  onChange,
}: {
  currency: string | undefined;
  view: BoardView;
  onChange: (view: BoardView) => void;
}) {
  const [owner, setOwner] = useState(view.filters.ownerId ?? '');
  const [stalled, setStalled] = useState('any');
  const [min, setMin] = useState('');
  const [max, setMax] = useState('');
  const [asOf, setAsOf] = useState('');
  const unit = currency ?? 'EUR';

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const minAmount = min ? toMinor(min, unit) : undefined;
    const maxAmount = max ? toMinor(max, unit) : undefined;
    onChange({
      filters: {
        ...(owner.trim() ? { ownerId: owner.trim() } : {}),
        ...(stalled !== 'any' ? { stalled: stalled === 'stalled' } : {}),
        ...(minAmount !== undefined ? { minAmount } : {}),
        ...(maxAmount !== undefined ? { maxAmount } : {}),
      },
      ...(asOf ? { asOf: new Date(asOf).toISOString() } : {}),
    });
  };

  return (
    <form className="filters" onSubmit={apply} aria-label="Board filters">
      <label>
        Owner
        <input value={owner} onChange={(e) => setOwner(e.target.value)} placeholder="any" />
      </label>
      <label>
        Stalled
        <select value={stalled} onChange={(e) => setStalled(e.target.value)}>
          <option value="any">any</option>
          <option value="stalled">stalled only</option>
          <option value="on-track">on track only</option>
        </select>
      </label>
      <label>
        Min amount ({unit})
        <input inputMode="decimal" value={min} onChange={(e) => setMin(e.target.value)} size={8} />
      </label>
      <label>
        Max amount ({unit})
        <input inputMode="decimal" value={max} onChange={(e) => setMax(e.target.value)} size={8} />
      </label>
      <label>
        As of
        <input type="datetime-local" step={1} value={asOf} onChange={(e) => setAsOf(e.target.value)} />
      </label>
      <button type="submit">Apply</button>
      {view.asOf && (
        <button
          type="button"
          onClick={() => {
            setAsOf('');
            onChange({ filters: view.filters });
          }}
        >
          Back to now
        </button>
      )}
    </form>
  );
}
