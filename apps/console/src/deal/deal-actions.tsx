import type { components, DealstreamClient } from '@dealstream/client';
import { useState, type FormEvent, type ReactNode } from 'react';
import { problemText, toMinor } from '../api.js';

type Deal = components['schemas']['DealViewDto'];
type Disqualify = components['schemas']['DisqualifyDealDto'];
const DISQUALIFY_REASONS: readonly Disqualify['reason'][] = [
  'no-budget',
  'no-authority',
  'no-need',
  'no-timeline',
  'no-engagement',
  'other',
];
type Answer = { data?: { position: string }; error?: unknown; response: Response };

/**
 * The deal's commands, each a form in a disclosure (keyboard: Tab to it, Enter to open). Every
 * write sends If-Match with the revision shown, so acting on a stale page is refused (412), not applied.
 */
export function DealActions({
  api,
  deal,
  onDone,
}: {
  api: DealstreamClient;
  deal: Deal;
  /** After a write (its position and a message), or after a 412 (nothing: read the deal again). */
  onDone: (position?: string, message?: string) => void;
}) {
  const [error, setError] = useState<string>();
  const path = { id: deal.dealId };
  const header = { 'If-Match': `"${deal.revision}"` };

  const run = async (label: string, write: () => Promise<Answer>) => {
    setError(undefined);
    try {
      const { data, error: problem, response } = await write();
      if (data) onDone(data.position, `${label}: done.`);
      else
        setError(
          response.status === 412
            ? 'This deal was changed by someone else since you opened it; the page now shows it as it is.'
            : problemText(problem, response.status),
        );
      if (response.status === 412) onDone();
    } catch (e) {
      setError(problemText(e));
    }
  };

  const open = deal.status === 'open';
  return (
    <section aria-labelledby="actions-title" className="actions-panel">
      <h2 id="actions-title">Actions</h2>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {open && (
        <>
          <Action title="Win">
            {(form) => (
              <form
                onSubmit={form((f) =>
                  run('Won', () =>
                    api.POST('/deals/{id}/win', {
                      params: { path, header },
                      body: { ...(text(f, 'reason') ? { reason: text(f, 'reason') } : {}) },
                    }),
                  ),
                )}
              >
                <Field name="reason" label="Why it was won (optional)" />
                <button type="submit">Mark as won</button>
              </form>
            )}
          </Action>
          <Action title="Lose">
            {(form) => (
              <form
                onSubmit={form((f) =>
                  run('Lost', () =>
                    api.POST('/deals/{id}/lose', {
                      params: { path, header },
                      body: {
                        reason: text(f, 'reason'),
                        ...(text(f, 'competitor') ? { competitor: text(f, 'competitor') } : {}),
                      },
                    }),
                  ),
                )}
              >
                <Field name="reason" label="Reason" required />
                <Field name="competitor" label="Competitor (optional)" />
                <button type="submit">Mark as lost</button>
              </form>
            )}
          </Action>
          <Action title="Qualify (BANT)">
            {(form) => (
              <form
                onSubmit={form((f) =>
                  run('Qualified', () =>
                    api.POST('/deals/{id}/qualify', {
                      params: { path, header },
                      body: {
                        budget: { confirmed: f.get('budget') === 'on' },
                        authority: { confirmed: f.get('authority') === 'on' },
                        need: { confirmed: f.get('need') === 'on' },
                        timeline: { confirmed: f.get('timeline') === 'on' },
                      },
                    }),
                  ),
                )}
              >
                {['budget', 'authority', 'need', 'timeline'].map((criterion) => (
                  <label key={criterion} className="check">
                    <input type="checkbox" name={criterion} /> {criterion} confirmed
                  </label>
                ))}
                <button type="submit">Qualify</button>
              </form>
            )}
          </Action>
          <Action title="Disqualify">
            {(form) => (
              <form
                onSubmit={form((f) =>
                  run('Disqualified', () =>
                    api.POST('/deals/{id}/disqualify', {
                      params: { path, header },
                      body: {
                        reason: text(f, 'reason') as Disqualify['reason'],
                        ...(text(f, 'note') ? { note: text(f, 'note') } : {}),
                      },
                    }),
                  ),
                )}
              >
                <label>
                  Reason
                  <select name="reason" defaultValue="no-need">
                    {DISQUALIFY_REASONS.map((reason) => (
                      <option key={reason}>{reason}</option>
                    ))}
                  </select>
                </label>
                <Field name="note" label="Note (optional)" />
                <button type="submit">Disqualify</button>
              </form>
            )}
          </Action>
          <Action title="Change amount, owner or close date">
            {(form) => (
              <form
                onSubmit={form((f) => {
                  const amount = text(f, 'amount') ? toMinor(text(f, 'amount'), deal.currency) : undefined;
                  return run('Changed', () =>
                    api.PATCH('/deals/{id}', {
                      params: { path, header },
                      body: {
                        ...(amount !== undefined ? { amount } : {}),
                        ...(text(f, 'ownerId') ? { ownerId: text(f, 'ownerId') } : {}),
                        ...(text(f, 'expectedCloseDate') ? { expectedCloseDate: text(f, 'expectedCloseDate') } : {}),
                      },
                    }),
                  );
                })}
              >
                <Field name="amount" label={`Amount (${deal.currency})`} />
                <Field name="ownerId" label="Owner" />
                <Field name="expectedCloseDate" label="Expected close date" type="date" />
                <button type="submit">Save changes</button>
              </form>
            )}
          </Action>
        </>
      )}
      {deal.status !== 'disqualified' && (
        <Action title="Log activity">
          {(form) => (
            <form
              onSubmit={form((f) =>
                run('Activity logged', () =>
                  api.POST('/deals/{id}/activities', {
                    params: { path, header },
                    body: {
                      kind: text(f, 'kind') as 'call',
                      ...(text(f, 'note') ? { note: text(f, 'note') } : {}),
                    },
                  }),
                ),
              )}
            >
              <label>
                Kind
                <select name="kind" defaultValue="call">
                  {['call', 'email', 'meeting', 'social', 'note'].map((kind) => (
                    <option key={kind}>{kind}</option>
                  ))}
                </select>
              </label>
              <Field name="note" label="Note (optional)" />
              <button type="submit">Log</button>
            </form>
          )}
        </Action>
      )}
      {!open && (
        <Action title="Reopen">
          {(form) => (
            <form
              onSubmit={form(() =>
                run('Reopened', () => api.POST('/deals/{id}/reopen', { params: { path, header }, body: {} })),
              )}
            >
              <button type="submit">Reopen</button>
            </form>
          )}
        </Action>
      )}
      {deal.status === 'won' && (
        <Action title="Upsell or cross-sell">
          {(form) => (
            <form
              onSubmit={form((f) => {
                const amount = toMinor(text(f, 'amount'), deal.currency) ?? 0;
                const kind = f.get('kind') === 'cross-sell' ? '/deals/{id}/cross-sell' : '/deals/{id}/upsell';
                return run('Follow-on deal created', () =>
                  api.POST(kind, {
                    params: { path, header: { 'Idempotency-Key': crypto.randomUUID() } },
                    body: { title: text(f, 'title'), amount, currency: deal.currency },
                  }),
                );
              })}
            >
              <label>
                Kind
                <select name="kind" defaultValue="upsell">
                  <option>upsell</option>
                  <option>cross-sell</option>
                </select>
              </label>
              <Field name="title" label="Title" required />
              <Field name="amount" label={`Amount (${deal.currency})`} required />
              <button type="submit">Create follow-on deal</button>
            </form>
          )}
        </Action>
      )}
    </section>
  );
}

type Submit = (handle: (form: FormData) => Promise<void> | void) => (event: FormEvent<HTMLFormElement>) => void;

function Action({ title, children }: { title: string; children: (form: Submit) => ReactNode }) {
  const form: Submit = (handle) => (event) => {
    event.preventDefault();
    void handle(new FormData(event.currentTarget));
  };
  return (
    <details className="action">
      <summary>{title}</summary>
      {children(form)}
    </details>
  );
}

function Field({ name, label, required, type }: { name: string; label: string; required?: boolean; type?: string }) {
  return (
    <label>
      {label}
      <input name={name} required={required} type={type ?? 'text'} />
    </label>
  );
}

function text(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value.trim() : '';
}
