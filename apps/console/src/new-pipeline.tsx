import type { DealstreamClient } from '@dealstream/client';
import { useState, type FormEvent } from 'react';
import { problemText } from './api.js';

const DEFAULT_STAGES = ['Lead, 10', 'Qualified, 25', 'Proposal, 50, 14', 'Negotiation, 75, 21'].join('\n');

/** "Name, probability %[, max days in stage]" per line, in board order. */
function parseStages(
  text: string,
): { name: string; probability: number; goal?: { maxDaysInStage: number } }[] | string {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  if (lines.length === 0) return 'List at least one stage.';
  const stages = [];
  for (const [index, line] of lines.entries()) {
    const [name, probability, maxDays] = line.split(',').map((part) => part.trim());
    const p = Number(probability);
    if (!name || !Number.isInteger(p) || p < 0 || p > 100)
      return `Line ${index + 1}: write "Name, probability" with a whole percent 0–100.`;
    const days = maxDays ? Number(maxDays) : undefined;
    if (days !== undefined && (!Number.isInteger(days) || days < 1))
      return `Line ${index + 1}: max days in stage is a whole number of days.`;
    stages.push({ name, probability: p, ...(days ? { goal: { maxDaysInStage: days } } : {}) });
  }
  return stages;
}

export function NewPipeline({ api, onCreated }: { api: DealstreamClient; onCreated: (pipelineId: string) => void }) {
  const [name, setName] = useState('');
  const [currency, setCurrency] = useState('EUR');
  const [stagesText, setStagesText] = useState(DEFAULT_STAGES);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const stages = parseStages(stagesText);
    if (typeof stages === 'string') return setError(stages);
    setBusy(true);
    setError(undefined);
    try {
      const {
        data,
        error: problem,
        response,
      } = await api.POST('/pipelines', {
        params: { header: { 'Idempotency-Key': crypto.randomUUID() } },
        body: { name: name.trim(), ...(currency.trim() ? { currency: currency.trim().toUpperCase() } : {}), stages },
      });
      if (data) onCreated(data.id);
      else setError(problemText(problem, response.status));
    } catch (e) {
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card-form" onSubmit={(e) => void submit(e)} aria-labelledby="new-pipeline-title">
      <h2 id="new-pipeline-title">New pipeline</h2>
      <label htmlFor="pipeline-name">Name</label>
      <input id="pipeline-name" required value={name} onChange={(e) => setName(e.target.value)} />
      <label htmlFor="pipeline-currency">Currency (every deal must use it; empty: any)</label>
      <input id="pipeline-currency" value={currency} maxLength={3} onChange={(e) => setCurrency(e.target.value)} />
      <label htmlFor="pipeline-stages">Stages, one per line: name, probability %, max days in stage (optional)</label>
      <textarea id="pipeline-stages" rows={5} value={stagesText} onChange={(e) => setStagesText(e.target.value)} />
      <button type="submit" disabled={busy}>
        Create pipeline
      </button>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}
