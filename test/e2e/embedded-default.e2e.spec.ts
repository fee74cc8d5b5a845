import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { mintToken } from '@dealstream/auth';
import { createApp, type ApiApplication } from '../../apps/api/src/bootstrap.js';
import { appConfigFromEnv } from '../../apps/api/src/config/app-config.js';

/**
 * The embedded default as `npm start` runs it: PGlite in DATA_DIR, no database server, no secret
 * configured (one is generated and kept), the OpenAPI document and Swagger UI served.
 */
describe('embedded default (PGlite, no configuration)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dealstream-e2e-'));
  let app: ApiApplication;
  let token: string;

  beforeAll(async () => {
    ({ app } = await createApp({ ...appConfigFromEnv({ DATA_DIR: dataDir }), logLevel: 'silent' }));
    await app.init();
    const secret = readFileSync(join(dataDir, 'auth-secret'), 'utf8').trim();
    token = `Bearer ${await mintToken({ subject: 'dev', roles: ['admin'], secret })}`;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps a generated secret in DATA_DIR, readable by the owner only', () => {
    expect(statSync(join(dataDir, 'auth-secret')).mode & 0o777).toBe(0o600);
  });

  it('is ready on PGlite and serves a create-and-move session', async () => {
    await request(app.getHttpServer()).get('/health').expect(200, { status: 'ok' }); // anonymous: the status only
    const health = await request(app.getHttpServer()).get('/health').set('Authorization', token).expect(200);
    expect(health.body).toMatchObject({
      status: 'ok',
      database: 'pglite',
      projections: { mode: 'in-process', role: 'active' },
    });
    const ready = await request(app.getHttpServer()).get('/health/ready').set('Authorization', token).expect(200);
    expect(ready.body).toMatchObject({
      status: 'ok',
      checks: { writes: { status: 'ok' }, leader: { status: 'ok', known: true, thisInstance: 'active' } },
    });
    const stageIds = ['3b1f6f5e-7d3c-4b8e-9a51-0c2d7e6f1a01', '3b1f6f5e-7d3c-4b8e-9a51-0c2d7e6f1a02'];
    const pipeline = await request(app.getHttpServer())
      .post('/pipelines')
      .set('Authorization', token)
      .send({
        name: 'Demo',
        stages: [
          { stageId: stageIds[0], name: 'Lead', probability: 10 },
          { stageId: stageIds[1], name: 'Demo', probability: 40 },
        ],
      })
      .expect(201);
    const deal = await request(app.getHttpServer())
      .post('/deals')
      .set('Authorization', token)
      .send({ pipelineId: pipeline.body.id, title: 'First', account: 'ACME', amount: 1000, currency: 'EUR' })
      .expect(201);
    const moved = await request(app.getHttpServer())
      .post(`/deals/${deal.body.id}/stage`)
      .set('Authorization', token)
      .set('If-Match', '"0"')
      .send({ toStageId: stageIds[1] })
      .expect(200);
    expect(moved.body).toMatchObject({ revision: '1', events: ['StageAdvanced'] });
    // A board card carries the deal's revision: what a client (the console) sends as If-Match to move it.
    const board = await request(app.getHttpServer())
      .get(`/pipelines/${pipeline.body.id}/board?minPosition=${moved.body.position}`)
      .set('Authorization', token)
      .expect(200);
    expect(board.body.stages[1].deals).toEqual([expect.objectContaining({ dealId: deal.body.id, revision: '1' })]);
  });

  it('reuses the kept secret after a restart, so earlier tokens stay valid', async () => {
    await app.close();
    ({ app } = await createApp({ ...appConfigFromEnv({ DATA_DIR: dataDir }), logLevel: 'silent' }));
    await app.init();
    await request(app.getHttpServer())
      .post('/pipelines')
      .set('Authorization', token)
      .send({ name: 'After restart', stages: [{ name: 'A', probability: 1 }] })
      .expect(201);
  });

  it('serves an OpenAPI 3.1 document describing every route with its errors, and Swagger UI', async () => {
    const { body: doc } = await request(app.getHttpServer()).get('/openapi.json').expect(200);
    expect(doc.openapi).toBe('3.1.0');
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        'GET /health',
        'GET /health/live',
        'GET /health/ready',
        'GET /metrics',
        'GET /pipelines',
        'POST /console/sign-in',
        'POST /pipelines',
        'POST /pipelines/{id}/stages',
        'PATCH /pipelines/{id}/stages/{stageId}',
        'POST /pipelines/{id}/stages/reorder',
        'DELETE /pipelines/{id}/stages/{stageId}',
        'POST /pipelines/{id}/archive',
        'POST /deals',
        'PATCH /deals/{id}',
        'POST /deals/{id}/qualify',
        'POST /deals/{id}/disqualify',
        'POST /deals/{id}/stage',
        'POST /deals/{id}/activities',
        'POST /deals/{id}/win',
        'POST /deals/{id}/lose',
        'POST /deals/{id}/reopen',
        'POST /deals/{id}/upsell',
        'POST /deals/{id}/cross-sell',
        'GET /deals/{id}',
        'GET /pipelines/{id}/board',
        'GET /pipelines/{id}/metrics/pipeline',
        'GET /pipelines/{id}/metrics/funnel',
        'GET /pipelines/{id}/metrics/velocity',
        'GET /deals/{id}/history',
        'GET /deals/{id}/state',
        'GET /deals/{id}/diff',
        'GET /pipelines/{id}/history',
        'GET /pipelines/{id}/state',
        'GET /pipelines/{id}/diff',
        'GET /events',
        'GET /events/stream',
        'GET /audit/verify',
        'GET /audit/anchor',
        'POST /pipelines/{id}/stage-maps',
        'GET /stage-maps/{id}',
        'PUT /stage-maps/{id}',
        'DELETE /stage-maps/{id}',
        'POST /pipelines/{id}/metrics/funnel/query',
        'GET /pipelines/{id}/metrics/funnel/series',
        'GET /pipelines/{id}/metrics/velocity/series',
        'GET /pipelines/{id}/metrics/pipeline/series',
        'POST /imports',
        'GET /imports/{id}',
        'POST /webhooks',
        'GET /webhooks',
        'GET /webhooks/{id}',
        'PATCH /webhooks/{id}',
        'DELETE /webhooks/{id}',
        'POST /webhooks/{id}/pause',
        'POST /webhooks/{id}/resume',
        'POST /webhooks/{id}/rotate-secret',
        'GET /webhooks/{id}/attempts',
        'GET /webhooks/{id}/history',
      ].sort(),
    );
    const move = doc.paths['/deals/{id}/stage'].post;
    expect(Object.keys(move.responses).sort()).toEqual([
      '200',
      '400',
      '401',
      '403',
      '404',
      '408',
      '409',
      '412',
      '413',
      '415',
      '422',
      '431',
      '500',
      '503',
    ]);
    expect(move.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['id', 'Idempotency-Key', 'If-Match']),
    );
    // Every write route documents the Idempotency-Key header and its problems (409 in flight, 422 reused) and 503.
    for (const [path, ops] of Object.entries(
      doc.paths as Record<
        string,
        Record<
          string,
          { parameters?: { name: string; description?: string }[]; responses: Record<string, { description: string }> }
        >
      >,
    )) {
      // Every write takes an Idempotency-Key; a POST …/query only reads (a report asked with a body), and
      // POST /imports streams its body (no key can be bound to it) and is idempotent by source ids: it refuses the header;
      // POST /console/sign-in writes nothing and answers a token, which is never kept for a replay.
      const writes = Object.entries(ops).filter(
        ([m]) => m !== 'get' && !path.endsWith('/query') && path !== '/imports' && path !== '/console/sign-in',
      );
      for (const [method, op] of writes) {
        const where = `${method.toUpperCase()} ${path}`;
        expect([where, op.parameters?.find((p) => p.name === 'Idempotency-Key')?.description]).toEqual([
          where,
          expect.stringContaining('idempotency-key-reused'),
        ]);
        expect([where, op.responses['422']?.description]).toEqual([
          where,
          expect.stringContaining('idempotency-key-reused'),
        ]);
        expect([where, op.responses['409']?.description]).toEqual([
          where,
          expect.stringContaining('idempotency-key-in-flight'),
        ]);
        expect([where, op.responses['503']?.description]).toEqual([where, expect.stringContaining('write-contention')]);
      }
    }
    expect(move.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/MoveDealDto');
    expect(doc.components.schemas.CreateDealDto.required).toEqual(
      expect.arrayContaining(['pipelineId', 'title', 'account', 'amount', 'currency']),
    );
    const ui = await request(app.getHttpServer()).get('/docs/').expect(200);
    expect(ui.text).toContain('swagger-ui');
  });
});
