import type { components, DealstreamClient } from '@dealstream/client';
import { useEffect, useState } from 'react';
import { ok, problemText } from '../api.js';

type AuditEvent = components['schemas']['AuditEventDto'];
type FieldChange = components['schemas']['FieldChangeDto'];

interface Entry {
  readonly event: AuditEvent;
  readonly changes: readonly FieldChange[];
}

/** Most events a timeline reads (the history is paged; a longer deal shows its first ones and says so). */
const MAX_EVENTS = 200;

/**
 * Who did what and when (business and recorded time), each event with the fields it changed: the
 * audit history, and per event the diff between the versions before and after it.
 */
export function DealTimeline({
  api,
  dealId,
  revision,
  stageNames,
}: {
  api: DealstreamClient;
  dealId: string;
  revision: string;
  /** Stage id → name: a stage change reads "Proposal", not a uuid. */
  stageNames: ReadonlyMap<string, string>;
}) {
  const [entries, setEntries] = useState<Entry[]>();
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string>();

  useEffect(() => {
    let live = true;
    (async () => {
      const page = ok(
        await api.GET('/deals/{id}/history', { params: { path: { id: dealId }, query: { limit: MAX_EVENTS } } }),
      );
      const read = await Promise.all(
        page.events.map(async (event): Promise<Entry> => {
          const version = Number(event.revision);
          const diff = ok(
            await api.GET('/deals/{id}/diff', {
              params: { path: { id: dealId }, query: { from: version, to: version + 1 } },
            }),
          );
          return { event, changes: diff.changes };
        }),
      );
      if (live) {
        setEntries(read.reverse());
        setMore(page.next !== null);
      }
    })().catch((e: unknown) => live && setError(problemText(e)));
    return () => {
      live = false;
    };
  }, [api, dealId, revision]);

  return (
    <section aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {!entries && !error && <p>Loading…</p>}
      {more && <p className="hint">Showing the first {MAX_EVENTS} events, newest first.</p>}
      <ol className="timeline">
        {entries?.map(({ event, changes }) => (
          <li key={event.eventId} data-event-type={event.type}>
            <p className="timeline-head">
              <strong>{event.type}</strong> by <span className="actor">{event.actorId}</span>
            </p>
            <p className="timeline-times">
              <span>
                happened <time dateTime={event.occurredAt}>{new Date(event.occurredAt).toLocaleString()}</time>
              </span>
              {event.recordedAt !== event.occurredAt && (
                <span>
                  {' '}
                  · recorded <time dateTime={event.recordedAt}>{new Date(event.recordedAt).toLocaleString()}</time>
                </span>
              )}
              <span> · revision {event.revision}</span>
            </p>
            {changes.length > 0 && (
              <table className="diff">
                <caption className="visually-hidden">Fields {event.type} changed</caption>
                <thead>
                  <tr>
                    <th scope="col">field</th>
                    <th scope="col">before</th>
                    <th scope="col">after</th>
                  </tr>
                </thead>
                <tbody>
                  {changes.map((change) => (
                    <tr key={change.field}>
                      <th scope="row">{change.field}</th>
                      <td>{show(change.before, stageNames)}</td>
                      <td>{show(change.after, stageNames)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

function show(value: unknown, stageNames: ReadonlyMap<string, string>): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value !== 'string') return JSON.stringify(value);
  return stageNames.get(value) ?? value;
}
