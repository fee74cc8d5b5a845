import { EnumQueryField, InstantQueryField, IntegerQueryField } from './query-fields.js';

const MAX_REVISION = (1n << 63n) - 1n;
const MAX_VERSION = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_HISTORY_LIMIT = 1000;
export const DEFAULT_HISTORY_LIMIT = 100;

export class HistoryQueryDto {
  @IntegerQueryField({
    min: 0n,
    max: MAX_REVISION,
    required: false,
    description: 'Return events after this revision (exclusive): the `next` of the previous page',
    example: '99',
  })
  after?: string;

  @IntegerQueryField({
    min: 1n,
    max: BigInt(MAX_HISTORY_LIMIT),
    required: false,
    description: `Events per page, default ${DEFAULT_HISTORY_LIMIT}`,
  })
  limit?: string;
}

export class StateQueryDto {
  @IntegerQueryField({
    min: 1n,
    max: MAX_VERSION,
    required: false,
    description: 'Number of events folded: the state after revision version-1',
    example: '100',
  })
  version?: string;

  @InstantQueryField('The state as it was at this instant (give either version or asOf)')
  asOf?: string;

  @EnumQueryField(
    ['occurred', 'recorded'],
    'Clock asOf reads: occurred = business time (occurredAt, default), recorded = when the store wrote it (recordedAt)',
  )
  axis?: 'occurred' | 'recorded';
}

export class DiffQueryDto {
  @IntegerQueryField({
    min: 0n,
    max: MAX_VERSION,
    required: true,
    description: 'Version to compare from (0 = before the first event)',
    example: '10',
  })
  from!: string;

  @IntegerQueryField({
    min: 1n,
    max: MAX_VERSION,
    required: true,
    description: 'Version to compare to (≥ from)',
    example: '12',
  })
  to!: string;
}
