import { sql, type RawBuilder } from 'kysely';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { axisColumns, timestamp, type AsOf } from './time-axis.js';

export type SegmentDealKind = 'new' | 'upsell' | 'cross-sell';
export const SEGMENT_DEAL_KINDS: readonly SegmentDealKind[] = ['new', 'upsell', 'cross-sell'];

/** Where a deal came from: created live, by any import, or by one import run. */
export type SegmentSource = { readonly type: 'live' } | { readonly type: 'imported'; readonly importId?: string };

/**
 * Which deals a report counts (docs/metrics.md, "Segments"). Every field narrows; an absent field
 * does not. A deal's kind and source are fixed at creation; its owner, currency and amount are
 * judged as they are at the report's instant (its version valid then on the report's axis).
 */
export interface Segment {
  readonly kinds?: readonly SegmentDealKind[];
  /** Owner ids (clear ids: the API resolves pseudonyms before it asks). An empty list matches none. */
  readonly ownerIds?: readonly string[];
  readonly currencies?: readonly string[];
  /** Amount band, minor units, both ends inclusive. */
  readonly minAmount?: number;
  readonly maxAmount?: number;
  readonly source?: SegmentSource;
}

export function isWholePopulation(segment: Segment | undefined): boolean {
  return !segment || Object.values(segment).every((value) => value === undefined);
}

/**
 * The conditions on a deal's versioned fields (owner, currency, amount), written against `alias`
 * (a deal_versions row, a deals row or an open-deals subquery: all name them alike).
 */
export function versionedConditions(segment: Segment, alias: string): RawBuilder<unknown> {
  // Raw: the conditions are embedded in the reports' own raw SQL.
  const a = sql.ref(alias);
  const col = (name: string) => sql`${a}.${sql.ref(name)}`;
  const { ownerIds, currencies, minAmount, maxAmount } = segment;
  return sql`true
    ${ownerIds !== undefined ? sql`and ${col('owner_id')} = any(${[...ownerIds]}::text[])` : sql``}
    ${currencies !== undefined ? sql`and ${col('currency')} = any(${[...currencies]}::text[])` : sql``}
    ${minAmount !== undefined ? sql`and ${col('amount')} >= ${minAmount}::bigint` : sql``}
    ${maxAmount !== undefined ? sql`and ${col('amount')} <= ${maxAmount}::bigint` : sql``}`;
}

/**
 * A kind segment as a condition on a row that carries the deal's kind (stage_first_entries.kind,
 * stage_transitions.deal_kind), and the rest of the segment as dealInSegment asks it: no lookup of
 * the deal for its kind.
 */
export function dealOnRowInSegment(
  schema: string,
  segment: Segment | undefined,
  kindColumn: RawBuilder<unknown>,
  dealIdColumn: RawBuilder<unknown>,
  asOf: AsOf,
  now: Date,
): RawBuilder<unknown> {
  if (!segment) return sql``;
  return sql`${segment.kinds !== undefined ? sql`and ${kindColumn} = any(${[...segment.kinds]}::text[])` : sql``}
    ${dealInSegment(schema, { ...segment, kinds: undefined }, dealIdColumn, asOf, now)}`;
}

/** The conditions on a deal's fixed fields (kind, source), written against a `deals` row `alias`. */
export function fixedConditions(segment: Segment, alias: string): RawBuilder<unknown> {
  const a = sql.ref(alias);
  const col = (name: string) => sql`${a}.${sql.ref(name)}`;
  const { kinds, source } = segment;
  return sql`true
    ${kinds !== undefined ? sql`and ${col('kind')} = any(${[...kinds]}::text[])` : sql``}
    ${source?.type === 'live' ? sql`and ${col('import_id')} is null` : sql``}
    ${source?.type === 'imported' && source.importId === undefined ? sql`and ${col('import_id')} is not null` : sql``}
    ${source?.type === 'imported' && source.importId !== undefined ? sql`and ${col('import_id')} = ${source.importId}::text` : sql``}`;
}

function needsFixed(segment: Segment): boolean {
  return segment.kinds !== undefined || segment.source !== undefined;
}

function needsVersioned(segment: Segment): boolean {
  const { ownerIds, currencies, minAmount, maxAmount } = segment;
  return [ownerIds, currencies, minAmount, maxAmount].some((value) => value !== undefined);
}

/**
 * `and <the deal is in the segment>` for a query that has the deal's id as `dealIdColumn`: its
 * fixed fields from `deals`, its versioned fields from the version valid at the report's instant.
 * Nothing (no join at all) when the segment is the whole population.
 */
export function dealInSegment(
  schema: string,
  segment: Segment | undefined,
  dealIdColumn: RawBuilder<unknown>,
  asOf: AsOf,
  now: Date,
): RawBuilder<unknown> {
  if (!segment || isWholePopulation(segment)) return sql``;
  const s = sql.id(schema);
  const { validFrom, validTo } = axisColumns(asOf.axis);
  const instant = timestamp(asOf.at ?? now);
  return sql`
    ${needsFixed(segment) ? sql`and exists (select 1 from ${s}.deals sd where sd.deal_id = ${dealIdColumn} and ${fixedConditions(segment, 'sd')})` : sql``}
    ${
      needsVersioned(segment)
        ? sql`and exists (select 1 from ${s}.deal_versions sv where sv.deal_id = ${dealIdColumn}
            and sv.${validFrom} <= ${instant} and sv.${validTo} > ${instant} and ${versionedConditions(segment, 'sv')})`
        : sql``
    }`;
}

/**
 * Every owner a deal of the pipeline ever had (any version): the ids a report's owner segment can
 * match, used to resolve a pseudonym given by a caller who sees no ids in clear.
 */
export async function pipelineOwnerIds(db: ReadModelDb, schema: string, pipelineId: string): Promise<string[]> {
  const rows = await db
    .withSchema(schema)
    .selectFrom('deal_versions')
    .select('owner_id')
    .distinct()
    .where('pipeline_id', '=', pipelineId)
    .execute();
  return rows.map((row) => row.owner_id);
}
