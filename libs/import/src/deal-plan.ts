import canonicalize from 'canonicalize';
import { isDomainError } from '@dealstream/decider';
import {
  dealDecider,
  dealStreamName,
  decideFollowOnDeal,
  initialDealState,
  type DealCommand,
  type DealEvent,
  type DealState,
} from '@dealstream/deals-domain';
import type { PipelineSnapshot } from '@dealstream/pipelines-domain';
import type { DealChangeRecord, DealRecord, LineRef } from './canonical/canonical-records.js';
import { importIds } from './import-ids.js';
import { ImportRefusalError, type PlannedEvent } from './imported-stream.js';
import type { PipelineHistory } from './pipeline-history.js';

/**
 * Deciding one deal block into its planned events, with nothing of the run but what it is given: the
 * same function decides on the run's thread (`ImportRun.decideDeal`) and on the import worker
 * (import-worker.ts), so both decide alike.
 */

export interface Sequenced<R> {
  readonly record: R;
  readonly ref: LineRef;
  /** Source order, for ties in time. */
  readonly seq: number;
}

/** The parent fields decideFollowOnDeal reads, as they stood from `at` on. */
export interface ParentPoint {
  readonly at: number;
  readonly state: Pick<DealState, 'status' | 'dealId' | 'account' | 'ownerId'>;
}

/** Folds a deal's events into the compact timeline of its parent fields (one point per change of them). */
export function parentTimeline(events: readonly { event: DealEvent; occurredAt: Date }[]): ParentPoint[] {
  const points: ParentPoint[] = [];
  let state = initialDealState();
  for (const { event, occurredAt } of events) {
    state = dealDecider.evolve(state, event);
    const { status, dealId, account, ownerId } = state;
    const last = points.at(-1)?.state;
    if (!last || last.status !== status || last.account !== account || last.ownerId !== ownerId)
      points.push({ at: occurredAt.getTime(), state: { status, dealId, account, ownerId } });
  }
  return points;
}

export const byTimeThenSource = (a: { at: number; seq: number }, b: { at: number; seq: number }) =>
  a.at - b.at || a.seq - b.seq;

/** What deciding a deal block answers: its stream and planned events (and, dry run, its parent timeline). */
export interface DealPlan {
  readonly streamId: string;
  readonly plan: PlannedEvent[];
  /** Dry runs only, for a deal won at some point (DealOutcome.parentTimeline). */
  readonly timeline?: readonly ParentPoint[];
}

export interface DealPlanInput {
  readonly deal: Sequenced<DealRecord>;
  /** The block's changes, deduplicated (`dedupeChanges`). */
  readonly changes: readonly Sequenced<DealChangeRecord>[];
  readonly pipeline: PipelineHistory;
  readonly sourceSystem: string;
  /** A stage's derived id (the run remembers them). */
  readonly stageId: (pipeline: string, stage: string) => string;
  /** Dry run: the deal's parent timeline is kept (DealOutcome.parentTimeline). */
  readonly keepsTimeline: boolean;
  /** A follow-on deal's won parent, as it stood at the follow-on's creation. */
  readonly parentState: (record: DealRecord, ref: LineRef) => Promise<DealState>;
}

/**
 * Decides one deal's whole history in memory: every change through the deal decider, with the
 * pipeline definition in force at its instant. Throws ImportRefusalError (the deal is refused whole).
 */
export async function planDeal(input: DealPlanInput): Promise<DealPlan> {
  const { deal, changes, pipeline, sourceSystem, keepsTimeline } = input;
  for (const { record, ref } of [deal, ...changes]) {
    const stages = stageRefs(record);
    for (const stage of stages) {
      if (!pipeline.stageIds.has(input.stageId(pipeline.sourceId, stage))) {
        throw new ImportRefusalError(
          'unknown-stage',
          ref,
          `stage ${stage} is not a stage of pipeline ${pipeline.sourceId}`,
        );
      }
    }
  }
  const createdAt = Date.parse(deal.record.at);
  const ordered = changes.map((change) => ({ ...change, at: Date.parse(change.record.at) })).sort(byTimeThenSource);
  const early = ordered.find((change) => change.at < createdAt);
  if (early) {
    throw new ImportRefusalError(
      'change-before-creation',
      early.ref,
      `change ${early.record.sourceRecordId} at ${early.record.at} is earlier than the deal's creation at ${deal.record.at}`,
    );
  }
  const dealId = importIds.deal(sourceSystem, deal.record.sourceId);
  const plan: PlannedEvent[] = [];
  const history: { event: DealEvent; occurredAt: Date }[] = [];
  let state: DealState = initialDealState();
  let everWon = false;
  // Per record (not per event): its business time, parsed once, and its command id.
  const apply = (events: DealEvent[], sourced: Sequenced<DealRecord | DealChangeRecord>, at: number) => {
    const { record, ref } = sourced;
    const occurredAt = new Date(at);
    const commandId = importIds.command(sourceSystem, record.sourceRecordId);
    for (let index = 0; index < events.length; index++) {
      const event = events[index];
      plan.push({
        eventId: importIds.event(sourceSystem, record.sourceRecordId, index),
        type: event.type,
        data: event.data,
        occurredAt,
        ref,
        sourceRecordId: record.sourceRecordId,
        sourceActor: record.actor,
        commandId,
      });
      if (keepsTimeline) history.push({ event, occurredAt });
      state = dealDecider.evolve(state, event);
      if (state.status === 'won') everWon = true;
    }
  };
  const decide = <T>(ref: LineRef, fn: () => T): T => {
    try {
      return fn();
    } catch (error) {
      if (isDomainError(error)) throw new ImportRefusalError(error.code, ref, error.message);
      throw error;
    }
  };
  const snapshotAt = (at: number, ref: LineRef): PipelineSnapshot => {
    const snapshot = pipeline.at(at);
    if (!snapshot) {
      throw new ImportRefusalError(
        'pipeline-not-defined-yet',
        ref,
        `pipeline ${pipeline.sourceId} is not defined yet at ${new Date(at).toISOString()}`,
      );
    }
    return snapshot;
  };
  const stageId = (stage: string) => input.stageId(pipeline.sourceId, stage);

  const record = deal.record;
  const fields = {
    dealId,
    pipeline: snapshotAt(createdAt, deal.ref),
    ...(record.stage !== undefined ? { stageId: stageId(record.stage) } : {}),
    title: record.title,
    ...(record.contact !== undefined ? { contact: record.contact } : {}),
    amount: record.amount,
    currency: record.currency,
    ...(record.source !== undefined ? { source: record.source } : {}),
    ...(record.expectedCloseDate !== undefined ? { expectedCloseDate: record.expectedCloseDate } : {}),
  };
  if (record.kind === 'upsell' || record.kind === 'cross-sell') {
    const parent = await input.parentState(record, deal.ref);
    apply(
      decide(deal.ref, () =>
        decideFollowOnDeal(
          {
            type: 'OpenFollowOnDeal',
            data: {
              ...fields,
              kind: record.kind as 'upsell' | 'cross-sell',
              account: record.account,
              ownerId: record.owner,
            },
          },
          parent,
        ),
      ),
      deal,
      createdAt,
    );
  } else {
    apply(
      decide(deal.ref, () =>
        dealDecider.decide(
          { type: 'CreateDeal', data: { ...fields, account: record.account, ownerId: record.owner } },
          state,
        ),
      ),
      deal,
      createdAt,
    );
  }
  for (const change of ordered) {
    let events: DealEvent[];
    try {
      const command = toDealCommand(change.record, snapshotAt(change.at, change.ref), stageId, sourceSystem);
      events = dealDecider.decide(command, state);
    } catch (error) {
      if (isDomainError(error)) throw new ImportRefusalError(error.code, change.ref, error.message);
      throw error;
    }
    apply(events, change, change.at);
  }
  return {
    streamId: dealStreamName(dealId),
    plan,
    ...(everWon && keepsTimeline ? { timeline: parentTimeline(history) } : {}),
  };
}

/** The same change twice (an overlapping export) counts once; the same record id with other content refuses the deal. */
export function dedupeChanges(changes: readonly Sequenced<DealChangeRecord>[], deal: Sequenced<DealRecord>) {
  const all = dedupeSourced<DealRecord | DealChangeRecord, Sequenced<DealRecord | DealChangeRecord>>([
    deal,
    ...changes,
  ]);
  return all.slice(1) as Sequenced<DealChangeRecord>[];
}

export function dedupeSourced<R extends { sourceRecordId: string }, S extends { record: R; ref: LineRef }>(
  items: readonly S[],
): S[] {
  const seen = new Map<string, S>();
  const kept: S[] = [];
  for (const item of items) {
    const earlier = seen.get(item.record.sourceRecordId);
    if (!earlier) {
      seen.set(item.record.sourceRecordId, item);
      kept.push(item);
    } else if (canonicalize(earlier.record) !== canonicalize(item.record)) {
      throw new ImportRefusalError(
        'duplicate-source-id',
        item.ref,
        `record ${item.record.sourceRecordId} appears again with other content (first at ${earlier.ref.file}:${earlier.ref.line})`,
      );
    }
  }
  return kept;
}

/** The stage source ids a deal record or change names. */
function stageRefs(record: DealRecord | DealChangeRecord): string[] {
  if (record.type === 'deal') return record.stage !== undefined ? [record.stage] : [];
  if (record.change === 'stage') return [record.stage];
  if (record.change === 'reopened' && record.stage !== undefined) return [record.stage];
  return [];
}

function toDealCommand(
  record: DealChangeRecord,
  pipeline: PipelineSnapshot,
  stageId: (stage: string) => string,
  sourceSystem: string,
): DealCommand {
  switch (record.change) {
    case 'stage':
      return { type: 'MoveDealToStage', data: { toStageId: stageId(record.stage), pipeline } };
    case 'amount':
      return { type: 'ChangeDealValue', data: { amount: record.amount, currency: record.currency } };
    case 'owner':
      return { type: 'ReassignDealOwner', data: { ownerId: record.owner } };
    case 'close-date':
      return { type: 'ChangeExpectedCloseDate', data: { expectedCloseDate: record.expectedCloseDate } };
    case 'qualified':
      return { type: 'QualifyDeal', data: { bant: record.bant } };
    case 'disqualified':
      return {
        type: 'DisqualifyDeal',
        data: { reason: record.reason, ...(record.note !== undefined ? { note: record.note } : {}) },
      };
    case 'lost':
      return {
        type: 'LoseDeal',
        data: { reason: record.reason, ...(record.competitor !== undefined ? { competitor: record.competitor } : {}) },
      };
    case 'won':
      return {
        type: 'WinDeal',
        data: {
          ...(record.amount !== undefined ? { amount: record.amount } : {}),
          ...(record.reason !== undefined ? { reason: record.reason } : {}),
        },
      };
    case 'reopened':
      return {
        type: 'ReopenDeal',
        data: { pipeline, ...(record.stage !== undefined ? { toStageId: stageId(record.stage) } : {}) },
      };
    case 'activity':
      return {
        type: 'LogActivity',
        data: {
          activityId: importIds.activity(sourceSystem, record.sourceRecordId),
          kind: record.kind,
          ...(record.outcome !== undefined ? { outcome: record.outcome } : {}),
          ...(record.note !== undefined ? { note: record.note } : {}),
        },
      };
  }
}
