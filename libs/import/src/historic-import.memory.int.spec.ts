import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqlEventStore, migrateEventStore, type EventStore } from '@dealstream/event-store';
import { dealStreamName } from '@dealstream/deals-domain';
import { createPGliteTestDatabase, type TestDatabase } from '../../../test/support/test-database.js';
import { readCanonicalFiles } from './canonical/canonical-reader.js';
import { ImportRun } from './historic-import.js';
import { importIds } from './import-ids.js';
import { canonicalDeal, canonicalHeader, twoStagePipeline } from './testing/canonical-records.js';

/*
 * Memory flat in the file's size (issue 14, scale): a written run remembers nothing of a deal it wrote
 * (the store does: repeats and follow-ons read it there), only the refused deals, which its report
 * lists anyway. Before 2026-12-07 c it kept an outcome for every deal seen (~150 bytes each).
 */
const SYSTEM = 'memory-crm';
const dir = mkdtempSync(join(tmpdir(), 'import-memory-'));
const at = (day: number) => `2025-01-${String(day).padStart(2, '0')}T00:00:00Z`;
const deal = canonicalDeal;
const change = (id: string, record: string, day: number, fields: object) => ({
  type: 'deal-change',
  deal: id,
  sourceRecordId: record,
  at: at(day),
  actor: 'sam',
  ...fields,
});

/** 300 deals (each created and moved), 2 refused (unknown stage); a won deal P-0 repeated with a change its closing refuses, then a follow-on of it. */
function input(): string {
  const lines: object[] = [
    canonicalHeader(SYSTEM),
    twoStagePipeline,
    deal('P-0'),
    change('P-0', 'P-0-w', 3, { change: 'won' }),
  ];
  for (let n = 1; n < 300; n++) {
    lines.push(
      deal(`D-${n}`),
      change(`D-${n}`, `D-${n}-m`, 3, { change: 'stage', stage: n % 150 === 7 ? 'S9' : 'S2' }),
    );
  }
  lines.push(
    deal('P-0'), // the same deal again, with a move after its win: refused, but written before by this run
    change('P-0', 'P-0-w', 3, { change: 'won' }),
    change('P-0', 'P-0-m', 4, { change: 'stage', stage: 'S2' }),
    deal('CHILD', { kind: 'upsell', parent: 'P-0', at: at(5) }),
  );
  const path = join(dir, 'input.ndjson');
  writeFileSync(path, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
  return path;
}

describe('what an import run holds (PGlite)', () => {
  const path = input();
  let database: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    database = await createPGliteTestDatabase();
    await migrateEventStore(database.db);
    store = new SqlEventStore(database.db);
  });
  afterAll(() => database.drop());

  it('a dry run remembers every deal; a written run only the refused ones, and repeats and follow-ons still answer as before', async () => {
    const dry = new ImportRun({ store, actorId: 'importer', dryRun: true, batchEvents: 50 });
    const dryReport = await dry.consume(readCanonicalFiles([path]));
    expect(dry.rememberedDeals).toBe(301);

    const written = new ImportRun({ store, actorId: 'importer', batchEvents: 50 });
    const report = await written.consume(readCanonicalFiles([path]));
    expect(report.refusals.map((r) => [r.sourceId, r.code])).toEqual([
      ['D-7', 'unknown-stage'],
      ['D-157', 'unknown-stage'],
      ['P-0', 'deal-closed'],
    ]);
    expect(dryReport.refusals).toEqual(report.refusals);
    expect(report.deals).toEqual({ imported: 299, unchanged: 0, refused: 3 });
    // The refused deals only: not P-0, whose repeat was refused but whose first block this run wrote.
    expect(written.rememberedDeals).toBe(2);
    const child = await store.readStream(dealStreamName(importIds.deal(SYSTEM, 'CHILD')));
    expect(child.map((event) => event.type)).toEqual(['DealCreated']);

    const again = new ImportRun({ store, actorId: 'importer', batchEvents: 50 });
    const rerun = await again.consume(readCanonicalFiles([path]));
    // The same report again (the follow-on decided against P-0's stream), the same two remembered.
    expect(rerun.events.appended).toBe(0);
    expect(rerun.refusals).toEqual(report.refusals);
    expect(rerun.deals).toEqual({ imported: 0, unchanged: 299, refused: 3 });
    expect(again.rememberedDeals).toBe(2);
  });
});
