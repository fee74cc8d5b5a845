/**
 * Row changes collected while a batch of events is projected, written with a few bulk statements
 * at the end of the batch (see flush-batch.ts). Rows inserted and closed within the same batch are
 * inserted already closed, so the result does not depend on where batch boundaries fall. Row types
 * are derived from the tables (schema/read-model.tables.ts).
 */
import type {
  DealVersionsTable,
  InMemoryRow,
  PipelineVersionsTable,
  RemovedStagesTable,
  StageFirstEntriesTable,
  StageIntervalsTable,
  StageTransitionsTable,
} from '../schema/read-model.tables.js';

/** Rows still open: `null` until closed, written as 'infinity'. */
interface OpenUntil {
  valid_to: Date | null;
  recorded_to: Date | null;
}

export type VersionRow = Omit<InMemoryRow<DealVersionsTable>, keyof OpenUntil> & OpenUntil;
export type IntervalRow = InMemoryRow<StageIntervalsTable>;
export type TransitionRow = Omit<InMemoryRow<StageTransitionsTable>, 'kind'> & {
  kind: 'created' | 'moved' | 'reopened';
};
/** A deal's first entry into a stage, keyed with its creation (the funnel's cohort) on both axes. */
export type FirstEntryRow = InMemoryRow<StageFirstEntriesTable>;
export type RemovedStageRow = InMemoryRow<RemovedStagesTable>;
export type PipelineVersionRow = Omit<InMemoryRow<PipelineVersionsTable>, keyof OpenUntil> & OpenUntil;

/** Closing an already stored row: (key, closed at business time, closed at recorded time). */
export interface Closing {
  deal_id: string;
  revision: number;
  at: Date;
  recorded_at: Date;
  exit_kind?: string;
  exit_reason?: string | null;
}

export class BatchWrites {
  readonly versions = new Map<string, VersionRow>();
  readonly versionClosings: Closing[] = [];
  readonly intervals = new Map<string, IntervalRow>();
  readonly intervalClosings: Closing[] = [];
  readonly transitions: TransitionRow[] = [];
  /** By `${deal}|${stage}`: the batch's first entry; the table keeps the earliest across batches. */
  readonly firstEntries = new Map<string, FirstEntryRow>();
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
