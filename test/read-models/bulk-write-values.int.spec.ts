import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { SqlEventStore, migrateEventStore } from '@dealstream/event-store';
import { createReadModelSchema, projectBatch } from '@dealstream/read-models';
import { FixtureWriter } from '../support/fixture-writer.js';
import { createPGliteTestDatabase, createPostgresTestDatabase, type TestDatabase } from '../support/test-database.js';
import { readAllWritten } from '../support/read-all-written.js';

/*
 * The projections write rows column-wise (arrays through `unnest`) or, for rows new to the read
 * models, with COPY. Array literals and COPY's text format have their own quoting, so text that looks
 * like array syntax, NULL or a COPY escape must come back exactly as written, on both drivers.
 */
const AWKWARD = [
  'He said "hi", then \\ left',
  '{a,b}',
  'NULL',
  '"',
  'comma, and (parens)',
  'ünïcødé 🎉',
  // COPY's text format has its own escapes (new deals' rows are loaded with COPY; the domain refuses
  // control characters, so tabs and line breaks cannot reach it), and the state's JSON doubles backslashes.
  '\\N',
  'trailing backslash \\',
];

describe.each([
  ['PostgreSQL', () => createPostgresTestDatabase()],
  ['PGlite', () => createPGliteTestDatabase()],
] as const)('bulk-written read-model rows keep awkward text exactly (%s)', (_name, open) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await open();
    await migrateEventStore(database.db);
  });
  afterAll(() => database.drop());

  it('titles, accounts, owners and activity notes come back as written', async () => {
    const store = new SqlEventStore(database.db);
    const writer = new FixtureWriter(store);
    const pipelineId = randomUUID();
    const stageId = randomUUID();
    await writer.pipeline(pipelineId, new Date('2025-01-01T00:00:00Z'), () => [
      {
        type: 'DefinePipeline',
        data: { pipelineId, name: 'P', currency: 'EUR', stages: [{ stageId, name: 'S', probability: 10 }] },
      },
    ]);
    const dealIds = AWKWARD.map(() => randomUUID());
    for (const [i, text] of AWKWARD.entries()) {
      await writer.deal(
        dealIds[i],
        new Date(Date.UTC(2025, 0, 2, i)),
        (pipeline) => [
          {
            type: 'CreateDeal',
            data: {
              dealId: dealIds[i],
              pipeline,
              title: text,
              account: text,
              amount: 100,
              currency: 'EUR',
              ownerId: text,
            },
          },
          { type: 'LogActivity', data: { activityId: randomUUID(), kind: 'note', note: text } },
        ],
        pipelineId,
      );
    }
    // 1 pipeline event + 2 per deal (created, activity)
    const events = await readAllWritten(store, 1 + 2 * AWKWARD.length);
    await createReadModelSchema(database.db, 'rm');
    await database.db.transaction().execute((trx) => projectBatch(trx, 'rm', events));

    const { rows } = await sql<{
      deal_id: string;
      title: string;
      account: string;
      owner_id: string;
    }>`select d.deal_id::text as deal_id, d.title, d.account, d.owner_id from rm.deals d`.execute(database.db);
    const byDeal = new Map(rows.map((r) => [r.deal_id, r]));
    expect(AWKWARD.map((text, i) => byDeal.get(dealIds[i]))).toEqual(
      AWKWARD.map((text, i) => ({
        deal_id: dealIds[i],
        title: text,
        account: text,
        owner_id: text,
      })),
    );
  });
});
