import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { SqlEventStore, migrateEventStore, type EventStore, type GlobalPosition } from '@dealstream/event-store';
import { dealStreamName, type DealCommand } from '@dealstream/deals-domain';
import {
  LIVE_SCHEMA,
  ProjectionRunner,
  ensureReadModelSchema,
  listParkedStreams,
  rebuildReadModels,
  retryParkedStreams,
  waitForCheckpoint,
} from '@dealstream/read-models';
import { PROJECTIONS_EXIT, runProjections } from '../../apps/cli/src/projections.command.js';
import { FixtureWriter } from '../support/fixture-writer.js';
import { appendPoison } from '../support/poison-event.js';
import { createPGliteTestDatabase, createPostgresTestDatabase, type TestDatabase } from '../support/test-database.js';

/*
 * An event no projection can apply must not stop the world: its stream is parked (its later events
 * wait with it), every other stream flows, and after the cause is removed a retry brings the read
 * models to exactly what a full rebuild builds.
 */

const STAGES = [randomUUID(), randomUUID(), randomUUID()];

async function definePipeline(writer: FixtureWriter): Promise<string> {
  const pipelineId = randomUUID();
  await writer.pipeline(pipelineId, new Date('2026-01-01T00:00:00Z'), () => [
    {
      type: 'DefinePipeline',
      data: {
        pipelineId,
        name: 'Poison',
        currency: 'EUR',
        stages: STAGES.map((stageId, i) => ({ stageId, name: `S${i}`, probability: 20 + 30 * i })),
      },
    },
  ]);
  return pipelineId;
}

function createDeal(
  dealId: string,
  title: string,
  amount: number,
): (pipeline: Parameters<Parameters<FixtureWriter['deal']>[2]>[0]) => DealCommand[] {
  return (pipeline) => [
    {
      type: 'CreateDeal',
      data: { dealId, pipeline, title, account: 'Acme', amount, currency: 'EUR', ownerId: 'owner-1' },
    },
  ];
}

/**
 * Where the stream's last event sits in the global order. (Not "read the global order to its end":
 * the SQL store holds back events committed after an older transaction still in flight, so that read
 * can stop short while the runner is busy.) Streams written one after another commit in that order.
 */
async function positionOf(store: EventStore, streamId: string): Promise<GlobalPosition> {
  return (await store.readStream(streamId)).at(-1)!.position;
}

async function dealRow(
  database: TestDatabase,
  dealId: string,
): Promise<{ revision: string; amount: string; title: string } | undefined> {
  const { rows } = await sql<{ revision: string; amount: string; title: string }>`
    select revision::text as revision, amount::text as amount, title from read_models.deals where deal_id = ${dealId}::uuid`.execute(
    database.db,
  );
  return rows[0];
}

async function caughtUp(database: TestDatabase, store: EventStore, lastWritten: string): Promise<void> {
  const target = await positionOf(store, lastWritten);
  expect(await waitForCheckpoint(database.db, LIVE_SCHEMA, target, 60_000)).toBeDefined();
}

describe('poison events park their stream, everything else flows (PostgreSQL)', () => {
  let database: TestDatabase;
  let store: SqlEventStore;
  let runner: ProjectionRunner;
  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    await migrateEventStore(database.db);
    await ensureReadModelSchema(database.db);
    store = new SqlEventStore(database.db);
  });
  afterAll(async () => {
    await runner?.stop();
    await database.drop();
  });

  it('a projection that throws for one chosen event: 1,000 other deals visible, the stream parked and named; retry = rebuild', async () => {
    const logs: Record<string, unknown>[] = [];
    runner = new ProjectionRunner({
      database,
      store,
      batchSize: 200,
      pollIntervalMs: 20,
      log: (entry) => logs.push(entry),
    });
    await runner.start();
    const writer = new FixtureWriter(store);
    const pipelineId = await definePipeline(writer);
    // The fault: the read model refuses one chosen deal's row (SQLSTATE 23514), as a column would
    // refuse a value it cannot hold. Dropping the constraint later is "removing the fault".
    await sql`alter table read_models.deals add constraint poison_fault check (title <> 'Poison deal')`.execute(
      database.db,
    );

    const poisonId = randomUUID();
    const others = Array.from({ length: 1000 }, () => randomUUID());
    const at = new Date('2026-02-01T00:00:00Z');
    for (let i = 0; i < others.length; i += 25) {
      await Promise.all(
        others
          .slice(i, i + 25)
          .map((id, j) => writer.deal(id, at, createDeal(id, `Deal ${i + j}`, 1000 + i + j), pipelineId)),
      );
      if (i === 500) await writer.deal(poisonId, at, createDeal(poisonId, 'Poison deal', 77), pipelineId);
    }
    // Two later events of the poisoned deal: they must wait with it, never be applied out of order.
    await writer.deal(
      poisonId,
      at,
      () => [{ type: 'ChangeDealValue', data: { amount: 88, currency: 'EUR' } }],
      pipelineId,
    );
    await writer.deal(
      poisonId,
      at,
      (pipeline) => [{ type: 'MoveDealToStage', data: { toStageId: STAGES[1], pipeline } }],
      pipelineId,
    );
    await caughtUp(database, store, dealStreamName(poisonId));

    const { rows } = await sql<{ n: string }>`select count(*)::text as n from read_models.deals`.execute(database.db);
    expect(rows[0].n).toBe('1000');
    expect(await dealRow(database, poisonId)).toBeUndefined();
    const parked = await listParkedStreams(database.db);
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({
      streamId: dealStreamName(poisonId),
      revision: 0n,
      eventType: 'DealCreated',
      errorCode: '23514',
      attempts: 0,
      eventsWaiting: 2,
    });
    expect(parked[0].error).toContain('poison_fault');
    expect(runner.status().lastError).toBeUndefined();
    expect(
      logs.some(
        (entry) => entry.msg?.toString().startsWith('stream parked') && entry.streamId === dealStreamName(poisonId),
      ),
    ).toBe(true);

    // Retrying while the fault is still there changes nothing but the attempt count.
    const early = await retryParkedStreams(database.db, store);
    expect(early.released).toEqual([]);
    expect(early.stillParked.map((p) => [p.streamId, p.revision, p.attempts])).toEqual([
      [dealStreamName(poisonId), 0n, 1],
    ]);
    expect(await dealRow(database, poisonId)).toBeUndefined();

    // Remove the fault, retry: the whole stream applies in order, and later events flow again.
    await sql`alter table read_models.deals drop constraint poison_fault`.execute(database.db);
    // … through the CLI an operator uses, while the runner keeps running.
    const env = { DATABASE_URL: database.url! };
    const listed: string[] = [];
    expect(await runProjections(['parked'], { env, print: (line) => listed.push(line) })).toBe(PROJECTIONS_EXIT.parked);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatch(
      new RegExp(
        `^PARKED ${dealStreamName(poisonId)} at revision 0 \\(DealCreated, .*2 later event\\(s\\) waiting, 1 failed retry: \\[23514\\]`,
      ),
    );
    const retried: string[] = [];
    expect(await runProjections(['retry', '--json'], { env, print: (line) => retried.push(line) })).toBe(
      PROJECTIONS_EXIT.clear,
    );
    expect(JSON.parse(retried[0])).toEqual({ released: [dealStreamName(poisonId)], stillParked: [] });
    expect(await dealRow(database, poisonId)).toEqual({ revision: '2', amount: '88', title: 'Poison deal' });
    expect(await listParkedStreams(database.db)).toEqual([]);
    await writer.deal(
      poisonId,
      at,
      () => [{ type: 'ChangeDealValue', data: { amount: 99, currency: 'EUR' } }],
      pipelineId,
    );
    await caughtUp(database, store, dealStreamName(poisonId));
    expect(await dealRow(database, poisonId)).toEqual({ revision: '3', amount: '99', title: 'Poison deal' });

    await runner.stop();
    const rebuild = await rebuildReadModels({ db: database.db, store, swap: false });
    expect(rebuild.parity.tables.filter((t) => t.onlyInA + t.onlyInB > 0)).toEqual([]);
    expect(rebuild.parity.equal).toBe(true);
    expect(rebuild.parked).toBe(0);
  });
});

describe.each([
  ['PostgreSQL', createPostgresTestDatabase],
  ['PGlite', createPGliteTestDatabase],
])('a stored event with a date no column can hold (%s)', (_name, create) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await create();
    await migrateEventStore(database.db);
    await ensureReadModelSchema(database.db);
  });
  afterAll(() => database.drop());

  it('parks its stream in the live runner and in a rebuild, instead of freezing every read model', async () => {
    const store = new SqlEventStore(database.db);
    const writer = new FixtureWriter(store);
    const pipelineId = await definePipeline(writer);
    const before = randomUUID();
    await writer.deal(before, new Date('2026-02-01T00:00:00Z'), createDeal(before, 'Before', 1), pipelineId);
    const poisonId = await appendPoison(store, pipelineId, STAGES[0]);
    const after = randomUUID();
    await writer.deal(after, new Date('2026-02-01T00:00:00Z'), createDeal(after, 'After', 2), pipelineId);

    const runner = new ProjectionRunner({ database, store, batchSize: 500, pollIntervalMs: 20 });
    await runner.start();
    try {
      await caughtUp(database, store, dealStreamName(after));
    } finally {
      await runner.stop();
    }
    expect(await dealRow(database, before)).toMatchObject({ title: 'Before' });
    expect(await dealRow(database, after)).toMatchObject({ title: 'After' });
    expect(await dealRow(database, poisonId)).toBeUndefined();
    const parked = await listParkedStreams(database.db);
    expect(parked.map((p) => [p.streamId, p.eventType, p.errorCode])).toEqual([
      [dealStreamName(poisonId), 'DealCreated', '22008'],
    ]);
    expect(parked[0].error).toMatch(/out of range/);

    // A rebuild parks the same stream rather than failing, and equals the live tables.
    const rebuild = await rebuildReadModels({ db: database.db, store });
    expect(rebuild.parity.equal).toBe(true);
    expect(rebuild.swapped).toBe(true);
    expect(rebuild.parked).toBe(1);
    expect((await listParkedStreams(database.db)).map((p) => p.streamId)).toEqual([dealStreamName(poisonId)]);
  });
});
