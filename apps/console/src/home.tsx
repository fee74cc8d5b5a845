import type { DealstreamClient } from '@dealstream/client';
import { useEffect, useState, type FormEvent } from 'react';
import { problemText } from './api.js';
import { knownPipelines, rememberPipeline, type KnownPipeline } from './known-pipelines.js';
import { NewPipeline } from './new-pipeline.js';
import { can, type Session } from './session.js';

export function Home({ api, session }: { api: DealstreamClient; session: Session }) {
  const [pipelines, setPipelines] = useState<KnownPipeline[]>();
  const [error, setError] = useState<string>();
  const [openId, setOpenId] = useState('');
  const mayDefine = can(session, 'pipelines:write');

  useEffect(() => {
    knownPipelines(api, session).then(setPipelines, (e: unknown) => setError(problemText(e)));
  }, [api, session]);

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
        <ul className="pipelines">
          {pipelines.map((pipeline) => (
            <li key={pipeline.id}>
              <a href={`#/pipelines/${pipeline.id}`}>{pipeline.name}</a>
            </li>
          ))}
        </ul>
      )}
      <form className="inline" onSubmit={open}>
        <label htmlFor="open-id">Open a pipeline by id</label>
        <input id="open-id" value={openId} onChange={(e) => setOpenId(e.target.value)} placeholder="pipeline uuid" />
        <button type="submit">Open</button>
      </form>
      {mayDefine && (
        <NewPipeline
          api={api}
          onCreated={(pipeline) => {
            rememberPipeline(pipeline);
            window.location.hash = `#/pipelines/${pipeline.id}`;
          }}
        />
      )}
    </section>
  );
}
