import type { DealState } from '@dealstream/deals-domain';
import type { Selectable } from 'kysely';
import type { DealStatesTable, DealsTable, InMemoryRow, ReadModelDb } from '../schema/read-model.tables.js';

/**
 * A deals row in memory while a batch is projected (times are Dates, amounts numbers), with the
 * decider's state from deal_states: derived from the table, never re-declared.
 */
export type DealRow = InMemoryRow<DealsTable> & { state: DealState };

/** The fields a deal_versions row tracks; a change in any of them starts a new version. */
const VERSIONED_FIELDS = [
  'pipeline_id',
  'stage_id',
  'status',
  'owner_id',
  'amount',
  'currency',
  'expected_close_date',
  'stage_entered_at',
] as const;

export function versionedFieldsChanged(before: DealRow, after: DealRow): boolean {
  return VERSIONED_FIELDS.some((field) => {
    const a = before[field];
    const b = after[field];
    return a instanceof Date && b instanceof Date ? a.getTime() !== b.getTime() : a !== b;
  });
}

/** Deals rows with their decider state (deal_states), the close date as YYYY-MM-DD text: the projection's load and the deal view. */
export function dealsWithState(db: ReadModelDb, schema: string) {
  return db
    .withSchema(schema)
    .selectFrom('deals')
    .innerJoin('deal_states', 'deal_states.deal_id', 'deals.deal_id')
    .selectAll('deals')
    .select((eb) => [
      eb.cast<string | null>('deals.expected_close_date', 'text').as('expected_close_date'),
      'deal_states.state',
    ]);
}

/** Reads a deals row (with its state) as returned by pg or PGlite (int8 as string, date as string or Date). */
export function dealRowFromDb(row: Selectable<DealsTable> & Pick<Selectable<DealStatesTable>, 'state'>): DealRow {
  const date = (value: Date | string | null) => (value === null ? null : new Date(value));
  const int = (value: string | number | null) => (value === null ? null : Number(value));
  return {
    deal_id: row.deal_id,
    pipeline_id: row.pipeline_id,
    stage_id: row.stage_id,
    status: row.status,
    title: row.title,
    account: row.account,
    owner_id: row.owner_id,
    amount: Number(row.amount),
    currency: row.currency,
    expected_close_date: calendarDate(row.expected_close_date),
    kind: row.kind,
    parent_deal_id: row.parent_deal_id,
    import_id: row.import_id,
    bant_score: int(row.bant_score),
    created_at: date(row.created_at)!,
    created_recorded_at: date(row.created_recorded_at)!,
    stage_entered_at: date(row.stage_entered_at)!,
    stage_entered_recorded_at: date(row.stage_entered_recorded_at)!,
    closed_at: date(row.closed_at),
    won_amount: int(row.won_amount),
    activity_count: Number(row.activity_count),
    last_activity_at: date(row.last_activity_at),
    revision: Number(row.revision),
    state: (typeof row.state === 'string' ? JSON.parse(row.state) : row.state) as DealState,
    effective_at: date(row.effective_at)!,
    recorded_at: date(row.recorded_at)!,
    version_revision: Number(row.version_revision),
    open_interval_revision: int(row.open_interval_revision),
  };
}

/** A `date` column as YYYY-MM-DD whatever the driver returned (string or a local-midnight Date). */
function calendarDate(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value.slice(0, 10);
  const d = value as Date;
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
