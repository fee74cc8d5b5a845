import type { DealstreamClient } from '@dealstream/client';
import { useEffect, useState, type FormEvent } from 'react';
import { problemText } from './api.js';
import { listPipelines, type PipelineSummary } from './pipeline-list.js';
import { NewPipeline } from './new-pipeline.js';
import { can, type Session } from './session.js';

export function Home({ api, session }: { api: DealstreamClient; session: Session }) {
  const [pipelines, setPipelines] = useState<PipelineSummary[]>();
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string>();
  const [openId, setOpenId] = useState('');
  const mayDefine = can(session, 'pipelines:write');

  useEffect(() => {
    listPipelines(api).then(
      (listed) => {
        setPipelines(listed.pipelines);
        setMore(listed.more);
      },
      (e: unknown) => setError(problemText(e)),
    );
  }, [api]);

  const open = (event: FormEvent) => {
    event.preventDefault();
    const id = openId.trim().toLowerCase();
    if (!/^[0-9a-f-]{36}$/.test(id)) {
      setError('A pipeline id is a UUID, e.g. de000000-0000-4000-8000-000000000001.');
      return;
    }
    window.location.hash = `#/pipelines/${id}`;
  };

  return (
    <section aria-labelledby="pipelines-title">
      <h1 id="pipelines-title">Pipelines</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {pipelines === undefined ? (
        <p>Loading…</p>
      ) : pipelines.length === 0 ? (
        <p className="empty">
          No pipeline yet.{' '}
          {mayDefine
            ? 'Create one below: name it and list its stages in board order.'
            : 'Ask sales operations to create one, or open one by its id below.'}
        </p>
      ) : (
        <>
          <ul className="pipelines">
            {pipelines.map((pipeline) => (
              <li key={pipeline.pipelineId}>
                <a href={`#/pipelines/${pipeline.pipelineId}`}>{pipeline.name}</a>{' '}
                <span className="hint">
                  {pipeline.openDeals} open {pipeline.openDeals === 1 ? 'deal' : 'deals'} · {pipeline.stages.length}{' '}
                  stages{pipeline.status === 'archived' ? ' · archived' : ''}
                </span>
              </li>
            ))}
          </ul>
          {more && <p className="hint">Only the first {pipelines.length} pipelines are listed; open others by id.</p>}
        </>
      )}
      <form className="inline" onSubmit={open}>
        <label htmlFor="open-id">Open a pipeline by id</label>
        <input id="open-id" value={openId} onChange={(e) => setOpenId(e.target.value)} placeholder="pipeline uuid" />
        <button type="submit">Open</button>
      </form>
      {mayDefine && (
        <NewPipeline
          api={api}
          onCreated={(pipelineId) => {
            window.location.hash = `#/pipelines/${pipelineId}`;
          }}
        />
      )}
    </section>
  );
}
