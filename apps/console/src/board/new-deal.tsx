import type { DealstreamClient } from '@dealstream/client';
import { useState, type FormEvent } from 'react';
import { problemText, toMinor, type Board } from '../api.js';

export function NewDeal({
  api,
  board,
  onCreated,
}: {
  api: DealstreamClient;
  board: Board;
  onCreated: (position: string) => void;
}) {
  const [open, setOpen] = useState(false);
  const [title, setTitle] = useState('');
  const [account, setAccount] = useState('');
  const [amount, setAmount] = useState('');
  const [currency, setCurrency] = useState(board.pipeline.currency ?? 'EUR');
  const [stageId, setStageId] = useState(board.stages[0]?.stageId ?? '');
  const [error, setError] = useState<string>();

  if (!open)
    return (
      <button type="button" className="primary" onClick={() => setOpen(true)}>
        New deal
      </button>
    );

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const minor = toMinor(amount, currency);
    if (minor === undefined) return setError('The amount is a number, e.g. 1250 or 1250.50.');
    try {
      const {
        data,
        error: problem,
        response,
      } = await api.POST('/deals', {
        params: { header: { 'Idempotency-Key': crypto.randomUUID() } },
        body: { pipelineId: board.pipeline.pipelineId, title, account, amount: minor, currency, stageId },
      });
      if (!data) return setError(problemText(problem, response.status));
      setTitle('');
      setAccount('');
      setAmount('');
      setError(undefined);
      onCreated(data.position);
    } catch (e) {
      setError(problemText(e));
    }
  };

  return (
    <form className="card-form new-deal" onSubmit={(e) => void submit(e)} aria-labelledby="new-deal-title">
      <h2 id="new-deal-title">New deal</h2>
      <label htmlFor="deal-title">Title</label>
      <input id="deal-title" required value={title} onChange={(e) => setTitle(e.target.value)} />
      <label htmlFor="deal-account">Account</label>
      <input id="deal-account" required value={account} onChange={(e) => setAccount(e.target.value)} />
      <label htmlFor="deal-amount">Amount ({currency})</label>
      <input id="deal-amount" required inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />
      {!board.pipeline.currency && (
        <>
          <label htmlFor="deal-currency">Currency</label>
          <input
            id="deal-currency"
            maxLength={3}
            value={currency}
            onChange={(e) => setCurrency(e.target.value.toUpperCase())}
          />
        </>
      )}
      <label htmlFor="deal-stage">Stage</label>
      <select id="deal-stage" value={stageId} onChange={(e) => setStageId(e.target.value)}>
        {board.stages.map((stage) => (
          <option key={stage.stageId} value={stage.stageId}>
            {stage.name}
          </option>
        ))}
      </select>
      <div className="actions">
        <button type="submit" className="primary">
          Create deal
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Close
        </button>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}
