import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqlEventStore, migrateEventStore, type EventStore } from '@dealstream/event-store';
import { handleCommand } from '@dealstream/command-handling';
import { dealDecider, dealStreamName, type DealEvent } from '@dealstream/deals-domain';
import { createPGliteTestDatabase, type TestDatabase } from '../../../test/support/test-database.js';
import { ImportFormatError, readCanonicalFiles } from './canonical/canonical-reader.js';
import { runHistoricImport } from './historic-import.js';
import { importIds } from './import-ids.js';
import { canonicalDeal, canonicalHeader, twoStagePipeline } from './testing/canonical-records.js';

const dir = mkdtempSync(join(tmpdir(), 'canonical-'));
let fileNo = 0;
/** Writes NDJSON (objects are serialised, strings written as they are) and returns the path. */
function file(...lines: (object | string)[]): string {
  const path = join(dir, `import-${++fileNo}.ndjson`);
  writeFileSync(path, lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n');
  return path;
}

const SYSTEM = 'bad-crm';
const header = canonicalHeader(SYSTEM);
const pipeline = twoStagePipeline;
const deal = canonicalDeal;
const move = (id: string, record: string, at: string, stage = 'S2') => ({
  type: 'deal-change',
  deal: id,
  change: 'stage',
  sourceRecordId: record,
  at,
  actor: 'sam',
  stage,
});
const won = (id: string, record: string, at: string) => ({
  type: 'deal-change',
  deal: id,
  change: 'won',
  sourceRecordId: record,
  at,
  actor: 'sam',
});

describe('historic import: bad input, overlaps and live events (PGlite)', () => {
  let database: TestDatabase;
  let store: EventStore;
  const streamOf = (id: string) => store.readStream<DealEvent>(dealStreamName(importIds.deal(SYSTEM, id)));
  const run = (files: string[], options: { dryRun?: boolean } = {}) =>
    runHistoricImport(readCanonicalFiles(files), { store, actorId: 'importer', ...options });

  beforeAll(async () => {
    database = await createPGliteTestDatabase();
    await migrateEventStore(database.db);
    store = new SqlEventStore(database.db);
  });
  afterAll(() => database.drop());

  it('refuses each broken deal with its line and reason, writes nothing of it, imports the rest', async () => {
    const path = file(
      header, // 1
      pipeline, // 2
      deal('OK-1'), // 3
      move('OK-1', 'OK-1-h1', '2025-01-03T00:00:00Z'), // 4
      deal('MALFORMED'), // 5
      '{"type":"deal-change","deal":"MALFORMED","change":"stage",', // 6
      deal('NO-STAGE'), // 7
      move('NO-STAGE', 'NO-STAGE-h1', '2025-01-03T00:00:00Z', 'S9'), // 8
      deal('NO-ZONE'), // 9
      move('NO-ZONE', 'NO-ZONE-h1', '2025-01-03T00:00:00'), // 10
      deal('DECIMAL', { amount: 1000.5 }), // 11
      deal('XYZ', { currency: 'XYZ' }), // 12
      deal('TWICE'), // 13
      deal('TWICE', { title: 'Another title' }), // 14
      deal('ORPHAN', { kind: 'upsell', parent: 'NEVER' }), // 15
      deal('CLOSED'), // 16
      won('CLOSED', 'CLOSED-h1', '2025-01-03T00:00:00Z'), // 17
      move('CLOSED', 'CLOSED-h2', '2025-01-04T00:00:00Z'), // 18
      deal('SAME-RECORD'), // 19
      move('SAME-RECORD', 'SR-h1', '2025-01-03T00:00:00Z'), // 20
      move('SAME-RECORD', 'SR-h1', '2025-01-04T00:00:00Z'), // 21
      deal('OK-2'), // 22
    );
    const report = await run([path]);
    expect(report.refusals.map((r) => [r.sourceId, r.line, r.code])).toEqual([
      ['MALFORMED', 6, 'invalid-record'],
      ['NO-STAGE', 8, 'unknown-stage'],
      ['NO-ZONE', 10, 'invalid-record'],
      ['DECIMAL', 11, 'invalid-record'],
      ['XYZ', 12, 'invalid-currency'],
      ['TWICE', 14, 'duplicate-source-id'],
      ['ORPHAN', 15, 'parent-deal-not-found'],
      ['CLOSED', 18, 'deal-closed'],
      ['SAME-RECORD', 21, 'duplicate-source-id'],
    ]);
    const reasons = Object.fromEntries(report.refusals.map((r) => [r.sourceId, r.reason]));
    expect(reasons['MALFORMED']).toMatch(/^malformed JSON/);
    expect(reasons['NO-ZONE']).toBe('at must be an ISO 8601 instant with a zone (Z or ±hh:mm)');
    expect(reasons['DECIMAL']).toBe('amount must be an integer (minor units)');
    expect(reasons['ORPHAN']).toMatch(/parent deal NEVER appears neither/);
    expect(report.refusals.every((r) => r.file === path && r.subject === 'deal')).toBe(true);
    expect(report.deals).toEqual({ imported: 3, unchanged: 0, refused: 9 }); // OK-1, OK-2 and TWICE's first block
    for (const id of ['MALFORMED', 'NO-STAGE', 'NO-ZONE', 'DECIMAL', 'XYZ', 'ORPHAN', 'CLOSED', 'SAME-RECORD'])
      expect([id, (await streamOf(id)).length]).toEqual([id, 0]);
    expect((await streamOf('OK-1')).map((e) => e.type)).toEqual(['DealCreated', 'StageAdvanced']);
    expect((await streamOf('OK-2')).map((e) => e.type)).toEqual(['DealCreated']);
    expect((await streamOf('TWICE')).map((e) => e.data)).toEqual([expect.objectContaining({ title: 'Deal TWICE' })]);
  });

  it('refuses a file of the wrong format before writing anything', async () => {
    const csv = join(dir, 'opportunities.csv');
    writeFileSync(csv, 'OpportunityId,CreatedDate,StageName,Amount\n006A,2025-01-01T00:00:00Z,Prospecting,1000\n');
    const before = (await store.readAll({ limit: 1000 })).events.length;
    await expect(run([csv])).rejects.toThrow(ImportFormatError);
    await expect(run([csv])).rejects.toThrow(/opportunities\.csv:1: not a canonical import file/);
    // a JSON file that is not ours either
    const other = file({ deals: [] });
    await expect(run([other])).rejects.toThrow(/:1: not a canonical import file/);
    expect((await store.readAll({ limit: 1000 })).events).toHaveLength(before);
  });

  it('an overlapping later export appends only what is new; the same changes listed twice count once', async () => {
    const first = file(header, pipeline, deal('OV'), move('OV', 'OV-h1', '2025-02-01T00:00:00Z'));
    expect((await run([first])).events.appended).toBe(2); // created, moved (the pipeline is there since the first test)
    const later = file(
      header,
      pipeline,
      deal('OV'),
      move('OV', 'OV-h1', '2025-02-01T00:00:00Z'),
      move('OV', 'OV-h1', '2025-02-01T00:00:00Z'), // the same record twice: one change
      won('OV', 'OV-h2', '2025-02-05T00:00:00Z'),
      deal('OV-NEW'),
    );
    const report = await run([later]);
    expect(report.refusals).toEqual([]);
    expect(report.events).toEqual({ appended: 2, byType: { DealWon: 1, DealCreated: 1 } });
    expect(report.deals).toEqual({ imported: 2, unchanged: 0, refused: 0 });
    const stream = await streamOf('OV');
    expect(stream.map((e) => [e.type, e.metadata.provenance?.sourceRecordId])).toEqual([
      ['DealCreated', 'OV'],
      ['StageAdvanced', 'OV-h1'],
      ['DealWon', 'OV-h2'],
    ]);
    // the first two keep the first run's import id; the new one carries the second run's
    expect(stream[0].metadata.provenance!.importId).not.toBe(stream[2].metadata.provenance!.importId);
    expect(stream[2].metadata.provenance!.importId).toBe(report.importId);
  });

  it('a change inserted before imported ones is refused as a rewritten history, nothing appended', async () => {
    const first = file(header, pipeline, deal('RW'), won('RW', 'RW-h2', '2025-02-05T00:00:00Z'));
    await run([first]);
    const rewritten = file(
      header,
      pipeline,
      deal('RW'),
      move('RW', 'RW-h1', '2025-02-01T00:00:00Z'),
      won('RW', 'RW-h2', '2025-02-05T00:00:00Z'),
    );
    const report = await run([rewritten]);
    expect(report.refusals.map((r) => [r.sourceId, r.line, r.code])).toEqual([['RW', 4, 'history-diverged']]);
    expect((await streamOf('RW')).map((e) => e.type)).toEqual(['DealCreated', 'DealWon']);
  });

  it('a deal with live events after its imported ones: nothing new is fine, new imported changes are refused', async () => {
    const first = file(header, pipeline, deal('LIVE'));
    await run([first]);
    const streamId = dealStreamName(importIds.deal(SYSTEM, 'LIVE'));
    await handleCommand(
      store,
      streamId,
      (): DealEvent[] => [{ type: 'DealOwnerReassigned', data: { ownerId: 'kim', previousOwnerId: 'sam' } }],
      {
        decider: dealDecider,
        context: { actorId: 'kim', correlationId: 'live', now: new Date('2025-03-01T00:00:00Z') },
      },
    );
    const same = await run([first]);
    expect(same.refusals).toEqual([]);
    expect(same.deals).toMatchObject({ unchanged: 1 });
    const more = file(header, pipeline, deal('LIVE'), move('LIVE', 'LIVE-h1', '2025-02-01T00:00:00Z'));
    const report = await run([more]);
    expect(report.refusals.map((r) => [r.sourceId, r.line, r.code])).toEqual([['LIVE', 4, 'deal-has-live-events']]);
    expect((await store.readStream(streamId)).map((e) => e.type)).toEqual(['DealCreated', 'DealOwnerReassigned']);
  });

  it('a follow-on needs its parent won by its creation: in this run or an earlier one', async () => {
    const parents = file(header, pipeline, deal('PARENT'), won('PARENT', 'PARENT-w', '2025-01-10T00:00:00Z'));
    await run([parents]);
    const children = file(
      header,
      pipeline,
      deal('EARLY-CHILD', { kind: 'upsell', parent: 'PARENT', at: '2025-01-05T00:00:00Z' }), // before the win
      deal('CHILD', { kind: 'cross-sell', parent: 'PARENT', at: '2025-01-20T00:00:00Z', account: 'ACME Labs' }),
    );
    const report = await run([children]);
    expect(report.refusals.map((r) => [r.sourceId, r.line, r.code])).toEqual([
      ['EARLY-CHILD', 3, 'parent-deal-not-won'],
    ]);
    const [created] = await streamOf('CHILD');
    expect(created.data).toMatchObject({
      kind: 'cross-sell',
      parentDealId: importIds.deal(SYSTEM, 'PARENT'),
      account: 'ACME Labs',
    });
  });

  it('a broken line of a pipeline refuses the pipeline and every deal on it', async () => {
    const path = file(
      header,
      { ...pipeline, sourceId: 'PB', sourceRecordId: 'PB-def' },
      {
        type: 'pipeline-change',
        pipeline: 'PB',
        change: 'stage-renamed',
        sourceRecordId: 'PB-h1',
        at: '2025-01-05',
        actor: 'a',
        stage: 'S1',
        name: 'Uno',
      },
      deal('ON-PB', { pipeline: 'PB' }),
    );
    const report = await run([path]);
    expect(report.refusals.map((r) => [r.subject, r.sourceId, r.line, r.code])).toEqual([
      ['pipeline', 'PB', 3, 'invalid-record'],
      ['deal', 'ON-PB', 4, 'pipeline-refused'],
    ]);
    expect(await store.readStream(`pipeline-${importIds.pipeline(SYSTEM, 'PB')}`)).toEqual([]);
    expect(await streamOf('ON-PB')).toEqual([]);
  });

  it('a dry run decides everything, reports what it would append, and writes nothing', async () => {
    const path = file(
      header,
      pipeline,
      deal('DRY'),
      move('DRY', 'DRY-h1', '2025-01-03T00:00:00Z'),
      deal('DRY-BAD', { currency: 'USD' }),
    );
    const before = (await store.readAll({ limit: 1000 })).events.length;
    const report = await run([path], { dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(report.events).toEqual({ appended: 2, byType: { DealCreated: 1, StageAdvanced: 1 } });
    expect(report.refusals.map((r) => [r.sourceId, r.line, r.code])).toEqual([['DRY-BAD', 5, 'currency-mismatch']]);
    expect((await store.readAll({ limit: 1000 })).events).toHaveLength(before);
  });
});
