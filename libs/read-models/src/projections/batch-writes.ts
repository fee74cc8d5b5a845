/**
 * Row changes collected while a batch of events is projected, written with a few bulk statements
 * at the end of the batch (see flush-batch.ts). Rows inserted and closed within the same batch are
 * inserted already closed, so the result does not depend on where batch boundaries fall. Row types
 * are derived from the tables (schema/read-model.tables.ts).
 */
import { isoInstant } from '@dealstream/database';
import type {
  DealVersionsTable,
  InMemoryRow,
  OpenDealDeltasTable,
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
  /** Net change of open deals per `${pipeline}|${stage}|${currency}|${UTC day the deal entered the stage}`. */
  readonly entryDays = new Map<string, { count: number; amount: number }>();
  /**
   * Net change of open deals per bucket and group (open_deal_deltas): by group
   * (`${pipeline}|${stage}|${currency}|${close month}`), then by bucket (`${axis}|${span}|${bucket}`).
   */
  private readonly openDeltaGroups = new Map<string, Map<string, OpenDelta>>();

  /** The batch's open_deal_deltas rows. */
  *openDeltas(): Iterable<OpenDelta> {
    for (const group of this.openDeltaGroups.values()) yield* group.values();
  }

  /**
   * An open version starts (sign 1, at its valid_from and recorded_from) or ends (sign −1, at its
   * valid_to and recorded_to): its values join or leave the open deals of every bucket holding that
   * instant, on each axis.
   */
  addOpenVersion(version: OpenVersion, sign: 1 | -1, at: Date, recordedAt: Date): void {
    const closeMonth = version.expected_close_date?.slice(0, 7) ?? '';
    const groupKey = `${version.pipeline_id}|${version.stage_id}|${version.currency}|${closeMonth}`;
    let group = this.openDeltaGroups.get(groupKey);
    if (!group) this.openDeltaGroups.set(groupKey, (group = new Map<string, OpenDelta>()));
    const entered = version.stage_entered_at.getTime();
    // The sum of instants in ms passes 2^53 within a few thousand versions: kept as days and the rest, both exact.
    const enteredDays = sign * Math.floor(entered / DAY_MS);
    const enteredRest = sign * (entered - Math.floor(entered / DAY_MS) * DAY_MS);
    for (const [axis, instant] of [
      ['occurred', at],
      ['recorded', recordedAt],
    ] as const) {
      for (const bucket of bucketsOfDay(axis, instant)) {
        let delta = group.get(bucket.key);
        if (!delta) {
          delta = {
            pipeline_id: version.pipeline_id,
            axis,
            span: bucket.span,
            bucket: bucket.instant,
            stage_id: version.stage_id,
            currency: version.currency,
            close_month: closeMonth,
            open_count: 0,
            open_amount: 0,
            entered_days: 0,
            entered_rest_ms: 0,
          };
          group.set(bucket.key, delta);
        }
        delta.open_count += sign;
        delta.open_amount += sign * version.amount;
        delta.entered_days += enteredDays;
        delta.entered_rest_ms += enteredRest;
      }
    }
  }

  /** An open deal joins (sign 1) or leaves (−1) its stage's totals and its day of entry's. */
  addTotal(deal: OpenDeal, sign: 1 | -1): void {
    const key = `${deal.pipeline_id}|${deal.stage_id}|${deal.currency}`;
    addDelta(this.totals, key, sign, sign * deal.amount);
    addDelta(this.entryDays, `${key}|${isoInstant(deal.stage_entered_at).slice(0, 10)}`, sign, sign * deal.amount);
  }
}

/** What an open deal contributes to stage_totals and stage_entry_days. */
type OpenDeal = Pick<VersionRow, 'pipeline_id' | 'stage_id' | 'currency' | 'amount' | 'stage_entered_at'>;

function addDelta(deltas: Map<string, { count: number; amount: number }>, key: string, count: number, amount: number) {
  const current = deltas.get(key);
  if (current) {
    current.count += count;
    current.amount += amount;
  } else deltas.set(key, { count, amount });
}

/** What an open version contributes to open_deal_deltas. */
type OpenVersion = Pick<
  VersionRow,
  'pipeline_id' | 'stage_id' | 'currency' | 'amount' | 'expected_close_date' | 'stage_entered_at'
>;
/**
 * A row of open_deal_deltas in memory; the bucket as its ISO instant, entered_ms as whole days and the
 * rest (enteredMsText).
 */
type OpenDelta = Omit<InMemoryRow<OpenDealDeltasTable>, 'bucket' | 'entered_ms'> & {
  bucket: string;
  entered_days: number;
  entered_rest_ms: number;
};

/** An open delta's sum of stage-entry instants in ms, exact, as text (a numeric). */
export function enteredMsText(delta: OpenDelta): string {
  return String(BigInt(delta.entered_days) * BigInt(DAY_MS) + BigInt(delta.entered_rest_ms));
}

const DAY_MS = 86_400_000;

/** The UTC year, month and day holding `instant`, each as [span, its first instant in ISO]. */
export function buckets(instant: Date): ['year' | 'month' | 'day', string][] {
  const y = instant.getUTCFullYear();
  const m = instant.getUTCMonth();
  return [
    ['year', isoOf(Date.UTC(y, 0, 1))],
    ['month', isoOf(Date.UTC(y, m, 1))],
    ['day', isoOf(Date.UTC(y, m, instant.getUTCDate()))],
  ];
}

interface Bucket {
  readonly span: 'year' | 'month' | 'day';
  readonly instant: string;
  /** `${axis}|${span}|${instant}`: one string per bucket, so its hash is computed once. */
  readonly key: string;
}

/** The buckets of each UTC day seen lately, per axis (cleared when it grows). */
const dayBuckets = new Map<number, readonly Bucket[]>();

function bucketsOfDay(axis: 'occurred' | 'recorded', instant: Date): readonly Bucket[] {
  const day = Math.floor(instant.getTime() / DAY_MS);
  const cacheKey = axis === 'occurred' ? day : -day - 1;
  let found = dayBuckets.get(cacheKey);
  if (found === undefined) {
    if (dayBuckets.size >= 20_000) dayBuckets.clear();
    found = buckets(instant).map(([span, iso]) => ({ span, instant: iso, key: `${axis}|${span}|${iso}` }));
    dayBuckets.set(cacheKey, found);
  }
  return found;
}
const isoOf = (ms: number) => isoInstant(new Date(ms));

export const rowKey = (id: string, revision: number) => `${id}#${revision}`;
