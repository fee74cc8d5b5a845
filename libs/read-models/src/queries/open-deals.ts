import { sql, type RawBuilder } from 'kysely';
import { axisColumns, timestamp, type AsOf } from './time-axis.js';

/**
 * The pipeline's open deals at `asOf` as a subquery with columns deal_id, stage_id, owner_id, amount,
 * currency, expected_close_date, stage_entered_at, created_at: the live rows for "now", otherwise the
 * deal versions valid at that instant on the chosen axis.
 */
export function openDealsAt(schema: string, pipelineId: string, asOf: AsOf): RawBuilder<unknown> {
  // Raw: a subquery the window-heavy reports embed in their own raw SQL.
  const s = sql.id(schema);
  const columns = sql`deal_id, stage_id, owner_id, amount, currency, expected_close_date, stage_entered_at, created_at`;
  if (!asOf.at)
    return sql`(select ${columns} from ${s}.deals where pipeline_id = ${pipelineId}::uuid and status = 'open')`;
  const { validFrom, validTo } = axisColumns(asOf.axis);
  return sql`(select ${columns} from ${s}.deal_versions
    where pipeline_id = ${pipelineId}::uuid and status = 'open' and ${validFrom} <= ${timestamp(asOf.at)} and ${validTo} > ${timestamp(asOf.at)})`;
}
