import { evolveDeal, initialDealState, type DealEvent } from '@dealstream/deals-domain';
import { domainEventOf } from '@dealstream/event-store';
import type { CompiledQuery, InferResult } from 'kysely';
import { compiledOnce } from '@dealstream/database';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { rowKey, type BatchWrites, type FirstEntryRow } from './batch-writes.js';
import { dealRowFromDb, dealsWithState, versionedFieldsChanged, type DealRow } from './deal-row.js';
import { defineProjection, type ProjectedEvent, type ProjectionBatch } from './projection-definition.js';

/**
 * The deal projection: the deal's current row (deals, deal_states), its history (deal_versions), the
 * periods it spent in each stage (stage_intervals), its entries into stages (stage_transitions,
 * stage_first_entries), and the open totals per stage (stage_totals).
 *
 * Every event folds the deal with the domain's own `evolveDeal` — so the read side can never
 * disagree with what the write side decides on — and turns the change of state into rows
 * (`foldDeal`): a change of stage, status, owner, amount, currency, close date or stage entry starts
 * a new deal_versions row; entering a stage (created, moved, reopened) closes the open interval and
 * opens one, with a transition; closing (won, lost, disqualified) ends the open interval.
 */
export const dealProjection = defineProjection<DealRow, DealEvent>({
  name: 'deals',
  category: 'deal',
  load: loadDeals,
  handlers: {
    DealCreated: foldDeal, // the rows of a new deal: its first version, an open interval, a 'created' transition
    DealQualified: foldDeal, // bant_score (not a versioned field)
    DealDisqualified: foldDeal, // closed: a version, the interval exits 'disqualified'
    StageAdvanced: foldDeal, // a version, the interval exits 'moved', a new interval and a 'moved' transition
    DealValueChanged: foldDeal, // a version with the new amount
    DealOwnerReassigned: foldDeal, // a version with the new owner
    ExpectedCloseDateChanged: foldDeal, // a version with the new date
    ActivityLogged: foldDeal, // activity_count and last_activity_at (the activity itself is in the audit history)
    DealWon: foldDeal, // closed: a version, the interval exits 'won'
    DealLost: foldDeal, // closed: a version, the interval exits 'lost'
    DealReopened: foldDeal, // open again: a version, a new interval and a 'reopened' transition
  },
});

async function loadDeals(trx: ReadModelDb, schema: string, ids: readonly string[]): Promise<Map<string, DealRow>> {
  if (ids.length === 0) return new Map();
  // The statement is the same for every batch (the ids are its one parameter): built once per schema
  // instead of per batch (Kysely's building was ~1% of the API's CPU per command).
  const query = compiledOnce(loadDealsBySchema, schema, () => dealsByIds(trx, schema, []).compile(), [[...ids]]);
  const { rows } = await trx.executeQuery(query);
  return new Map(rows.map((row) => [row.deal_id, dealRowFromDb(row)]));
}

function dealsByIds(db: ReadModelDb, schema: string, ids: readonly string[]) {
  return dealsWithState(db, schema).where('deals.deal_id', '=', (eb) => eb.fn.any(eb.val([...ids])));
}

const loadDealsBySchema = new Map<string, CompiledQuery<InferResult<ReturnType<typeof dealsByIds>>[number]>>();

/**
 * Folds one event into the deal's in-memory row and the batch's pending writes; false when it
 * changed nothing (already applied, or no deal yet).
 *
 * Business time (`effectiveAt`) is the event's occurredAt, clamped to never run backwards within a
 * deal: a backdated correction takes effect at the deal's latest known instant instead of rewriting
 * intervals that other reports already used.
 */
function foldDeal(event: ProjectedEvent<DealEvent>, { rows, writes }: ProjectionBatch<DealRow>): boolean {
  const domainEvent = domainEventOf(event);
  const dealId = event.streamId.slice('deal-'.length);
  const revision = Number(event.revision);
  const before = rows.get(dealId);
  // Already applied (a replayed batch): projections are idempotent per stream revision.
  if (before && revision <= before.revision) return false;
  const at =
    before && before.effective_at > event.metadata.occurredAt ? before.effective_at : event.metadata.occurredAt;
  const recordedAt = event.recordedAt;
  const state = evolveDeal(before?.state ?? initialDealState(), domainEvent);
  if (state.status === 'none') return false;

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
    // The deal's source for report segments: the import that created it, or none (live). Fixed at creation.
    import_id: before ? before.import_id : (event.metadata.provenance?.importId ?? null),
    bant_score: state.qualification?.score ?? null,
    created_at: before?.created_at ?? at,
    created_recorded_at: before?.created_recorded_at ?? recordedAt,
    stage_entered_at: enteredStage ? at : before.stage_entered_at,
    stage_entered_recorded_at: enteredStage ? recordedAt : before.stage_entered_recorded_at,
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
  if (wasOpen) writes.addTotal(before, -1);
  if (isOpen) writes.addTotal(after, 1);

  if (!before || versionedFieldsChanged(before, after)) {
    if (before) closeVersion(writes, dealId, before.version_revision, at, recordedAt);
    // Open deals as of any instant (open_deal_deltas): the version that ends leaves them, the one that starts joins them.
    if (before?.status === 'open') writes.addOpenVersion(before, -1, at, recordedAt);
    if (after.status === 'open') writes.addOpenVersion(after, 1, at, recordedAt);
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
  if (leftStage) {
    // The visit to the stage it leaves ends: its length joins the stage's total (funnel time in stage).
    const visit = stageVisit(writes, before, before.stage_id);
    visit.visits_ms += at.getTime() - before.stage_entered_at.getTime();
    visit.visits_recorded_ms += recordedAt.getTime() - before.stage_entered_recorded_at.getTime();
    visit.open_since = null;
    visit.open_since_recorded = null;
    visit.settled_at = at;
    visit.settled_recorded_at = recordedAt;
  }
  if (leftStage && before.open_interval_revision !== null) {
    closeInterval(
      writes,
      dealId,
      before.open_interval_revision,
      at,
      recordedAt,
      isOpen ? 'moved' : state.status,
      isOpen ? null : state.closedReason,
    );
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
      exit_reason: null,
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
      deal_kind: after.kind,
    });
    // Times only grow along a deal's stream, so its first transition into a stage in this batch is
    // its first entry as far as the batch knows (the table keeps the earliest across batches).
    const visit = stageVisit(writes, after, after.stage_id);
    visit.open_since = at;
    visit.open_since_recorded = recordedAt;
    visit.settled_at = at;
    visit.settled_recorded_at = recordedAt;
  }

  rows.set(dealId, after);
  return true;
}

/**
 * The batch's row for the deal's visits to a stage (stage_first_entries): created on the batch's first
 * touch, with that instant as the first entry (kept only if earlier than a stored one) and the
 * lengths of visits closed in this batch (added to the stored ones).
 */
function stageVisit(writes: BatchWrites, deal: DealRow, stageId: string): FirstEntryRow {
  const key = `${deal.deal_id}|${stageId}`;
  let row = writes.firstEntries.get(key);
  if (!row) {
    row = {
      deal_id: deal.deal_id,
      stage_id: stageId,
      pipeline_id: deal.pipeline_id,
      first_at: deal.stage_entered_at,
      first_recorded_at: deal.stage_entered_recorded_at,
      created_at: deal.created_at,
      created_recorded_at: deal.created_recorded_at,
      visits_ms: 0,
      visits_recorded_ms: 0,
      open_since: null,
      open_since_recorded: null,
      settled_at: deal.stage_entered_at,
      settled_recorded_at: deal.stage_entered_recorded_at,
      // judged once the batch's rows are known (funnel-order.ts)
      in_order: false,
      in_order_recorded: false,
      kind: deal.kind,
    };
    writes.firstEntries.set(key, row);
  }
  return row;
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

function closeInterval(
  writes: BatchWrites,
  dealId: string,
  revision: number,
  at: Date,
  recordedAt: Date,
  exitKind: string,
  exitReason: string | null,
): void {
  const pending = writes.intervals.get(rowKey(dealId, revision));
  if (pending) {
    pending.exited_at = at;
    pending.exited_recorded_at = recordedAt;
    pending.exit_kind = exitKind;
    pending.exit_reason = exitReason;
  } else {
    writes.intervalClosings.push({
      deal_id: dealId,
      revision,
      at,
      recorded_at: recordedAt,
      exit_kind: exitKind,
      exit_reason: exitReason,
    });
  }
}
