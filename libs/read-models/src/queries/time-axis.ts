import { sql, type RawBuilder } from 'kysely';

/**
 * Which clock an "as of" question uses: `occurred` — business time, as things happened (imports and
 * corrections may be backdated); `recorded` — as the system knew it at that instant.
 */
export type TimeAxis = 'occurred' | 'recorded';

/** The instant and axis every report is evaluated at. `at` undefined = now, from the live rows. */
export interface AsOf {
  readonly at?: Date;
  readonly axis: TimeAxis;
}

/** Column names per axis, so each query is written once. */
export function axisColumns(axis: TimeAxis) {
  const occurred = axis === 'occurred';
  return {
    validFrom: sql.raw(occurred ? 'valid_from' : 'recorded_from'),
    validTo: sql.raw(occurred ? 'valid_to' : 'recorded_to'),
    transitionAt: sql.raw(occurred ? 'at' : 'recorded_at'),
    enteredAt: sql.raw(occurred ? 'entered_at' : 'entered_recorded_at'),
    exitedAt: sql.raw(occurred ? 'exited_at' : 'exited_recorded_at'),
    firstAt: sql.raw(occurred ? 'first_at' : 'first_recorded_at'),
    createdAt: sql.raw(occurred ? 'created_at' : 'created_recorded_at'),
    visitsMs: sql.raw(occurred ? 'visits_ms' : 'visits_recorded_ms'),
    openSince: sql.raw(occurred ? 'open_since' : 'open_since_recorded'),
    settledAt: sql.raw(occurred ? 'settled_at' : 'settled_recorded_at'),
    inOrder: sql.raw(occurred ? 'in_order' : 'in_order_recorded'),
  };
}

export function timestamp(value: Date): RawBuilder<unknown> {
  return sql`${value.toISOString()}::timestamptz`;
}
