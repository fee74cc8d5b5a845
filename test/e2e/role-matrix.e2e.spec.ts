import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { GRANTS, ROLES, ROUTE_PERMISSIONS, renderRoleMatrix, type Role, type RouteKey } from '@dealstream/auth';
import { appConfigFromEnv } from '../../apps/api/src/config/app-config.js';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

const [S1, S2] = [randomUUID(), randomUUID()];
const UNKNOWN = randomUUID();

/** Every principal id the fixture writes: the actors (token subs) and the deal owners. */
const PEOPLE = ['olivia-ops', 'sam-sales', 'sue-sales', 'tom-sales'] as const;

/**
 * The role matrix of libs/auth/src/roles.ts, end to end: every route × every role answers as the
 * matrix says, the OpenAPI document and the README state the same matrix, and an analyst finds no
 * owner or actor id in clear on any route — only pseudonyms, the same on every route.
 */
describe('role matrix (PostgreSQL)', () => {
  let api: ApiHarness;
  let dealId: string;
  let otherDealId: string;
  let pipelineId: string;
  let stageMapId: string;
  let lastPosition: string;
  let importId: string;
  let webhookId: string;
  const bearer: Partial<Record<Role, string>> = {};
  let anon: (id: string) => string;

  beforeAll(async () => {
    // No delivery worker: the fixture subscription points at a public address this test must not call.
    api = await startApiOnPostgres({ webhooks: { ...appConfigFromEnv({}).webhooks, deliveryInProcess: false } });
    for (const role of ROLES) bearer[role] = `Bearer ${await api.token([role], `${role}-user`)}`;
    const ops = `Bearer ${await api.token(['ops'], 'olivia-ops')}`;
    const sam = `Bearer ${await api.token(['sales'], 'sam-sales')}`;
    const tom = `Bearer ${await api.token(['sales'], 'tom-sales')}`;
    pipelineId = (
      await api
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
        .expect(201)
    ).body.id;
    dealId = (
      await api
        .http()
        .post('/deals')
        .set('Authorization', sam)
        .send({ pipelineId, title: 'T', account: 'A', amount: 100, currency: 'EUR' })
        .expect(201)
    ).body.id;
    await api.http().post(`/deals/${dealId}/stage`).set('Authorization', sam).send({ toStageId: S2 }).expect(200);
    await api
      .http()
      .patch(`/deals/${dealId}`)
      .set('Authorization', ops)
      .send({ ownerId: 'sue-sales', amount: 250 })
      .expect(200);
    const other = await api
      .http()
      .post('/deals')
      .set('Authorization', tom)
      .send({ pipelineId, title: 'U', account: 'B', amount: 900, currency: 'EUR' })
      .expect(201);
    otherDealId = other.body.id;
    lastPosition = other.body.position;
    // An analyst defines the stage map the reads below address (stage-maps:write is theirs).
    stageMapId = (
      await api
        .http()
        .post(`/pipelines/${pipelineId}/stage-maps`)
        .set('Authorization', `Bearer ${await api.token(['analyst'], 'ana-analyst')}`)
        .send({
          name: 'One column',
          targets: [{ targetId: 'all', name: 'All' }],
          stages: [
            { stageId: S1, countsAs: 'all' },
            { stageId: S2, countsAs: 'all' },
          ],
        })
        .expect(201)
    ).body.id;
    // A header-only import: it writes nothing, and gives GET /imports/:id an import to answer.
    importId = (
      await api
        .http()
        .post('/imports')
        .set('Authorization', bearer.admin!)
        .set('Content-Type', 'application/x-ndjson')
        .send('{"type":"header","format":"dealstream-canonical","version":1,"sourceSystem":"role-matrix"}\n')
        .expect(202)
    ).body.importId;
    // A subscription for the webhook reads (an address literal: no DNS needed, never called).
    webhookId = (
      await api
        .http()
        .post('/webhooks')
        .set('Authorization', bearer.admin!)
        .send({ url: 'https://93.184.215.14/hooks', eventTypes: ['DealWon'] })
        .expect(201)
    ).body.id;
    const { rows } = await sql<{ key: string }>`select encode(key, 'hex') as key from audit.pseudonym_key`.execute(
      api.database.db,
    );
    anon = (id) =>
      `anon-${createHmac('sha256', Buffer.from(rows[0].key, 'hex')).update(id).digest('hex').slice(0, 16)}`;
  });
  afterAll(() => api.close());

  const from = '2000-01-01T00:00:00.000Z';
  const to = '2100-01-01T00:00:00.000Z';
  /**
   * One concrete request per route of the matrix. Reads address the fixture (200 when allowed);
   * writes address unknown ids or send empty bodies, so an allowed role gets a 4xx past the guard
   * and nothing is written.
   */
  const requests = (): Record<RouteKey, { path: string; body?: object }> => ({
    'POST /pipelines': { path: '/pipelines', body: {} },
    'POST /pipelines/:id/stages': { path: `/pipelines/${UNKNOWN}/stages`, body: {} },
    'PATCH /pipelines/:id/stages/:stageId': { path: `/pipelines/${UNKNOWN}/stages/${S1}`, body: { name: 'x' } },
    'POST /pipelines/:id/stages/reorder': { path: `/pipelines/${UNKNOWN}/stages/reorder`, body: {} },
    'DELETE /pipelines/:id/stages/:stageId': { path: `/pipelines/${UNKNOWN}/stages/${S1}` },
    'POST /pipelines/:id/archive': { path: `/pipelines/${UNKNOWN}/archive`, body: {} },
    'POST /deals': { path: '/deals', body: {} },
    'PATCH /deals/:id': { path: `/deals/${UNKNOWN}`, body: {} },
    'POST /deals/:id/qualify': { path: `/deals/${UNKNOWN}/qualify`, body: {} },
    'POST /deals/:id/disqualify': { path: `/deals/${UNKNOWN}/disqualify`, body: {} },
    'POST /deals/:id/stage': { path: `/deals/${UNKNOWN}/stage`, body: {} },
    'POST /deals/:id/activities': { path: `/deals/${UNKNOWN}/activities`, body: {} },
    'POST /deals/:id/win': { path: `/deals/${UNKNOWN}/win`, body: {} },
    'POST /deals/:id/lose': { path: `/deals/${UNKNOWN}/lose`, body: {} },
    'POST /deals/:id/reopen': { path: `/deals/${UNKNOWN}/reopen`, body: {} },
    'POST /deals/:id/upsell': { path: `/deals/${UNKNOWN}/upsell`, body: {} },
    'POST /deals/:id/cross-sell': { path: `/deals/${UNKNOWN}/cross-sell`, body: {} },
    'GET /pipelines': { path: `/pipelines?minPosition=${lastPosition}` },
    'GET /deals/:id': { path: `/deals/${dealId}?minPosition=${lastPosition}` },
    'GET /pipelines/:id/board': { path: `/pipelines/${pipelineId}/board?minPosition=${lastPosition}` },
    'GET /pipelines/:id/metrics/pipeline': {
      path: `/pipelines/${pipelineId}/metrics/pipeline?minPosition=${lastPosition}`,
    },
    'GET /pipelines/:id/metrics/funnel': {
      path: `/pipelines/${pipelineId}/metrics/funnel?from=${from}&to=${to}&minPosition=${lastPosition}`,
    },
    'POST /pipelines/:id/metrics/funnel/query': { path: `/pipelines/${UNKNOWN}/metrics/funnel/query`, body: {} },
    'GET /pipelines/:id/metrics/velocity': {
      path: `/pipelines/${pipelineId}/metrics/velocity?from=${from}&to=${to}&minPosition=${lastPosition}`,
    },
    'GET /pipelines/:id/metrics/funnel/series': {
      path: `/pipelines/${pipelineId}/metrics/funnel/series?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z&interval=quarter&minPosition=${lastPosition}`,
    },
    'GET /pipelines/:id/metrics/velocity/series': {
      path: `/pipelines/${pipelineId}/metrics/velocity/series?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z&interval=quarter&minPosition=${lastPosition}`,
    },
    'GET /pipelines/:id/metrics/pipeline/series': {
      path: `/pipelines/${pipelineId}/metrics/pipeline/series?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z&interval=quarter&minPosition=${lastPosition}`,
    },
    'GET /stage-maps/:id': { path: `/stage-maps/${stageMapId}` },
    'POST /pipelines/:id/stage-maps': { path: `/pipelines/${UNKNOWN}/stage-maps`, body: {} },
    'PUT /stage-maps/:id': { path: `/stage-maps/${UNKNOWN}`, body: {} },
    'DELETE /stage-maps/:id': { path: `/stage-maps/${UNKNOWN}` },
    'GET /deals/:id/history': { path: `/deals/${dealId}/history` },
    'GET /deals/:id/state': { path: `/deals/${dealId}/state?version=4` },
    'GET /deals/:id/diff': { path: `/deals/${dealId}/diff?from=0&to=4` },
    'GET /pipelines/:id/history': { path: `/pipelines/${pipelineId}/history` },
    'GET /pipelines/:id/state': { path: `/pipelines/${pipelineId}/state?version=1` },
    'GET /pipelines/:id/diff': { path: `/pipelines/${pipelineId}/diff?from=0&to=1` },
    'GET /events': { path: '/events?limit=100' },
    // Bounded: the stream ends after one event (the fixture has several), so the call returns.
    'GET /events/stream': { path: '/events/stream?limit=1' },
    'GET /audit/verify': { path: '/audit/verify' },
    'GET /audit/anchor': { path: '/audit/anchor' },
    // An allowed role gets past the guard to a 415 (a JSON body, not NDJSON): nothing imported.
    'POST /imports': { path: '/imports', body: {} },
    'GET /imports/:id': { path: `/imports/${importId}` },
    'GET /metrics': { path: '/metrics' },
    // An allowed role gets past the guard to a 400 (no url) or a 404 (unknown subscription): nothing written.
    'POST /webhooks': { path: '/webhooks', body: {} },
    'PATCH /webhooks/:id': { path: `/webhooks/${UNKNOWN}`, body: { description: 'x' } },
    'POST /webhooks/:id/pause': { path: `/webhooks/${UNKNOWN}/pause`, body: {} },
    'POST /webhooks/:id/resume': { path: `/webhooks/${UNKNOWN}/resume`, body: {} },
    'POST /webhooks/:id/rotate-secret': { path: `/webhooks/${UNKNOWN}/rotate-secret`, body: {} },
    'DELETE /webhooks/:id': { path: `/webhooks/${UNKNOWN}` },
    'GET /webhooks': { path: '/webhooks' },
    'GET /webhooks/:id': { path: `/webhooks/${webhookId}` },
    'GET /webhooks/:id/attempts': { path: `/webhooks/${webhookId}/attempts` },
    'GET /webhooks/:id/history': { path: `/webhooks/${webhookId}/history` },
  });

  async function call(route: RouteKey, authorization?: string) {
    const { path, body } = requests()[route];
    const method = route.split(' ')[0].toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
    let request = api.http()[method](path);
    if (authorization) request = request.set('Authorization', authorization);
    return body === undefined ? request : request.send(body);
  }

  it('answers every route × every role as the matrix says, 401 without a token, and writes nothing', async () => {
    const before = await api.eventCount();
    const routes = Object.keys(ROUTE_PERMISSIONS) as RouteKey[];
    expect(routes.sort()).toEqual(Object.keys(requests()).sort());
    const cells: string[] = [];
    const expected: string[] = [];
    for (const route of routes) {
      const permission = ROUTE_PERMISSIONS[route];
      const anonymous = await call(route);
      expect([route, anonymous.status, anonymous.body.code]).toEqual([route, 401, 'unauthorized']);
      for (const role of ROLES) {
        const response = await call(route, bearer[role]);
        const allowed = GRANTS[permission].includes(role);
        // Allowed: reads answer 200; writes get past the guard and are refused by validation or lookup.
        const outcome =
          response.status === 403
            ? `403 ${response.body.requiredPermission}`
            : response.status === 200
              ? '200'
              : response.status >= 400 && response.status < 500 && response.status !== 401
                ? 'past the guard'
                : String(response.status);
        cells.push(`${route} | ${role} | ${outcome}`);
        expected.push(
          `${route} | ${role} | ${allowed ? (route.startsWith('GET') ? '200' : 'past the guard') : `403 ${permission}`}`,
        );
      }
    }
    expect(cells).toEqual(expected);
    expect(cells).toHaveLength(routes.length * ROLES.length);
    expect(await api.eventCount()).toBe(before);
  });

  it('asks of HEAD what it asks of GET', async () => {
    const path = requests()['GET /deals/:id'].path;
    expect((await api.http().head(path)).status).toBe(401);
    expect((await api.http().head(path).set('Authorization', bearer.sales!)).status).toBe(200);
    expect((await api.http().head(requests()['GET /events'].path).set('Authorization', bearer.sales!)).status).toBe(
      403,
    );
  });

  it('grants a token with several roles the union of their permissions', async () => {
    const both = `Bearer ${await api.token(['sales', 'analyst'], 'both-user')}`;
    expect((await call('GET /pipelines/:id/metrics/pipeline', both)).status).toBe(200);
    const deal = await call('GET /deals/:id', both);
    expect(deal.body).toMatchObject({ identities: 'visible', ownerId: 'sue-sales' });
  });

  it('states the matrix on every operation of the OpenAPI document; every other operation is public', async () => {
    const { body: doc } = await api.http().get('/openapi.json').expect(200);
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, operation] of Object.entries(item)) {
        const route = `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`;
        documented.add(route);
        const permission = (ROUTE_PERMISSIONS as Record<string, keyof typeof GRANTS>)[route];
        if (permission) {
          expect([route, operation['x-permission'], operation['x-roles'], operation.security]).toEqual([
            route,
            permission,
            [...GRANTS[permission]],
            [{ bearer: [] }],
          ]);
          expect(operation.description).toContain(
            `**Access:** roles ${GRANTS[permission].map((r) => `\`${r}\``).join(', ')}`,
          );
          if (method === 'get' && !GRANTS[permission].every((role) => GRANTS['identities:clear'].includes(role)))
            expect(operation.description).toContain('pseudonyms');
        } else {
          // Not in the matrix: must really need no token.
          expect([route, operation.security]).toEqual([route, []]);
          const response = await (api.http() as any)[method](path);
          expect([route, response.status === 401 || response.status === 403]).toEqual([route, false]);
        }
      }
    }
    for (const route of Object.keys(ROUTE_PERMISSIONS)) expect([route, documented.has(route)]).toEqual([route, true]);
  });

  it('has the README role table generated from the matrix', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const begin =
      '<!-- role-matrix:begin (generated by renderRoleMatrix() in libs/auth/src/roles.ts; test/e2e/role-matrix.e2e.spec.ts checks it) -->\n';
    const end = '\n<!-- role-matrix:end -->';
    expect(readme).toContain(begin);
    const table = readme.slice(readme.indexOf(begin) + begin.length, readme.indexOf(end));
    // On a mismatch, the expected text below is what to paste into the README.
    expect(table).toBe(renderRoleMatrix());
    // docs/audit.md repeats the audit rows by hand: their ticks must be the matrix's too.
    const audit = readFileSync(new URL('../../docs/audit.md', import.meta.url), 'utf8');
    const rows = audit.split('\n').filter((line) => /^\| `[a-z]+:[a-z]+` — /.test(line));
    expect(rows.length).toBe(4);
    for (const row of rows) {
      const permission = /^\| `([a-z]+:[a-z]+)`/.exec(row)![1] as keyof typeof GRANTS;
      const ticks = row
        .split('|')
        .slice(2, 2 + ROLES.length)
        .map((cell) => cell.includes('✓'));
      expect([permission, ticks]).toEqual([permission, ROLES.map((role) => GRANTS[permission].includes(role))]);
    }
  });

  it('shows an analyst no owner or actor id in clear on any read route, and the same pseudonym for the same person on every route', async () => {
    const reads = (Object.keys(ROUTE_PERMISSIONS) as RouteKey[]).filter((route) => route.startsWith('GET '));
    const seen: Record<string, { clear: string[]; body: string }> = {};
    const idsInClear = new Set<string>();
    for (const route of reads) {
      // What the roles that see identities get: collect every owner and actor id they are shown.
      for (const role of ROLES.filter(
        (r) => GRANTS['identities:clear'].includes(r) && GRANTS[ROUTE_PERMISSIONS[route]].includes(r),
      )) {
        const response = await call(route, bearer[role]);
        expect([route, role, response.status]).toEqual([route, role, 200]);
        for (const id of identityValues(response.body)) idsInClear.add(id);
        const text = JSON.stringify(response.body);
        seen[route] = { clear: PEOPLE.filter((person) => text.includes(person)), body: text };
      }
    }
    // The fixture's people all appear in clear somewhere (else this test would prove nothing)…
    expect([...idsInClear].filter((id) => (PEOPLE as readonly string[]).includes(id)).sort()).toEqual(
      [...PEOPLE].sort(),
    );
    expect(seen['GET /deals/:id'].clear).toEqual(['sue-sales']);
    expect(seen['GET /pipelines/:id/board'].clear.sort()).toEqual(['sue-sales', 'tom-sales']);

    // …and never for the analyst: neither on the routes it reads nor in the refusals of the others.
    const walked: string[] = [];
    for (const route of reads) {
      const response = await call(route, bearer.analyst);
      const text = JSON.stringify(response.body);
      walked.push(`${route} ${response.status}`);
      for (const id of idsInClear) expect([route, id, text.includes(id)]).toEqual([route, id, false]);
      if (response.status !== 200) continue;
      if ('identities' in response.body) expect([route, response.body.identities]).toEqual([route, 'pseudonymous']);
      // Where another role sees a person, the analyst sees that person's pseudonym, the same on every route.
      for (const person of seen[route].clear)
        expect([route, person, text.includes(anon(person))]).toEqual([route, person, true]);
      for (const value of identityValues(response.body))
        expect([route, value]).toEqual([route, expect.stringMatching(/^anon-[0-9a-f]{16}$/)]);
    }
    expect(walked).toEqual(
      reads.map((route) => `${route} ${GRANTS[ROUTE_PERMISSIONS[route]].includes('analyst') ? 200 : 403}`),
    );

    // Grouping by owner across routes: the board's pseudonym is the deal's and the history's.
    const board = (await call('GET /pipelines/:id/board', bearer.analyst)).body;
    const owners = Object.fromEntries(
      board.stages.flatMap((stage: any) => stage.deals.map((deal: any) => [deal.dealId, deal.ownerId])),
    );
    expect(owners).toEqual({ [dealId]: anon('sue-sales'), [otherDealId]: anon('tom-sales') });
    expect((await call('GET /deals/:id', bearer.analyst)).body.ownerId).toBe(owners[dealId]);
    const history = (await call('GET /deals/:id/history', bearer.analyst)).body;
    expect(history.events.at(-1).data.ownerId).toBe(owners[dealId]);
  });

  it("filters the analyst's board by a pseudonym and refuses a clear owner id from an analyst", async () => {
    const board = (role: Role, ownerId: string) =>
      api.http().get(`/pipelines/${pipelineId}/board`).query({ ownerId }).set('Authorization', bearer[role]!);
    const dealsOf = (body: any) => body.stages.flatMap((stage: any) => stage.deals.map((deal: any) => deal.dealId));

    const byPseudonym = await board('analyst', anon('sue-sales')).expect(200);
    expect(dealsOf(byPseudonym.body)).toEqual([dealId]);
    expect(byPseudonym.body.stages.map((s: any) => s.count)).toEqual([0, 1]);
    expect(dealsOf((await board('analyst', anon('nobody')).expect(200)).body)).toEqual([]);
    // As of an earlier instant, when sam still owned the deal: his pseudonym finds it.
    const history = (await call('GET /deals/:id/history', bearer.auditor)).body;
    const beforeReassign = history.events[1].occurredAt; // StageAdvanced: sam still owns it (revisions 2 and 3 share one instant)
    const then = await api
      .http()
      .get(`/pipelines/${pipelineId}/board`)
      .query({ ownerId: anon('sam-sales'), asOf: beforeReassign })
      .set('Authorization', bearer.analyst!)
      .expect(200);
    expect(dealsOf(then.body)).toEqual([dealId]);

    // A clear id from an analyst would confirm a guess: refused, and not echoed beyond the request's own URL.
    const guessed = await board('analyst', 'sue-sales');
    expect([guessed.status, guessed.body.code]).toEqual([400, 'owner-filter-needs-pseudonym']);
    // Roles that see identities filter by the clear id; a pseudonym matches no owner of theirs.
    expect(dealsOf((await board('sales', 'sue-sales').expect(200)).body)).toEqual([dealId]);
    expect(dealsOf((await board('sales', anon('sue-sales')).expect(200)).body)).toEqual([]);
  });
});

/** Every string under a key that names a principal (ownerId, previousOwnerId, actorId), at any depth. */
function identityValues(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(identityValues);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    /^(ownerId|previousOwnerId|actorId)$/.test(key) && typeof inner === 'string' ? [inner] : identityValues(inner),
  );
}
