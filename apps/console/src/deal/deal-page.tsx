import type { components, DealstreamClient } from '@dealstream/client';
import { useCallback, useEffect, useState } from 'react';
import { ApiError, money, ok, problemText } from '../api.js';
import { can, type Session } from '../session.js';
import { DealActions } from './deal-actions.js';
import { DealTimeline } from './deal-timeline.js';

type Deal = components['schemas']['DealViewDto'];
type Verify = components['schemas']['VerifyReportDto'];

export function DealPage({ api, session, dealId }: { api: DealstreamClient; session: Session; dealId: string }) {
  const [deal, setDeal] = useState<Deal>();
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [verify, setVerify] = useState<Verify | string>();
  const [stageNames, setStageNames] = useState<ReadonlyMap<string, string>>(new Map());

  const load = useCallback(
    async (minPosition?: string) => {
      try {
        setDeal(
          ok(
            await api.GET('/deals/{id}', {
              params: { path: { id: dealId }, query: minPosition ? { minPosition } : {} },
            }),
          ),
        );
        setError(undefined);
      } catch (e) {
        setError(e instanceof ApiError && e.status === 404 ? 'No deal has this id.' : problemText(e));
      }
    },
    [api, dealId],
  );
  useEffect(() => void load(), [load]);

  /**
   * After a 412 the store holds a newer revision than the page; the read model shows it a moment
   * later (no position to wait for comes with a refusal): read until the revision moves, up to 3 s.
   */
  const loadNewerThan = useCallback(
    async (stale: string) => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const answer = await api.GET('/deals/{id}', { params: { path: { id: dealId } } });
        if (answer.data && answer.data.revision !== stale) {
          setDeal(answer.data);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      await load();
    },
    [api, dealId, load],
  );

  // Stage ids read as names in the fields and the timeline (the board names the pipeline's live stages).
  const pipelineId = deal?.pipelineId;
  useEffect(() => {
    if (!pipelineId) return;
    api.GET('/pipelines/{id}/board', { params: { path: { id: pipelineId }, query: { limit: 1 } } }).then(
      ({ data }) => data && setStageNames(new Map(data.stages.map((stage) => [stage.stageId, stage.name]))),
      () => undefined, // names are a nicety: ids remain readable
    );
  }, [api, pipelineId]);

  useEffect(() => {
    if (!deal || !can(session, 'audit:verify')) return;
    api.GET('/audit/verify', { params: { query: { stream: `deal-${dealId}` } } }).then(
      (answer) => setVerify(ok(answer)),
      (e: unknown) => setVerify(problemText(e)),
    );
  }, [api, session, dealId, deal]);

  if (error)
    return (
      <p role="alert" className="error">
        {error}
      </p>
    );
  if (!deal) return <p>Loading…</p>;
  return (
    <div className="deal-page">
      <p>
        <a href={`#/pipelines/${deal.pipelineId}`}>← Board</a>
      </p>
      <h1>{deal.title}</h1>
      <dl className="fields">
        <dt>Stage</dt>
        <dd>{stageNames.get(deal.stageId) ?? deal.stageId}</dd>
        <dt>Account</dt>
        <dd>{deal.account}</dd>
        <dt>Status</dt>
        <dd data-testid="status">{deal.status}</dd>
        <dt>Amount</dt>
        <dd>{money(deal.amount, deal.currency)}</dd>
        {deal.wonAmount !== null && (
          <>
            <dt>Won amount</dt>
            <dd>{money(deal.wonAmount, deal.currency)}</dd>
          </>
        )}
        <dt>Owner</dt>
        <dd>{deal.ownerId}</dd>
        <dt>Expected close</dt>
        <dd>{deal.expectedCloseDate ?? '—'}</dd>
        <dt>Contact</dt>
        <dd>{deal.contact ?? '—'}</dd>
        <dt>Kind</dt>
        <dd>{deal.kind}</dd>
        <dt>Qualification</dt>
        <dd>{deal.qualification ? JSON.stringify(deal.qualification) : 'not qualified'}</dd>
        {deal.closedReason && (
          <>
            <dt>Reason</dt>
            <dd>{deal.closedReason}</dd>
          </>
        )}
        <dt>Activities</dt>
        <dd>{deal.activityCount}</dd>
        <dt>In stage since</dt>
        <dd>{new Date(deal.stageEnteredAt).toLocaleString()}</dd>
        <dt>Revision</dt>
        <dd>{deal.revision}</dd>
        {verify !== undefined && (
          <>
            <dt>Hash chain</dt>
            <dd data-testid="chain">
              {typeof verify === 'string'
                ? verify
                : verify.ok
                  ? `verified: ${verify.eventsChecked} events, unbroken`
                  : `BROKEN: ${verify.breaks.length} break(s)`}
            </dd>
          </>
        )}
      </dl>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {can(session, 'deals:write') && (
        <DealActions
          api={api}
          deal={deal}
          onDone={(position, message) => {
            setNotice(message);
            void (position ? load(position) : loadNewerThan(deal.revision));
          }}
        />
      )}
      {can(session, 'audit:history') ? (
        <DealTimeline api={api} dealId={dealId} revision={deal.revision} stageNames={stageNames} />
      ) : (
        <p className="hint">The timeline is for roles with the audit history (ops, analyst, auditor, admin).</p>
      )}
    </div>
  );
}
