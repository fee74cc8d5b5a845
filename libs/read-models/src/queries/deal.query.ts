import type { DealState } from '@dealstream/deals-domain';
import { dealsWithState } from '../projections/deal-row.js';
import type { ReadModelDb } from '../schema/read-model.tables.js';

export interface DealView {
  readonly dealId: string;
  readonly pipelineId: string;
  readonly stageId: string;
  readonly status: string;
  readonly title: string;
  readonly account: string;
  readonly contact: string | null;
  readonly ownerId: string;
  readonly amount: number;
  readonly currency: string;
  readonly expectedCloseDate: string | null;
  readonly kind: string;
  readonly parentDealId: string | null;
  readonly qualification: unknown;
  readonly closedReason: string | null;
  readonly competitor: string | null;
  readonly wonAmount: number | null;
  readonly activityCount: number;
  readonly createdAt: string;
  readonly stageEnteredAt: string;
  readonly closedAt: string | null;
  readonly lastActivityAt: string | null;
  /** Stream revision this view reflects (the ETag). */
  readonly revision: number;
}

/** The current state of one deal from the read model; undefined if unknown (or not projected yet). */
export async function dealById(db: ReadModelDb, schema: string, dealId: string): Promise<DealView | undefined> {
  const row = await dealsWithState(db, schema).where('deals.deal_id', '=', dealId).executeTakeFirst();
  if (!row) return undefined;
  const state = (typeof row.state === 'string' ? JSON.parse(row.state) : row.state) as DealState;
  const iso = (value: Date | string | null) => (value ? new Date(value).toISOString() : null);
  return {
    dealId: row.deal_id,
    pipelineId: row.pipeline_id,
    stageId: row.stage_id,
    status: row.status,
    title: row.title,
    account: row.account,
    contact: state.contact ?? null,
    ownerId: row.owner_id,
    amount: Number(row.amount),
    currency: row.currency,
    expectedCloseDate: row.expected_close_date,
    kind: row.kind,
    parentDealId: row.parent_deal_id,
    qualification: state.qualification ?? null,
    closedReason: state.closedReason ?? null,
    competitor: state.competitor ?? null,
    wonAmount: row.won_amount === null ? null : Number(row.won_amount),
    activityCount: Number(row.activity_count),
    createdAt: iso(row.created_at)!,
    stageEnteredAt: iso(row.stage_entered_at)!,
    closedAt: iso(row.closed_at),
    lastActivityAt: iso(row.last_activity_at),
    revision: Number(row.revision),
  };
}
