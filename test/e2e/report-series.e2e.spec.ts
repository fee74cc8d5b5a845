import { encodePosition } from '@dealstream/event-store';
import { importIds, readCanonicalFiles, runHistoricImport } from '@dealstream/import';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

const FIXTURE = 'libs/import/src/testing/acme-crm.canonical.ndjson';
const SYSTEM = 'acme-crm';

/*
 * Time series and comparisons (docs/metrics.md) over the imported fixture's dated history
 * (January 2025): every point of a series equals the report asked for its bucket alone, and a
 * comparison's other period equals the report asked for that period, its deltas the differences.
 */
describe('report series and comparisons over HTTP (PostgreSQL)', () => {
  let api: ApiHarness;
  let analyst: string;
  let minPosition: string;
  const P = importIds.pipeline(SYSTEM, 'P1');
  const asOf = '2025-02-01T00:00:00.000Z';

  beforeAll(async () => {
    api = await startApiOnPostgres();
    analyst = `Bearer ${await api.token(['analyst'], 'ann')}`;
    const report = await runHistoricImport(readCanonicalFiles([FIXTURE]), {
      store: api.appEventStore(),
      actorId: 'importer-ivy',
      importId: 'imp-series',
    });
    expect(report.refusals).toEqual([]);
    minPosition = encodePosition((await api.streamEvents(`deal-${importIds.deal(SYSTEM, 'OPP-7')}`)).at(-1)!.position);
  });
  afterAll(() => api.close());

  const get = async (path: string, query: Record<string, string>) =>
    (
      await api
        .http()
        .get(`/pipelines/${P}/${path}`)
        .query({ minPosition, ...query })
        .set('Authorization', analyst)
        .expect(200)
    ).body;
  /** A report's figures without its envelope (what a series point holds). */
  const figures = ({
    asOf: _a,
    axis: _x,
    stageMap: _m,
    segment: _s,
    readPosition: _r,
    ...rest
  }: Record<string, unknown>) => rest;

  const weeks = ['2025-01-01', '2025-01-06', '2025-01-13', '2025-01-20', '2025-01-22'].map((d) => `${d}T00:00:00.000Z`);

  it('a weekly funnel series: ISO-week buckets, each point equal to the funnel of its bucket alone (all policies)', async () => {
    for (const policy of ['any', 'strict', 'implied']) {
      const series = await get('metrics/funnel/series', {
        from: weeks[0],
        to: weeks[4],
        interval: 'week',
        policy,
        asOf,
      });
      expect(series.points.map((p: { from: string; to: string }) => [p.from, p.to])).toEqual(
        weeks.slice(0, 4).map((from, i) => [from, weeks[i + 1]]),
      );
      for (const [i, point] of (series.points as Record<string, unknown>[]).entries()) {
        const alone = await get('metrics/funnel', { from: weeks[i], to: weeks[i + 1], policy, asOf });
        expect(point).toEqual(figures(alone));
      }
      // The buckets partition the period: their cohorts add up to the whole period's.
      const whole = await get('metrics/funnel', { from: weeks[0], to: weeks[4], policy, asOf });
      expect(series.points.reduce((n: number, p: { cohort: { size: number } }) => n + p.cohort.size, 0)).toBe(
        whole.cohort.size,
      );
      expect(whole.cohort.size).toBeGreaterThan(0);
    }
  });

  it('velocity and pipeline series equal their reports asked per bucket (segmented too)', async () => {
    const query = { from: weeks[0], to: weeks[4], interval: 'week', asOf, kind: 'new' };
    const velocity = await get('metrics/velocity/series', query);
    expect(velocity.segment.kinds).toEqual(['new']);
    for (const [i, point] of (velocity.points as Record<string, unknown>[]).entries()) {
      const alone = await get('metrics/velocity', { from: weeks[i], to: weeks[i + 1], asOf, kind: 'new' });
      expect(point).toEqual(figures(alone));
    }
    const pipeline = await get('metrics/pipeline/series', { from: weeks[0], to: weeks[4], interval: 'week' });
    expect(pipeline.points.map((p: { at: string }) => p.at)).toEqual(weeks.slice(1));
    for (const point of pipeline.points as { at: string }[]) {
      const alone = await get('metrics/pipeline', { asOf: point.at });
      const { at, ...snapshot } = point;
      expect([at, snapshot]).toEqual([at, { stages: alone.stages, forecast: alone.forecast }]);
    }
  });

  it('compare=previous-period and previous-year: the other period’s figures and this − that', async () => {
    const funnel = await get('metrics/funnel', {
      from: weeks[2],
      to: '2025-01-20T00:00:00.000Z',
      asOf,
      compare: 'previous-period',
    });
    const before = await get('metrics/funnel', { from: '2025-01-06T00:00:00.000Z', to: weeks[2], asOf });
    expect(funnel.comparison.compare).toBe('previous-period');
    expect(funnel.comparison.previous).toEqual({
      ...figures(before),
      from: '2025-01-06T00:00:00.000Z',
      to: weeks[2],
    });
    expect(funnel.comparison.deltas).toEqual({
      cohortSize: funnel.cohort.size - before.cohort.size,
      won: funnel.cohort.won - before.cohort.won,
      winRate:
        funnel.winRate === null || before.winRate === null
          ? null
          : Math.round((funnel.winRate - before.winRate) * 10_000) / 10_000,
      stages: funnel.stages.map(
        (s: { stageId: string; reached: number; conversionToNext: number | null }, i: number) => ({
          stageId: s.stageId,
          reached: s.reached - before.stages[i].reached,
          conversionToNext:
            s.conversionToNext === null || before.stages[i].conversionToNext === null
              ? null
              : Math.round((s.conversionToNext - before.stages[i].conversionToNext) * 10_000) / 10_000,
        }),
      ),
    });
    // A year earlier nothing happened: the deltas are this period's own figures.
    const velocity = await get('metrics/velocity', { from: weeks[0], to: weeks[4], asOf, compare: 'previous-year' });
    expect([velocity.comparison.previous.from, velocity.comparison.previous.to]).toEqual([
      '2024-01-01T00:00:00.000Z',
      '2024-01-22T00:00:00.000Z',
    ]);
    expect(velocity.comparison.previous.opportunities).toBe(0);
    expect(velocity.comparison.deltas).toMatchObject({
      opportunities: velocity.opportunities,
      won: velocity.won,
      lost: velocity.lost,
      winRatePeriod: null,
    });
    expect(velocity.opportunities).toBeGreaterThan(0);
  });

  it('bad series and comparison parameters are 400 problem+json', async () => {
    const bad: [string, Record<string, string>][] = [
      ['metrics/funnel/series', { from: weeks[0], to: weeks[4] }],
      ['metrics/funnel/series', { from: weeks[0], to: weeks[4], interval: 'day' }],
      ['metrics/funnel/series', { from: '2000-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z', interval: 'week' }],
      ['metrics/velocity/series', { from: weeks[4], to: weeks[0], interval: 'month' }],
      ['metrics/pipeline/series', { from: weeks[0], to: weeks[4], interval: 'week', asOf }],
      ['metrics/funnel', { from: weeks[0], to: weeks[4], compare: 'last-week' }],
      ['metrics/velocity', { from: weeks[0], to: weeks[4], compare: 'previous-decade' }],
    ];
    for (const [path, query] of bad) {
      const response = await api.http().get(`/pipelines/${P}/${path}`).query(query).set('Authorization', analyst);
      expect([path, query, response.status, response.headers['content-type']]).toEqual([
        path,
        query,
        400,
        expect.stringMatching(/^application\/problem\+json/),
      ]);
    }
  });
});
