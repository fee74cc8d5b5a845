import { createHmac, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Role } from '@dealstream/auth';
import { openDatabase } from '@dealstream/database';
import { EsdbEventStore } from '@dealstream/event-store';
import { ScriptedEsdbServer } from '@dealstream/event-store/testing';
import { startAuditApi, type AuditApiHarness } from '../support/audit-api-harness.js';

const [S1, S2] = [randomUUID(), randomUUID()];
const ROLES: Role[] = ['sales', 'ops', 'analyst', 'auditor', 'admin'];

/** Every table of every user schema, as one digest per table: any write shows up as a change. */
async function tableDigests(url: string): Promise<Record<string, string>> {
  const database = await openDatabase({ kind: 'postgres', connectionString: url, poolSize: 1 });
  try {
    const { rows: tables } = await sql<{ name: string }>`
      select table_schema || '.' || table_name as name from information_schema.tables
      where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1`.execute(
      database.db,
    );
    const digests: Record<string, string> = {};
    for (const { name } of tables) {
      const { rows } = await sql<{
        digest: string | null;
      }>`select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from ${sql.raw(name)} t`.execute(
        database.db,
      );
      digests[name] = rows[0].digest!;
    }
    return digests;
  } finally {
    await database.close();
  }
}

describe('audit routes: role matrix, redaction, validation, read-only (PostgreSQL)', () => {
  let api: AuditApiHarness;
  let dealId: string;
  let pipelineId: string;
  const bearer: Partial<Record<Role, string>> = {};

  beforeAll(async () => {
    // Projections off: nothing else writes, so the read-only check below can compare every table.
    api = await startAuditApi({ projectionsInProcess: false });
    for (const role of ROLES) bearer[role] = `Bearer ${await api.token([role], `${role}-user`)}`;
    const ops = `Bearer ${await api.token(['ops'], 'olivia-ops')}`;
    const sales = `Bearer ${await api.token(['sales'], 'sam-sales')}`;
    const pipeline = await api
      .http()
      .post('/pipelines')
      .set('Authorization', ops)
      .send({
        name: 'P',
        currency: 'EUR',
        stages: [
          { stageId: S1, name: 'One', probability: 10 },
          { stageId: S2, name: 'Two', probability: 50 },
        ],
      })
      .expect(201);
    pipelineId = pipeline.body.id;
    await api
      .http()
      .patch(`/pipelines/${pipelineId}/stages/${S2}`)
      .set('Authorization', ops)
      .send({ probability: 55 })
      .expect(200);
    dealId = (
      await api
        .http()
        .post('/deals')
        .set('Authorization', sales)
        .send({ pipelineId, title: 'T', account: 'A', amount: 100, currency: 'EUR' })
        .expect(201)
    ).body.id;
    await api.http().post(`/deals/${dealId}/stage`).set('Authorization', sales).send({ toStageId: S2 }).expect(200);
    await api
      .http()
      .patch(`/deals/${dealId}`)
      .set('Authorization', ops)
      .send({ ownerId: 'sue-sales', amount: 250 })
      .expect(200);
    // deal revisions: 0 DealCreated (sam), 1 StageAdvanced (sam), 2 DealValueChanged (olivia), 3 DealOwnerReassigned (olivia)
  });
  afterAll(() => api.close());

  const routes = () =>
    [
      ['deal history', `/deals/${dealId}/history`, 'audit:history'],
      ['deal state', `/deals/${dealId}/state?version=2`, 'audit:history'],
      ['deal diff', `/deals/${dealId}/diff?from=0&to=4`, 'audit:history'],
      ['pipeline history', `/pipelines/${pipelineId}/history`, 'audit:history'],
      ['pipeline state', `/pipelines/${pipelineId}/state?version=1`, 'audit:history'],
      ['pipeline diff', `/pipelines/${pipelineId}/diff?from=1&to=2`, 'audit:history'],
      ['event feed', '/events?limit=5', 'events:read'],
      ['verify', '/audit/verify', 'audit:verify'],
      ['anchor', '/audit/anchor', 'audit:verify'],
    ] as const;
  const MATRIX: Record<string, Record<Role, 200 | 403>> = {
    'audit:history': { sales: 403, ops: 200, analyst: 200, auditor: 200, admin: 200, importer: 403 },
    'events:read': { sales: 403, ops: 200, analyst: 403, auditor: 200, admin: 200, importer: 403 },
    'audit:verify': { sales: 403, ops: 200, analyst: 403, auditor: 200, admin: 200, importer: 403 },
  };

  it('answers every (route, role) cell of the matrix, and 401 without a token', async () => {
    const cells: string[] = [];
    for (const [name, path, permission] of routes()) {
      const anonymous = await api.http().get(path);
      expect([name, anonymous.status, anonymous.body.code]).toEqual([name, 401, 'unauthorized']);
      for (const role of ROLES) {
        const response = await api.http().get(path).set('Authorization', bearer[role]!);
        cells.push(`${name}|${role}|${response.status}`);
        if (response.status === 403)
          expect(response.body).toMatchObject({ code: 'forbidden', requiredPermission: permission });
        if (response.status === 200 && 'identities' in response.body) {
          expect([name, role, response.body.identities]).toEqual([
            name,
            role,
            role === 'analyst' ? 'pseudonymous' : 'visible',
          ]);
        }
      }
    }
    const expected = routes().flatMap(([name, , permission]) =>
      ROLES.map((role) => `${name}|${role}|${MATRIX[permission][role]}`),
    );
    expect(cells).toEqual(expected);
    expect(cells).toHaveLength(45);
  });

  it('shows auditors every actor and owner, and analysts only stable pseudonyms keyed by the database', async () => {
    const { rows } = await sql<{ key: string }>`select encode(key, 'hex') as key from audit.pseudonym_key`.execute(
      api.database.db,
    );
    const anon = (id: string) =>
      `anon-${createHmac('sha256', Buffer.from(rows[0].key, 'hex')).update(id).digest('hex').slice(0, 16)}`;

    const full = await api.http().get(`/deals/${dealId}/history`).set('Authorization', bearer.auditor!).expect(200);
    expect(full.body.events.map((e: any) => [e.revision, e.type, e.actorId])).toEqual([
      ['0', 'DealCreated', 'sam-sales'],
      ['1', 'StageAdvanced', 'sam-sales'],
      ['2', 'DealValueChanged', 'olivia-ops'],
      ['3', 'DealOwnerReassigned', 'olivia-ops'],
    ]);
    expect(full.body.events[3].data).toEqual({ ownerId: 'sue-sales', previousOwnerId: 'sam-sales' });

    const redacted = await api.http().get(`/deals/${dealId}/history`).set('Authorization', bearer.analyst!).expect(200);
    expect(redacted.body.events.map((e: any) => e.actorId)).toEqual([
      anon('sam-sales'),
      anon('sam-sales'),
      anon('olivia-ops'),
      anon('olivia-ops'),
    ]);
    expect(redacted.body.events[0].data.ownerId).toBe(anon('sam-sales'));
    expect(redacted.body.events[3].data).toEqual({ ownerId: anon('sue-sales'), previousOwnerId: anon('sam-sales') });
    // Everything else is the auditor's view, untouched.
    expect(redacted.body.events.map((e: any) => [e.eventId, e.hash, e.type])).toEqual(
      full.body.events.map((e: any) => [e.eventId, e.hash, e.type]),
    );

    const state = await api
      .http()
      .get(`/deals/${dealId}/state?version=4`)
      .set('Authorization', bearer.analyst!)
      .expect(200);
    expect(state.body.state).toMatchObject({ ownerId: anon('sue-sales'), amount: 250, stageId: S2, version: 4 });
    const diff = await api
      .http()
      .get(`/deals/${dealId}/diff?from=2&to=4`)
      .set('Authorization', bearer.analyst!)
      .expect(200);
    expect(diff.body.changes.map((c: any) => [c.field, c.before, c.after, c.setBy.actorId])).toEqual([
      ['amount', 100, 250, anon('olivia-ops')],
      ['ownerId', anon('sam-sales'), anon('sue-sales'), anon('olivia-ops')],
    ]);
    for (const body of [redacted.body, state.body, diff.body]) {
      expect(JSON.stringify(body)).not.toMatch(/sam-sales|sue-sales|olivia-ops/);
    }
    // Stable across a restart: the key is in the database, not in the process.
    await api.restart();
    const again = await api.http().get(`/deals/${dealId}/history`).set('Authorization', bearer.analyst!).expect(200);
    expect(again.body.events.map((e: any) => e.actorId)).toEqual(redacted.body.events.map((e: any) => e.actorId));
  });

  it('answers 400 problem+json for every malformed query, naming the problem', async () => {
    const d = `/deals/${dealId}`;
    const cases: [string, string][] = [
      [`${d}/history?limit=0`, 'validation-failed'],
      [`${d}/history?limit=1001`, 'validation-failed'],
      [`${d}/history?limit=1e2`, 'validation-failed'],
      [`${d}/history?limit=%205`, 'validation-failed'],
      [`${d}/history?after=-1`, 'validation-failed'],
      [`${d}/history?after=9223372036854775808`, 'validation-failed'],
      [`${d}/history?limit=1&limit=2`, 'validation-failed'],
      [`${d}/history?page=2`, 'validation-failed'],
      [`${d}/state`, 'invalid-query'],
      [`${d}/state?version=1&asOf=2026-01-01T00:00:00Z`, 'invalid-query'],
      [`${d}/state?version=0`, 'validation-failed'],
      [`${d}/state?version=1.5`, 'validation-failed'],
      [`${d}/state?asOf=yesterday`, 'validation-failed'],
      [`${d}/state?asOf=2026-01-01`, 'validation-failed'],
      [`${d}/state?asOf=2026-01-01T00:00:00`, 'validation-failed'],
      [`${d}/state?asOf=2026-02-31T00:00:00Z`, 'validation-failed'],
      [`${d}/state?version=1&axis=recorded`, 'invalid-query'],
      [`${d}/state?asOf=2026-01-01T00:00:00Z&axis=wallclock`, 'validation-failed'],
      [`${d}/diff?from=1`, 'validation-failed'],
      [`${d}/diff?from=3&to=2`, 'invalid-query'],
      [`${d}/diff?from=-1&to=2`, 'validation-failed'],
      ['/deals/not-a-uuid/history', 'invalid-id'],
      [`/pipelines/${pipelineId}/diff?from=a&to=1`, 'validation-failed'],
      ['/events?after=123', 'validation-failed'],
      ['/events?limit=5000', 'validation-failed'],
      ['/events?type=Deal%20Won', 'validation-failed'],
      ['/events?category=deal-x', 'validation-failed'],
      ['/audit/verify?stream=', 'validation-failed'],
    ];
    const answered = [];
    for (const [path] of cases) {
      const response = await api.http().get(path).set('Authorization', bearer.admin!);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      answered.push([path, response.status, response.body.code]);
    }
    expect(answered).toEqual(cases.map(([path, code]) => [path, 400, code]));
  });

  it('answers 404 problem+json for unknown deals, pipelines, streams, versions and instants', async () => {
    const unknown = randomUUID();
    const cases: [string, string, object?][] = [
      [`/deals/${unknown}/history`, 'deal-not-found'],
      [`/deals/${unknown}/state?version=1`, 'deal-not-found'],
      [`/deals/${unknown}/diff?from=0&to=1`, 'deal-not-found'],
      [`/deals/${pipelineId}/history`, 'deal-not-found'],
      [`/pipelines/${unknown}/history`, 'pipeline-not-found'],
      [`/pipelines/${unknown}/state?asOf=2026-01-01T00:00:00Z`, 'pipeline-not-found'],
      [`/deals/${dealId}/state?version=5`, 'version-not-found', { currentVersion: 4 }],
      [`/deals/${dealId}/diff?from=0&to=5`, 'version-not-found', { currentVersion: 4 }],
      [`/deals/${dealId}/state?asOf=2000-01-01T00:00:00Z`, 'no-state-at-instant'],
      [`/deals/${dealId}/state?asOf=2000-01-01T00:00:00Z&axis=recorded`, 'no-state-at-instant'],
      [`/audit/verify?stream=deal-${unknown}`, 'stream-not-found'],
    ];
    for (const [path, code, extra] of cases) {
      const response = await api.http().get(path).set('Authorization', bearer.auditor!);
      expect([path, response.status, response.body.code]).toEqual([path, 404, code]);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      if (extra) expect(response.body).toMatchObject(extra);
    }
  });

  it('pages the pipeline history and diffs its definition', async () => {
    const page = await api
      .http()
      .get(`/pipelines/${pipelineId}/history?limit=1`)
      .set('Authorization', bearer.ops!)
      .expect(200);
    expect(page.body).toMatchObject({
      streamId: `pipeline-${pipelineId}`,
      next: '0',
      events: [{ revision: '0', type: 'PipelineDefined', actorId: 'olivia-ops' }],
    });
    const rest = await api
      .http()
      .get(`/pipelines/${pipelineId}/history?after=0&limit=1`)
      .set('Authorization', bearer.ops!)
      .expect(200);
    expect(rest.body).toMatchObject({ next: null, events: [{ revision: '1', type: 'StageProbabilityChanged' }] });
    const diff = await api
      .http()
      .get(`/pipelines/${pipelineId}/diff?from=1&to=2`)
      .set('Authorization', bearer.ops!)
      .expect(200);
    expect(diff.body.changes).toEqual([
      {
        field: `stages.${S2}.probability`,
        before: 50,
        after: 55,
        changeCount: 1,
        setBy: expect.objectContaining({ revision: '1', type: 'StageProbabilityChanged', actorId: 'olivia-ops' }),
      },
    ]);
  });

  it('writes nothing anywhere while answering every audit route for every role', async () => {
    const before = await tableDigests(api.url);
    expect(Object.keys(before)).toEqual(
      expect.arrayContaining(['event_store.events', 'event_store.streams', 'audit.pseudonym_key']),
    );
    for (const [, path] of routes())
      for (const role of ROLES) await api.http().get(path).set('Authorization', bearer[role]!);
    await api
      .http()
      .get(`/deals/${dealId}/state?asOf=${new Date().toISOString()}&axis=recorded`)
      .set('Authorization', bearer.admin!)
      .expect(200);
    expect(await tableDigests(api.url)).toEqual(before);
  });

  it('documents every audit route in the OpenAPI document', async () => {
    const { body } = await api.http().get('/openapi.json').expect(200);
    for (const path of [
      '/deals/{id}/history',
      '/deals/{id}/state',
      '/deals/{id}/diff',
      '/pipelines/{id}/history',
      '/pipelines/{id}/state',
      '/pipelines/{id}/diff',
      '/events',
      '/audit/verify',
      '/audit/anchor',
    ]) {
      expect([path, Object.keys(body.paths[path] ?? {})]).toEqual([path, ['get']]);
    }
    expect(body.paths['/deals/{id}/state'].get.parameters.map((p: any) => p.name).sort()).toEqual([
      'asOf',
      'axis',
      'id',
      'version',
    ]);
  });
});

describe('audit verify and anchor with EventStoreDB configured (scripted gRPC server, not EventStoreDB)', () => {
  // The chain lives in each event's metadata on this profile; the server here is the scripted one
  // (the client's own protocol definitions), so this shows the API's path, not a real server's.
  it('verifies the chain kept in the events, names a tampered event, and anchors only an intact store', async () => {
    const server = await new ScriptedEsdbServer().start();
    const writer = new EsdbEventStore(server.connectionString, { timeoutMs: 5000 });
    const api = await startAuditApi({
      projectionsInProcess: false,
      env: { EVENTSTORE_CONNECTION_STRING: server.connectionString },
    });
    try {
      const get = async (path: string) =>
        api
          .http()
          .get(path)
          .set('Authorization', `Bearer ${await api.token(['auditor'])}`);
      const metadata = { actorId: 'alice', occurredAt: new Date('2026-03-01T10:00:00.000Z') };
      await writer.appendToStream(
        'deal-esdb-1',
        [
          { eventId: randomUUID(), type: 'DealCreated', data: { title: 'A' }, metadata },
          { eventId: randomUUID(), type: 'DealUpdated', data: { amount: 5 }, metadata },
        ],
        { expectedRevision: 'no_stream' },
      );
      const intact = await get('/audit/verify');
      expect([intact.status, intact.body]).toEqual([
        200,
        { scope: 'store', ok: true, streamsChecked: 1, eventsChecked: 2, brokenStreams: 0, breaks: [] },
      ]);
      const anchor = await get('/audit/anchor');
      expect(anchor.status).toBe(200);
      expect(anchor.body).toMatchObject({ streams: 1, events: '2', heads: [['deal-esdb-1', '1', expect.any(String)]] });

      server.tamper('deal-esdb-1', 1n, { data: { amount: 5000 } });
      const broken = await get('/audit/verify?stream=deal-esdb-1');
      expect(broken.status).toBe(200);
      expect(broken.body).toMatchObject({
        scope: 'stream',
        ok: false,
        breaks: [{ streamId: 'deal-esdb-1', revision: '1', reason: 'hash-mismatch' }],
      });
      const refused = await get('/audit/anchor');
      expect([refused.status, refused.body.code]).toEqual([409, 'hash-chain-broken']);
    } finally {
      await api.close();
      await writer.close();
      await server.stop();
    }
  });
});
