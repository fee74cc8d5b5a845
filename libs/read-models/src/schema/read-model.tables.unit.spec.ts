import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import type { DealRow } from '../projections/deal-row.js';
import type { DealsTable, ReadModelDatabase } from './read-model.tables.js';

/** A Kysely that only compiles: enough to see the SQL a typed query turns into. */
function compileOnly<DB>(): Kysely<DB> {
  return new Kysely<DB>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

describe('the read-model database type', () => {
  it('keeps table keys unqualified and puts the schema in with withSchema (live or a rebuild)', () => {
    const db = compileOnly<ReadModelDatabase>();
    const query = db
      .withSchema('read_models_rebuild_1')
      .selectFrom('deals')
      .select(['deal_id', 'stage_id'])
      .where('status', '=', 'open')
      .compile();
    expect(query.sql).toBe('select "deal_id", "stage_id" from "read_models_rebuild_1"."deals" where "status" = $1');
    expect(query.parameters).toEqual(['open']);
  });

  it('fails the typecheck when a column is renamed in the schema but not in a query', () => {
    // The same database with deals.stage_id renamed: a query still naming stage_id no longer compiles.
    type Renamed = Omit<ReadModelDatabase, 'deals'> & {
      deals: Omit<DealsTable, 'stage_id'> & { current_stage_id: string };
    };
    const renamed = compileOnly<Renamed>();
    const query = () =>
      renamed
        .selectFrom('deals')
        // @ts-expect-error -- stage_id is not a column of deals any more
        .select(['deal_id', 'stage_id'])
        .compile();
    expect(query().sql).toBe('select "deal_id", "stage_id" from "deals"');
    // and the live database refuses a column that does not exist
    const db = compileOnly<ReadModelDatabase>();
    // @ts-expect-error -- deals has no column "stage"
    expect(db.selectFrom('deals').select('stage').compile().sql).toBe('select "stage" from "deals"');
  });

  it('derives the in-memory rows from the tables: int8 as number, timestamps as Date, nullability kept', () => {
    const amount: DealRow['amount'] = 125_000;
    const closedAt: DealRow['closed_at'] = null;
    const createdAt: DealRow['created_at'] = new Date('2026-01-05T09:00:00Z');
    // @ts-expect-error -- an amount is a number in memory, not the string the driver reads
    const wrong: DealRow['amount'] = '125000';
    expect([amount, closedAt, createdAt.toISOString(), wrong]).toEqual([
      125_000,
      null,
      '2026-01-05T09:00:00.000Z',
      '125000',
    ]);
  });
});
