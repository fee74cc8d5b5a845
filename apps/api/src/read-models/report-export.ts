import { Readable } from 'node:stream';
import { StreamableFile } from '@nestjs/common';
import { headerOf, preferredMediaType } from '../controller-kit/http-exchange.js';
import type { Board, Funnel, PipelineMetrics, Velocity } from '@dealstream/read-models';

/*
 * Reports as CSV (RFC 4180) and NDJSON (docs/metrics.md, "Export"): one flat row per line, the same
 * documented columns in both, money in minor units beside its currency. Rows are produced lazily, so
 * a series is written bucket by bucket and never held whole in memory.
 */

export type ExportFormat = 'json' | 'csv' | 'ndjson';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['json', 'csv', 'ndjson'];

type Cell = string | number | null;
type Row = Record<string, Cell>;

/** format= wins; else the Accept header (q-values honoured); JSON when neither asks for an export. */
export function exportFormat(
  request: { headers: Record<string, string | string[] | undefined> },
  format: ExportFormat | undefined,
): ExportFormat {
  if (format) return format;
  const accepted = preferredMediaType(headerOf(request, 'accept'), [
    'application/json',
    'text/csv',
    'application/x-ndjson',
  ]);
  return accepted === 'text/csv' ? 'csv' : accepted === 'application/x-ndjson' ? 'ndjson' : 'json';
}

/** The answer for an export: the rows streamed as CSV or NDJSON, a download named `name`. */
export function exportFile(
  format: 'csv' | 'ndjson',
  name: string,
  columns: readonly string[],
  rows: () => AsyncIterable<Row> | Iterable<Row>,
): StreamableFile {
  async function* lines() {
    if (format === 'csv') yield csvLine(columns.map((c) => c));
    for await (const row of rows()) {
      yield format === 'csv'
        ? csvLine(columns.map((c) => row[c] ?? null))
        : `${JSON.stringify(Object.fromEntries(columns.map((c) => [c, row[c] ?? null])))}\n`;
    }
  }
  return new StreamableFile(Readable.from(lines()), {
    type: format === 'csv' ? 'text/csv; charset=utf-8; header=present' : 'application/x-ndjson; charset=utf-8',
    disposition: `attachment; filename="${name}.${format === 'csv' ? 'csv' : 'ndjson'}"`,
  });
}

/** One CSV record, CRLF-terminated (RFC 4180). */
export function csvLine(cells: readonly Cell[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/**
 * A cell: numbers as they are; text made inert for spreadsheets (a leading = + - @, tab or CR would
 * start a formula: prefixed with ') and quoted when it holds a comma, quote, CR or LF.
 */
export function csvCell(value: Cell): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const inert = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(inert) ? `"${inert.replaceAll('"', '""')}"` : inert;
}

const FUNNEL_COLUMNS = [
  'from',
  'to',
  'policy',
  'stage_position',
  'stage_id',
  'stage_name',
  'reached',
  'conversion_to_next',
  'drop_off',
  'median_days_to_reach',
  'days_in_stage_p50',
  'days_in_stage_p90',
  'cohort_size',
  'cohort_open',
  'cohort_won',
  'cohort_lost',
  'cohort_disqualified',
  'win_rate',
] as const;

function funnelRows(period: { from: string; to: string }, funnel: Funnel): Row[] {
  return funnel.stages.map((stage, position) => ({
    from: period.from,
    to: period.to,
    policy: funnel.policy,
    stage_position: position,
    stage_id: stage.stageId,
    stage_name: stage.name,
    reached: stage.reached,
    conversion_to_next: stage.conversionToNext,
    drop_off: stage.dropOff,
    median_days_to_reach: stage.medianDaysToReach,
    days_in_stage_p50: stage.daysInStageP50,
    days_in_stage_p90: stage.daysInStageP90,
    cohort_size: funnel.cohort.size,
    cohort_open: funnel.cohort.open,
    cohort_won: funnel.cohort.won,
    cohort_lost: funnel.cohort.lost,
    cohort_disqualified: funnel.cohort.disqualified,
    win_rate: funnel.winRate,
  }));
}

const VELOCITY_COLUMNS = [
  'from',
  'to',
  'currency',
  'opportunities',
  'won',
  'won_amount',
  'lost',
  'lost_amount',
  'average_won_amount',
  'velocity_per_day',
  'total_opportunities',
  'total_won',
  'total_lost',
  'win_rate_period',
  'win_rate_cohort',
  'average_cycle_days',
] as const;

/** One row per currency; a period without any deal still has its row (currency empty). */
function velocityRows(period: { from: string; to: string }, velocity: Velocity): Row[] {
  const totals = {
    total_opportunities: velocity.opportunities,
    total_won: velocity.won,
    total_lost: velocity.lost,
    win_rate_period: velocity.winRatePeriod,
    win_rate_cohort: velocity.winRateCohort,
    average_cycle_days: velocity.averageCycleDays,
  };
  const perCurrency: Velocity['byCurrency'] = velocity.byCurrency.length
    ? velocity.byCurrency
    : [
        {
          currency: '',
          opportunities: 0,
          won: 0,
          wonAmount: 0,
          lost: 0,
          lostAmount: 0,
          averageWonAmount: null,
          velocityPerDay: null,
        },
      ];
  return perCurrency.map((c) => ({
    ...period,
    currency: c.currency || null,
    opportunities: c.opportunities,
    won: c.won,
    won_amount: c.wonAmount,
    lost: c.lost,
    lost_amount: c.lostAmount,
    average_won_amount: c.averageWonAmount,
    velocity_per_day: c.velocityPerDay,
    ...totals,
  }));
}

const PIPELINE_COLUMNS = [
  'at',
  'stage_position',
  'stage_id',
  'stage_name',
  'probability',
  'stage_count',
  'stalled_count',
  'average_days_in_stage',
  'currency',
  'count',
  'value',
  'weighted_value',
] as const;

/** One row per stage and currency; a stage without open deals still has its row (currency empty, 0). */
function pipelineRows(at: string, metrics: PipelineMetrics): Row[] {
  return metrics.stages.flatMap((stage, position): Row[] => {
    const head = {
      at,
      stage_position: position,
      stage_id: stage.stageId,
      stage_name: stage.name,
      probability: stage.probability,
      stage_count: stage.count,
      stalled_count: stage.stalledCount,
      average_days_in_stage: stage.averageDaysInStage,
    };
    return stage.byCurrency.length
      ? stage.byCurrency.map((c) => ({
          ...head,
          currency: c.currency,
          count: c.count,
          value: c.value,
          weighted_value: c.weightedValue,
        }))
      : [{ ...head, currency: null, count: 0, value: 0, weighted_value: 0 }];
  });
}

export const BOARD_COLUMNS = [
  'at',
  'stage_position',
  'stage_id',
  'stage_name',
  'probability',
  'stage_count',
  'stalled_count',
  'currency',
  'count',
  'amount',
  'weighted_amount',
] as const;

/** The board's totals: one row per stage and currency (its deals are pages: JSON only). */
export function boardRows(at: string, board: Board): Row[] {
  return board.stages.flatMap((stage, position): Row[] => {
    const head = {
      at,
      stage_position: position,
      stage_id: stage.stageId,
      stage_name: stage.name,
      probability: stage.probability,
      stage_count: stage.count,
      stalled_count: stage.stalledCount,
    };
    return stage.totals.length
      ? stage.totals.map((t) => ({
          ...head,
          currency: t.currency,
          count: t.count,
          amount: t.amount,
          weighted_amount: t.weightedAmount,
        }))
      : [{ ...head, currency: null, count: 0, amount: 0, weighted_amount: 0 }];
  });
}

const FUNNEL_TRANSITION_COLUMNS = [
  'from',
  'to',
  'policy',
  'from_stage_id',
  'from_stage_name',
  'to_stage_id',
  'to_stage_name',
  'count',
] as const;

/** The funnel's transition matrix: one row per (from stage → to stage) with its count. */
function funnelTransitionRows(period: { from: string; to: string }, funnel: Funnel): Row[] {
  const names = new Map(funnel.stages.map((stage) => [stage.stageId, stage.name]));
  return funnel.transitions.map((t) => ({
    ...period,
    policy: funnel.policy,
    from_stage_id: t.fromStageId,
    from_stage_name: names.get(t.fromStageId) ?? null,
    to_stage_id: t.toStageId,
    to_stage_name: names.get(t.toStageId) ?? null,
    count: t.count,
  }));
}

const VELOCITY_REASON_COLUMNS = ['from', 'to', 'closing', 'reason', 'count'] as const;

/** The period's losses, then its disqualifications, counted by the reason their event gave (empty: none given). */
function velocityReasonRows(period: { from: string; to: string }, velocity: Velocity): Row[] {
  return [
    ...velocity.lostReasons.map((r) => ({ ...period, closing: 'lost', reason: r.reason, count: r.count })),
    ...velocity.disqualificationReasons.map((r) => ({
      ...period,
      closing: 'disqualified',
      reason: r.reason,
      count: r.count,
    })),
  ];
}

const FORECAST_COLUMNS = ['at', 'month', 'currency', 'count', 'value', 'weighted_value'] as const;

/** The weighted forecast: one row per expected close month (empty: no close date) and currency. */
function forecastRows(at: string, metrics: PipelineMetrics): Row[] {
  return metrics.forecast.map((f) => ({
    at,
    month: f.month,
    currency: f.currency,
    count: f.count,
    value: f.value,
    weighted_value: f.weightedValue,
  }));
}

/** An export's table: its file name, columns and how a report becomes its rows (`part=`). */
interface ExportTable<Key, Report> {
  readonly name: string;
  readonly columns: readonly string[];
  readonly rows: (key: Key, report: Report) => Row[];
}
type Period = { from: string; to: string };

export const FUNNEL_TABLES: Record<'stages' | 'transitions', ExportTable<Period, Funnel>> = {
  stages: { name: 'funnel', columns: FUNNEL_COLUMNS, rows: funnelRows },
  transitions: { name: 'funnel-transitions', columns: FUNNEL_TRANSITION_COLUMNS, rows: funnelTransitionRows },
};
export const VELOCITY_TABLES: Record<'currencies' | 'reasons', ExportTable<Period, Velocity>> = {
  currencies: { name: 'velocity', columns: VELOCITY_COLUMNS, rows: velocityRows },
  reasons: { name: 'velocity-reasons', columns: VELOCITY_REASON_COLUMNS, rows: velocityReasonRows },
};
export const PIPELINE_TABLES: Record<'stages' | 'forecast', ExportTable<string, PipelineMetrics>> = {
  stages: { name: 'pipeline', columns: PIPELINE_COLUMNS, rows: pipelineRows },
  forecast: { name: 'pipeline-forecast', columns: FORECAST_COLUMNS, rows: forecastRows },
};
