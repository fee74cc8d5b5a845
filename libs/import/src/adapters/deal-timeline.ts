import { parseCanonicalLine } from '../canonical/canonical-reader.js';
import type {
  CanonicalRecord,
  DealChangeRecord,
  DealRecord,
  LineRef,
  SourcedLine,
} from '../canonical/canonical-records.js';
import type { MappedPipeline, StageOutcome } from './stage-map.js';

/** A deal as a vendor export gives it, with the values it was created with. */
export interface VendorDeal {
  readonly sourceId: string;
  readonly ref: LineRef;
  readonly at: string;
  readonly actor: string;
  readonly pipeline: MappedPipeline;
  readonly title: string;
  readonly account: string;
  readonly currency: string;
  readonly owner: string;
  readonly initial: { readonly stage: StageOutcome; readonly amount: number; readonly closeDate: string | null };
}

/** One changed field at one instant, from a history row, a property version or a changelog entry. */
export interface VendorChange {
  /** The source's id of the row/entry; several fields of one row share it (each canonical record adds its field). */
  readonly recordId: string;
  readonly at: string;
  readonly actor: string;
  readonly ref: LineRef;
  readonly field:
    | { readonly name: 'stage'; readonly outcome: StageOutcome }
    | { readonly name: 'status'; readonly status: 'open' | 'won' | 'lost'; readonly reason: string }
    | { readonly name: 'amount'; readonly amount: number }
    | { readonly name: 'close-date'; readonly date: string | null }
    | { readonly name: 'owner'; readonly owner: string };
}

const FIELD_ORDER: readonly VendorChange['field']['name'][] = ['close-date', 'amount', 'owner', 'stage', 'status'];

/** A deal the adapter cannot express: the importer refuses it whole with this line, code and reason. */
export function refusedDeal(sourceId: string, ref: LineRef, code: string, reason: string): SourcedLine {
  return { ref, error: reason, code, hint: { type: 'deal', deal: sourceId } };
}

const sourced = (record: CanonicalRecord, ref: LineRef): SourcedLine =>
  // Through the canonical schema too: an adapter's record obeys the same rules as a file's line.
  parseCanonicalLine(JSON.stringify(record), ref)!;

/**
 * A vendor deal and its field changes as a canonical deal block: the deal record, then one
 * `deal-change` per change that matters, in time order (ties: the order given). Changes are folded
 * over the deal's state, so a field set to the value it has adds nothing, and what dealstream does
 * not record on a closed deal (its amount and close date are fixed by the closing) is left out.
 * A move into a won/lost stage closes the deal; out of a lost one reopens it (out of a won one: the
 * deal decider refuses, `won-deal-cannot-reopen`, and the deal is reported). With `statusApart`
 * (Pipedrive: status won/lost/open is a field of its own), a stage change of a closed deal only
 * says where it stands when reopened.
 */
export function dealBlock(
  deal: VendorDeal,
  changes: readonly VendorChange[],
  { statusApart = false }: { readonly statusApart?: boolean } = {},
): SourcedLine[] {
  const { initial } = deal;
  const createdIn = initial.stage.kind === 'open' ? initial.stage.stage : deal.pipeline.firstStage;
  const record: DealRecord = {
    type: 'deal',
    sourceId: deal.sourceId,
    sourceRecordId: deal.sourceId,
    at: deal.at,
    actor: deal.actor,
    pipeline: deal.pipeline.sourceId,
    stage: createdIn,
    title: deal.title,
    account: deal.account,
    amount: initial.amount,
    currency: deal.currency,
    owner: deal.owner,
    ...(initial.closeDate !== null ? { expectedCloseDate: initial.closeDate } : {}),
  };
  const out: SourcedLine[] = [sourced(record, deal.ref)];
  let status: 'open' | 'won' | 'lost' = 'open';
  let stage = createdIn;
  let amount = initial.amount;
  let closeDate = initial.closeDate;
  let owner = deal.owner;
  const emit = (
    change: Pick<VendorChange, 'recordId' | 'at' | 'actor' | 'ref'>,
    suffix: string,
    fields: Record<string, unknown>,
  ) => {
    const record = {
      type: 'deal-change',
      deal: deal.sourceId,
      sourceRecordId: `${change.recordId}:${suffix}`,
      at: change.at,
      actor: change.actor,
      ...fields,
    } as DealChangeRecord;
    out.push(sourced(record, change.ref));
  };
  const close = (change: VendorChange, to: 'won' | 'lost', reason: string) => {
    if (status === to) return;
    if (status !== 'open') emit(change, 'reopened', { change: 'reopened' });
    emit(change, to, to === 'won' ? { change: 'won' } : { change: 'lost', reason });
    status = to;
  };
  const creationClosing: VendorChange[] =
    initial.stage.kind === 'open'
      ? []
      : [
          {
            recordId: deal.sourceId,
            at: deal.at,
            actor: deal.actor,
            ref: deal.ref,
            field: { name: 'stage', outcome: initial.stage },
          },
        ];
  // Time order; at one instant a closing comes last (the amount a deal is won at is changed before the win).
  const rank = (change: VendorChange) => FIELD_ORDER.indexOf(change.field.name);
  const ordered = [
    ...creationClosing,
    ...[...changes].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || rank(a) - rank(b)),
  ];
  for (const change of ordered) {
    const { field } = change;
    switch (field.name) {
      case 'stage': {
        const outcome = field.outcome;
        if (outcome.kind === 'won') close(change, 'won', '');
        else if (outcome.kind === 'lost') close(change, 'lost', outcome.reason);
        else if (status !== 'open' && statusApart) stage = outcome.stage;
        else if (status !== 'open') {
          emit(change, 'reopened', { change: 'reopened', stage: outcome.stage });
          status = 'open';
          stage = outcome.stage;
        } else if (outcome.stage !== stage) {
          emit(change, 'stage', { change: 'stage', stage: outcome.stage });
          stage = outcome.stage;
        }
        break;
      }
      case 'status':
        if (field.status === 'won' || field.status === 'lost') close(change, field.status, field.reason);
        else if (status !== 'open') {
          emit(change, 'reopened', { change: 'reopened', stage });
          status = 'open';
        }
        break;
      case 'amount':
        if (status === 'open' && field.amount !== amount) {
          emit(change, 'amount', { change: 'amount', amount: field.amount, currency: deal.currency });
          amount = field.amount;
        }
        break;
      case 'close-date':
        if (status === 'open' && field.date !== closeDate) {
          emit(change, 'close-date', { change: 'close-date', expectedCloseDate: field.date });
          closeDate = field.date;
        }
        break;
      case 'owner':
        if (field.owner !== owner) {
          emit(change, 'owner', { change: 'owner', owner: field.owner });
          owner = field.owner;
        }
        break;
    }
  }
  return out;
}
