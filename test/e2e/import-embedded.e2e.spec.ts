import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { mintToken } from '@dealstream/auth';
import { importIds } from '@dealstream/import';
import { createApp, type ApiApplication } from '../../apps/api/src/bootstrap.js';
import { appConfigFromEnv } from '../../apps/api/src/config/app-config.js';

const FIXTURE = 'libs/import/src/testing/acme-crm.canonical.ndjson';

/*
 * The hand-computed fixture of libs/import posted to the embedded default (PGlite in DATA_DIR,
 * projections in-process): the import runs, the read models answer its figures over HTTP, the history
 * carries provenance. Figures as in libs/import/src/historic-import.int.spec.ts.
 */
describe('POST /imports on the embedded default (PGlite)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dealstream-import-e2e-'));
  let app: ApiApplication;
  let importer: string;
  let analyst: string;

  beforeAll(async () => {
    ({ app } = await createApp({ ...appConfigFromEnv({ DATA_DIR: dataDir }), logLevel: 'silent' }));
    await app.init();
    const secret = readFileSync(join(dataDir, 'auth-secret'), 'utf8').trim();
    importer = `Bearer ${await mintToken({ subject: 'migration-bot', roles: ['importer'], secret })}`;
    analyst = `Bearer ${await mintToken({ subject: 'anna', roles: ['analyst', 'auditor'], secret })}`;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('imports, then answers velocity and the board of the imported period', async () => {
    const http = () => request(app.getHttpServer());
    const accepted = await http()
      .post('/imports')
      .set('Authorization', importer)
      .set('Content-Type', 'application/x-ndjson')
      .send(readFileSync(FIXTURE, 'utf8'))
      .expect(202);
    let job = accepted.body as { status: string; report: { events: { appended: number } } | null };
    for (let attempt = 0; job.status === 'running' && attempt < 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = (await http().get(`/imports/${accepted.body.importId}`).set('Authorization', importer).expect(200)).body;
    }
    expect(job.status).toBe('done');
    expect(job.report!.events.appended).toBe(20);

    const P = importIds.pipeline('acme-crm', 'P1');
    const velocity = async () =>
      (
        await http()
          .get(`/pipelines/${P}/metrics/velocity`)
          .query({ from: '2025-01-01T00:00:00Z', to: '2025-01-22T00:00:00Z', asOf: '2025-01-23T00:00:00Z' })
          .set('Authorization', analyst)
      ).body as { opportunities?: number };
    let answer = await velocity();
    for (let attempt = 0; answer.opportunities !== 7 && attempt < 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50)); // the in-process projection catches up
      answer = await velocity();
    }
    // 7 × 1200 × 0.5 ÷ 9 = 466.67
    expect(answer).toEqual({
      asOf: '2025-01-23T00:00:00.000Z',
      axis: 'occurred',
      from: '2025-01-01T00:00:00.000Z',
      to: '2025-01-22T00:00:00.000Z',
      readPosition: expect.any(String),
      stageMap: null,
      segment: {
        kinds: ['new', 'upsell', 'cross-sell'],
        owners: null,
        currencies: null,
        minAmount: null,
        maxAmount: null,
        source: 'all',
      },
      opportunities: 7,
      won: 1,
      lost: 1,
      winRatePeriod: 0.5,
      winRateCohort: 0.1429,
      averageCycleDays: 9,
      disqualified: 1,
      lostReasons: [{ reason: 'price', count: 1 }],
      disqualificationReasons: [{ reason: 'no-budget', count: 1 }],
      byCurrency: [
        {
          currency: 'EUR',
          opportunities: 7,
          won: 1,
          wonAmount: 1200,
          lost: 1,
          lostAmount: 2000, // OPP-2, lost at 2000
          averageWonAmount: 1200,
          velocityPerDay: 467,
        },
      ],
    });
    // Source segments (docs/metrics.md): every deal here came from this import, none was created live.
    const bySource = async (source: string) =>
      (
        await http()
          .get(`/pipelines/${P}/metrics/velocity`)
          .query({ from: '2025-01-01T00:00:00Z', to: '2025-01-22T00:00:00Z', source })
          .set('Authorization', analyst)
          .expect(200)
      ).body as { opportunities: number; won: number };
    expect((await bySource(`import:${accepted.body.importId}`)).opportunities).toBe(7);
    expect((await bySource('imported')).won).toBe(1);
    expect((await bySource('live')).opportunities).toBe(0);
    expect((await bySource(`import:${randomUUID()}`)).opportunities).toBe(0);
    const board = await http()
      .get(`/pipelines/${P}/board`)
      .query({ asOf: '2025-01-23T00:00:00Z' })
      .set('Authorization', analyst)
      .expect(200);
    expect(
      board.body.stages.map((s: { name: string; deals: { title: string }[] }) => [s.name, s.deals.map((d) => d.title)]),
    ).toEqual([
      ['A', ['D5', 'D7', 'D6']],
      ['B', ['D3']],
      ['Proposal sent', []],
      ['D', []],
    ]);
    const history = await http()
      .get(`/deals/${importIds.deal('acme-crm', 'OPP-1')}/history`)
      .set('Authorization', analyst)
      .expect(200);
    expect(
      history.body.events.map((e: { provenance: { sourceRecordId: string } }) => e.provenance.sourceRecordId),
    ).toEqual(['OPP-1', 'OH-1-1', 'OH-1-2', 'OH-1-3']);
    expect(history.body.events[0].actorId).toBe('migration-bot'); // analyst + auditor: identities in clear
  });
});
