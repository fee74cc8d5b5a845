import { ImportFormatError } from '../canonical/canonical-reader.js';
import type { LineRef, SourcedLine } from '../canonical/canonical-records.js';
import { csvHeader, csvRows, type CsvRow } from './csv-rows.js';
import { dealBlock, refusedDeal, type VendorChange } from './deal-timeline.js';
import { readStageMap, type StageMap, type StageOutcome } from './stage-map.js';
import { minorUnits, vendorDate, vendorInstant } from './vendor-values.js';

/** Columns as Salesforce names them (Data Loader / Bulk API export of the objects, API field names). */
const OPPORTUNITY_COLUMNS = ['Id', 'Name', 'CreatedDate', 'StageName', 'OwnerId'] as const;
const HISTORY_COLUMNS = ['Id', 'OpportunityId', 'CreatedDate', 'StageName'] as const;

type Row = Extract<CsvRow, { error?: undefined }>;

/**
 * Salesforce: an Opportunity export and an OpportunityHistory export (CSV, any number of each, told
 * apart by their columns) and a stage map (StageName → dealstream stage, or IsClosed/IsWon). Every
 * opportunity becomes a deal created at its CreatedDate with the values of its first history row
 * (StageName, Amount, CloseDate; the Opportunity row's own when it has no history); every later
 * history row becomes the changes it shows against the row before. OwnerId is the opportunity's
 * current owner (OpportunityHistory does not track the owner). Rows with IsDeleted = true are skipped.
 *
 * Memory: the history rows are held (grouped by opportunity); the opportunities stream.
 */
export async function* readSalesforceExport(
  files: readonly string[],
  stageMapFile: string,
): AsyncGenerator<SourcedLine> {
  const map = await readStageMap(stageMapFile);
  const opportunityFiles: string[] = [];
  const historyFiles: string[] = [];
  for (const file of files) {
    let columns: string[];
    try {
      columns = await csvHeader(file);
    } catch (error) {
      if (!(error instanceof ImportFormatError)) throw error;
      throw new ImportFormatError(file, error.line, `not a Salesforce Opportunity export: ${error.reason}`);
    }
    const has = (names: readonly string[]) => names.every((name) => columns.includes(name));
    if (has(HISTORY_COLUMNS)) historyFiles.push(file);
    else if (has(OPPORTUNITY_COLUMNS) && (columns.includes('AccountId') || columns.includes('Account.Name')))
      opportunityFiles.push(file);
    else {
      throw new ImportFormatError(
        file,
        1,
        `not a Salesforce Opportunity export (columns ${[...OPPORTUNITY_COLUMNS, 'AccountId or Account.Name'].join(', ')}) ` +
          `nor an OpportunityHistory export (columns ${HISTORY_COLUMNS.join(', ')}); its columns: ${columns.join(', ') || 'none'}`,
      );
    }
  }
  if (opportunityFiles.length === 0)
    throw new ImportFormatError(files[0] ?? stageMapFile, 1, 'no Opportunity export among the files');

  yield { ref: { file: map.file, line: 1 }, record: map.header };
  for (const pipeline of map.pipelines) yield { ref: { file: map.file, line: pipeline.line }, record: pipeline.record };

  const history = new Map<string, { rows: Row[]; broken?: CsvRow }>();
  for (const file of historyFiles) {
    for await (const row of csvRows(file)) {
      const id = row.values.OpportunityId ?? '';
      if (id === '' && row.error !== undefined) {
        yield { ref: row.ref, error: row.error, code: 'invalid-record' };
        continue;
      }
      if (row.values.IsDeleted?.toLowerCase() === 'true') continue;
      const entry = history.get(id) ?? { rows: [] };
      history.set(id, entry);
      if (row.error !== undefined) entry.broken ??= row;
      else entry.rows.push(row);
    }
  }

  for (const file of opportunityFiles) {
    for await (const row of csvRows(file)) {
      const id = row.values.Id ?? '';
      if (row.error !== undefined) {
        yield id === '' ? { ref: row.ref, error: row.error } : refusedDeal(id, row.ref, 'invalid-record', row.error);
        history.delete(id);
        continue;
      }
      if (row.values.IsDeleted?.toLowerCase() === 'true') continue;
      const rows = history.get(id);
      history.delete(id);
      if (rows?.broken) {
        yield refusedDeal(id, rows.broken.ref, 'invalid-record', `OpportunityHistory row: ${rows.broken.error}`);
        continue;
      }
      yield* opportunity(row, rows?.rows ?? [], map);
    }
  }
  for (const [id, { rows, broken }] of history) {
    const ref = (broken ?? rows[0]).ref;
    yield refusedDeal(id, ref, 'deal-not-in-export', `OpportunityHistory of ${id}, which no Opportunity row has`);
  }
}

/** One opportunity and its history rows as a canonical deal block (or one refusal line). */
function opportunity(row: Row, historyRows: readonly Row[], map: StageMap): SourcedLine[] {
  const v = row.values;
  const id = v.Id;
  const pipeline = map.pipeline(undefined);
  if (!pipeline)
    return [
      refusedDeal(
        id,
        row.ref,
        'unknown-pipeline',
        'the stage map must have one pipeline without `source` for Salesforce',
      ),
    ];
  const currency = v.CurrencyIsoCode || map.currency;
  const fail = (ref: LineRef, code: string, reason: string) => [refusedDeal(id, ref, code, reason)];
  const at = vendorInstant(v.CreatedDate);
  if (at === undefined)
    return fail(
      row.ref,
      'invalid-record',
      `CreatedDate ${JSON.stringify(v.CreatedDate)} is not an instant with a zone (Z or ±hh:mm)`,
    );
  // Sorted by CreatedDate; ties keep the export's order.
  const rows = historyRows
    .map((r, i) => ({ r, i, at: vendorInstant(r.values.CreatedDate) }))
    .sort((a, b) => (a.at === undefined || b.at === undefined ? 0 : Date.parse(a.at) - Date.parse(b.at)) || a.i - b.i);
  const snapshots: {
    ref: LineRef;
    recordId: string;
    at: string;
    actor: string;
    stage: StageOutcome;
    amount: number;
    closeDate: string | null;
  }[] = [];
  for (const { r, at: rowAt } of rows.length > 0 ? rows : [{ r: row, at }]) {
    const s = r.values;
    if (rowAt === undefined)
      return fail(
        r.ref,
        'invalid-record',
        `CreatedDate ${JSON.stringify(s.CreatedDate)} is not an instant with a zone (Z or ±hh:mm)`,
      );
    const stage = pipeline.stages.get(s.StageName ?? '');
    if (!stage)
      return fail(
        r.ref,
        'unknown-stage',
        `StageName ${JSON.stringify(s.StageName)} is not in the stage map (${map.file})`,
      );
    const amount = minorUnits(s.Amount, currency);
    if ('error' in amount) return fail(r.ref, 'invalid-amount', amount.error);
    const closeDate = vendorDate(s.CloseDate);
    if (closeDate === undefined)
      return fail(r.ref, 'invalid-record', `CloseDate ${JSON.stringify(s.CloseDate)} is not a date YYYY-MM-DD`);
    snapshots.push({
      ref: r.ref,
      recordId: s.Id,
      at: rowAt,
      actor: s.CreatedById || v.CreatedById || v.OwnerId,
      stage,
      amount: amount.amount,
      closeDate,
    });
  }
  const [first, ...later] = snapshots;
  const changes: VendorChange[] = later.flatMap((s) => [
    { ...s, field: { name: 'close-date', date: s.closeDate } } as const,
    { ...s, field: { name: 'amount', amount: s.amount } } as const,
    { ...s, field: { name: 'stage', outcome: s.stage } } as const,
  ]);
  return dealBlock(
    {
      sourceId: id,
      ref: row.ref,
      at,
      actor: v.CreatedById || v.OwnerId,
      pipeline,
      title: v.Name,
      account: v['Account.Name'] || v.AccountId || '(no account)',
      currency,
      owner: v.OwnerId,
      initial: { stage: first.stage, amount: first.amount, closeDate: first.closeDate },
    },
    changes,
  );
}
