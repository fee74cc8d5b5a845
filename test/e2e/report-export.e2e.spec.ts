import { randomUUID } from 'node:crypto';
import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

/*
 * Reports as CSV and NDJSON (docs/metrics.md, "Export"), every expected row written by hand:
 * a pipeline whose stage names a spreadsheet would take for a formula or split on a comma, two open
 * deals (EUR 1000 and 2500 in the first stage, 10%), nothing in the second stage.
 */
describe('report export over HTTP (PostgreSQL)', () => {
  let api: ApiHarness;
  let analyst: string;
  let pipelineId: string;
  let position: string;
  const stages = [randomUUID(), randomUUID()];
  // One clock reading, so the period is exactly two hours long.
  const now = Date.now();
  const from = new Date(now - 3_600_000).toISOString();
  const to = new Date(now + 3_600_000).toISOString();

  beforeAll(async () => {
    api = await startApiOnPostgres();
    analyst = `Bearer ${await api.token(['analyst'], 'ann')}`;
    const sales = `Bearer ${await api.token(['sales'], 'sam')}`;
    const ops = `Bearer ${await api.token(['ops'])}`;
    pipelineId = (
      await api
        .http()
        .post('/pipelines')
        .set('Authorization', ops)
        .send({
          name: 'Export',
          currency: 'EUR',
          stages: [
            { stageId: stages[0], name: '=HYPERLINK("http://x")', probability: 10 },
            { stageId: stages[1], name: 'Won, "finally"', probability: 90 },
          ],
        })
        .expect(201)
    ).body.id;
    for (const amount of [1000, 2500])
      position = (
        await api
          .http()
          .post('/deals')
          .set('Authorization', sales)
          .send({ pipelineId, title: `Deal ${amount}`, account: 'A', amount, currency: 'EUR' })
          .expect(201)
      ).body.position;
  });
  afterAll(() => api.close());

  /** An RFC 4180 reader written apart from the writer under test: records of fields, then objects by the header row. */
  function parse(text: string, _options: { columns: true }): Record<string, string>[] {
    const records: string[][] = [];
    let field = '';
    let record: string[] = [];
    let quoted = false;
    const endField = () => {
      record.push(field);
      field = '';
    };
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') {
          field += '"';
          i++;
        } else if (c === '"') quoted = false;
        else field += c;
      } else if (c === '"') quoted = true;
      else if (c === ',') endField();
      else if (c === '\r' && text[i + 1] === '\n') {
        endField();
        records.push(record);
        record = [];
        i++;
      } else field += c;
    }
    expect([field, record]).toEqual(['', []]); // the text ends with a complete record
    const [header, ...rows] = records;
    return rows.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i]])));
  }

  const get = (path: string, query: Record<string, string>, accept?: string) => {
    const request = api
      .http()
      .get(`/pipelines/${pipelineId}/${path}`)
      .query({ minPosition: position, ...query })
      .set('Authorization', analyst);
    return (accept ? request.set('Accept', accept) : request).buffer(true);
  };

  it('Accept: text/csv → RFC 4180 with a header row; names that look like formulas are inert', async () => {
    const response = await get('metrics/pipeline', {}, 'text/csv').expect(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
    expect(response.headers['x-read-position']).toBeDefined();
    const text = response.text;
    const [header, ...lines] = text.split('\r\n');
    expect(header).toBe(
      'at,stage_position,stage_id,stage_name,probability,stage_count,stalled_count,average_days_in_stage,currency,count,value,weighted_value',
    );
    expect(lines.at(-1)).toBe(''); // every record ends in CRLF
    const rows = parse(text, { columns: true });
    expect(rows.map(({ at: _at, average_days_in_stage: _age, ...row }) => row)).toEqual([
      {
        stage_position: '0',
        stage_id: stages[0],
        stage_name: `'=HYPERLINK("http://x")`,
        probability: '10',
        stage_count: '2',
        stalled_count: '0',
        currency: 'EUR',
        count: '2',
        value: '3500',
        weighted_value: '350',
      },
      {
        stage_position: '1',
        stage_id: stages[1],
        stage_name: 'Won, "finally"',
        probability: '90',
        stage_count: '0',
        stalled_count: '0',
        currency: '',
        count: '0',
        value: '0',
        weighted_value: '0',
      },
    ]);
  });

  it('format=ndjson → the same rows as JSON lines, typed', async () => {
    const response = await get('board', { format: 'ndjson' }).expect(200);
    expect(response.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const rows = response.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows.map(({ at: _at, ...row }) => row)).toEqual([
      {
        stage_position: 0,
        stage_id: stages[0],
        stage_name: '=HYPERLINK("http://x")',
        probability: 10,
        stage_count: 2,
        stalled_count: 0,
        currency: 'EUR',
        count: 2,
        amount: 3500,
        weighted_amount: 350,
      },
      {
        stage_position: 1,
        stage_id: stages[1],
        stage_name: 'Won, "finally"',
        probability: 90,
        stage_count: 0,
        stalled_count: 0,
        currency: null,
        count: 0,
        amount: 0,
        weighted_amount: 0,
      },
    ]);
  });

  it('funnel, velocity and a series as CSV: one row per stage, per currency, per bucket', async () => {
    const funnel = parse((await get('metrics/funnel', { from, to, format: 'csv' }).expect(200)).text, {
      columns: true,
    });
    expect(
      funnel.map((r) => [r.from, r.to, r.policy, r.stage_name, r.reached, r.conversion_to_next, r.cohort_size]),
    ).toEqual([
      [from, to, 'any', `'=HYPERLINK("http://x")`, '2', '0', '2'],
      [from, to, 'any', 'Won, "finally"', '0', '', '2'],
    ]);
    const velocity = parse((await get('metrics/velocity', { from, to }, 'text/csv').expect(200)).text, {
      columns: true,
    });
    expect(velocity).toEqual([
      {
        from,
        to,
        currency: 'EUR',
        opportunities: '2',
        won: '0',
        won_amount: '0',
        lost: '0',
        lost_amount: '0',
        average_won_amount: '',
        velocity_per_day: '',
        total_opportunities: '2',
        total_won: '0',
        total_lost: '0',
        win_rate_period: '',
        win_rate_cohort: '0',
        average_cycle_days: '',
      },
    ]);
    // Three months before now: 3 or 4 monthly buckets, each with a row per stage; the deals are in the last.
    const since = new Date(Date.now() - 90 * 86_400_000).toISOString();
    const series = parse(
      (await get('metrics/funnel/series', { from: since, to, interval: 'month' }, 'text/csv').expect(200)).text,
      { columns: true },
    );
    expect(series.length % 2).toBe(0);
    expect(series[0].from).toBe(since);
    expect(series.at(-1)!.to).toBe(to);
    expect(series.map((r) => Number(r.cohort_size)).reduce((a, b) => a + b, 0) / 2).toBe(2);
  });

  it('JSON stays the default; a bad format is 400', async () => {
    const json = await api
      .http()
      .get(`/pipelines/${pipelineId}/metrics/pipeline`)
      .query({ minPosition: position })
      .set('Authorization', analyst)
      .expect(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    const bad = await api
      .http()
      .get(`/pipelines/${pipelineId}/metrics/pipeline`)
      .query({ format: 'xlsx' })
      .set('Authorization', analyst);
    expect([bad.status, bad.headers['content-type']]).toEqual([
      400,
      expect.stringMatching(/^application\/problem\+json/),
    ]);
  });

  it('part= picks the other tables — forecast, transitions, reasons — and compare= adds the other period’s rows', async () => {
    const forecast = parse((await get('metrics/pipeline', { format: 'csv', part: 'forecast' }).expect(200)).text, {
      columns: true,
    });
    // The two open deals have no expected close date: one row, month empty.
    expect(forecast.map(({ at: _at, ...row }) => row)).toEqual([
      { month: '', currency: 'EUR', count: '2', value: '3500', weighted_value: '350' },
    ]);

    // Three more deals: one moved to the second stage, one lost for price, one disqualified for no budget.
    const sales = `Bearer ${await api.token(['sales'], 'sam')}`;
    const create = async (amount: number) =>
      (
        await api
          .http()
          .post('/deals')
          .set('Authorization', sales)
          .send({ pipelineId, title: `More ${amount}`, account: 'B', amount, currency: 'EUR' })
          .expect(201)
      ).body.id as string;
    const [moved, lost, disqualified] = [await create(400), await create(600), await create(700)];
    await api
      .http()
      .post(`/deals/${moved}/stage`)
      .set('Authorization', sales)
      .send({ toStageId: stages[1] })
      .expect(200);
    await api.http().post(`/deals/${lost}/lose`).set('Authorization', sales).send({ reason: 'price' }).expect(200);
    position = (
      await api
        .http()
        .post(`/deals/${disqualified}/disqualify`)
        .set('Authorization', sales)
        .send({ reason: 'no-budget' })
        .expect(200)
    ).body.position;

    const transitions = (
      await get('metrics/funnel', { from, to, format: 'ndjson', part: 'transitions' }).expect(200)
    ).text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(transitions).toEqual([
      {
        from,
        to,
        policy: 'any',
        from_stage_id: stages[0],
        from_stage_name: '=HYPERLINK("http://x")',
        to_stage_id: stages[1],
        to_stage_name: 'Won, "finally"',
        count: 1,
      },
    ]);

    const reasons = parse((await get('metrics/velocity', { from, to, part: 'reasons' }, 'text/csv').expect(200)).text, {
      columns: true,
    });
    expect(reasons).toEqual([
      { from, to, closing: 'lost', reason: 'price', count: '1' },
      { from, to, closing: 'disqualified', reason: 'no-budget', count: '1' },
    ]);

    // compare=previous-period: the requested period's rows, then the two hours before it (nothing there).
    const compared = parse(
      (await get('metrics/funnel', { from, to, compare: 'previous-period', format: 'csv' }).expect(200)).text,
      { columns: true },
    );
    const before = new Date(Date.parse(from) - 2 * 3_600_000).toISOString();
    expect(compared.map((r) => [r.from, r.to, r.stage_id, r.reached, r.cohort_size])).toEqual([
      [from, to, stages[0], '5', '5'],
      [from, to, stages[1], '1', '5'],
      [before, from, stages[0], '0', '0'],
      [before, from, stages[1], '0', '0'],
    ]);
    expect((await get('metrics/funnel', { from, to, part: 'reasons', format: 'csv' })).status).toBe(400);
  });
});
