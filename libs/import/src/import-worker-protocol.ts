import type { PackedEvents } from '@dealstream/event-store';
import type { DealRecord, LineRef, SourcedLine } from './canonical/canonical-records.js';
import type { ParentPoint, Sequenced } from './deal-plan.js';
import type { PlannedEvent } from './imported-stream.js';
import type { PipelineTransfer } from './pipeline-history.js';

/**
 * What the import worker (import-worker.ts) and the run (historic-import.ts) say to each other: the
 * worker reads, parses and validates the canonical files and decides whole deal blocks; the run gets
 * them in input order and writes them, exactly as it writes the blocks it decides itself.
 */

/** A deal block the worker decided whole: its deal record (the run compares repeats), its plan or refusal. */
interface WorkerDecidedBlock {
  readonly sourceId: string;
  readonly deal: Sequenced<DealRecord>;
  /** The lines of the block (its deal record and changes): the run counts them as records. */
  readonly records: number;
  readonly decided: WorkerDecision;
}

export interface WorkerDecision {
  readonly streamId?: string;
  /** Planned events with their business time as epoch milliseconds (`toTransfer` / `fromTransfer`); a dry run's. */
  readonly plan?: TransferredEvent[];
  /**
   * A written run, instead of `plan`: the planned events as the SQL store writes them (`prepareEvents`:
   * canonical pieces and COPY rows), packed into bytes (`PackWriter`: the chunk's buffers are
   * transferred, not cloned), made here so the run's thread does not, with each event's type and source
   * line (docs/import.md, "Scale"). The run makes PlannedEvents of them only for a stream that holds
   * events already (`plannedFromPrepared`).
   */
  readonly prepared?: PackedEvents;
  readonly types?: readonly string[];
  readonly refs?: readonly LineRef[];
  readonly timeline?: readonly ParentPoint[];
  readonly refusal?: { readonly code: string; readonly ref: LineRef; readonly reason: string };
}

/**
 * One item, in input order: a line the run takes as it takes any line (everything the worker does not
 * decide: the header, pipelines, broken lines, follow-on deals, deals of pipelines it does not know, a
 * block with a foreign line inside), a decided block, or the worker's question for the pipelines
 * (asked once, at the first deal or deal change: the run writes its pipelines then, as it always has).
 */
export type WorkerItem =
  { readonly line: SourcedLine } | { readonly block: WorkerDecidedBlock } | { readonly pipelinesWanted: true };

export interface WorkerSettings {
  readonly files: readonly string[];
  readonly dryRun: boolean;
  /** The run's importing principal and import id: in every prepared event (`WorkerDecision.prepared`). */
  readonly actorId: string;
  readonly importId: string;
  /** Lines per message (a message is one chunk of items). */
  readonly chunkLines: number;
  /** Chunks sent and not yet taken by the run: bounds what waits between the threads. */
  readonly credits: number;
  /** Running from TypeScript (jest): the worker's .ts entry, which tools/ts-worker.js imports. */
  readonly entry?: string;
}

export type WorkerMessage =
  | { readonly type: 'items'; readonly items: WorkerItem[] }
  | { readonly type: 'done' }
  | { readonly type: 'failed'; readonly error: FailureTransfer };

export type RunMessage =
  { readonly type: 'credit' } | { readonly type: 'pipelines'; readonly pipelines: readonly PipelineTransfer[] };

/** An error crossing from the worker: an ImportFormatError keeps its class (the CLI and the API tell it apart). */
export interface FailureTransfer {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly format?: { readonly file: string; readonly line: number; readonly reason: string };
}

/**
 * A planned event crossing the threads: its business time as epoch milliseconds, made a Date of the
 * run's own realm on arrival (a cloned Date is one of the receiving thread's main realm, which is not
 * the realm of code that runs in a VM context, as under jest).
 */
export type TransferredEvent = Omit<PlannedEvent, 'occurredAt'> & { occurredAt: Date | number };

/** The worker's side: the plan's business times as numbers, in place (the plan is not used after). */
export function planToTransfer(plan: PlannedEvent[]): TransferredEvent[] {
  const events = plan as TransferredEvent[];
  for (const event of events) event.occurredAt = (event.occurredAt as Date).getTime();
  return events;
}

/** The run's side: Dates again, in place (one Date per event, as deciding on this thread makes). */
export function planFromTransfer(events: TransferredEvent[]): PlannedEvent[] {
  for (const event of events) event.occurredAt = new Date(event.occurredAt);
  return events as PlannedEvent[];
}
