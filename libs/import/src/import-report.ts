import type { LineRef } from './canonical/canonical-records.js';

/** Why something was not imported, and where in the input. */
export interface ImportRefusal {
  /** What was refused as a whole: a deal (with all its changes), a pipeline, or a line that belongs to neither. */
  readonly subject: 'deal' | 'pipeline' | 'line';
  /** The source id of the deal or pipeline. */
  readonly sourceId?: string;
  readonly file: string;
  readonly line: number;
  /** A stable code: a domain error code (`deal-closed`, `currency-mismatch`, …) or an import code (docs/import.md). */
  readonly code: string;
  readonly reason: string;
}

export interface ImportProgress {
  readonly records: number;
  readonly deals: number;
  readonly events: number;
}

export interface ImportReport {
  readonly importId: string;
  readonly sourceSystem: string | null;
  readonly dryRun: boolean;
  /** Lines that held a record (blank lines not counted), the header included. */
  readonly records: number;
  readonly pipelines: { readonly imported: number; readonly unchanged: number; readonly refused: number };
  /** `imported`: events appended (or, dry run, that would be); `unchanged`: everything already there. */
  readonly deals: { readonly imported: number; readonly unchanged: number; readonly refused: number };
  /** Events appended (dry run: that would be appended), by type. */
  readonly events: { readonly appended: number; readonly byType: Readonly<Record<string, number>> };
  readonly refusals: readonly ImportRefusal[];
}

/** The mutable tally a run fills in. */
export class ReportBuilder {
  records = 0;
  readonly pipelines = { imported: 0, unchanged: 0, refused: 0 };
  readonly deals = { imported: 0, unchanged: 0, refused: 0 };
  appended = 0;
  readonly byType: Record<string, number> = {};
  readonly refusals: ImportRefusal[] = [];
  sourceSystem: string | null = null;

  constructor(
    readonly importId: string,
    readonly dryRun: boolean,
  ) {}

  refuse(subject: ImportRefusal['subject'], sourceId: string | undefined, ref: LineRef, code: string, reason: string) {
    this.refusals.push({ subject, ...(sourceId !== undefined ? { sourceId } : {}), ...ref, code, reason });
    if (subject === 'deal') this.deals.refused++;
    if (subject === 'pipeline') this.pipelines.refused++;
  }

  countEvents(types: readonly string[]) {
    this.appended += types.length;
    for (const type of types) this.byType[type] = (this.byType[type] ?? 0) + 1;
  }

  build(): ImportReport {
    return {
      importId: this.importId,
      sourceSystem: this.sourceSystem,
      dryRun: this.dryRun,
      records: this.records,
      pipelines: { ...this.pipelines },
      deals: { ...this.deals },
      events: { appended: this.appended, byType: { ...this.byType } },
      refusals: [...this.refusals],
    };
  }
}
