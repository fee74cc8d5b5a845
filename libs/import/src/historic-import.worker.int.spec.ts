import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyHashChains } from '@dealstream/audit';
import { SqlEventStore, migrateEventStore, type EventStore, type RecordedEvent } from '@dealstream/event-store';
import { createPGliteTestDatabase, type TestDatabase } from '../../../test/support/test-database.js';
import { ImportFormatError, canonicalFilesOf, readCanonicalFiles } from './canonical/canonical-reader.js';
import { WORKER_MIN_BYTES, runHistoricImport, type HistoricImportOptions } from './historic-import.js';
import { canonicalDeal, canonicalHeader, twoStagePipeline } from './testing/canonical-records.js';

/*
 * The import worker (import-worker.ts) reads and decides plain deal blocks off the run's thread; every
 * other line goes to the run as before. Whatever the input, a run through the worker must store and
 * report exactly what a run on one thread does.
 */

const dir = mkdtempSync(join(tmpdir(), 'import-worker-'));
let fileNo = 0;
function file(...lines: (object | string)[]): string {
  const path = join(dir, `import-${++fileNo}.ndjson`);
  writeFileSync(path, lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n');
  return path;
}

const SYSTEM = 'worker-crm';
const deal = canonicalDeal;
const change = (id: string, record: string, at: string, fields: object) => ({
  type: 'deal-change',
  deal: id,
  sourceRecordId: record,
  at,
  actor: 'sam',
  ...fields,
});
const move = (id: string, record: string, at: string, stage = 'S2') =>
  change(id, record, at, { change: 'stage', stage });
const won = (id: string, record: string, at: string) => change(id, record, at, { change: 'won' });

/** Every kind of line and block the worker decides, hands over, or breaks off. */
const MIXED = [
  canonicalHeader(SYSTEM),
  twoStagePipeline,
  deal('A'),
  move('A', 'A-m', '2025-01-03T00:00:00Z'),
  won('A', 'A-w', '2025-01-04T00:00:00Z'),
  '',
  deal('B'),
  '{"type":"deal-change","deal":"B", broken',
  move('B', 'B-m', '2025-01-03T00:00:00Z'),
  deal('C'),
  move('A', 'A-late', '2025-01-05T00:00:00Z'), // another deal's change inside C's block
  move('C', 'C-m', '2025-01-03T00:00:00Z'),
  deal('D', { kind: 'upsell', parent: 'A', at: '2025-01-10T00:00:00Z' }), // decided by the run
  deal('E', { stage: 'NOPE' }),
  deal('F'),
  move('F', 'F-early', '2025-01-01T12:00:00Z'), // before the deal's creation
  deal('G', { pipeline: 'UNKNOWN' }),
  deal('A', { title: 'Other A' }), // the same source id with other content
  deal('H'),
  move('H', 'H-m', '2025-01-03T00:00:00Z'),
  move('H', 'H-m', '2025-01-03T00:00:00Z'), // the same change twice
  { ...twoStagePipeline, sourceId: 'LATE' }, // a pipeline after the deals
  deal('I'),
  change('I', 'I-x', '2025-01-03T00:00:00Z', { change: 'activity', kind: 'call', note: 'first' }),
  change('I', 'I-x', '2025-01-03T00:00:00Z', { change: 'activity', kind: 'call', note: 'other' }), // same id, other content
  move('NOBODY', 'N-m', '2025-01-03T00:00:00Z'), // a change outside any block
  deal('J'),
  move('J', 'J-m', '2025-01-03T00:00:00Z'),
];

/** A stream's events as the import decided them (not the store's clock or positions). */
const decided = (events: readonly RecordedEvent[]) =>
  events.map((event) => ({
    eventId: event.eventId,
    revision: event.revision,
    type: event.type,
    data: event.data,
    occurredAt: event.metadata.occurredAt.toISOString(),
    actorId: event.metadata.actorId,
    commandId: event.metadata.commandId,
    provenance: event.metadata.provenance,
  }));

describe('historic import through the import worker (PGlite)', () => {
  const databases: TestDatabase[] = [];
  const storeOf = async () => {
    const database = await createPGliteTestDatabase();
    databases.push(database);
    await migrateEventStore(database.db);
    return { database, store: new SqlEventStore(database.db) };
  };
  afterAll(async () => {
    for (const database of databases) await database.drop();
  });

  const importInto = (store: EventStore, files: string[], options: Partial<HistoricImportOptions> = {}) =>
    runHistoricImport(readCanonicalFiles(files), {
      store,
      actorId: 'importer',
      importId: 'imp-w',
      worker: true, // these files are small: by default they would be read on the run's thread
      ...options,
    });

  async function everything(database: TestDatabase, store: EventStore) {
    const streams = await database.db
      .selectFrom('event_store.streams' as never)
      .select('stream_id' as never)
      .orderBy('stream_id' as never)
      .execute();
    const all: Record<string, unknown> = {};
    for (const { stream_id } of streams as { stream_id: string }[])
      all[stream_id] = decided(await store.readStream(stream_id));
    return all;
  }

  it('stores and reports what a run on one thread does, for every kind of block and broken line', async () => {
    const path = file(...MIXED);
    const onWorker = await storeOf();
    const alone = await storeOf();
    const lines = readCanonicalFiles([path]);
    const viaWorker = await runHistoricImport(lines, {
      store: onWorker.store,
      actorId: 'importer',
      importId: 'imp-w',
      worker: true,
    });
    // The worker read the file: the run never started the lines it was given.
    expect(canonicalFilesOf(lines)).toEqual([path]);
    const onThread = await importInto(alone.store, [path], { worker: false });

    expect(viaWorker).toEqual(onThread);
    expect(viaWorker.refusals.map((refusal) => [refusal.sourceId, refusal.line, refusal.code])).toEqual([
      ['B', 8, 'invalid-record'],
      ['A', 11, 'change-outside-deal-block'],
      ['E', 14, 'unknown-stage'],
      ['F', 16, 'change-before-creation'],
      ['G', 17, 'unknown-pipeline'],
      ['A', 18, 'duplicate-source-id'],
      ['LATE', 22, 'pipeline-after-deals'],
      ['NOBODY', 26, 'change-outside-deal-block'],
      ['I', 25, 'duplicate-source-id'],
    ]);
    expect(viaWorker).toMatchObject({ records: 27, deals: { imported: 5, refused: 6 } });
    expect(await everything(onWorker.database, onWorker.store)).toEqual(await everything(alone.database, alone.store));
    // The worker computed the canonical forms the store hashed (StreamAppend.canonicalParts): the
    // chains verify against the events as stored.
    expect(await verifyHashChains(onWorker.database.db)).toMatchObject({ ok: true, brokenStreams: 0 });

    // Again: nothing new, on either path; a dry run reports the same too.
    const again = await importInto(onWorker.store, [path]);
    expect(again.events.appended).toBe(0);
    expect(again).toEqual({ ...(await importInto(alone.store, [path], { worker: false })), importId: again.importId });
    const dry = await importInto(onWorker.store, [path], { dryRun: true });
    expect(dry).toEqual(await importInto(alone.store, [path], { dryRun: true, worker: false }));
  });

  it('a follow-on decided by the run finds its parent the worker decided', async () => {
    const path = file(
      canonicalHeader(SYSTEM),
      twoStagePipeline,
      deal('P1'),
      won('P1', 'P1-w', '2025-01-04T00:00:00Z'),
      deal('C1', { kind: 'cross-sell', parent: 'P1', at: '2025-01-10T00:00:00Z', account: 'ACME Labs' }),
    );
    const { store } = await storeOf();
    const report = await importInto(store, [path]);
    expect(report.refusals).toEqual([]);
    expect(report.deals).toEqual({ imported: 2, unchanged: 0, refused: 0 });
    const dry = await importInto((await storeOf()).store, [path], { dryRun: true });
    expect(dry.deals).toEqual({ imported: 2, unchanged: 0, refused: 0 });
  });

  it('a file that is not canonical fails the run with ImportFormatError, as on one thread', async () => {
    const path = file({ type: 'deal', sourceId: 'X' });
    const { store } = await storeOf();
    const failure = importInto(store, [path]);
    await expect(failure).rejects.toBeInstanceOf(ImportFormatError);
    await expect(failure).rejects.toMatchObject({ file: path, line: 1 });
    const second = file(canonicalHeader('another-crm'), deal('Y'));
    await expect(importInto(store, [file(canonicalHeader(SYSTEM)), second])).rejects.toThrow(
      /source system another-crm differs from worker-crm/,
    );
  });

  it("the worker's failure is the run's failure (a file it cannot read)", async () => {
    const { store } = await storeOf();
    await expect(importInto(store, [join(dir, 'missing.ndjson')])).rejects.toThrow(/ENOENT/);
  });

  it('by default, reads files on the worker only from WORKER_MIN_BYTES on: a small import does not wait for its start', async () => {
    const small = file(canonicalHeader(SYSTEM), twoStagePipeline, deal('S1'));
    const smallLines = readCanonicalFiles([small]);
    const { store } = await storeOf();
    const byDefault = { store, actorId: 'importer', importId: 'imp-w' }; // no `worker`: 'auto'
    expect((await runHistoricImport(smallLines, byDefault)).deals.imported).toBe(1);
    expect(canonicalFilesOf(smallLines)).toBeUndefined(); // this thread read the lines

    // The same records padded to exactly the threshold with lines of spaces (blank: the reader skips them).
    const padded = join(dir, `import-${++fileNo}.ndjson`);
    const records = [canonicalHeader(SYSTEM), twoStagePipeline, deal('S2')].map((r) => JSON.stringify(r)).join('\n');
    const blank = ' '.repeat(512 * 1024 - 1) + '\n';
    const padding = WORKER_MIN_BYTES - records.length - 1;
    writeFileSync(
      padded,
      `${records}\n${blank.repeat(Math.floor(padding / blank.length))}${' '.repeat(padding % blank.length)}`,
    );
    expect(statSync(padded).size).toBe(WORKER_MIN_BYTES);
    const paddedLines = readCanonicalFiles([padded]);
    expect((await runHistoricImport(paddedLines, byDefault)).deals.imported).toBe(1);
    expect(canonicalFilesOf(paddedLines)).toEqual([padded]); // the worker read the file
  });

  it("the store's failure stops the run and its worker", async () => {
    const { store } = await storeOf();
    const failing: EventStore = Object.assign(Object.create(store) as EventStore, {
      appendMany: () => Promise.reject(new Error('disk full')),
    });
    const path = file(
      canonicalHeader(SYSTEM),
      twoStagePipeline,
      ...Array.from({ length: 50 }, (_, n) => deal(`Z${n}`)),
    );
    await expect(importInto(failing, [path], { batchEvents: 5 })).rejects.toThrow('disk full');
  });
});
