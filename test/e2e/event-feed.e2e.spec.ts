import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { SqlEventStoreOptions } from '@dealstream/event-store';
import { startAuditApi, type AuditApiHarness } from '../support/audit-api-harness.js';

/*
 * Must-show 3: GET /events, paged with `next`, returns every event exactly once, in the store's global
 * order, while 8 writers append over HTTP — to their own deals and to one shared deal. The app's
 * event store gets random pauses after taking the stream lock and before committing (its
 * documented fault-injection hooks), so transaction-id order, position order and commit order differ
 * and a position-paged reader would lose events (docs/event-store.md).
 */

const WRITERS = 8;
const WRITES_PER_WRITER = 30;
const PAGE = 7;

/** The feed's refusals of its query parameters, as the ValidationPipe alone answered them (400 validation-failed). */
const LIMIT = 'limit must be a whole number from 1 to 1000';
const AFTER = 'after must be a cursor as returned in next (two hex parts, each below 2^63)';
const TYPE = 'type must be a comma-separated list of up to 50 names like DealWon,DealLost';
const CATEGORY = 'category must be a comma-separated list of up to 50 names like deal';
const BAD_FEED_QUERIES: [string, { field: string; messages: string[] }[]][] = [
  ['limit=0', [{ field: 'limit', messages: [LIMIT] }]],
  ['limit=1001', [{ field: 'limit', messages: [LIMIT] }]],
  ['limit=1e3', [{ field: 'limit', messages: [LIMIT] }]],
  ['limit=%205', [{ field: 'limit', messages: [LIMIT] }]],
  ['limit=0x10', [{ field: 'limit', messages: [LIMIT] }]],
  ['limit=', [{ field: 'limit', messages: [LIMIT] }]],
  ['limit=1&limit=2', [{ field: 'limit', messages: ['limit must be a string', LIMIT] }]],
  ['after=123', [{ field: 'after', messages: [AFTER] }]],
  ['after=8000000000000000-0000000000000000', [{ field: 'after', messages: [AFTER] }]],
  ['after=', [{ field: 'after', messages: [AFTER] }]],
  ['type=Deal%20Won', [{ field: 'type', messages: [TYPE] }]],
  ['type=', [{ field: 'type', messages: [TYPE] }]],
  ['type=a,,b', [{ field: 'type', messages: [TYPE] }]],
  ['category=deal-x', [{ field: 'category', messages: [CATEGORY] }]],
  ['category=a&category=b', [{ field: 'category', messages: ['category must be a string', CATEGORY] }]],
  ['unknown=1', [{ field: 'unknown', messages: ['property unknown should not exist'] }]],
  ['limit=5&access_token=x', [{ field: 'access_token', messages: ['property access_token should not exist'] }]],
  [
    'limit=abc&after=xyz&type=%20&category=%20',
    [
      { field: 'after', messages: [AFTER] },
      { field: 'limit', messages: [LIMIT] },
      { field: 'type', messages: [TYPE] },
      { field: 'category', messages: [CATEGORY] },
    ],
  ],
];

interface FeedEvent {
  eventId: string;
  streamId: string;
  revision: string;
  position: string;
  type: string;
}

describe('GET /events while 8 writers append (PostgreSQL)', () => {
  let api: AuditApiHarness;
  let reader: string;
  const collected: FeedEvent[] = [];
  let readDuringWrites = 0;

  async function page(after: string | undefined, query = ''): Promise<{ events: FeedEvent[]; next: string }> {
    const cursor = after === undefined ? '' : `&after=${after}`;
    return (await api.http().get(`/events?limit=${PAGE}${cursor}${query}`).set('Authorization', reader).expect(200))
      .body;
  }

  beforeAll(async () => {
    api = await startAuditApi({ projectionsInProcess: false });
    const hooks = (api.appEventStore() as unknown as { options: SqlEventStoreOptions }).options;
    expect(hooks).toBeDefined();
    const pause = () => new Promise<void>((resolve) => setTimeout(resolve, Math.random() * 6));
    Object.assign(hooks, { afterStreamLock: pause, beforeCommit: pause });

    reader = `Bearer ${await api.token(['ops'], 'feed-consumer')}`;
    const ops = `Bearer ${await api.token(['ops'], 'olivia-ops')}`;
    const stageIds = [randomUUID(), randomUUID()];
    const { body: pipeline } = await api
      .http()
      .post('/pipelines')
      .set('Authorization', ops)
      .send({
        name: 'P',
        currency: 'EUR',
        stages: stageIds.map((stageId, i) => ({ stageId, name: `S${i}`, probability: 50 })),
      })
      .expect(201);
    const shared = (
      await api
        .http()
        .post('/deals')
        .set('Authorization', ops)
        .send({ pipelineId: pipeline.id, title: 'shared', account: 'A', amount: 1, currency: 'EUR' })
        .expect(201)
    ).body.id;

    let writing = true;
    let readerHasRead!: () => void;
    const firstEventsRead = new Promise<void>((resolve) => (readerHasRead = resolve));
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      const auth = `Bearer ${await api.token(['sales'], `writer-${w}`)}`;
      const own = (
        await api
          .http()
          .post('/deals')
          .set('Authorization', auth)
          .send({ pipelineId: pipeline.id, title: `w${w}`, account: 'A', amount: 1, currency: 'EUR' })
          .expect(201)
      ).body.id;
      for (let i = 0; i < WRITES_PER_WRITER; i++) {
        // Halfway, wait until the reader has read something: it provably reads while writers write.
        if (i === WRITES_PER_WRITER / 2) await firstEventsRead;
        const deal = i % 2 === 0 ? own : shared;
        // Eight writers on one deal with injected pauses could exhaust the server's own retry deadline
        // (WRITE_CONTENTION_DEADLINE_MS): 503 write-contention says nothing was written and to retry, so a client does.
        for (;;) {
          const response = await api
            .http()
            .post(`/deals/${deal}/activities`)
            .set('Authorization', auth)
            .send({ kind: 'call', note: `w${w}-${i}` });
          if (response.status === 201) break;
          expect([response.status, response.body.code]).toEqual([503, 'write-contention']);
        }
      }
    });
    const done = Promise.all(writers).finally(() => (writing = false));

    let after: string | undefined;
    const total = async () =>
      Number(
        (await sql<{ n: string }>`select count(*)::text as n from event_store.events`.execute(api.database.db)).rows[0]
          .n,
      );
    // Follow the feed until the writers are done and it has caught up with every stored event.
    for (let polls = 0; polls < 20_000; polls++) {
      const stillWriting = writing;
      const { events, next } = await page(after);
      collected.push(...events);
      if (stillWriting) readDuringWrites += events.length;
      if (collected.length > 0) readerHasRead();
      after = next;
      if (events.length === 0) {
        if (!stillWriting && collected.length >= (await total())) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    await done;
  });
  afterAll(() => api.close());

  it('delivered every stored event exactly once, in the global order, while the writers were writing', async () => {
    const { rows } = await sql<{
      event_id: string;
    }>`select event_id::text as event_id from event_store.events order by transaction_id, global_position`.execute(
      api.database.db,
    );
    expect(rows).toHaveLength(2 + WRITERS * (1 + WRITES_PER_WRITER));
    const ids = collected.map((e) => e.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(rows.map((row) => row.event_id));
    expect(readDuringWrites).toBeGreaterThan(0);
    // Cursors are fixed-width hex pairs: string order is position order.
    for (let i = 1; i < collected.length; i++) expect(collected[i - 1].position < collected[i].position).toBe(true);
    const revisions = new Map<string, number[]>();
    for (const e of collected) revisions.set(e.streamId, [...(revisions.get(e.streamId) ?? []), Number(e.revision)]);
    for (const [, list] of revisions) expect(list).toEqual(list.map((_, i) => i));
    expect(Math.max(...[...revisions.values()].map((list) => list.length))).toBe(1 + WRITERS * (WRITES_PER_WRITER / 2));
  });

  it('filters by type and category, still each event once and in the same order', async () => {
    const filtered: FeedEvent[] = [];
    let after: string | undefined;
    for (;;) {
      const { events, next } = await page(after, '&type=ActivityLogged,DealWon&category=deal');
      if (events.length === 0) break;
      filtered.push(...events);
      after = next;
    }
    expect(filtered.map((e) => e.eventId)).toEqual(
      collected.filter((e) => e.type === 'ActivityLogged').map((e) => e.eventId),
    );
    expect(filtered).toHaveLength(WRITERS * WRITES_PER_WRITER);
    const pipelines = (await api.http().get('/events?category=pipeline').set('Authorization', reader).expect(200)).body;
    expect(pipelines.events.map((e: FeedEvent) => e.type)).toEqual(['PipelineDefined']);
  });

  it('answers an empty page with next = after once caught up', async () => {
    const last = collected.at(-1)!.position;
    expect((await api.http().get(`/events?after=${last}`).set('Authorization', reader).expect(200)).body).toEqual({
      events: [],
      next: last,
    });
  });

  it('refuses bad query parameters with the validation-failed problem, message for message', async () => {
    // The feed's query is checked by the compiled fast path (controller-kit/compiled-validation.ts),
    // every refusal by the ValidationPipe: these bodies are the ones the pipe alone answered before.
    for (const [query, errors] of BAD_FEED_QUERIES) {
      const response = await api.http().get(`/events?${query}`).set('Authorization', reader);
      expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect({ query, status: response.status, body: response.body as unknown }).toEqual({
        query,
        status: 400,
        body: expect.objectContaining({ status: 400, code: 'validation-failed', errors }),
      });
    }
  });

  it('left every hash chain intact under the concurrent appends', async () => {
    const { body } = await api.http().get('/audit/verify').set('Authorization', reader).expect(200);
    expect(body).toMatchObject({
      ok: true,
      streamsChecked: 2 + WRITERS,
      eventsChecked: 2 + WRITERS * (1 + WRITES_PER_WRITER),
      breaks: [],
    });
  });
});
