import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { ImportFormatError } from './canonical/canonical-reader.js';
import type {
  FailureTransfer,
  RunMessage,
  WorkerItem,
  WorkerMessage,
  WorkerSettings,
} from './import-worker-protocol.js';
import type { PipelineTransfer } from './pipeline-history.js';

/**
 * The run's side of the import worker (import-worker.ts): starts it on the files, hands its chunks of
 * items over in order (`next`), one credit back per chunk taken — at most `credits` chunks wait between
 * the threads, so memory stays flat whichever side is slower —, answers its question for the
 * pipelines, and stops it (`close`, always: a run that fails stops its worker). A worker that fails or
 * stops fails the run with its error (an ImportFormatError stays one).
 */
export class ImportWorker {
  private readonly worker: Worker;
  private readonly queue: WorkerItem[][] = [];
  private waiter: { resolve: () => void } | undefined;
  private failure: Error | undefined;
  private done = false;

  constructor(entry: WorkerEntry, settings: Omit<WorkerSettings, 'entry'>) {
    this.worker = new Worker(entry.url, {
      workerData: { ...settings, ...(entry.entry !== undefined ? { entry: entry.entry } : {}) },
      stdout: false,
      stderr: false,
    });
    this.worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'items') this.queue.push(message.items);
      else if (message.type === 'done') this.done = true;
      else this.fail(revive(message.error));
      this.wake();
    });
    this.worker.on('error', (error) => this.fail(error instanceof Error ? error : new Error(String(error))));
    this.worker.on('exit', (code) => {
      if (!this.done) this.fail(new Error(`the import worker stopped (exit code ${code}) before the end of the input`));
    });
  }

  /** The next chunk of items in input order; undefined at the end of the input. */
  async next(): Promise<WorkerItem[] | undefined> {
    for (;;) {
      const items = this.queue.shift();
      if (items) {
        this.send({ type: 'credit' });
        return items;
      }
      if (this.failure) throw this.failure;
      if (this.done) return undefined;
      await new Promise<void>((resolve) => (this.waiter = { resolve }));
    }
  }

  answerPipelines(pipelines: readonly PipelineTransfer[]): void {
    this.send({ type: 'pipelines', pipelines });
  }

  /** Stops the worker (at once, whatever it was doing) and waits until it has. */
  async close(): Promise<void> {
    this.done = true;
    await this.worker.terminate();
  }

  private send(message: RunMessage): void {
    this.worker.postMessage(message);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve();
  }
}

function revive(transfer: FailureTransfer): Error {
  const error = transfer.format
    ? new ImportFormatError(transfer.format.file, transfer.format.line, transfer.format.reason)
    : Object.assign(new Error(transfer.message), { name: transfer.name });
  if (transfer.stack !== undefined) error.stack = transfer.stack;
  return error;
}

export interface WorkerEntry {
  readonly url: URL;
  /** Running from TypeScript: the worker's TypeScript entry, which `url` (tools/ts-worker.js) loads. */
  readonly entry?: string;
}

/**
 * Where the worker's entry is: import-worker.js beside this module when it runs compiled (dist/); from
 * the TypeScript sources (jest), import-worker.ts through tools/ts-worker.js, which compiles it and what
 * it imports as jest does (the API's projection thread starts the same way). Compiled but without its
 * sibling: undefined, and the run reads and decides on its own thread.
 */
export function importWorkerEntry(): WorkerEntry | undefined {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    return { url: new URL('../../../tools/ts-worker.js', here), entry: new URL('./import-worker.ts', here).href };
  }
  const url = new URL('./import-worker.js', here);
  return existsSync(url) ? { url } : undefined;
}
