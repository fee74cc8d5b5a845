import type { components, DealstreamClient } from '@dealstream/client';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { money, ok, problemText } from '../api.js';
import { BarChart } from './bar-chart.js';

type Funnel = components['schemas']['FunnelDto'];
type Metrics = components['schemas']['PipelineMetricsDto'];
type Velocity = components['schemas']['VelocityDto'];
type Policy = 'strict' | 'any' | 'implied';
type Axis = 'occurred' | 'recorded';

interface Period {
  readonly from: string;
  readonly to: string;
  readonly policy: Policy;
  readonly axis: Axis;
  readonly asOf?: string;
}

function thisYear(): Period {
  const now = new Date();
  const from = `${now.getUTCFullYear()}-01-01`;
  const tomorrow = new Date(now.getTime() + 86_400_000).toISOString().slice(0, 10);
  return { from, to: tomorrow, policy: 'any', axis: 'occurred' };
}

const percent = (value: number | null) => (value === null ? '—' : `${Math.round(value * 1000) / 10}%`);

/** The funnel for a period beside the pipeline's open and weighted value per stage, and the velocity tiles. */
export function FunnelPage({ api, pipelineId }: { api: DealstreamClient; pipelineId: string }) {
  const [period, setPeriod] = useState<Period>(thisYear);
  const [form, setForm] = useState<Period>(thisYear);
  const [data, setData] = useState<{ funnel: Funnel; metrics: Metrics; velocity: Velocity }>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    const common = {
      axis: period.axis,
      ...(period.asOf ? { asOf: period.asOf } : {}),
    };
    const range = { from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString() };
    const path = { id: pipelineId };
    Promise.all([
      api.GET('/pipelines/{id}/metrics/funnel', {
        params: { path, query: { ...common, ...range, policy: period.policy } },
      }),
      api.GET('/pipelines/{id}/metrics/pipeline', { params: { path, query: common } }),
      api.GET('/pipelines/{id}/metrics/velocity', { params: { path, query: { ...common, ...range } } }),
    ]).then(
      ([funnel, metrics, velocity]) => {
        try {
          setData({ funnel: ok(funnel), metrics: ok(metrics), velocity: ok(velocity) });
          setError(undefined);
        } catch (e) {
          setError(problemText(e));
        }
      },
      (e: unknown) => setError(problemText(e)),
    );
  }, [api, pipelineId, period]);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setPeriod(form);
  };

  const funnelLabels = useMemo(() => data?.funnel.stages.map((s) => s.name) ?? [], [data]);
  const funnelSeries = useMemo(
    () => [{ label: 'reached', values: data?.funnel.stages.map((s) => s.reached) ?? [], colour: '#0b57d0' }],
    [data],
  );
  const currency = data?.metrics.stages.flatMap((s) => s.byCurrency.map((c) => c.currency))[0];
  const valueLabels = useMemo(() => data?.metrics.stages.map((s) => s.name) ?? [], [data]);
  const valueSeries = useMemo(() => {
    const of = (pick: 'value' | 'weightedValue') =>
      data?.metrics.stages.map((s) => (s.byCurrency.find((c) => c.currency === currency)?.[pick] ?? 0) / 100) ?? [];
    return [
      { label: `open (${currency ?? '—'})`, values: of('value'), colour: '#94a3b8' },
      { label: `weighted (${currency ?? '—'})`, values: of('weightedValue'), colour: '#0b57d0' },
    ];
  }, [data, currency]);

  return (
    <section aria-labelledby="funnel-title" className="funnel-page">
      <p>
        <a href={`#/pipelines/${pipelineId}`}>← Board</a>
      </p>
      <h1 id="funnel-title">Funnel versus pipeline</h1>
      <form className="filters" onSubmit={apply} aria-label="Report period">
        <label>
          From
          <input type="date" value={form.from} onChange={(e) => setForm({ ...form, from: e.target.value })} />
        </label>
        <label>
          To (exclusive)
          <input type="date" value={form.to} onChange={(e) => setForm({ ...form, to: e.target.value })} />
        </label>
        <label>
          Policy
          <select value={form.policy} onChange={(e) => setForm({ ...form, policy: e.target.value as Policy })}>
            <option value="any">any</option>
            <option value="strict">strict</option>
            <option value="implied">implied</option>
          </select>
        </label>
        <label>
          Axis
          <select value={form.axis} onChange={(e) => setForm({ ...form, axis: e.target.value as Axis })}>
            <option value="occurred">occurred (business time)</option>
            <option value="recorded">recorded</option>
          </select>
        </label>
        <label>
          As of
          <input
            type="datetime-local"
            step={1}
            value={form.asOf ? form.asOf.slice(0, 19) : ''}
            onChange={(e) => {
              const { asOf: _asOf, ...rest } = form;
              setForm(e.target.value ? { ...rest, asOf: new Date(e.target.value).toISOString() } : rest);
            }}
          />
        </label>
        <button type="submit">Show</button>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {!data && !error && <p>Loading…</p>}
      {data && (
        <>
          <ul className="tiles" aria-label="Velocity">
            <Tile label="Opportunities" value={String(data.velocity.opportunities)} />
            <Tile label="Won" value={String(data.velocity.won)} />
            <Tile label="Win rate" value={percent(data.velocity.winRatePeriod)} />
            {data.velocity.byCurrency.map((c) => (
              <Tile
                key={`size-${c.currency}`}
                label={`Average won size (${c.currency})`}
                value={c.averageWonAmount === null ? '—' : money(Math.round(c.averageWonAmount), c.currency)}
              />
            ))}
            <Tile
              label="Cycle length"
              value={data.velocity.averageCycleDays === null ? '—' : `${data.velocity.averageCycleDays.toFixed(1)} d`}
            />
            {data.velocity.byCurrency.map((c) => (
              <Tile
                key={`velocity-${c.currency}`}
                label={`Velocity (${c.currency} per day)`}
                value={c.velocityPerDay === null ? '—' : money(Math.round(c.velocityPerDay), c.currency)}
              />
            ))}
          </ul>
          <div className="side-by-side">
            <section aria-labelledby="funnel-chart-title">
              <h2 id="funnel-chart-title">
                Funnel ({data.funnel.cohort.size} deals created in the period, policy {data.funnel.policy})
              </h2>
              <BarChart title="Deals that reached each stage" labels={funnelLabels} series={funnelSeries} />
              <table className="report">
                <thead>
                  <tr>
                    <th scope="col">stage</th>
                    <th scope="col">reached</th>
                    <th scope="col">conversion to next</th>
                    <th scope="col">drop-off</th>
                  </tr>
                </thead>
                <tbody>
                  {data.funnel.stages.map((s) => (
                    <tr key={s.stageId}>
                      <th scope="row">{s.name}</th>
                      <td>{s.reached}</td>
                      <td>{percent(s.conversionToNext)}</td>
                      <td>{s.dropOff ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
            <section aria-labelledby="pipeline-chart-title">
              <h2 id="pipeline-chart-title">Pipeline now{data.metrics.asOf ? ` (as of ${data.metrics.asOf})` : ''}</h2>
              <BarChart title="Open and weighted value per stage" labels={valueLabels} series={valueSeries} />
              <table className="report">
                <thead>
                  <tr>
                    <th scope="col">stage</th>
                    <th scope="col">open deals</th>
                    <th scope="col">open value</th>
                    <th scope="col">weighted</th>
                  </tr>
                </thead>
                <tbody>
                  {data.metrics.stages.map((s) => (
                    <tr key={s.stageId}>
                      <th scope="row">{s.name}</th>
                      <td>{s.count}</td>
                      <td>{s.byCurrency.map((c) => money(c.value, c.currency)).join(', ') || '—'}</td>
                      <td>{s.byCurrency.map((c) => money(c.weightedValue, c.currency)).join(', ') || '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          </div>
        </>
      )}
    </section>
  );
}

function Tile({ label, value }: { label: string; value: string }) {
  return (
    <li className="tile">
      <span className="tile-label">{label}</span>
      <span className="tile-value">{value}</span>
    </li>
  );
}
