/**
 * Row changes collected while a batch of events is projected, written with a few bulk statements
 * at the end of the batch (see flush-batch.ts). Rows inserted and closed within the same batch are
 * inserted already closed, so the result does not depend on where batch boundaries fall.
 */
export interface VersionRow {
  deal_id: string;
  revision: number;
  valid_from: Date;
  valid_to: Date | null;
  recorded_from: Date;
  recorded_to: Date | null;
  pipeline_id: string;
  stage_id: string;
  status: string;
  owner_id: string;
  amount: number;
  currency: string;
  expected_close_date: string | null;
  stage_entered_at: Date;
  created_at: Date;
}

export interface IntervalRow {
  deal_id: string;
  entered_revision: number;
  pipeline_id: string;
  stage_id: string;
  entered_at: Date;
  exited_at: Date | null;
  entered_recorded_at: Date;
  exited_recorded_at: Date | null;
  exit_kind: string | null;
}

export interface TransitionRow {
  deal_id: string;
  revision: number;
  pipeline_id: string;
  from_stage_id: string | null;
  to_stage_id: string;
  kind: 'created' | 'moved' | 'reopened';
  at: Date;
  recorded_at: Date;
}

/** A deal's first entry into a stage, keyed with its creation (the funnel's cohort) on both axes. */
export interface FirstEntryRow {
  deal_id: string;
  stage_id: string;
  pipeline_id: string;
  first_at: Date;
  first_recorded_at: Date;
  created_at: Date;
  created_recorded_at: Date;
}

export interface RemovedStageRow {
  pipeline_id: string;
  stage_id: string;
  removal_event_id: string;
  moved_to_stage_id: string;
  removed_at: Date;
}

export interface ActivityRow {
  deal_id: string;
  revision: number;
  activity_id: string;
  pipeline_id: string;
  kind: string;
  outcome: string | null;
  note: string | null;
  actor_id: string;
  at: Date;
}

export interface PipelineVersionRow {
  pipeline_id: string;
  revision: number;
  valid_from: Date;
  valid_to: Date | null;
  recorded_from: Date;
  recorded_to: Date | null;
  name: string;
  currency: string | null;
  status: string;
  stages: unknown;
  removed_stages: unknown;
}

/** Closing an already stored row: (key, closed at business time, closed at recorded time). */
export interface Closing {
  deal_id: string;
  revision: number;
  at: Date;
  recorded_at: Date;
  exit_kind?: string;
}

export class BatchWrites {
  readonly versions = new Map<string, VersionRow>();
  readonly versionClosings: Closing[] = [];
  readonly intervals = new Map<string, IntervalRow>();
  readonly intervalClosings: Closing[] = [];
  readonly transitions: TransitionRow[] = [];
  /** By `${deal}|${stage}`: the batch's first entry; the table keeps the earliest across batches. */
  readonly firstEntries = new Map<string, FirstEntryRow>();
  readonly activities: ActivityRow[] = [];
  readonly pipelineVersions = new Map<string, PipelineVersionRow>();
  readonly pipelineVersionClosings: { pipeline_id: string; revision: number; at: Date; recorded_at: Date }[] = [];
  /** Stages removed in this batch: open deals found in them are moved by the relocation reactor. */
  readonly removedStages: RemovedStageRow[] = [];
  /** Net change of open deals per `${pipeline}|${stage}|${currency}`. */
  readonly totals = new Map<string, { count: number; amount: number }>();

  addTotal(pipelineId: string, stageId: string, currency: string, count: number, amount: number): void {
    const key = `${pipelineId}|${stageId}|${currency}`;
    const current = this.totals.get(key) ?? { count: 0, amount: 0 };
    this.totals.set(key, { count: current.count + count, amount: current.amount + amount });
  }
}

export const rowKey = (id: string, revision: number) => `${id}#${revision}`;
