import { createReadStream } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import {
  ImportFormatError,
  VENDOR_FORMATS,
  readCanonicalFiles,
  readVendorExport,
  runHistoricImport,
  type ImportReport,
  type HistoricImportOptions,
  type SourcedLine,
  type VendorFormat,
} from '@dealstream/import';
import { openStore } from './open-store.js';

/**
 * Exit codes of `import` (docs/import.md):
 * 0 everything imported (or already there); 1 deals refused (the others written; with --strict nothing
 * written); 2 unusable invocation or input (usage, unknown format, unreadable file, not a canonical file),
 * nothing written; 3 stopped by a failure part-way (database gone, …): run the same import again to complete it.
 */
const IMPORT_EXIT = { ok: 0, refused: 1, unusable: 2, interrupted: 3 } as const;

const FORMATS = ['canonical', ...VENDOR_FORMATS] as const;
const isVendorFormat = (format: string): format is VendorFormat =>
  (VENDOR_FORMATS as readonly string[]).includes(format);

/**
 * `import --format canonical|salesforce|hubspot|pipedrive <files…> [--stage-map <f>] [--dry-run] [--strict] [--json]
 * [--actor <name>] [--import-id <id>]` — a vendor format needs its stage map (docs/import.md).
 */
export async function importCommand(args: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        format: { type: 'string' },
        'stage-map': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        strict: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        actor: { type: 'string' },
        'import-id': { type: 'string' },
      },
    });
  } catch (error) {
    return unusable(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals: files } = parsed;
  if (values.format === undefined) return unusable(`--format is required (${FORMATS.join(', ')})`);
  const format = values.format;
  if (!(FORMATS as readonly string[]).includes(format)) {
    return unusable(
      `--format ${format}: no adapter for it (${FORMATS.join(', ')}); convert the export to the canonical format (docs/import.md)`,
    );
  }
  if (files.length === 0) return unusable('name at least one file to import');
  const stageMap = values['stage-map'];
  if (isVendorFormat(format) && stageMap === undefined)
    return unusable(`--format ${format} needs --stage-map <file>: vendor stages → dealstream stages (docs/import.md)`);
  if (!isVendorFormat(format) && stageMap !== undefined)
    return unusable('--stage-map is for vendor formats; a canonical file defines its pipelines itself');
  const read = (): AsyncIterable<SourcedLine> =>
    isVendorFormat(format) ? readVendorExport(format, files, stageMap!) : readCanonicalFiles(files);
  for (const [option, value] of [
    ['--actor', values.actor],
    ['--import-id', values['import-id']],
  ] as const) {
    // Both land in every event's metadata: one printable line, like a token's sub.
    if (value !== undefined && !/^[^\p{Cc}\p{Cs}\u2028\u2029\u202a-\u202e\u2066-\u2069]{1,200}$/u.test(value))
      return unusable(`${option} must be 1 to 200 printable characters on one line`);
  }
  // Events per written batch (DEFAULT_IMPORT_BATCH_EVENTS unless set): on the SQL store a batch is one transaction.
  const batchSetting = process.env.IMPORT_BATCH_EVENTS;
  const batchEvents = batchSetting === undefined || batchSetting === '' ? undefined : Number(batchSetting);
  if (batchEvents !== undefined && !(Number.isSafeInteger(batchEvents) && batchEvents >= 1))
    return unusable(`IMPORT_BATCH_EVENTS must be an integer ≥ 1, got '${batchSetting}'`);
  // Canonical files of 8 MiB or more are read and decided on the import worker; IMPORT_WORKER=on or off
  // decides it whatever their size (docs/import.md, "Scale").
  const workerSetting = process.env.IMPORT_WORKER ?? '';
  if (!['', 'on', 'off'].includes(workerSetting))
    return unusable(`IMPORT_WORKER must be on or off, got '${workerSetting}'`);
  let total: number;
  try {
    // A vendor export's records are not its lines: the adapter counts them (and finds an unusable file before the store opens).
    total = isVendorFormat(format) ? await countRecords(read()) : await countLines(files);
  } catch (error) {
    if (error instanceof ImportFormatError) return unusable(error.message);
    return unusable(`cannot read the input: ${error instanceof Error ? error.message : String(error)}`);
  }

  const actorId = values.actor ?? `cli:${userInfo().username}`;
  const { database, store } = await openStore();
  const bar = new SingleBar(
    {
      format:
        'import |{bar}| {value}/{total} records | {deals} deals | {events} events | {rate} events/s | ETA {eta_formatted}',
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const started = Date.now();
  const options = (dryRun: boolean): HistoricImportOptions => ({
    store,
    actorId,
    dryRun,
    ...(values['import-id'] !== undefined ? { importId: values['import-id'] } : {}),
    ...(batchEvents !== undefined ? { batchEvents } : {}),
    worker: workerSetting === '' ? 'auto' : workerSetting === 'on',
    onProgress: ({ records, deals, events }) =>
      bar.update(Math.min(records, total), {
        deals,
        events,
        rate: Math.round(events / Math.max(0.001, (Date.now() - started) / 1000)),
      }),
  });
  try {
    bar.start(total, 0, { deals: 0, events: 0, rate: 0 });
    if (values.strict && !values['dry-run']) {
      // All or nothing: decide everything first; write only when nothing would be refused.
      const preflight = await runHistoricImport(read(), options(true));
      if (preflight.refusals.length > 0) {
        bar.stop();
        print({ ...preflight, dryRun: false }, values.json, 'strict: refusals found, nothing written');
        process.exitCode = IMPORT_EXIT.refused;
        return;
      }
      bar.update(0);
    }
    const report = await runHistoricImport(read(), options(values['dry-run']));
    bar.update(total);
    bar.stop();
    print(report, values.json);
    process.exitCode = report.refusals.length > 0 ? IMPORT_EXIT.refused : IMPORT_EXIT.ok;
  } catch (error) {
    bar.stop();
    if (error instanceof ImportFormatError) return unusable(error.message);
    console.error(
      `import stopped: ${error instanceof Error ? error.message : String(error)}\n` +
        'every deal is written whole or not at all: run the same import again to complete it',
    );
    process.exitCode = IMPORT_EXIT.interrupted;
  } finally {
    await database.close();
  }
}

function unusable(message: string): void {
  console.error(`import: ${message}`);
  process.exitCode = IMPORT_EXIT.unusable;
}

/** Records an adapter yields (for the progress bar's total). */
async function countRecords(lines: AsyncIterable<SourcedLine>): Promise<number> {
  let records = 0;
  for await (const _ of lines) records++;
  return Math.max(records, 1);
}

/** Lines in the files, streamed (for the progress bar's total). */
async function countLines(files: readonly string[]): Promise<number> {
  let lines = 0;
  for (const file of files) {
    for await (const chunk of createReadStream(file)) {
      const buffer = chunk as Buffer;
      for (let i = buffer.indexOf(10); i !== -1; i = buffer.indexOf(10, i + 1)) lines++;
    }
  }
  return Math.max(lines, 1);
}

function print(report: ImportReport, json: boolean, note?: string): void {
  if (json) {
    console.log(JSON.stringify(note ? { ...report, note } : report, null, 2));
    return;
  }
  const verb = report.dryRun ? 'would append' : 'appended';
  console.log(
    `import ${report.importId} from ${report.sourceSystem ?? '?'}${report.dryRun ? ' (dry run: nothing written)' : ''}: ` +
      `${report.records} records; pipelines ${report.pipelines.imported} imported, ${report.pipelines.unchanged} unchanged, ` +
      `${report.pipelines.refused} refused; deals ${report.deals.imported} imported, ${report.deals.unchanged} unchanged, ` +
      `${report.deals.refused} refused; ${report.events.appended} events ${verb}`,
  );
  for (const [type, count] of Object.entries(report.events.byType).sort())
    console.log(`  ${type.padEnd(26)} ${String(count).padStart(9)}`);
  if (report.refusals.length > 0) console.log(`refused (${report.refusals.length}):`);
  for (const refusal of report.refusals) {
    console.log(
      `  ${refusal.file}:${refusal.line}  ${refusal.subject}${refusal.sourceId !== undefined ? ` ${refusal.sourceId}` : ''}  ${refusal.code}: ${refusal.reason}`,
    );
  }
  if (note) console.log(note);
}
