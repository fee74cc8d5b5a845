import { parentPort, workerData } from 'node:worker_threads';
import { ImportFormatError, readCanonicalFiles } from './canonical/canonical-reader.js';
import type { DealChangeRecord, DealRecord, SourcedLine } from './canonical/canonical-records.js';
import { dedupeChanges, planDeal, type Sequenced } from './deal-plan.js';
import { importIds } from './import-ids.js';
import { PackWriter, prepareEvents, type PackedEvents } from '@dealstream/event-store';
import { ImportRefusalError, plannedEvents, type PlannedEvent } from './imported-stream.js';
import type {
  FailureTransfer,
  RunMessage,
  WorkerItem,
  WorkerMessage,
  WorkerDecision,
  WorkerSettings,
} from './import-worker-protocol.js';
import { planToTransfer } from './import-worker-protocol.js';
import { PipelineHistory, type PipelineTransfer } from './pipeline-history.js';

/**
 * The import worker (docs/import.md, "Scale"): reads, parses and validates the canonical files and
 * decides every plain deal block — a deal record followed by its own changes only, of a pipeline the
 * run wrote, not a follow-on — with the same `planDeal` the run uses; the run (historic-import.ts)
 * writes what it sends, in input order, and takes every other line itself, as it always has. So Node
 * decides on one core while the run hashes and COPYs on the other (with PostgreSQL).
 */

const port = parentPort!;
const settings = workerData as WorkerSettings;

let credits = settings.credits;
let creditWaiter: (() => void) | undefined;
let pipelinesWaiter: ((pipelines: readonly PipelineTransfer[]) => void) | undefined;
port.on('message', (message: RunMessage) => {
  if (message.type === 'credit') {
    credits++;
    creditWaiter?.();
    creditWaiter = undefined;
  } else pipelinesWaiter?.(message.pipelines);
});

let chunk: WorkerItem[] = [];
let chunkLines = 0;
/** The prepared events of the chunk being filled, as bytes: their buffers are transferred with it. */
const packer = new PackWriter();

async function send(): Promise<void> {
  if (chunk.length === 0) return;
  while (credits === 0) await new Promise<void>((resolve) => (creditWaiter = resolve));
  credits--;
  post({ type: 'items', items: chunk }, packer.take());
  chunk = [];
  chunkLines = 0;
}

function post(message: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

async function push(item: WorkerItem, lines: number): Promise<void> {
  chunk.push(item);
  chunkLines += lines;
  if (chunkLines >= settings.chunkLines) await send();
}

/** A block being read: decided at its end if nothing foreign came inside it. */
interface OpenBlock {
  readonly deal: Sequenced<DealRecord>;
  readonly changes: Sequenced<DealChangeRecord>[];
  readonly lines: SourcedLine[];
}

async function run(): Promise<void> {
  let sourceSystem = '';
  let pipelines: Map<string, PipelineHistory> | undefined;
  const stageIds = new Map<string, string>();
  const stageId = (pipeline: string, stage: string) => {
    const key = `${pipeline}\u0000${stage}`;
    let id = stageIds.get(key);
    if (id === undefined) {
      id = importIds.stage(sourceSystem, pipeline, stage);
      if (stageIds.size < 100_000) stageIds.set(key, id);
    }
    return id;
  };
  let open: OpenBlock | undefined;
  let seq = 0;

  /** Hands the open block over: decided, or as its lines (the run decides it then). */
  const close = async (): Promise<void> => {
    const block = open;
    open = undefined;
    if (!block) return;
    const pipeline = pipelines?.get(block.deal.record.pipeline);
    const followOn = block.deal.record.kind === 'upsell' || block.deal.record.kind === 'cross-sell';
    if (!pipeline || followOn) {
      for (const line of block.lines) await push({ line }, 1);
      return;
    }
    let decided: WorkerDecision;
    try {
      const { streamId, plan, timeline } = await planDeal({
        deal: block.deal,
        changes: dedupeChanges(block.changes, block.deal),
        pipeline,
        sourceSystem,
        stageId,
        keepsTimeline: settings.dryRun,
        parentState: () => Promise.reject(new Error('a follow-on deal is decided by the run')),
      });
      const prepared = settings.dryRun ? undefined : prepare(streamId, plan, sourceSystem);
      decided = {
        streamId,
        ...(prepared
          ? { prepared, types: plan.map((event) => event.type), refs: plan.map((event) => event.ref) }
          : { plan: planToTransfer(plan) }),
        ...(timeline ? { timeline } : {}),
      };
    } catch (error) {
      if (!(error instanceof ImportRefusalError)) throw error;
      decided = { refusal: { code: error.code, ref: error.ref, reason: error.message } };
    }
    const { sourceId } = block.deal.record;
    await push({ block: { sourceId, deal: block.deal, records: block.lines.length, decided } }, block.lines.length);
  };

  for await (const line of readCanonicalFiles(settings.files)) {
    seq++;
    const record = line.error === undefined ? line.record : undefined;
    if (record?.type === 'header') sourceSystem = record.sourceSystem;
    if ((record?.type === 'deal' || record?.type === 'deal-change') && pipelines === undefined) {
      // The run writes its pipelines at the first deal or change (after every line before it).
      await push({ pipelinesWanted: true }, 0);
      await send();
      const transfers = await new Promise<readonly PipelineTransfer[]>((resolve) => (pipelinesWaiter = resolve));
      pipelines = new Map(transfers.map((transfer) => [transfer.sourceId, PipelineHistory.fromTransfer(transfer)]));
    }
    if (record?.type === 'deal') {
      await close();
      open = { deal: { record, ref: line.ref, seq }, changes: [], lines: [line] };
      continue;
    }
    if (open && record?.type === 'deal-change' && record.deal === open.deal.record.sourceId) {
      open.changes.push({ record, ref: line.ref, seq });
      open.lines.push(line);
      continue;
    }
    // Anything else inside a block (a broken line, another deal's change, a late pipeline): the run
    // takes the block's lines and this one as it takes any line, and the lines up to the next deal.
    if (open) {
      for (const sourced of open.lines) await push({ line: sourced }, 1);
      open = undefined;
    }
    await push({ line }, 1);
  }
  await close();
  await send();
  post({ type: 'done' });
}

/**
 * The plan's events as the store writes them (its `prepareEvents`), with the run's actor and import
 * id; undefined when the store would refuse them — the run's own append then answers that as before.
 */
function prepare(streamId: string, plan: readonly PlannedEvent[], sourceSystem: string): PackedEvents | undefined {
  try {
    return packer.pack(
      prepareEvents(
        streamId,
        plannedEvents({ importId: settings.importId, sourceSystem, actorId: settings.actorId }, plan),
      ),
    );
  } catch {
    return undefined;
  }
}

function failure(error: unknown): FailureTransfer {
  if (error instanceof ImportFormatError)
    return {
      name: error.name,
      message: error.message,
      format: { file: error.file, line: error.line, reason: error.reason },
      ...(error.stack !== undefined ? { stack: error.stack } : {}),
    };
  if (error instanceof Error)
    return { name: error.name, message: error.message, ...(error.stack !== undefined ? { stack: error.stack } : {}) };
  return { name: 'Error', message: String(error) };
}

run().then(
  () => port.close(),
  (error: unknown) => {
    post({ type: 'failed', error: failure(error) });
    port.close();
  },
);
