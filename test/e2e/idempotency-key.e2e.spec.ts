import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import request from 'supertest';
import { mintToken } from '@dealstream/auth';
import type { EventStore, SqlEventStoreOptions } from '@dealstream/event-store';
import { createApp, type ApiApplication } from '../../apps/api/src/bootstrap.js';
import { appConfigFromEnv } from '../../apps/api/src/config/app-config.js';
import { startApiOnPostgres, TEST_JWT_SECRET, type ApiHarness } from '../support/api-harness.js';

/**
 * Idempotency-Key as draft-ietf-httpapi-idempotency-key-header describes it: a key belongs to
 * (actor, key) and to the first request made with it (method, route, target, canonical body).
 */
describe('Idempotency-Key bound to its first request (PostgreSQL)', () => {
  let api: ApiHarness;
  let sales: string;
  let pipelineId: string;
  const stages = [randomUUID(), randomUUID()];

  beforeAll(async () => {
    api = await startApiOnPostgres();
    sales = `Bearer ${await api.token(['sales'], 'sam')}`;
    const ops = `Bearer ${await api.token(['ops'])}`;
    const { body } = await api
      .http()
      .post('/pipelines')
      .set('Authorization', ops)
      .send({
        name: 'P',
        currency: 'EUR',
        stages: stages.map((stageId, i) => ({ stageId, name: `S${i}`, probability: 20 * (i + 1) })),
      })
      .expect(201);
    pipelineId = body.id;
  });
  afterAll(() => api.close());

  const newDeal = async () =>
    (
      await api
        .http()
        .post('/deals')
        .set('Authorization', sales)
        .send({ pipelineId, title: 'D', account: 'A', amount: 100, currency: 'EUR' })
        .expect(201)
    ).body;

  it('an activity, then lose with the same key: 422 idempotency-key-reused, the deal is not lost and nothing is written', async () => {
    const deal = await newDeal();
    const key = `k-${randomUUID()}`;
    await api
      .http()
      .post(`/deals/${deal.id}/activities`)
      .set('Authorization', sales)
      .set('Idempotency-Key', key)
      .send({ kind: 'call' })
      .expect(201);
    const count = await api.eventCount();
    const lose = await api
      .http()
      .post(`/deals/${deal.id}/lose`)
      .set('Authorization', sales)
      .set('Idempotency-Key', key)
      .send({ reason: 'price' });
    expect(lose.status).toBe(422);
    expect(lose.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(lose.body).toMatchObject({ code: 'idempotency-key-reused', status: 422 });
    expect(lose.headers['idempotent-replayed']).toBeUndefined();
    expect(await api.eventCount()).toBe(count);
    expect((await api.streamEvents(`deal-${deal.id}`)).map((e) => e.type)).toEqual(['DealCreated', 'ActivityLogged']);
  });

  it('the same route with a different body: 422, nothing written', async () => {
    const deal = await newDeal();
    const key = `k-${randomUUID()}`;
    await api
      .http()
      .post(`/deals/${deal.id}/activities`)
      .set('Authorization', sales)
      .set('Idempotency-Key', key)
      .send({ kind: 'call', note: 'first' })
      .expect(201);
    const count = await api.eventCount();
    const second = await api
      .http()
      .post(`/deals/${deal.id}/activities`)
      .set('Authorization', sales)
      .set('Idempotency-Key', key)
      .send({ kind: 'call', note: 'second' });
    expect(second.status).toBe(422);
    expect(second.body.code).toBe('idempotency-key-reused');
    expect(await api.eventCount()).toBe(count);
  });

  it('the same request again replays the first answer: status, body, ETag, Location, Idempotent-Replayed', async () => {
    const key = `k-${randomUUID()}`;
    const send = () =>
      api
        .http()
        .post('/deals')
        .set('Authorization', sales)
        .set('Idempotency-Key', key)
        .send({ pipelineId, title: 'Once', account: 'A', amount: 1, currency: 'EUR' });
    const first = await send().expect(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const count = await api.eventCount();
    const again = await send().expect(201);
    expect(again.text).toBe(first.text);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(again.headers.location).toBe(`/deals/${first.body.id}`);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await api.eventCount()).toBe(count);
  });

  it('the body is compared canonically (RFC 8785): key order and whitespace do not make a different request', async () => {
    const deal = await newDeal();
    const key = `k-${randomUUID()}`;
    const first = await api
      .http()
      .post(`/deals/${deal.id}/activities`)
      .set('Authorization', sales)
      .set('Idempotency-Key', key)
      .set('Content-Type', 'application/json')
      .send('{"kind":"call","note":"n"}')
      .expect(201);
    const again = await api
      .http()
      .post(`/deals/${deal.id}/activities`)
      .set('Authorization', sales)
      .set('Idempotency-Key', key)
      .set('Content-Type', 'application/json')
      .send('{ "note": "n",\n "kind": "call" }')
      .expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
  });

  it('the same key on another deal (another target) is a different request: 422', async () => {
    const [a, b] = [await newDeal(), await newDeal()];
    const key = `k-${randomUUID()}`;
    await api
      .http()
      .post(`/deals/${a.id}/activities`)
      .set('Authorization', sales)
      .set('Idempotency-Key', key)
      .send({ kind: 'call' })
      .expect(201);
    const other = await api
      .http()
      .post(`/deals/${b.id}/activities`)
      .set('Authorization', sales)
      .set('Idempotency-Key', key)
      .send({ kind: 'call' });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency-key-reused');
    expect(await api.streamEvents(`deal-${b.id}`)).toHaveLength(1);
  });

  it('20 parallel identical requests with one key: one effect, 20 identical answers', async () => {
    const key = `k-${randomUUID()}`;
    const before = await api.eventCount();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        api
          .http()
          .post('/deals')
          .set('Authorization', sales)
          .set('Idempotency-Key', key)
          .send({ pipelineId, title: 'Twenty', account: 'A', amount: 20, currency: 'EUR' }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(responses.map((r) => r.text)).size).toBe(1);
    expect(responses.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
    expect(await api.streamEvents(`deal-${responses[0].body.id}`)).toHaveLength(1);
    expect(await api.eventCount()).toBe(before + 1);
  });

  it('20 parallel requests with one key and 20 different bodies: one effect, 19 x 422 (also while the first is in flight)', async () => {
    const deal = await newDeal();
    const key = `k-${randomUUID()}`;
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api
          .http()
          .patch(`/deals/${deal.id}`)
          .set('Authorization', sales)
          .set('Idempotency-Key', key)
          .send({ amount: 1000 + i }),
      ),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([200, ...Array(19).fill(422)]);
    for (const r of responses.filter((r) => r.status === 422)) expect(r.body.code).toBe('idempotency-key-reused');
    const events = await api.streamEvents(`deal-${deal.id}`);
    expect(events.map((e) => e.type)).toEqual(['DealCreated', 'DealValueChanged']);
    const winner = responses.find((r) => r.status === 200)!;
    expect((events[1].data as { amount: number }).amount).toBe(1000 + responses.indexOf(winner));
  });

  it('a key whose first request was refused (4xx, nothing written) is not used up: the next request with it is decided afresh', async () => {
    const deal = await newDeal();
    const key = `k-${randomUUID()}`;
    const invalid = await api
      .http()
      .post(`/deals/${deal.id}/lose`)
      .set('Authorization', sales)
      .set('Idempotency-Key', key)
      .send({ reason: 42 });
    expect(invalid.status).toBe(400);
    const refused = await api
      .http()
      .post(`/deals/${deal.id}/stage`)
      .set('Authorization', sales)
      .set('Idempotency-Key', key)
      .send({ toStageId: stages[0] });
    expect([refused.status, refused.body.code]).toEqual([409, 'already-in-stage']);
    const lost = await api
      .http()
      .post(`/deals/${deal.id}/lose`)
      .set('Authorization', sales)
      .set('Idempotency-Key', key)
      .send({ reason: 'price' });
    expect(lost.status).toBe(200);
    expect(lost.headers['idempotent-replayed']).toBeUndefined();
    expect((await api.streamEvents(`deal-${deal.id}`)).map((e) => e.type)).toEqual(['DealCreated', 'DealLost']);
    // From now on the key is the lose's.
    const again = await api
      .http()
      .post(`/deals/${deal.id}/lose`)
      .set('Authorization', sales)
      .set('Idempotency-Key', key)
      .send({ reason: 'price' })
      .expect(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('a request that failed with an unknown outcome after appending: its retry takes the key over and the derived event ids make it a replay, never a second append', async () => {
    const deal = await newDeal();
    const key = `k-${randomUUID()}`;
    const store = api.appEventStore() as EventStore;
    const append = store.appendToStream.bind(store);
    store.appendToStream = async (...args) => {
      await append(...args);
      store.appendToStream = append;
      throw new Error('connection lost after commit');
    };
    const send = (note: string) =>
      api
        .http()
        .post(`/deals/${deal.id}/activities`)
        .set('Authorization', sales)
        .set('Idempotency-Key', key)
        .send({ kind: 'meeting', note });
    const crashed = await send('n');
    expect(crashed.status).toBe(500);
    expect((await api.streamEvents(`deal-${deal.id}`)).map((e) => e.type)).toEqual(['DealCreated', 'ActivityLogged']);
    const other = await send('another note');
    expect([other.status, other.body.code]).toEqual([422, 'idempotency-key-reused']);
    const retry = await send('n');
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toMatchObject({ revision: '1', events: ['ActivityLogged'] });
    expect(await api.streamEvents(`deal-${deal.id}`)).toHaveLength(2);
  });

  describe('key syntax', () => {
    it('accepts the draft\'s quoted form ("…") as the same key as the bare form', async () => {
      const deal = await newDeal();
      const key = `k-${randomUUID()}`;
      await api
        .http()
        .post(`/deals/${deal.id}/activities`)
        .set('Authorization', sales)
        .set('Idempotency-Key', `"${key}"`)
        .send({ kind: 'call' })
        .expect(201);
      const bare = await api
        .http()
        .post(`/deals/${deal.id}/activities`)
        .set('Authorization', sales)
        .set('Idempotency-Key', key)
        .send({ kind: 'call' })
        .expect(201);
      expect(bare.headers['idempotent-replayed']).toBe('true');
      const spaced = await api
        .http()
        .post(`/deals/${deal.id}/activities`)
        .set('Authorization', sales)
        .set('Idempotency-Key', '"a key with spaces and \\"quotes\\""')
        .send({ kind: 'call' });
      expect(spaced.status).toBe(201);
    });

    it.each([
      ['256 characters', 'k'.repeat(256)],
      ['an empty quoted string', '""'],
      ['a space in a bare key', 'a b'],
      ['a quote inside a bare key', 'a"b'],
      ['an unterminated quoted string', '"abc'],
      ['a bad escape', '"a\\nb"'],
    ])('refuses %s with 400 invalid-idempotency-key and writes nothing', async (_, key) => {
      const deal = await newDeal();
      const response = await api
        .http()
        .post(`/deals/${deal.id}/activities`)
        .set('Authorization', sales)
        .set('Idempotency-Key', key)
        .send({ kind: 'call' });
      expect([response.status, response.body.code]).toEqual([400, 'invalid-idempotency-key']);
      expect(await api.streamEvents(`deal-${deal.id}`)).toHaveLength(1);
    });

    it('accepts 255 characters', async () => {
      const deal = await newDeal();
      await api
        .http()
        .post(`/deals/${deal.id}/activities`)
        .set('Authorization', sales)
        .set('Idempotency-Key', `${randomUUID()}`.padEnd(255, 'x'))
        .send({ kind: 'call' })
        .expect(201);
    });
  });

  it('holds across a restart: the same request replays (with its ETag), a different one is 422', async () => {
    const deal = await newDeal();
    const key = `k-${randomUUID()}`;
    const first = await api
      .http()
      .post(`/deals/${deal.id}/activities`)
      .set('Authorization', sales)
      .set('Idempotency-Key', key)
      .send({ kind: 'call' })
      .expect(201);
    await api.restart();
    const count = await api.eventCount();
    const lose = await api
      .http()
      .post(`/deals/${deal.id}/lose`)
      .set('Authorization', sales)
      .set('Idempotency-Key', key)
      .send({ reason: 'price' });
    expect([lose.status, lose.body.code]).toEqual([422, 'idempotency-key-reused']);
    const again = await api
      .http()
      .post(`/deals/${deal.id}/activities`)
      .set('Authorization', sales)
      .set('Idempotency-Key', key)
      .send({ kind: 'call' })
      .expect(201);
    expect(again.text).toBe(first.text);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await api.eventCount()).toBe(count);
  });

  it('stores keys in api.idempotency_keys, scoped by actor, with the request they belong to', async () => {
    const key = `k-${randomUUID()}`;
    const deal = await newDeal();
    await api
      .http()
      .post(`/deals/${deal.id}/activities`)
      .set('Authorization', sales)
      .set('Idempotency-Key', key)
      .send({ kind: 'call' })
      .expect(201);
    const { rows } = await sql<{
      actor_id: string;
      method: string;
      route: string;
      target: string;
      state: string;
      response_status: number;
    }>`
      select actor_id, method, route, target, state, response_status from api.idempotency_keys where idempotency_key = ${key}`.execute(
      api.database.db,
    );
    expect(rows).toEqual([
      {
        actor_id: 'sam',
        method: 'POST',
        route: '/deals/:id/activities',
        target: `/deals/${deal.id}/activities`,
        state: 'completed',
        response_status: 201,
      },
    ]);
  });
});

describe('Idempotency-Key on embedded PGlite, across a restart on the same DATA_DIR', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dealstream-idem-'));
  const config = { ...appConfigFromEnv({ DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_JWT_SECRET }), logLevel: 'silent' };
  let app: ApiApplication;
  const start = async () => {
    ({ app } = await createApp(config));
    await app.init();
  };
  beforeAll(start);
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('replays the same request and refuses a different one after the app is re-created', async () => {
    const token = `Bearer ${await mintToken({ subject: 'pat', roles: ['admin'], secret: TEST_JWT_SECRET, expiresIn: '1h' })}`;
    const http = () => request(app.getHttpServer());
    const pipeline = await http()
      .post('/pipelines')
      .set('Authorization', token)
      .send({ name: 'P', currency: 'EUR', stages: [{ name: 'A', probability: 10 }] })
      .expect(201);
    const deal = await http()
      .post('/deals')
      .set('Authorization', token)
      .send({ pipelineId: pipeline.body.id, title: 'D', account: 'A', amount: 1, currency: 'EUR' })
      .expect(201);
    const key = 'pglite-key-1';
    const first = await http()
      .post(`/deals/${deal.body.id}/activities`)
      .set('Authorization', token)
      .set('Idempotency-Key', key)
      .send({ kind: 'call' })
      .expect(201);
    const reused = await http()
      .post(`/deals/${deal.body.id}/lose`)
      .set('Authorization', token)
      .set('Idempotency-Key', key)
      .send({ reason: 'price' });
    expect([reused.status, reused.body.code]).toEqual([422, 'idempotency-key-reused']);

    await app.close();
    await start();

    const again = await http()
      .post(`/deals/${deal.body.id}/activities`)
      .set('Authorization', token)
      .set('Idempotency-Key', key)
      .send({ kind: 'call' })
      .expect(201);
    expect(again.text).toBe(first.text);
    expect(again.headers.etag).toBe('"1"');
    expect(again.headers['idempotent-replayed']).toBe('true');
    const lose = await http()
      .post(`/deals/${deal.body.id}/lose`)
      .set('Authorization', token)
      .set('Idempotency-Key', key)
      .send({ reason: 'price' });
    expect([lose.status, lose.body.code]).toEqual([422, 'idempotency-key-reused']);
    const history = await http().get(`/deals/${deal.body.id}/history`).set('Authorization', token).expect(200);
    expect(history.body.events.map((e: { type: string }) => e.type)).toEqual(['DealCreated', 'ActivityLogged']);
  });

  it('20 parallel identical requests → one effect; 20 parallel different bodies with one key → one effect and 19 x 422', async () => {
    const token = `Bearer ${await mintToken({ subject: 'pat', roles: ['admin'], secret: TEST_JWT_SECRET, expiresIn: '1h' })}`;
    const http = () => request(app.getHttpServer());
    const pipeline = await http()
      .post('/pipelines')
      .set('Authorization', token)
      .send({ name: 'Q', currency: 'EUR', stages: [{ name: 'A', probability: 10 }] })
      .expect(201);
    const deal = await http()
      .post('/deals')
      .set('Authorization', token)
      .send({ pipelineId: pipeline.body.id, title: 'D', account: 'A', amount: 1, currency: 'EUR' })
      .expect(201);
    const same = await Promise.all(
      Array.from({ length: 20 }, () =>
        http()
          .post(`/deals/${deal.body.id}/activities`)
          .set('Authorization', token)
          .set('Idempotency-Key', 'pglite-same')
          .send({ kind: 'email' }),
      ),
    );
    expect(same.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(same.map((r) => r.text)).size).toBe(1);
    const different = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        http()
          .patch(`/deals/${deal.body.id}`)
          .set('Authorization', token)
          .set('Idempotency-Key', 'pglite-different')
          .send({ amount: 500 + i }),
      ),
    );
    expect(different.map((r) => r.status).sort()).toEqual([200, ...Array(19).fill(422)]);
    const history = await http().get(`/deals/${deal.body.id}/history`).set('Authorization', token).expect(200);
    expect(history.body.events.map((e: { type: string }) => e.type)).toEqual([
      'DealCreated',
      'ActivityLogged',
      'DealValueChanged',
    ]);
  });
});

describe('Idempotency-Key lease: a request that outlives it (PostgreSQL, IDEMPOTENCY_LEASE_MS = 300)', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApiOnPostgres({ idempotency: { leaseMs: 300, retentionMs: 24 * 3_600_000 } });
  });
  afterAll(() => api.close());

  it('an identical request takes the expired lease over, and the derived event ids keep it from appending twice', async () => {
    const ops = `Bearer ${await api.token(['ops'], 'olivia')}`;
    const hooks = (api.appEventStore() as unknown as { options: SqlEventStoreOptions }).options;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inCommit = new Promise<void>((resolve) => (entered = resolve));
    Object.assign(hooks, {
      beforeCommit: async () => {
        entered();
        await held;
      },
    });
    const send = () =>
      api
        .http()
        .post('/pipelines')
        .set('Authorization', ops)
        .set('Idempotency-Key', 'slow-define')
        .send({ name: 'Slow', stages: [{ name: 'A', probability: 1 }] });
    const first = send().then((r) => r);
    await inCommit;
    Object.assign(hooks, { beforeCommit: undefined });
    await new Promise((resolve) => setTimeout(resolve, 400)); // the first request's lease (300 ms) has expired
    const taker = send().then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    const [a, b] = [await first, await taker];
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.body).toEqual(a.body);
    expect(b.headers['idempotent-replayed']).toBe('true');
    expect(await api.streamEvents(`pipeline-${a.body.id}`)).toHaveLength(1);
    const again = await send().expect(201);
    expect(again.body).toEqual(a.body);
  });
});
