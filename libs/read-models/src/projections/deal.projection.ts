import { evolveDeal, initialDealState, isDealEvent, type DealEvent } from '@dealstream/deals-domain';
import type { RecordedEvent } from '@dealstream/event-store';
import { BatchWrites, rowKey } from './batch-writes.js';
import { versionedFieldsChanged, type DealRow } from './deal-row.js';

/**
 * Projects one deal event onto the deal's in-memory row and the batch's pending writes. The deal's
 * state is folded with the domain's own `evolveDeal`, so the read side can never disagree with what
 * the write side decides on.
 *
 * Business time (`effectiveAt`) is the event's occurredAt, clamped to never run backwards within a
 * deal: a backdated correction takes effect at the deal's latest known instant instead of rewriting
 * intervals that other reports already used.
 */
export function projectDealEvent(rows: Map<string, DealRow>, writes: BatchWrites, event: RecordedEvent): void {
  if (!isDealEvent(event)) return;
  const domainEvent = { type: event.type, data: event.data } as DealEvent;
  const dealId = event.streamId.slice('deal-'.length);
  const revision = Number(event.revision);
  const before = rows.get(dealId);
  // Already applied (a replayed batch): projections are idempotent per stream revision.
  if (before && revision <= before.revision) return;
  const at = before && before.effective_at > event.metadata.occurredAt ? before.effective_at : event.metadata.occurredAt;
  const recordedAt = event.recordedAt;
  const state = evolveDeal(before?.state ?? initialDealState(), domainEvent);
  if (state.status === 'none') return;

  const wasOpen = before?.status === 'open';
  const isOpen = state.status === 'open';
  const enteredStage = !before || (isOpen && (!wasOpen || before.stage_id !== state.stageId));
  const after: DealRow = {
    deal_id: dealId,
    pipeline_id: state.pipelineId,
    stage_id: state.stageId,
    status: state.status,
    title: state.title,
    account: state.account,
    owner_id: state.ownerId,
    amount: state.amount,
    currency: state.currency,
    expected_close_date: state.expectedCloseDate,
    kind: state.kind,
    parent_deal_id: state.parentDealId,
    bant_score: state.qualification?.score ?? null,
    created_at: before?.created_at ?? at,
    created_recorded_at: before?.created_recorded_at ?? recordedAt,
    stage_entered_at: enteredStage ? at : before!.stage_entered_at,
    closed_at: isOpen ? null : wasOpen ? at : (before?.closed_at ?? at),
    won_amount: state.wonAmount,
    activity_count: state.activityCount,
    last_activity_at: event.type === 'ActivityLogged' ? at : (before?.last_activity_at ?? null),
    revision,
    state,
    effective_at: at,
    recorded_at: recordedAt,
    version_revision: before?.version_revision ?? revision,
    open_interval_revision: before?.open_interval_revision ?? null,
  };

  // Open deals per stage: take the deal out where it was, put it in where it is.
  if (wasOpen) writes.addTotal(before.pipeline_id, before.stage_id, before.currency, -1, -before.amount);
  if (isOpen) writes.addTotal(after.pipeline_id, after.stage_id, after.currency, 1, after.amount);

  if (!before || versionedFieldsChanged(before, after)) {
    if (before) closeVersion(writes, dealId, before.version_revision, at, recordedAt);
    writes.versions.set(rowKey(dealId, revision), {
      deal_id: dealId,
      revision,
      valid_from: at,
      valid_to: null,
      recorded_from: recordedAt,
      recorded_to: null,
      pipeline_id: after.pipeline_id,
      stage_id: after.stage_id,
      status: after.status,
      owner_id: after.owner_id,
      amount: after.amount,
      currency: after.currency,
      expected_close_date: after.expected_close_date,
      stage_entered_at: after.stage_entered_at,
      created_at: after.created_at,
    });
    after.version_revision = revision;
  }

  const leftStage = wasOpen && (!isOpen || enteredStage);
  if (leftStage && before.open_interval_revision !== null) {
    closeInterval(writes, dealId, before.open_interval_revision, at, recordedAt, isOpen ? 'moved' : state.status);
    after.open_interval_revision = null;
  }
  if (enteredStage) {
    writes.intervals.set(rowKey(dealId, revision), {
      deal_id: dealId,
      entered_revision: revision,
      pipeline_id: after.pipeline_id,
      stage_id: after.stage_id,
      entered_at: at,
      exited_at: null,
      entered_recorded_at: recordedAt,
      exited_recorded_at: null,
      exit_kind: null,
    });
    after.open_interval_revision = revision;
    writes.transitions.push({
      deal_id: dealId,
      revision,
      pipeline_id: after.pipeline_id,
      from_stage_id: before ? before.stage_id : null,
      to_stage_id: after.stage_id,
      kind: !before ? 'created' : event.type === 'DealReopened' ? 'reopened' : 'moved',
      at,
      recorded_at: recordedAt,
    });
    // Times only grow along a deal's stream, so its first transition into a stage is its first entry.
    const firstKey = `${dealId}|${after.stage_id}`;
    if (!writes.firstEntries.has(firstKey)) {
      writes.firstEntries.set(firstKey, {
        deal_id: dealId,
        stage_id: after.stage_id,
        pipeline_id: after.pipeline_id,
        first_at: at,
        first_recorded_at: recordedAt,
        created_at: after.created_at,
        created_recorded_at: after.created_recorded_at,
      });
    }
  }

  if (domainEvent.type === 'ActivityLogged') {
    writes.activities.push({
      deal_id: dealId,
      revision,
      activity_id: domainEvent.data.activityId,
      pipeline_id: after.pipeline_id,
      kind: domainEvent.data.kind,
      outcome: domainEvent.data.outcome ?? null,
      note: domainEvent.data.note ?? null,
      actor_id: event.metadata.actorId,
      at,
    });
  }
  rows.set(dealId, after);
}

function closeVersion(writes: BatchWrites, dealId: string, revision: number, at: Date, recordedAt: Date): void {
  const pending = writes.versions.get(rowKey(dealId, revision));
  if (pending) {
    pending.valid_to = at;
    pending.recorded_to = recordedAt;
  } else {
    writes.versionClosings.push({ deal_id: dealId, revision, at, recorded_at: recordedAt });
  }
}

function closeInterval(writes: BatchWrites, dealId: string, revision: number, at: Date, recordedAt: Date, exitKind: string): void {
  const pending = writes.intervals.get(rowKey(dealId, revision));
  if (pending) {
    pending.exited_at = at;
    pending.exited_recorded_at = recordedAt;
    pending.exit_kind = exitKind;
  } else {
    writes.intervalClosings.push({ deal_id: dealId, revision, at, recorded_at: recordedAt, exit_kind: exitKind });
  }
}
