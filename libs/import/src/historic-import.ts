import { createHash, randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import canonicalize from 'canonicalize';
import { isDomainError } from '@dealstream/decider';
import {
  domainEventOf,
  type EventStore,
  type PackedEvents,
  type RecordedEvent,
  type StreamAppend,
} from '@dealstream/event-store';
import { dealStreamName, initialDealState, type DealEvent, type DealState } from '@dealstream/deals-domain';
import {
  pipelineDecider,
  pipelineStreamName,
  type PipelineCommand,
  type PipelineEvent,
  type PipelineState,
} from '@dealstream/pipelines-domain';
import type {
  CanonicalStage,
  DealChangeRecord,
  DealRecord,
  LineRef,
  PipelineChangeRecord,
  PipelineRecord,
  SourcedLine,
} from './canonical/canonical-records.js';
import { importIds } from './import-ids.js';
import { ReportBuilder, type ImportProgress, type ImportReport } from './import-report.js';
import {
  ImportRefusalError,
  appendPlanned,
  concurrentWriteRefusal,
  plannedAppend,
  plannedFromPrepared,
  plannedSuffix,
  sameContent,
  writePlannedStream,
  type PlannedEvent,
} from './imported-stream.js';
import { PipelineHistory } from './pipeline-history.js';
import { canonicalFilesOf } from './canonical/canonical-reader.js';
import {
  dedupeChanges,
  dedupeSourced,
  planDeal,
  byTimeThenSource,
  parentTimeline,
  type ParentPoint,
  type Sequenced,
} from './deal-plan.js';
import { planFromTransfer, type WorkerDecision } from './import-worker-protocol.js';
import { ImportWorker, importWorkerEntry } from './import-worker-client.js';

export interface HistoricImportOptions {
  readonly store: EventStore;
  /** The importing principal (token `sub`, CLI user): `actorId` of every event; the source actor goes in provenance. */
  readonly actorId: string;
  /** Names this run in every event's provenance and correlation id; random unless given. */
  readonly importId?: string;
  /** Validate and decide everything, write nothing. */
  readonly dryRun?: boolean;
  readonly onProgress?: (progress: ImportProgress) => void;
  /**
   * Deals are decided in memory and written in batches of about this many events (default
   * DEFAULT_IMPORT_BATCH_EVENTS): one read of all their streams, then every deal's append at once (the
   * store groups them into multi-stream calls). Each deal is still its own append, whole or not at all.
   */
  readonly batchEvents?: number;
  /**
   * Lines from `readCanonicalFiles`: read, validated and decided (plain deal blocks) on a worker thread
   * while this thread writes (docs/import.md, "Scale"). `'auto'` (the default): on the worker when the
   * files hold at least WORKER_MIN_BYTES, else on this thread; true: always on the worker; false: never.
   * Any other source is read on this thread.
   */
  readonly worker?: boolean | 'auto';
}

/**
 * Files smaller than this together are imported on the run's own thread. The worker's start (loading
 * its modules, compiling the record schema) took ~0.65 s here, where a 21-event file imports in ~50 ms
 * on one thread; measured both ways, one thread was faster at 21k events (3.4 MB), even at 42k (6.9 MB)
 * and slower at 105k (17 MB): test/benchmarks/README.md, 2026-12-07 j.
 */
export const WORKER_MIN_BYTES = 8 * 1024 * 1024;

/** See HistoricImportOptions.batchEvents: large enough to amortise round trips, small enough to stay flat in memory. */
export const DEFAULT_IMPORT_BATCH_EVENTS = 5_000;

/** Lines per message from the import worker, and messages that may wait: about 4,000 lines between the threads (more: more scavenge work on objects that wait). */
const WORKER_CHUNK_LINES = 1_000;
const WORKER_CREDITS = 4;

/** Batches written at once while the next is decided: two keep Node and PostgreSQL both busy, and bound memory. */
const MAX_BATCHES_WRITING = 2;

/** A line refused on its own, waiting to be reported after the deals before it. */
interface PendingLine {
  readonly line: { readonly sourceId?: string; readonly ref: LineRef; readonly code: string; readonly reason: string };
}

/** A deal block decided (or refused while deciding), waiting for its batch to be written. */
interface PendingDeal {
  readonly block: DealBlock;
  readonly streamId?: string;
  /** The planned events; for a deal the import worker prepared, made from `prepared` only when needed (`planOf`). */
  plan?: readonly PlannedEvent[];
  /**
   * The whole plan's events as the store writes them, when the import worker prepared them
   * (WorkerDecision.prepared), with each event's type and source line.
   */
  readonly prepared?: {
    readonly events: PackedEvents;
    readonly types: readonly string[];
    readonly refs: readonly LineRef[];
  };
  readonly timeline?: DealOutcome['parentTimeline'];
  refusal?: ImportRefusalError;
  /** Refused without replacing what the run remembers of this source id (a duplicate of an earlier deal). */
  keepEarlier?: boolean;
  appended?: readonly string[];
}

interface DealBlock {
  readonly sourceId: string;
  readonly deal?: Sequenced<DealRecord>;
  readonly ref: LineRef;
  readonly changes: Sequenced<DealChangeRecord>[];
  /** The first line that broke this deal (malformed, invalid, out of place): the deal is refused with it. */
  error?: { ref: LineRef; code: string; reason: string };
  /** Decided on the import worker (its changes are not here then). */
  readonly decided?: WorkerDecision;
}

/**
 * What later deals of the run need to know about a deal already handled, kept small (about 150 bytes
 * with its map entry; docs/import.md, "Memory"). A written run keeps one only for a **refused** deal
 * (the report lists it anyway): a deal it wrote is remembered by the store — a repeat is compared with
 * the stream this import wrote (`repeatRefusal`), a follow-on reads its parent's stream. A dry run,
 * which writes nothing, keeps one for every deal seen.
 */
interface DealOutcome {
  /** The first 128 bits of the SHA-256 of the deal record, base64 (a repeat with other content is refused). */
  readonly contentHash: string;
  /** Where it was (first) read; the file name is the reader's string, shared by every deal of the file. */
  readonly file: string;
  readonly line: number;
  readonly refused: boolean;
  /**
   * Dry runs only, for deals won at some point (they can be parents): what a follow-on needs, through
   * time. A written run keeps none: the parent's stream in the store holds the same history, and
   * `parentState` reads it there, as for a parent imported by an earlier run.
   */
  readonly parentTimeline?: readonly ParentPoint[];
}

const digest = (record: object) =>
  createHash('sha256').update(canonicalize(record)!).digest().toString('base64', 0, 16);

/**
 * Imports canonical records (docs/import.md): pipelines first, then deal blocks (a `deal` record and
 * its `deal-change` records). Every change is decided by the same deciders as a live command, with
 * the pipeline definition in force at the change's instant; a deal is written whole, in one append at
 * the revision read, or not at all. Streamed: one deal block is held at a time (plus the histories of
 * won deals, which follow-on deals need).
 */
export async function runHistoricImport(
  lines: AsyncIterable<SourcedLine>,
  options: HistoricImportOptions,
): Promise<ImportReport> {
  const run = new ImportRun(options);
  const files = canonicalFilesOf(lines);
  const entry = files !== undefined && (await usesWorker(files, options.worker)) ? importWorkerEntry() : undefined;
  if (files === undefined || entry === undefined) return run.consume(lines);
  // `lines` is not read: the worker reads the same files.
  return run.consumeFromWorker(
    new ImportWorker(entry, {
      files,
      dryRun: options.dryRun ?? false,
      actorId: options.actorId,
      importId: run.importId,
      chunkLines: WORKER_CHUNK_LINES,
      credits: WORKER_CREDITS,
    }),
  );
}

/** Whether `runHistoricImport` reads these files on the import worker (HistoricImportOptions.worker). */
async function usesWorker(files: readonly string[], setting: boolean | 'auto' = 'auto'): Promise<boolean> {
  if (setting !== 'auto') return setting;
  let bytes = 0;
  for (const file of files) {
    // A file that cannot be read fails the run wherever it is read, with the reader's own error.
    bytes += await stat(file).then(
      (stats) => stats.size,
      () => 0,
    );
    if (bytes >= WORKER_MIN_BYTES) return true;
  }
  return false;
}

/**
 * One run (`runHistoricImport` is `new ImportRun(options).consume(lines)`, or `consumeFromWorker` for
 * lines of `readCanonicalFiles`); exported for the test of what a run holds (`rememberedDeals`).
 */
export class ImportRun {
  private readonly report: ReportBuilder;
  private sourceSystem = '';
  private seq = 0;
  private readonly pipelineRecords = new Map<string, Sequenced<PipelineRecord>>();
  private readonly pipelineChanges: Sequenced<PipelineChangeRecord>[] = [];
  /** Pipelines as this run knows them; `undefined` = refused or unknown. */
  private readonly pipelines = new Map<string, PipelineHistory | { refused: LineRef }>();
  private pipelinesWritten = false;
  /** Pipelines with a broken line (the first one): refused when the pipelines are written. */
  private readonly brokenPipelines = new Map<string, { ref: LineRef; reason: string }>();
  private block: DealBlock | undefined;
  /** Refused deals (written run) or every deal seen (dry run): see DealOutcome. */
  private readonly outcomes = new Map<string, DealOutcome>();
  /** Deal blocks reported so far (imported, unchanged or refused): the progress figure. */
  private dealsReported = 0;
  readonly importId: string;
  private readonly batchEvents: number;
  /** Deals decided and not written yet, in input order; their source ids; their planned events. */
  private pending: (PendingDeal | PendingLine)[] = [];
  private readonly pendingIds = new Set<string>();
  private pendingEvents = 0;
  private readonly stageIdCache = new Map<string, string>();
  /**
   * The batches being written (at most MAX_BATCHES_WRITING, oldest first) while the next one is
   * decided; each `done` never rejects: it answers its failure.
   */
  private writing: { readonly done: Promise<{ error: unknown } | undefined>; readonly ids: ReadonlySet<string> }[] = [];

  constructor(private readonly options: HistoricImportOptions) {
    this.importId = options.importId ?? randomUUID();
    this.batchEvents = Math.max(1, options.batchEvents ?? DEFAULT_IMPORT_BATCH_EVENTS);
    this.report = new ReportBuilder(this.importId, options.dryRun ?? false);
  }

  /**
   * Deals the run holds something of (DealOutcome) — what grows with the input: the refused deals in
   * a written run, every deal seen in a dry run.
   */
  get rememberedDeals(): number {
    return this.outcomes.size;
  }

  async consume(lines: AsyncIterable<SourcedLine>): Promise<ImportReport> {
    try {
      for await (const line of lines) if (!this.takeLine(line)) await this.take(line);
    } catch (error) {
      await Promise.all(this.writing.map((write) => write.done)); // batches being written end whole before the run stops
      throw error;
    }
    return this.finish();
  }

  /**
   * The same run, its lines read and its plain deal blocks decided on the import worker
   * (import-worker.ts): the items come in input order, a decided block is taken as the block of its
   * lines would be, every other line as `consume` takes it. The worker is stopped however the run ends.
   */
  async consumeFromWorker(worker: ImportWorker): Promise<ImportReport> {
    try {
      try {
        for (let items = await worker.next(); items !== undefined; items = await worker.next()) {
          for (const item of items) {
            if ('line' in item) {
              if (!this.takeLine(item.line)) await this.take(item.line);
            } else if ('block' in item) {
              const { sourceId, deal, records, decided } = item.block;
              this.report.records += records;
              this.seq += records;
              await this.startBlock({ sourceId, deal, ref: deal.ref, changes: [], decided });
            } else {
              await this.writePipelines();
              worker.answerPipelines(
                [...this.pipelines.values()].flatMap((known) =>
                  known instanceof PipelineHistory ? [known.toTransfer()] : [],
                ),
              );
            }
          }
        }
      } catch (error) {
        await Promise.all(this.writing.map((write) => write.done)); // as in consume
        throw error;
      }
    } finally {
      await worker.close();
    }
    return this.finish();
  }

  /**
   * Counts a line and takes it when that needs no waiting (most lines: a deal's changes, no promise
   * per line); false when `take` must (the caller awaits it).
   */
  private takeLine(line: SourcedLine): boolean {
    this.report.records++;
    this.seq++;
    if (line.error !== undefined || line.record.type !== 'deal-change' || !this.pipelinesWritten) return false;
    this.takeChange(line.record, line.ref);
    return true;
  }

  private async finish(): Promise<ImportReport> {
    await this.finishBlock();
    await this.writePipelines();
    await this.flush();
    await this.settle();
    return this.report.build();
  }

  private async take(line: SourcedLine): Promise<void> {
    const { ref } = line;
    if (line.error !== undefined) {
      const deal = line.hint?.deal;
      const pipeline = line.hint?.pipeline;
      if (pipeline !== undefined && !this.pipelinesWritten) {
        // A pipeline is imported whole or not at all, like a deal: a broken line of it refuses it.
        this.brokenPipelines.set(pipeline, this.brokenPipelines.get(pipeline) ?? { ref, reason: line.error });
      } else if (line.hint?.type === 'deal' && deal !== undefined) {
        await this.startBlock({
          sourceId: deal,
          ref,
          changes: [],
          error: { ref, code: line.code ?? 'invalid-record', reason: line.error },
        });
      } else if (this.block && (deal === undefined || deal === this.block.sourceId)) {
        this.block.error ??= { ref, code: line.code ?? 'invalid-record', reason: line.error };
      } else {
        this.refuseLine(deal, ref, line.code ?? 'invalid-record', line.error);
      }
      return;
    }
    const record = line.record;
    switch (record.type) {
      case 'header':
        this.sourceSystem = record.sourceSystem;
        this.report.sourceSystem = record.sourceSystem;
        return;
      case 'pipeline':
      case 'pipeline-change': {
        if (this.pipelinesWritten) {
          this.refuseLine(
            record.type === 'pipeline' ? record.sourceId : record.pipeline,
            ref,
            'pipeline-after-deals',
            'pipeline records must come before the first deal record',
          );
          return;
        }
        if (record.type === 'pipeline-change') {
          this.pipelineChanges.push({ record, ref, seq: this.seq });
          return;
        }
        const earlier = this.pipelineRecords.get(record.sourceId);
        if (earlier && canonicalize(earlier.record) !== canonicalize(record)) {
          this.pipelines.set(record.sourceId, { refused: ref });
          this.report.refuse(
            'pipeline',
            record.sourceId,
            ref,
            'duplicate-source-id',
            `pipeline ${record.sourceId} appears again with other content (first at ${earlier.ref.file}:${earlier.ref.line})`,
          );
          return;
        }
        if (!earlier) this.pipelineRecords.set(record.sourceId, { record, ref, seq: this.seq });
        return;
      }
      case 'deal':
        await this.writePipelines();
        await this.startBlock({ sourceId: record.sourceId, deal: { record, ref, seq: this.seq }, ref, changes: [] });
        return;
      case 'deal-change':
        await this.writePipelines();
        this.takeChange(record, ref);
        return;
    }
  }

  /** A deal's change: into its open block, or refused on its own line. */
  private takeChange(record: DealChangeRecord, ref: LineRef): void {
    if (!this.block || this.block.sourceId !== record.deal) {
      this.refuseLine(
        record.deal,
        ref,
        'change-outside-deal-block',
        `a change of deal ${record.deal} must follow that deal's record (and precede the next deal's)`,
      );
      return;
    }
    this.block.changes.push({ record, ref, seq: this.seq });
  }

  /** A line refused on its own: reported after the deals read before it (queued while any wait to be written). */
  private refuseLine(sourceId: string | undefined, ref: LineRef, code: string, reason: string): void {
    if (this.pending.length === 0 && this.writing.length === 0) this.report.refuse('line', sourceId, ref, code, reason);
    else this.pending.push({ line: { ...(sourceId !== undefined ? { sourceId } : {}), ref, code, reason } });
  }

  private async startBlock(block: DealBlock): Promise<void> {
    await this.finishBlock();
    this.block = block;
  }

  private async finishBlock(): Promise<void> {
    const block = this.block;
    this.block = undefined;
    if (!block) return;
    // A deal decided against what the store holds: the same source id, or a follow-on's parent, still
    // pending would be read before it is written. Write the batch first (rare: repeats, follow-ons).
    const parent = block.deal?.record.parent;
    const waitsFor = (ids: ReadonlySet<string>) => ids.has(block.sourceId) || (parent !== undefined && ids.has(parent));
    if (waitsFor(this.pendingIds)) {
      await this.flush();
      await this.settle();
    } else if (this.writing.some((write) => waitsFor(write.ids))) await this.settle();
    let pending: PendingDeal;
    try {
      pending = await this.decideDeal(block);
    } catch (error) {
      if (!(error instanceof ImportRefusalError)) throw error;
      pending = { block, refusal: error };
    }
    // Decided: what the block's changes said is in the plan now. Not holding the parsed records while
    // the batch waits and is written keeps them from outliving the young generation (GC work, RSS).
    block.changes.length = 0;
    this.pending.push(pending);
    this.pendingIds.add(block.sourceId);
    this.pendingEvents += pending.plan?.length ?? pending.prepared?.events.length ?? 0;
    if (this.pendingEvents >= this.batchEvents) await this.flush();
  }

  /**
   * Starts writing the pending deals, once fewer than MAX_BATCHES_WRITING batches are being written:
   * deciding the next batch goes on meanwhile (Node decides while PostgreSQL appends, and one batch's
   * transaction can run while the next one's streams are read). Batches are reported in input order
   * (each waits for the one before). `settle` waits for them.
   */
  private async flush(): Promise<void> {
    while (this.writing.length >= MAX_BATCHES_WRITING) await this.settleOldest();
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const ids = new Set(this.pendingIds);
    this.pendingIds.clear();
    this.pendingEvents = 0;
    const before = this.writing.at(-1)?.done;
    const written = this.writeBatch(batch).then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    const done = (async () => {
      const failed = await written;
      await before; // never rejects; a failure there stops the run before this batch is reported
      if (!failed) this.reportBatch(batch);
      return failed;
    })();
    this.writing.push({ done, ids });
  }

  /** Waits for every batch being written; a failure (a database fault) fails the run. */
  private async settle(): Promise<void> {
    while (this.writing.length > 0) await this.settleOldest();
  }

  private async settleOldest(): Promise<void> {
    const oldest = this.writing.shift();
    const failed = await oldest?.done;
    if (failed) throw failed.error;
  }

  /**
   * Writes a batch: one read of all its streams, what each lacks decided against it, then every deal's
   * append at once (each deal one append: whole or not at all) — one `appendMany` transaction when the
   * store has it, else concurrent appends the store groups into multi-stream calls. The report follows
   * (`reportBatch`, once the batch before is reported).
   */
  private async writeBatch(batch: readonly (PendingDeal | PendingLine)[]): Promise<void> {
    const decided = batch.filter(
      (entry): entry is PendingDeal =>
        'block' in entry && (entry.plan ?? entry.prepared) !== undefined && entry.refusal === undefined,
    );
    const context = this.writeContext();
    // A written run remembers refused deals only (DealOutcome): a deal refused while deciding whose
    // stream holds imported history (a repeat of a deal this run wrote, or one an earlier import
    // wrote) is not remembered as refused — its follow-ons are decided against that history, in the
    // first run and in every re-run alike. Read with the batch's streams (refusals are rare).
    const refusedEarly = context.dryRun
      ? []
      : batch.filter(
          (entry): entry is PendingDeal => 'block' in entry && entry.refusal !== undefined && !entry.keepEarlier,
        );
    const stored = await readStreams(this.options.store, [
      ...decided.map((entry) => entry.streamId!),
      ...refusedEarly.map((entry) => this.dealStream(entry.block.sourceId)),
    ]);
    for (const entry of refusedEarly)
      if (holdsImported(stored.get(this.dealStream(entry.block.sourceId)))) entry.keepEarlier = true;
    const failures: unknown[] = [];
    const { store } = this.options;
    if (store.appendMany && !context.dryRun) {
      const writes: { entry: PendingDeal; types: readonly string[]; append: StreamAppend }[] = [];
      for (const entry of decided) {
        const streamEvents = stored.get(entry.streamId!) ?? [];
        if (streamEvents.length === 0 && entry.prepared) {
          // A new stream (most deals of a first import): the whole plan, as the worker prepared it.
          const { events, types } = entry.prepared;
          writes.push({ entry, types, append: { streamId: entry.streamId!, events, expectedRevision: 'no_stream' } });
          continue;
        }
        try {
          const plan = planOf(entry);
          this.refuseRepeat(entry, streamEvents);
          const suffix = plannedSuffix(entry.streamId!, plan, streamEvents);
          const append = plannedAppend(context, entry.streamId!, suffix, streamEvents, entry.prepared?.events);
          if (append) writes.push({ entry, types: suffix.map((event) => event.type), append });
          else entry.appended = [];
        } catch (error) {
          if (error instanceof ImportRefusalError) entry.refusal = error;
          else failures.push(error);
        }
      }
      const outcomes = writes.length > 0 ? await store.appendMany(writes.map((write) => write.append)) : [];
      outcomes.forEach((outcome, index) => {
        const { entry, types, append } = writes[index];
        if (outcome.ok) entry.appended = types;
        else {
          const refusal = concurrentWriteRefusal(
            outcome.error,
            entry.streamId!,
            planOf(entry).slice(-append.events.length),
          );
          if (refusal) entry.refusal = refusal;
          else failures.push(outcome.error);
        }
      });
    } else {
      await Promise.all(
        decided.map(async (entry) => {
          const streamEvents = stored.get(entry.streamId!) ?? [];
          try {
            if (!context.dryRun) this.refuseRepeat(entry, streamEvents);
            const suffix = plannedSuffix(entry.streamId!, planOf(entry), streamEvents);
            await appendPlanned(context, entry.streamId!, suffix, streamEvents);
            entry.appended = suffix.map((event) => event.type);
          } catch (error) {
            if (error instanceof ImportRefusalError) entry.refusal = error;
            else failures.push(error);
          }
        }),
      );
    }
    if (failures.length > 0) throw failures[0];
  }

  private dealStream(sourceId: string): string {
    return dealStreamName(importIds.deal(this.sourceSystem, sourceId));
  }

  /**
   * Written run: a deal this run already wrote, read again with another creation (another deal record:
   * other fields, time, actor or record id) is refused `duplicate-source-id`, keeping what was written —
   * what the deal record's digest said before the run stopped remembering written deals (DealOutcome).
   */
  private refuseRepeat(entry: PendingDeal, stream: readonly RecordedEvent[]): void {
    const first = stream[0];
    const created = planOf(entry)[0];
    const provenance = first?.metadata.provenance;
    if (!first || provenance?.importId !== this.importId || !created) return;
    if (
      first.eventId === created.eventId &&
      provenance.sourceActor === created.sourceActor &&
      sameContent(first, created)
    )
      return;
    entry.keepEarlier = true;
    throw new ImportRefusalError(
      'duplicate-source-id',
      entry.block.deal?.ref ?? entry.block.ref,
      `deal ${entry.block.sourceId} appears again with other content (first written by this import from record ${provenance.sourceRecordId})`,
    );
  }

  /** The report and the run's memory of a written batch's deals and lines, in input order. */
  private reportBatch(batch: readonly (PendingDeal | PendingLine)[]): void {
    for (const entry of batch) {
      if ('line' in entry) {
        const { sourceId, ref, code, reason } = entry.line;
        this.report.refuse('line', sourceId, ref, code, reason);
        continue;
      }
      const { block } = entry;
      if (entry.refusal) {
        this.report.refuse('deal', block.sourceId, entry.refusal.ref, entry.refusal.code, entry.refusal.message);
        if (!entry.keepEarlier) this.remember(block, true);
      } else {
        const appended = entry.appended ?? [];
        if (appended.length > 0) this.report.deals.imported++;
        else this.report.deals.unchanged++;
        this.report.countEvents(appended);
        this.remember(block, false, entry.timeline);
      }
      this.dealsReported++;
      this.options.onProgress?.({
        records: this.report.records,
        deals: this.dealsReported,
        events: this.report.appended,
      });
    }
  }

  private remember(block: DealBlock, refused: boolean, timeline?: DealOutcome['parentTimeline']): void {
    if (!refused && !this.options.dryRun) {
      this.outcomes.delete(block.sourceId); // written: the store remembers it (DealOutcome)
      return;
    }
    if (this.outcomes.get(block.sourceId)?.refused === false && refused) return;
    this.outcomes.set(block.sourceId, {
      contentHash: block.deal ? digest(block.deal.record) : '',
      file: block.ref.file,
      line: block.ref.line,
      refused,
      ...(timeline && this.options.dryRun ? { parentTimeline: timeline } : {}),
    });
  }

  /** Decides one deal's whole history in memory (written by the next flush). */
  private async decideDeal(block: DealBlock): Promise<PendingDeal> {
    if (block.error) throw new ImportRefusalError(block.error.code, block.error.ref, block.error.reason);
    const deal = block.deal!;
    const earlier = this.outcomes.get(block.sourceId);
    if (earlier && earlier.contentHash !== digest(deal.record)) {
      return {
        block,
        keepEarlier: true,
        refusal: new ImportRefusalError(
          'duplicate-source-id',
          deal.ref,
          `deal ${block.sourceId} appears again with other content (first at ${earlier.file}:${earlier.line})`,
        ),
      };
    }
    const decided = block.decided;
    if (decided) {
      // Decided on the import worker (as below, by the same planDeal): only what needs the run is left.
      if (decided.refusal)
        throw new ImportRefusalError(decided.refusal.code, decided.refusal.ref, decided.refusal.reason);
      const { prepared, types, refs } = decided;
      return {
        block,
        streamId: decided.streamId!,
        ...(prepared && types && refs
          ? { prepared: { events: prepared, types, refs } }
          : { plan: planFromTransfer(decided.plan!) }),
        ...(decided.timeline ? { timeline: decided.timeline } : {}),
      };
    }
    const changes = dedupeChanges(block.changes, deal);
    const pipeline = await this.pipeline(deal.record.pipeline, deal.ref);
    const { streamId, plan, timeline } = await planDeal({
      deal,
      changes,
      pipeline,
      sourceSystem: this.sourceSystem,
      stageId: (pipelineId, stage) => this.stageId(pipelineId, stage),
      keepsTimeline: this.options.dryRun ?? false, // see DealOutcome.parentTimeline
      parentState: (record, ref) => this.parentState(record, ref),
    });
    return { block, streamId, plan, ...(timeline ? { timeline } : {}) };
  }

  /** The won parent's state at the follow-on's creation: from this run, or from an earlier import. */
  private async parentState(record: DealRecord, ref: LineRef): Promise<DealState> {
    const parentSourceId = record.parent!;
    const at = Date.parse(record.at);
    const known = this.outcomes.get(parentSourceId);
    if (known?.refused) {
      throw new ImportRefusalError(
        'parent-deal-refused',
        ref,
        `parent deal ${parentSourceId} was refused (line ${known.line})`,
      );
    }
    let timeline: readonly ParentPoint[] | undefined = known?.parentTimeline;
    if (!timeline) {
      const stored = await this.options.store.readStream<DealEvent>(
        dealStreamName(importIds.deal(this.sourceSystem, parentSourceId)),
      );
      if (stored.length > 0)
        timeline = parentTimeline(
          stored.map((event) => ({
            event: domainEventOf(event),
            occurredAt: event.metadata.occurredAt,
          })),
        );
    }
    if (!timeline && known) {
      throw new ImportRefusalError('parent-deal-not-won', ref, `parent deal ${parentSourceId} was never won`);
    }
    if (!timeline) {
      throw new ImportRefusalError(
        'parent-deal-not-found',
        ref,
        `parent deal ${parentSourceId} appears neither earlier in this import nor in an earlier one`,
      );
    }
    const point = timeline.filter((p) => p.at <= at).at(-1);
    return { ...initialDealState(), ...(point?.state ?? {}) };
  }

  private async pipeline(sourceId: string, ref: LineRef): Promise<PipelineHistory> {
    let known = this.pipelines.get(sourceId);
    if (!known) {
      const loaded = await PipelineHistory.load(
        this.options.store,
        sourceId,
        importIds.pipeline(this.sourceSystem, sourceId),
      );
      known = loaded ?? { refused: ref };
      if (loaded) this.pipelines.set(sourceId, loaded);
      else
        throw new ImportRefusalError(
          'unknown-pipeline',
          ref,
          `pipeline ${sourceId} is neither defined in this import nor imported earlier`,
        );
    }
    if ('refused' in known) {
      throw new ImportRefusalError(
        'pipeline-refused',
        ref,
        `pipeline ${sourceId} was refused (line ${known.refused.line})`,
      );
    }
    return known;
  }

  /** Decides and writes every pipeline (once, before the first deal). */
  private async writePipelines(): Promise<void> {
    if (this.pipelinesWritten) return;
    this.pipelinesWritten = true;
    const changesOf = new Map<string, Sequenced<PipelineChangeRecord>[]>();
    for (const change of this.pipelineChanges) {
      if (!this.pipelineRecords.has(change.record.pipeline)) {
        this.report.refuse(
          'line',
          change.record.pipeline,
          change.ref,
          'unknown-pipeline',
          `a change of pipeline ${change.record.pipeline}, which this import does not define`,
        );
        continue;
      }
      changesOf.set(change.record.pipeline, [...(changesOf.get(change.record.pipeline) ?? []), change]);
    }
    for (const [sourceId, broken] of this.brokenPipelines) {
      if (this.pipelines.has(sourceId)) continue;
      this.report.refuse('pipeline', sourceId, broken.ref, 'invalid-record', broken.reason);
      this.pipelines.set(sourceId, { refused: broken.ref });
    }
    for (const [sourceId, definition] of this.pipelineRecords) {
      if (this.pipelines.has(sourceId)) continue; // refused as a duplicate or broken
      try {
        const { history, plan } = this.decidePipeline(definition, changesOf.get(sourceId) ?? []);
        const written = await writePlannedStream(this.writeContext(), pipelineStreamName(history.pipelineId), plan);
        if (written.length > 0) this.report.pipelines.imported++;
        else this.report.pipelines.unchanged++;
        this.report.countEvents(written);
        this.pipelines.set(sourceId, history);
      } catch (error) {
        if (!(error instanceof ImportRefusalError)) throw error;
        this.report.refuse('pipeline', sourceId, error.ref, error.code, error.message);
        this.pipelines.set(sourceId, { refused: error.ref });
      }
    }
  }

  private decidePipeline(
    definition: Sequenced<PipelineRecord>,
    changes: readonly Sequenced<PipelineChangeRecord>[],
  ): { history: PipelineHistory; plan: PlannedEvent[] } {
    const sourceId = definition.record.sourceId;
    const pipelineId = importIds.pipeline(this.sourceSystem, sourceId);
    const stageId = (stage: string) => importIds.stage(this.sourceSystem, sourceId, stage);
    const toStage = (stage: CanonicalStage) => ({
      stageId: stageId(stage.sourceId),
      name: stage.name,
      probability: stage.probability,
      ...(stage.maxDaysInStage !== undefined ? { goal: { maxDaysInStage: stage.maxDaysInStage } } : {}),
    });
    const createdAt = Date.parse(definition.record.at);
    const ordered = dedupeSourced(changes.map((change) => ({ ...change, at: Date.parse(change.record.at) }))).sort(
      byTimeThenSource,
    );
    const early = ordered.find((change) => change.at < createdAt);
    if (early) {
      throw new ImportRefusalError(
        'change-before-creation',
        early.ref,
        `change ${early.record.sourceRecordId} is earlier than the pipeline's definition at ${definition.record.at}`,
      );
    }
    const steps: { command: PipelineCommand; sourced: Sequenced<PipelineRecord | PipelineChangeRecord> }[] = [
      {
        command: {
          type: 'DefinePipeline',
          data: {
            pipelineId,
            name: definition.record.name,
            ...(definition.record.currency !== undefined ? { currency: definition.record.currency } : {}),
            stages: definition.record.stages.map(toStage),
          },
        },
        sourced: definition,
      },
      ...ordered.map((change) => ({ command: toPipelineCommand(change.record, stageId, toStage), sourced: change })),
    ];
    let state: PipelineState = pipelineDecider.initialState();
    const plan: PlannedEvent[] = [];
    const timeline: { event: PipelineEvent; occurredAt: Date }[] = [];
    for (const { command, sourced } of steps) {
      let events: PipelineEvent[];
      try {
        events = pipelineDecider.decide(command, state);
      } catch (error) {
        if (isDomainError(error)) throw new ImportRefusalError(error.code, sourced.ref, error.message);
        throw error;
      }
      events.forEach((event, index) => {
        const occurredAt = new Date(sourced.record.at);
        state = pipelineDecider.evolve(state, event);
        timeline.push({ event, occurredAt });
        plan.push({
          eventId: importIds.event(this.sourceSystem, sourced.record.sourceRecordId, index),
          type: event.type,
          data: event.data,
          occurredAt,
          ref: sourced.ref,
          sourceRecordId: sourced.record.sourceRecordId,
          sourceActor: sourced.record.actor,
          commandId: importIds.command(this.sourceSystem, sourced.record.sourceRecordId),
        });
      });
    }
    return { history: PipelineHistory.fromEvents(sourceId, pipelineId, timeline), plan };
  }

  /** A stage's derived id, remembered (deals name the same few stages over and over). */
  private stageId(pipeline: string, stage: string): string {
    const key = `${pipeline}\u0000${stage}`;
    let id = this.stageIdCache.get(key);
    if (id === undefined) {
      id = importIds.stage(this.sourceSystem, pipeline, stage);
      if (this.stageIdCache.size < 100_000) this.stageIdCache.set(key, id);
    }
    return id;
  }

  private writeContext() {
    return {
      store: this.options.store,
      importId: this.importId,
      sourceSystem: this.sourceSystem,
      actorId: this.options.actorId,
      dryRun: this.options.dryRun ?? false,
    };
  }
}

/** A decided deal's planned events: as decided, or made from what the import worker prepared (once, when needed). */
function planOf(entry: PendingDeal): readonly PlannedEvent[] {
  if (entry.plan) return entry.plan;
  const { events, types, refs } = entry.prepared!;
  return (entry.plan = plannedFromPrepared(events, types, refs));
}

/** The stream holds events an import wrote (this run or an earlier one). */
function holdsImported(stream: readonly RecordedEvent[] | undefined): boolean {
  return stream?.some((event) => event.metadata.provenance !== undefined) ?? false;
}

/** Whole streams, in one read when the store can (`readStreams`), else one by one. */
async function readStreams(store: EventStore, streamIds: readonly string[]): Promise<Map<string, RecordedEvent[]>> {
  if (store.readStreams) return store.readStreams(streamIds);
  const streams = new Map<string, RecordedEvent[]>();
  for (const streamId of streamIds) streams.set(streamId, await store.readStream(streamId));
  return streams;
}

function toPipelineCommand(
  record: PipelineChangeRecord,
  stageId: (stage: string) => string,
  toStage: (stage: CanonicalStage) => { stageId: string; name: string; probability: number },
): PipelineCommand {
  switch (record.change) {
    case 'stage-added':
      return {
        type: 'AddStage',
        data: { stage: toStage(record.stage), ...(record.index !== undefined ? { index: record.index } : {}) },
      };
    case 'stage-renamed':
      return { type: 'RenameStage', data: { stageId: stageId(record.stage), name: record.name } };
    case 'stage-removed':
      return {
        type: 'RemoveStage',
        data: { stageId: stageId(record.stage), moveOpenDealsTo: stageId(record.moveOpenDealsTo) },
      };
    case 'stages-reordered':
      return { type: 'ReorderStages', data: { stageIds: record.stages.map(stageId) } };
    case 'stage-probability':
      return {
        type: 'ChangeStageProbability',
        data: { stageId: stageId(record.stage), probability: record.probability },
      };
    case 'archived':
      return { type: 'ArchivePipeline', data: {} };
  }
}
