import type { Bant } from './deal-qualification.model.js';
import type { ActivityKind, DealKind, DealStatus } from './deal.model.js';

/**
 * Everything the current-deal read model and the audit "state at version N" view show. Absent
 * values are `null` (not missing keys) so a diff between two versions lists every field.
 */
export interface DealState {
  readonly status: DealStatus;
  readonly dealId: string;
  readonly pipelineId: string;
  /** For a closed deal, the stage it closed in. */
  readonly stageId: string;
  readonly previousStageId: string | null;
  readonly title: string;
  readonly account: string;
  readonly contact: string | null;
  /** Integer minor units; once won, the booked amount. */
  readonly amount: number;
  readonly currency: string;
  readonly ownerId: string;
  readonly source: string | null;
  readonly expectedCloseDate: string | null;
  readonly parentDealId: string | null;
  readonly kind: DealKind;
  /** The latest BANT assessment; kept through closing and reopening as history of the deal. */
  readonly qualification: { readonly bant: Bant; readonly score: number } | null;
  /** Why it was won, lost or disqualified; cleared on reopen. */
  readonly closedReason: string | null;
  /** The free-text note of a disqualification. */
  readonly closedNote: string | null;
  readonly competitor: string | null;
  readonly wonAmount: number | null;
  readonly activityCount: number;
  readonly lastActivity: { readonly activityId: string; readonly kind: ActivityKind } | null;
  readonly reopenCount: number;
  /** Number of events folded. */
  readonly version: number;
}

export function initialDealState(): DealState {
  return {
    status: 'none',
    dealId: '',
    pipelineId: '',
    stageId: '',
    previousStageId: null,
    title: '',
    account: '',
    contact: null,
    amount: 0,
    currency: '',
    ownerId: '',
    source: null,
    expectedCloseDate: null,
    parentDealId: null,
    kind: 'new',
    qualification: null,
    closedReason: null,
    closedNote: null,
    competitor: null,
    wonAmount: null,
    activityCount: 0,
    lastActivity: null,
    reopenCount: 0,
    version: 0,
  };
}
