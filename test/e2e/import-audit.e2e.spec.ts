import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { encodePosition } from '@dealstream/event-store';
import { importIds, readCanonicalFiles, runHistoricImport } from '@dealstream/import';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

const FIXTURE = 'libs/import/src/testing/acme-crm.canonical.ndjson';
const SYSTEM = 'acme-crm';

/*
 * The imported fixture over HTTP: the audit history shows the importing principal beside the source
 * actor and record id (the source actor pseudonymous for analysts, like every actor), and the metric
 * routes answer the hand-computed figures of libs/import's spec as of an instant inside the history.
 */
describe('imported history over HTTP (PostgreSQL)', () => {
  let api: ApiHarness;
  let minPosition: string;

  beforeAll(async () => {
    api = await startApiOnPostgres();
    const report = await runHistoricImport(readCanonicalFiles([FIXTURE]), {
      store: api.appEventStore(),
      actorId: 'importer-ivy',
      importId: 'imp-http',
    });
    expect(report.refusals).toEqual([]);
    // The last deal of the file was appended last (read by stream: the global feed waits for every
    // transaction open on the shared server).
    minPosition = encodePosition((await api.streamEvents(`deal-${importIds.deal(SYSTEM, 'OPP-7')}`)).at(-1)!.position);
  });
  afterAll(() => api.close());

  it('history: importing principal as actorId, provenance beside it; analysts see both as pseudonyms', async () => {
    const dealId = importIds.deal(SYSTEM, 'OPP-2');
    const auditor = `Bearer ${await api.token(['auditor'], 'audrey')}`;
    const { body } = await api.http().get(`/deals/${dealId}/history`).set('Authorization', auditor).expect(200);
    expect(
      body.events.map((e: { type: string; actorId: string; occurredAt: string; provenance: unknown }) => [
        e.type,
        e.actorId,
        e.occurredAt,
        e.provenance,
      ]),
    ).toEqual([
      [
        'DealCreated',
        'importer-ivy',
        '2025-01-02T00:00:00.000Z',
        { importId: 'imp-http', sourceSystem: SYSTEM, sourceRecordId: 'OPP-2', sourceActor: 'sam@acme' },
      ],
      [
        'StageAdvanced',
        'importer-ivy',
        '2025-01-04T00:00:00.000Z',
        { importId: 'imp-http', sourceSystem: SYSTEM, sourceRecordId: 'OH-2-1', sourceActor: 'sam@acme' },
      ],
      [
        'DealLost',
        'importer-ivy',
        '2025-01-09T00:00:00.000Z',
        { importId: 'imp-http', sourceSystem: SYSTEM, sourceRecordId: 'OH-2-2', sourceActor: 'kim@acme' },
      ],
    ]);

    const analyst = `Bearer ${await api.token(['analyst'], 'anna')}`;
    const redacted = await api.http().get(`/deals/${dealId}/history`).set('Authorization', analyst).expect(200);
    const [created, , lost] = redacted.body.events as {
      actorId: string;
      provenance: { sourceActor: string; sourceRecordId: string };
    }[];
    expect(created.actorId).toMatch(/^anon-[0-9a-f]{16}$/);
    expect(created.provenance.sourceActor).toMatch(/^anon-[0-9a-f]{16}$/);
    expect(created.provenance.sourceActor).not.toBe(lost.provenance.sourceActor); // sam ≠ kim
    expect(created.provenance.sourceRecordId).toBe('OPP-2');
  });

  it('the funnel route as of d10.5 answers the hand-computed figures; the recorded axis before the import, 404', async () => {
    const analyst = `Bearer ${await api.token(['analyst'], 'anna')}`;
    const P = importIds.pipeline(SYSTEM, 'P1');
    const { body } = await api
      .http()
      .get(`/pipelines/${P}/metrics/funnel`)
      .query({
        from: '2025-01-01T00:00:00Z',
        to: '2025-01-11T00:00:00Z',
        asOf: '2025-01-11T12:00:00Z',
        policy: 'implied',
        minPosition,
      })
      .set('Authorization', analyst)
      .expect(200);
    expect(body.stages.map((s: { name: string; reached: number }) => [s.name, s.reached])).toEqual([
      ['A', 5],
      ['B', 4],
      ['Proposal sent', 2],
      ['D', 0],
    ]);
    expect(body.cohort).toEqual({ size: 5, open: 2, won: 1, lost: 1, disqualified: 1 });
    // The same funnel segmented by source: the run's id names it (any string the CLI was given); nothing here is live.
    const bySource = async (source: string) =>
      (
        await api
          .http()
          .get(`/pipelines/${P}/metrics/funnel`)
          .query({ from: '2025-01-01T00:00:00Z', to: '2025-01-11T00:00:00Z', asOf: '2025-01-11T12:00:00Z', source })
          .set('Authorization', analyst)
          .expect(200)
      ).body as { cohort: { size: number }; segment: { source: string } };
    expect((await bySource('import:imp-http')).cohort.size).toBe(5);
    expect((await bySource('import:imp-http')).segment.source).toBe('import:imp-http');
    expect((await bySource('import:imp-other')).cohort.size).toBe(0);
    expect((await bySource('live')).cohort.size).toBe(0);
    const before = await api
      .http()
      .get(`/pipelines/${P}/board`)
      .query({ asOf: '2026-01-01T00:00:00Z', axis: 'recorded', minPosition })
      .set('Authorization', analyst);
    expect(before.status).toBe(404);
  });

  it('POST /imports: 202 with an id, GET /imports/:id follows it to the report; posting it again appends nothing', async () => {
    const importer = `Bearer ${await api.token(['importer'], 'migration-bot')}`;
    const body = readFileSync(FIXTURE, 'utf8').replaceAll('acme-crm', 'acme-http');
    const post = async () => {
      const accepted = await api
        .http()
        .post('/imports')
        .set('Authorization', importer)
        .set('Content-Type', 'application/x-ndjson')
        .send(body)
        .expect(202);
      expect(accepted.headers.location).toBe(`/imports/${accepted.body.importId}`);
      expect(accepted.body).toMatchObject({ status: 'running', actorId: 'migration-bot', report: null });
      for (let attempt = 0; attempt < 200; attempt++) {
        const { body: job } = await api
          .http()
          .get(accepted.headers.location)
          .set('Authorization', importer)
          .expect(200);
        if (job.status !== 'running') return job;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the import never finished');
    };
    const first = await post();
    expect(first).toMatchObject({
      status: 'done',
      error: null,
      report: { sourceSystem: 'acme-http', deals: { imported: 7, unchanged: 0, refused: 0 }, refusals: [] },
    });
    expect(first.report.events.appended).toBe(20);
    const [created] = await api.streamEvents(`deal-${importIds.deal('acme-http', 'OPP-1')}`);
    expect([created.metadata.actorId, created.metadata.provenance?.importId]).toEqual([
      'migration-bot',
      first.importId,
    ]);
    const again = await post();
    expect(again.report).toMatchObject({ deals: { imported: 0, unchanged: 7, refused: 0 }, events: { appended: 0 } });

    // The jobs live in the database, not in the process: a restarted API still answers both.
    await api.restart();
    const importerAgain = `Bearer ${await api.token(['importer'], 'migration-bot')}`;
    const afterRestart = await api
      .http()
      .get(`/imports/${first.importId}`)
      .set('Authorization', importerAgain)
      .expect(200);
    expect(afterRestart.body).toEqual(first);
  });

  it('GET /imports/:id of a job whose API process stopped mid-import (no heartbeat for 30 s) answers failed, with what to do', async () => {
    const importId = '6b1f1c4e-8d2a-4f7e-9a51-3c0d2e4f5a6b';
    // Raw: a row as a process that died 2 minutes ago left it (its heartbeat on the database clock).
    await sql`insert into api.import_jobs (import_id, status, actor_id, started_at, progress, heartbeat_at)
      values (${importId}, 'running', 'migration-bot', now() - interval '3 minutes', '{"records":40,"deals":5,"events":9}',
              now() - interval '2 minutes')`.execute(api.database.db);
    const importer = `Bearer ${await api.token(['importer'], 'migration-bot')}`;
    const { body } = await api.http().get(`/imports/${importId}`).set('Authorization', importer).expect(200);
    expect(body).toMatchObject({
      importId,
      status: 'failed',
      progress: { records: 40, deals: 5, events: 9 },
      report: null,
      error:
        'interrupted: the API process running it stopped (restart, crash, scale-in); post the same file again — it completes what was not written and appends nothing twice',
    });
  });

  it('POST /imports refuses JSON (415), a non-canonical body (400), and roles without imports:write (403)', async () => {
    const importer = `Bearer ${await api.token(['importer'], 'migration-bot')}`;
    const before = await api.eventCount();
    const json = await api.http().post('/imports').set('Authorization', importer).send({ type: 'header' });
    expect([json.status, json.body.code]).toEqual([415, 'unsupported-media-type']);
    const csv = await api
      .http()
      .post('/imports')
      .set('Authorization', importer)
      .set('Content-Type', 'application/x-ndjson')
      .send('OpportunityId,StageName\n006,Prospecting\n');
    expect([csv.status, csv.body.code]).toEqual([400, 'not-canonical']);
    const keyed = await api
      .http()
      .post('/imports')
      .set('Authorization', importer)
      .set('Idempotency-Key', 'import-1')
      .set('Content-Type', 'application/x-ndjson')
      .send(readFileSync(FIXTURE, 'utf8'));
    expect([keyed.status, keyed.body.code]).toEqual([400, 'idempotency-key-not-supported']);
    const ops = `Bearer ${await api.token(['ops'], 'olivia')}`;
    const denied = await api
      .http()
      .post('/imports')
      .set('Authorization', ops)
      .set('Content-Type', 'application/x-ndjson')
      .send(readFileSync(FIXTURE, 'utf8'));
    expect(denied.status).toBe(403);
    const unknown = await api
      .http()
      .get('/imports/00000000-0000-4000-8000-000000000000')
      .set('Authorization', importer);
    expect([unknown.status, unknown.body.code]).toEqual([404, 'import-not-found']);
    expect(await api.eventCount()).toBe(before);
  });

  // Found by the hostile-input suite once the import routes shifted its cases: 16 digits passed the
  // board's amount filters though the document (and JSON numbers) stop at 2^53 − 1.
  it('the board refuses amount filters beyond 2^53 − 1 (400) and takes 2^53 − 1 itself', async () => {
    const analyst = `Bearer ${await api.token(['analyst'], 'anna')}`;
    const P = importIds.pipeline(SYSTEM, 'P1');
    const tooLarge = await api
      .http()
      .get(`/pipelines/${P}/board`)
      .query({ minAmount: '9007199254740992' })
      .set('Authorization', analyst);
    expect([tooLarge.status, tooLarge.body.code]).toEqual([400, 'validation-failed']);
    expect(tooLarge.body.errors).toEqual([
      { field: 'minAmount', messages: ['minAmount must be at most 9007199254740991'] },
    ]);
    await api
      .http()
      .get(`/pipelines/${P}/board`)
      .query({ maxAmount: '9007199254740991', minPosition })
      .set('Authorization', analyst)
      .expect(200);
  });
});
