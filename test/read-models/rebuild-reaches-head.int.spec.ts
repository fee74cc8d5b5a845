import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { EsdbEventStore, START, type EventStore, type ReadAllBatch } from '@dealstream/event-store';
import { buildReadModels, createReadModelSchema, ensureReadModelSchema } from '@dealstream/read-models';
import { ScriptedEsdbServer } from '@dealstream/event-store/testing';
import { FixtureWriter } from '../support/fixture-writer.js';
import { createPostgresTestDatabase, type TestDatabase } from '../support/test-database.js';

/*
 * Issue 20, finding 3: a rebuild must reach the head it measured when it started. Events are
 * written through the EventStoreDB adapter to the scripted gRPC server (not EventStoreDB: only the
 * adapter and the rebuild's loop are under test), with stretches of system events between them;
 * read models in a real PostgreSQL.
 */
describe('the rebuild reads to the head it measured at its start (EventStoreDB adapter)', () => {
  let server: ScriptedEsdbServer;
  let store: EsdbEventStore;
  let database: TestDatabase;
  const deals = 12;

  beforeAll(async () => {
    server = await new ScriptedEsdbServer().start();
    store = new EsdbEventStore(server.connectionString, { timeoutMs: 5000, readAllPageSize: 20 });
    database = await createPostgresTestDatabase();
    await ensureReadModelSchema(database.db);
    const writer = new FixtureWriter(store);
    const pipelineId = randomUUID();
    const stages = [randomUUID(), randomUUID()];
    const at = new Date('2026-02-01T00:00:00Z');
    await writer.pipeline(pipelineId, at, () => [
      {
        type: 'DefinePipeline',
        data: {
          pipelineId,
          name: 'Head',
          currency: 'EUR',
          stages: stages.map((stageId, i) => ({ stageId, name: `S${i}`, probability: 10 + 50 * i })),
        },
      },
    ]);
    for (let i = 0; i < deals; i++) {
      server.addSystemEvents(45); // more than two pages of $all with nothing to return
      const dealId = randomUUID();
      await writer.deal(
        dealId,
        at,
        (pipeline) => [
          {
            type: 'CreateDeal',
            data: {
              dealId,
              pipeline,
              title: `Deal ${i}`,
              account: 'Acme',
              amount: 100 + i,
              currency: 'EUR',
              ownerId: 'o',
            },
          },
        ],
        pipelineId,
      );
    }
    server.addSystemEvents(45);
  });

  afterAll(async () => {
    await store.close();
    await server.stop();
    await database.drop();
  });

  async function dealCount(schema: string): Promise<number> {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.id(schema)}.deals`.execute(
      database.db,
    );
    return rows[0].n;
  }

  it('measures the head past the trailing system events: the last dealstream event', async () => {
    const last = server.records.filter((r) => !r.streamId.startsWith('$')).at(-1)!;
    expect(await store.headPosition()).toEqual({ major: last.position, minor: last.position });
  });

  it('builds every deal across filtered stretches larger than a page', async () => {
    const schema = `read_models_head_${Date.now()}`;
    await createReadModelSchema(database.db, schema);
    const applied = await buildReadModels(database.db, store, schema, 5);
    expect(applied).toBe(1 + deals);
    expect(await dealCount(schema)).toBe(deals);
  });

  it('does not stop at an empty batch before that head: it reads again', async () => {
    let answered = 0;
    // A store that once answers "nothing more" in the middle (what the old readAll did after a long filtered stretch).
    const flaky: EventStore = Object.assign(Object.create(store) as EventStore, {
      readAll: async (options: Parameters<EventStore['readAll']>[0]): Promise<ReadAllBatch> => {
        if (++answered === 2) return { events: [], cursor: options.after ?? START };
        return store.readAll(options);
      },
    });
    const schema = `read_models_flaky_${Date.now()}`;
    await createReadModelSchema(database.db, schema);
    const applied = await buildReadModels(database.db, flaky, schema, 5);
    expect(applied).toBe(1 + deals);
    expect(await dealCount(schema)).toBe(deals);
  });
});
