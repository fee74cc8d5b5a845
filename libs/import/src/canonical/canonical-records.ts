/** The records of a canonical import file, one per NDJSON line (schema: canonical-record.schema.ts). */

export interface HeaderRecord {
  readonly type: 'header';
  readonly format: 'dealstream-canonical';
  readonly version: 1;
  /** Names the source system; every derived id is scoped by it. */
  readonly sourceSystem: string;
  readonly exportedAt?: string;
}

/** Where a record came from and when it happened there. */
export interface Sourced {
  readonly sourceRecordId: string;
  /** ISO 8601 instant with a zone. */
  readonly at: string;
  readonly actor: string;
}

export interface CanonicalStage {
  readonly sourceId: string;
  readonly name: string;
  readonly probability: number;
  readonly maxDaysInStage?: number;
}

export interface PipelineRecord extends Sourced {
  readonly type: 'pipeline';
  readonly sourceId: string;
  readonly name: string;
  readonly currency?: string;
  readonly stages: readonly CanonicalStage[];
}

interface PipelineChangeBase extends Sourced {
  readonly type: 'pipeline-change';
  readonly pipeline: string;
}

export type PipelineChangeRecord = PipelineChangeBase &
  (
    | { readonly change: 'stage-added'; readonly stage: CanonicalStage; readonly index?: number }
    | { readonly change: 'stage-renamed'; readonly stage: string; readonly name: string }
    | { readonly change: 'stage-removed'; readonly stage: string; readonly moveOpenDealsTo: string }
    | { readonly change: 'stages-reordered'; readonly stages: readonly string[] }
    | { readonly change: 'stage-probability'; readonly stage: string; readonly probability: number }
    | { readonly change: 'archived' }
  );

export interface DealRecord extends Sourced {
  readonly type: 'deal';
  readonly sourceId: string;
  readonly pipeline: string;
  /** Defaults to the pipeline's first stage at `at`. */
  readonly stage?: string;
  readonly title: string;
  readonly account: string;
  readonly contact?: string;
  readonly amount: number;
  readonly currency: string;
  readonly owner: string;
  readonly source?: string;
  readonly expectedCloseDate?: string;
  readonly kind?: 'new' | 'upsell' | 'cross-sell';
  readonly parent?: string;
}

interface BantCriterion {
  readonly confirmed: boolean;
  readonly note?: string;
}

interface DealChangeBase extends Sourced {
  readonly type: 'deal-change';
  readonly deal: string;
}

export type DealChangeRecord = DealChangeBase &
  (
    | { readonly change: 'stage'; readonly stage: string }
    | { readonly change: 'amount'; readonly amount: number; readonly currency: string }
    | { readonly change: 'owner'; readonly owner: string }
    | { readonly change: 'close-date'; readonly expectedCloseDate: string | null }
    | {
        readonly change: 'qualified';
        readonly bant: {
          budget: BantCriterion;
          authority: BantCriterion;
          need: BantCriterion;
          timeline: BantCriterion;
        };
      }
    | {
        readonly change: 'disqualified';
        readonly reason: 'no-budget' | 'no-authority' | 'no-need' | 'no-timeline' | 'no-engagement' | 'other';
        readonly note?: string;
      }
    | { readonly change: 'lost'; readonly reason: string; readonly competitor?: string }
    | { readonly change: 'won'; readonly amount?: number; readonly reason?: string }
    | { readonly change: 'reopened'; readonly stage?: string }
    | {
        readonly change: 'activity';
        readonly kind: 'call' | 'email' | 'meeting' | 'social' | 'note';
        readonly outcome?: string;
        readonly note?: string;
      }
  );

export type CanonicalRecord = HeaderRecord | PipelineRecord | PipelineChangeRecord | DealRecord | DealChangeRecord;

/** Where a record sits: file and 1-based line number. */
export interface LineRef {
  readonly file: string;
  readonly line: number;
}

/**
 * One line as a source yields it: a valid record, or why the line is unusable. The adapter seam: a
 * Salesforce/HubSpot/Pipedrive adapter is anything that yields these (canonical records with the
 * line of the vendor file they came from) — the importer never sees vendor shapes.
 */
export type SourcedLine =
  | { readonly ref: LineRef; readonly record: CanonicalRecord; readonly error?: undefined }
  | {
      readonly ref: LineRef;
      readonly record?: undefined;
      readonly error: string;
      /** The refusal code (default `invalid-record`): an adapter says `unknown-stage`, `invalid-amount`, …. */
      readonly code?: string;
      /** What the broken line still tells, to attribute the error to its deal or pipeline. */
      readonly hint?: { readonly type?: string; readonly deal?: string; readonly pipeline?: string };
    };
