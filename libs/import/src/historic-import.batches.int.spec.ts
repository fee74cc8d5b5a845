import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqlEventStore, migrateEventStore } from '@dealstream/event-store';
import { createPGliteTestDatabase, type TestDatabase } from '../../../test/support/test-database.js';
import { readCanonicalFiles } from './canonical/canonical-reader.js';
import { runHistoricImport } from './historic-import.js';

/*
 * Batched writing (issue 14, scale) changes nothing but speed: the fixture, followed by the same deals
 * again (a repeat, counted once), a deal repeated with other content, a change outside its block, a
 * deal broken by a malformed line and a follow-on of a deal of the file, imported with batches of 1,
 * 2 and 7 events and of the default size — the same report (refusals in the same order) and the same
 * streams.
 */
function writeInput(): string {
  const fixture = readFileSync('libs/import/src/testing/acme-crm.canonical.ndjson', 'utf8').trimEnd().split('\n');
  const deals = fixture.filter((line) => line.includes('"type":"deal"') || line.includes('"type":"deal-change"'));
  const extra = [
    ...deals
      .filter((line) => line.includes('OPP-3'))
      .map((line) => line.replace('"title":"D3"', '"title":"D3 renamed"')),
    '{"type":"deal-change","deal":"OPP-2","change":"stage","sourceRecordId":"X-1","at":"2025-01-05T00:00:00Z","actor":"a","stage":"B"}',
    '{"type":"deal","sourceId":"OPP-8","sourceRecordId":"OPP-8","at":"2025-01-20T00:00:00Z","actor":"sam@acme","pipeline":"P1","title":"D8","account":"Account 8","amount":800,"currency":"EUR","owner":"sam"}',
    '{"type":"deal", this is not JSON',
    '{"type":"deal","sourceId":"OPP-9","sourceRecordId":"OPP-9","at":"2025-01-20T00:00:00Z","actor":"sam@acme","pipeline":"P1","title":"D9","account":"Account 1","amount":700,"currency":"EUR","owner":"sam","kind":"cross-sell","parent":"OPP-1"}',
  ];
  const file = join(mkdtempSync(join(tmpdir(), 'import-batches-')), 'input.ndjson');
  writeFileSync(file, [...fixture, ...deals, ...extra].join('\n') + '\n');
  return file;
}

describe('historic import in batches (PGlite)', () => {
  const file = writeInput();
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    for (const database of databases) await database.drop();
  });

  const importWith = async (batchEvents: number | undefined) => {
    const database = await createPGliteTestDatabase();
    databases.push(database);
    await migrateEventStore(database.db);
    const store = new SqlEventStore(database.db);
    const report = await runHistoricImport(readCanonicalFiles([file]), {
      store,
      actorId: 'importer',
      importId: 'imp-batches',
      ...(batchEvents !== undefined ? { batchEvents } : {}),
    });
    const rows = await database.db
      .selectFrom('event_store.events')
      .select(['event_id', 'stream_id', 'stream_revision', 'type', 'data', 'occurred_at'])
      .orderBy('stream_id')
      .orderBy('stream_revision')
      .execute();
    return { report, streams: rows.map((row) => ({ ...row, stream_revision: String(row.stream_revision) })) };
  };

  it('batches of 1, 2, 7 and the default size give the same report and the same streams', async () => {
    const reference = await importWith(undefined);
    expect(reference.report).toMatchObject({
      deals: { imported: 8, unchanged: 7, refused: 2 },
      events: { appended: 21 },
    });
    // As without batches: a line refused while a deal block is open comes before that deal's refusal.
    expect(
      reference.report.refusals.map((refusal) => [refusal.subject, refusal.sourceId, refusal.line, refusal.code]),
    ).toEqual([
      ['line', 'OPP-2', 42, 'change-outside-deal-block'],
      ['deal', 'OPP-3', 38, 'duplicate-source-id'],
      ['deal', 'OPP-8', 44, 'invalid-record'],
    ]);
    for (const batchEvents of [1, 2, 7]) expect(await importWith(batchEvents)).toEqual(reference);
  }, 120_000);
});
