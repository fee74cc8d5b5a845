/**
 * Latency of the audit routes for one deal with 1,000 events, next to a raw SQL read of the same
 * rows measured in the same run, on the same server:
 *
 *   npm run bench:audit                   # PostgreSQL at TEST_POSTGRES_URL (default 127.0.0.1:5432)
 *   BENCH_SECONDS=10 npm run bench:audit
 *
 * The API runs in this process (listening on a free port; requests through fetch with keep-alive),
 * one client at a time, so the figures are latencies, not throughput. Each route is measured right
 * after its own raw baseline: `select * from event_store.events where stream_id = $1 order by
 * stream_revision` through the same driver. The ratios (route ÷ raw) are the figures to compare.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { mintToken } from '@dealstream/auth';
import { SqlEventStore, type NewEvent } from '@dealstream/event-store';
import { dealDecider, type DealCommand, type DealState } from '@dealstream/deals-domain';
import { pipelineDecider, toPipelineSnapshot } from '@dealstream/pipelines-domain';
import { fold } from '@dealstream/decider';
import { createApp } from '../../apps/api/src/bootstrap.js';
import { appConfigFromEnv } from '../../apps/api/src/config/app-config.js';
import { createPostgresTestDatabase } from '../support/test-database.js';
import { printTable, runFor } from './bench-kit.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const EVENTS = 1000;
const SECRET = 'bench-secret-that-is-long-enough-for-hs256-0123456789';

const database = await createPostgresTestDatabase({ poolSize: 4 });
const { app } = await createApp({
  ...appConfigFromEnv({}),
  database: { kind: 'postgres', connectionString: database.url!, poolSize: 10 },
  logLevel: 'silent',
  projectionsInProcess: false,
  auth: { secret: SECRET, publicKeyAlgorithm: 'RS256' },
});
try {
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const dealId = await writeLongDeal(new SqlEventStore(database.db));
  const streamId = `deal-${dealId}`;
  const headers = {
    Authorization: `Bearer ${await mintToken({ subject: 'bench', roles: ['auditor'], secret: SECRET, expiresIn: '1h' })}`,
  };
  const events = await sql<{
    occurred_at: Date;
  }>`select occurred_at from event_store.events where stream_id = ${streamId} order by stream_revision`.execute(
    database.db,
  );
  if (events.rows.length !== EVENTS) throw new Error(`expected ${EVENTS} events, found ${events.rows.length}`);
  const lastOccurred = new Date(events.rows.at(-1)!.occurred_at).toISOString();

  const routes: [string, string][] = [
    ['history, 1 page of 1,000', `/deals/${dealId}/history?limit=1000`],
    ['history, first page of 100', `/deals/${dealId}/history`],
    ['state?version=1000', `/deals/${dealId}/state?version=${EVENTS}`],
    ['state?asOf=<last event>', `/deals/${dealId}/state?asOf=${lastOccurred}`],
    ['diff?from=1&to=1000', `/deals/${dealId}/diff?from=1&to=${EVENTS}`],
    ['audit/verify?stream=<deal>', `/audit/verify?stream=${streamId}`],
  ];
  const raw = () =>
    sql`select * from event_store.events where stream_id = ${streamId} order by stream_revision`.execute(database.db);
  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`, { headers });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${body}`);
  };

  console.log(
    `Audit routes for one deal with ${EVENTS} events — PostgreSQL, ${seconds}s per measurement, 1 client; raw = the same rows by SQL`,
  );
  const rows: (string | number)[][] = [];
  for (const [name, path] of routes) {
    await get(path); // warm-up: JIT, plans, connection
    await raw();
    const baseline = await runFor(seconds, 1, raw);
    const route = await runFor(seconds, 1, () => get(path));
    rows.push([
      name,
      route.p50Ms,
      route.p99Ms,
      baseline.p50Ms,
      baseline.p99Ms,
      route.p50Ms / baseline.p50Ms,
      route.p99Ms / baseline.p99Ms,
    ]);
  }
  printTable(['route', 'p50 ms', 'p99 ms', 'raw p50 ms', 'raw p99 ms', 'p50 ratio', 'p99 ratio'], rows);
} finally {
  await app.close();
  await database.drop();
}

/**
 * A pipeline and a deal with exactly 1,000 events of every kind (moves both ways, value and owner
 * changes, activities, qualifications, loss and reopen), decided by the real deciders and appended
 * 50 at a time — the audit routes do not care how many appends wrote them.
 */
async function writeLongDeal(store: SqlEventStore): Promise<string> {
  const pipelineId = randomUUID();
  const stages = Array.from({ length: 6 }, (_, i) => ({
    stageId: randomUUID(),
    name: `Stage ${i}`,
    probability: 10 * (i + 1),
  }));
  const defined = pipelineDecider.decide(
    { type: 'DefinePipeline', data: { pipelineId, name: 'Bench', currency: 'EUR', stages } },
    pipelineDecider.initialState(),
  );
  await store.appendToStream(
    `pipeline-${pipelineId}`,
    defined.map((event) => toNew(event, new Date())),
    { expectedRevision: 'no_stream' },
  );
  const pipeline = toPipelineSnapshot(fold(pipelineDecider, defined));

  const dealId = randomUUID();
  const bant = {
    budget: { confirmed: true },
    authority: { confirmed: true },
    need: { confirmed: true },
    timeline: { confirmed: true },
  };
  let state: DealState = dealDecider.initialState();
  let pending: NewEvent[] = [];
  let expectedRevision: bigint | 'no_stream' = 'no_stream';
  const start = Date.now() - EVENTS * 60_000;
  for (let i = 0; state.version < EVENTS; i++) {
    const stage = stages.findIndex((s) => s.stageId === state.stageId);
    const back = stage > 0 && (stage === stages.length - 1 || i % 10 === 5);
    const command: DealCommand =
      i === 0
        ? {
            type: 'CreateDeal',
            data: {
              dealId,
              pipeline,
              title: 'Bench',
              account: 'ACME',
              amount: 100_000,
              currency: 'EUR',
              ownerId: 'sam',
            },
          }
        : state.status === 'lost'
          ? { type: 'ReopenDeal', data: { pipeline } }
          : i % 150 === 75
            ? { type: 'LoseDeal', data: { reason: 'price' } }
            : i % 5 === 0
              ? {
                  type: 'MoveDealToStage',
                  data: { pipeline, toStageId: stages[back ? stage - 1 : stage + 1].stageId },
                }
              : i % 5 === 1
                ? { type: 'ChangeDealValue', data: { amount: state.amount + 100, currency: 'EUR' } }
                : i % 5 === 2
                  ? { type: 'ReassignDealOwner', data: { ownerId: state.ownerId === 'sam' ? 'sue' : 'sam' } }
                  : i % 5 === 3
                    ? { type: 'QualifyDeal', data: { bant } }
                    : { type: 'LogActivity', data: { activityId: randomUUID(), kind: 'call' } };
    for (const event of dealDecider.decide(command, state)) {
      state = dealDecider.evolve(state, event);
      pending.push(toNew(event, new Date(start + state.version * 60_000)));
    }
    if (pending.length >= 50 || state.version >= EVENTS) {
      expectedRevision = (await store.appendToStream(`deal-${dealId}`, pending, { expectedRevision }))
        .nextExpectedRevision;
      pending = [];
    }
  }
  return dealId;
}

function toNew(event: { type: string; data: object }, occurredAt: Date): NewEvent {
  return {
    eventId: randomUUID(),
    type: event.type,
    data: event.data,
    metadata: { actorId: (event.data as { ownerId?: string }).ownerId ?? 'sam', correlationId: 'bench', occurredAt },
  };
}
