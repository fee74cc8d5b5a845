import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { sql } from 'kysely';
import { runVerify } from '../../apps/cli/src/verify.command.js';
import { startAuditApi, type AuditApiHarness } from '../support/audit-api-harness.js';
import { writeFourDeals, type FourDeals } from '../support/audit-fixtures.js';

/*
 * Must-show 2: change one stored event's data directly in PostgreSQL, delete a middle event, delete a
 * last event — GET /audit/verify and the CLI's verify report exactly those streams at those
 * revisions, and nothing for the streams nobody touched.
 */
describe('tampering with stored events is detected by /audit/verify and `verify` (PostgreSQL)', () => {
  let api: AuditApiHarness;
  let auditor: string;
  let pipelineStream: string;
  let deals: FourDeals;
  const stream = (key: keyof typeof deals) => `deal-${deals[key]}`;

  const cli = async (...args: string[]) => {
    const lines: string[] = [];
    const code = await runVerify(args, { env: { DATABASE_URL: api.url }, print: (line) => lines.push(line) });
    return { code, lines };
  };
  const verifyAll = async () => (await api.http().get('/audit/verify').set('Authorization', auditor).expect(200)).body;
  const breaksOf = (body: { breaks: { streamId: string; revision: string; reason: string }[] }) =>
    body.breaks.map((b) => [b.streamId, b.revision, b.reason]).sort();

  beforeAll(async () => {
    api = await startAuditApi({ projectionsInProcess: false });
    auditor = `Bearer ${await api.token(['auditor'], 'ada-auditor')}`;
    const ops = `Bearer ${await api.token(['ops'], 'olivia-ops')}`;
    ({ pipelineStream, deals } = await writeFourDeals(api, ops));
  });
  afterAll(() => api.close());

  it('finds an untouched store intact, over HTTP and in the CLI', async () => {
    expect(await verifyAll()).toEqual({
      scope: 'store',
      ok: true,
      streamsChecked: 5,
      eventsChecked: 21,
      brokenStreams: 0,
      breaks: [],
    });
    const { code, lines } = await cli();
    expect(code).toBe(0);
    expect(lines).toEqual([
      'verified every stream in PostgreSQL (DATABASE_URL): 5 streams, 21 events checked',
      'OK: every hash chain is intact',
    ]);
  });

  it('reports the stream and revision whose data was changed in SQL, and nothing else', async () => {
    await sql`update event_store.events set data = jsonb_set(data, '{kind}', '"meeting"') where stream_id = ${stream('a')} and stream_revision = 2`.execute(
      api.database.db,
    );

    const report = await verifyAll();
    expect(report).toMatchObject({ ok: false, streamsChecked: 5, brokenStreams: 1 });
    expect(report.breaks).toEqual([
      {
        streamId: stream('a'),
        revision: '2',
        reason: 'hash-mismatch',
        detail: expect.stringMatching(
          /^stored hash [0-9a-f]{64} is not the hash of the stored content \([0-9a-f]{64}\)$/,
        ),
      },
    ]);
    for (const untouched of [stream('b'), stream('c'), stream('d'), pipelineStream]) {
      const { body } = await api
        .http()
        .get(`/audit/verify?stream=${untouched}`)
        .set('Authorization', auditor)
        .expect(200);
      expect([untouched, body.ok, body.breaks]).toEqual([untouched, true, []]);
    }
    const one = (
      await api
        .http()
        .get(`/audit/verify?stream=${stream('a')}`)
        .set('Authorization', auditor)
        .expect(200)
    ).body;
    expect(one).toMatchObject({
      scope: 'stream',
      streamId: stream('a'),
      ok: false,
      eventsChecked: 3,
      breaks: [{ streamId: stream('a'), revision: '2', reason: 'hash-mismatch' }],
    });

    const { code, lines } = await cli();
    expect(code).toBe(1);
    expect(lines.filter((line) => line.startsWith('BROKEN'))).toEqual([
      expect.stringMatching(new RegExp(`^BROKEN ${stream('a')} at revision 2: hash-mismatch — `)),
    ]);
    expect(lines.at(-1)).toBe('FAILED: 1 broken stream(s)');
    expect((await cli('--stream', stream('b'))).code).toBe(0);
    const json = await cli('--stream', stream('a'), '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.lines[0])).toMatchObject({
      streamId: stream('a'),
      ok: false,
      breaks: [{ streamId: stream('a'), revision: '2', reason: 'hash-mismatch' }],
    });
  });

  it('detects a deleted middle event and a deleted last event', async () => {
    await sql`delete from event_store.events where stream_id = ${stream('b')} and stream_revision = 2`.execute(
      api.database.db,
    );
    await sql`delete from event_store.events where stream_id = ${stream('c')} and stream_revision = 4`.execute(
      api.database.db,
    );

    const report = await verifyAll();
    expect(breaksOf(report)).toEqual(
      [
        [stream('a'), '2', 'hash-mismatch'],
        [stream('b'), '2', 'revision-gap'],
        [stream('c'), '4', 'head-mismatch'],
      ].sort(),
    );
    expect(report).toMatchObject({ ok: false, streamsChecked: 5, brokenStreams: 3 });
    expect(report.breaks.find((b: { streamId: string }) => b.streamId === stream('c')).detail).toBe(
      'the stream row says revision 4, the events end at 3: events were removed',
    );
    expect(
      (
        await api
          .http()
          .get(`/audit/verify?stream=${stream('d')}`)
          .set('Authorization', auditor)
          .expect(200)
      ).body.ok,
    ).toBe(true);

    const { code, lines } = await cli();
    expect(code).toBe(1);
    expect(
      lines
        .filter((line) => line.startsWith('BROKEN'))
        .map((line) => line.split(':')[0])
        .sort(),
    ).toEqual(
      [
        `BROKEN ${stream('a')} at revision 2`,
        `BROKEN ${stream('b')} at revision 2`,
        `BROKEN ${stream('c')} at revision 4`,
      ].sort(),
    );
    expect(lines.some((line) => line.includes(stream('d')) || line.includes(pipelineStream))).toBe(false);
  });

  it('says so, with exit code 2, when there is nothing to verify', async () => {
    const missing = join(tmpdir(), `dealstream-none-${randomUUID()}`);
    const lines: string[] = [];
    expect(await runVerify([], { env: { DATA_DIR: missing }, print: (l) => lines.push(l) })).toBe(2);
    expect(lines).toEqual([`error: no embedded database in ${missing}/pglite (set DATA_DIR or DATABASE_URL)`]);
    expect(existsSync(missing)).toBe(false);
    expect((await cli('--stream', 'deal-nope')).code).toBe(2);
    expect(
      await runVerify([], {
        env: { DATABASE_URL: api.url, EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113' },
        print: () => {},
      }),
    ).toBe(2);
  });
});
