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
 * Memory: when both exports are sorted by opportunity id (checked in a first pass), one opportunity's
 * history rows (a merge join); otherwise the history rows are held, grouped by opportunity, while the
 * opportunities stream.
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

  const history: HistoryJoin =
    (await sortedBy(opportunityFiles, 'Id')) && (await sortedBy(historyFiles, 'OpportunityId'))
      ? new StreamedHistory(historyFiles)
      : new HeldHistory(historyFiles);
  yield* history.start();
  for (const file of opportunityFiles) {
    for await (const row of csvRows(file)) {
      const id = row.values.Id ?? '';
      const { lines, group } = await history.take(id);
      yield* lines;
      if (row.error !== undefined) {
        yield id === '' ? { ref: row.ref, error: row.error } : refusedDeal(id, row.ref, 'invalid-record', row.error);
        continue;
      }
      if (row.values.IsDeleted?.toLowerCase() === 'true') continue;
      if (group?.broken) {
        yield refusedDeal(id, group.broken.ref, 'invalid-record', `OpportunityHistory row: ${group.broken.error}`);
        continue;
      }
      yield* opportunity(row, group?.rows ?? [], map);
    }
  }
  for await (const { id, group, line } of history.rest()) {
    if (line) {
      yield line;
      continue;
    }
    const ref = (group!.broken ?? group!.rows[0]).ref;
    yield refusedDeal(id!, ref, 'deal-not-in-export', `OpportunityHistory of ${id}, which no Opportunity row has`);
  }
}

/** One opportunity's history rows (a row with the wrong number of fields breaks the opportunity). */
interface HistoryGroup {
  readonly rows: Row[];
  broken?: CsvRow;
}

/** Joins the OpportunityHistory rows to the opportunities, as the opportunities stream by. */
interface HistoryJoin {
  /** Lines to yield before the first opportunity. */
  start(): AsyncGenerator<SourcedLine>;
  /** The history of opportunity `id` (taken: not given again), and lines to yield before it. */
  take(id: string): Promise<{ lines: SourcedLine[]; group?: HistoryGroup }>;
  /** What no opportunity took: its groups by opportunity id, or a line to yield. */
  rest(): AsyncGenerator<{ id?: string; group?: HistoryGroup; line?: SourcedLine }>;
}

/** Whether the rows of these files, in this order, are sorted by `column` (code-unit order, repeats allowed). */
async function sortedBy(files: readonly string[], column: string): Promise<boolean> {
  let last = '';
  for (const file of files) {
    for await (const row of csvRows(file)) {
      const value = row.values[column] ?? '';
      if (value === '' && row.error !== undefined) continue;
      if (value < last) return false;
      last = value;
    }
  }
  return true;
}

/** A history row, or an unreadable row that names no opportunity (a line of its own). */
type HistoryItem = { id: string; row: CsvRow } | { line: SourcedLine };

async function* historyItems(files: readonly string[]): AsyncGenerator<HistoryItem> {
  for (const file of files) {
    for await (const row of csvRows(file)) {
      const id = row.values.OpportunityId ?? '';
      if (id === '' && row.error !== undefined) {
        yield { line: { ref: row.ref, error: row.error, code: 'invalid-record' } };
        continue;
      }
      if (row.values.IsDeleted?.toLowerCase() === 'true') continue;
      yield { id, row };
    }
  }
}

const addRow = (group: HistoryGroup, row: CsvRow) => {
  if (row.error !== undefined) group.broken ??= row;
  else group.rows.push(row);
};

/**
 * Both exports sorted by opportunity id (`ORDER BY Id` / `ORDER BY OpportunityId`, or `sort`): a merge
 * join — memory holds one opportunity's history rows.
 */
class StreamedHistory implements HistoryJoin {
  private readonly items: AsyncGenerator<HistoryItem>;
  private next: HistoryItem | undefined;
  private done = false;

  constructor(files: readonly string[]) {
    this.items = historyItems(files);
  }

  async *start(): AsyncGenerator<SourcedLine> {}

  private async advance(): Promise<void> {
    const result = await this.items.next();
    this.done = result.done === true;
    this.next = result.done ? undefined : result.value;
  }

  /** The next group (rows of one id) or loose line; undefined at the end. */
  private async group(): Promise<{ id?: string; group?: HistoryGroup; line?: SourcedLine } | undefined> {
    if (!this.next && !this.done) await this.advance();
    const first = this.next;
    if (!first) return undefined;
    if ('line' in first) {
      await this.advance();
      return { line: first.line };
    }
    const group: HistoryGroup = { rows: [] };
    while (this.next && 'id' in this.next && this.next.id === first.id) {
      addRow(group, this.next.row);
      await this.advance();
    }
    return { id: first.id, group };
  }

  private pending: { id?: string; group?: HistoryGroup; line?: SourcedLine } | undefined;

  async take(id: string): Promise<{ lines: SourcedLine[]; group?: HistoryGroup }> {
    const lines: SourcedLine[] = [];
    for (;;) {
      this.pending ??= await this.group();
      const current = this.pending;
      if (!current) return { lines };
      if (current.line) lines.push(current.line);
      else if (current.id! < id)
        lines.push(
          refusedDeal(
            current.id!,
            (current.group!.broken ?? current.group!.rows[0]).ref,
            'deal-not-in-export',
            `OpportunityHistory of ${current.id!}, which no Opportunity row has`,
          ),
        );
      else if (current.id === id) {
        this.pending = undefined;
        return { lines, group: current.group! };
      } else return { lines };
      this.pending = undefined;
    }
  }

  async *rest(): AsyncGenerator<{ id?: string; group?: HistoryGroup; line?: SourcedLine }> {
    for (;;) {
      const current = this.pending ?? (await this.group());
      this.pending = undefined;
      if (!current) return;
      yield current;
    }
  }
}

/** Exports in any order: the history rows are held, grouped by opportunity, while the opportunities stream. */
class HeldHistory implements HistoryJoin {
  private readonly groups = new Map<string, HistoryGroup>();

  constructor(private readonly files: readonly string[]) {}

  async *start(): AsyncGenerator<SourcedLine> {
    for await (const item of historyItems(this.files)) {
      if ('line' in item) {
        yield item.line;
        continue;
      }
      const group = this.groups.get(item.id) ?? { rows: [] };
      this.groups.set(item.id, group);
      addRow(group, item.row);
    }
  }

  take(id: string): Promise<{ lines: SourcedLine[]; group?: HistoryGroup }> {
    const group = this.groups.get(id);
    this.groups.delete(id);
    return Promise.resolve({ lines: [], ...(group ? { group } : {}) });
  }

  async *rest(): AsyncGenerator<{ id?: string; group?: HistoryGroup; line?: SourcedLine }> {
    for (const [id, group] of this.groups) yield { id, group };
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
