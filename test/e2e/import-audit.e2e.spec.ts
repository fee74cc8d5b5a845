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
    minPosition = encodePosition((await api.events()).at(-1)!.position);
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
    const before = await api
      .http()
      .get(`/pipelines/${P}/board`)
      .query({ asOf: '2026-01-01T00:00:00Z', axis: 'recorded', minPosition })
      .set('Authorization', analyst);
    expect(before.status).toBe(404);
  });
});
