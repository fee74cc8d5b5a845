import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Injectable } from '@nestjs/common';
import type { EventStore } from '@dealstream/event-store';
import {
  ImportFormatError,
  readCanonicalFiles,
  runHistoricImport,
  type ImportProgress,
  type ImportReport,
} from '@dealstream/import';

/** What `GET /imports/:id` answers. */
export interface ImportJobView {
  readonly importId: string;
  readonly status: 'running' | 'done' | 'failed';
  /** The principal who started it (token sub): the actorId of every event it writes. */
  readonly actorId: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly progress: ImportProgress;
  /** When done: the import report (docs/import.md). */
  readonly report: ImportReport | null;
  /** When failed: why it stopped (not a canonical file, database gone, …); whole deals were written up to there. */
  readonly error: string | null;
}

/**
 * The imports this API process runs, in memory: an import runs where it was posted, and its
 * progress and report are asked of that process (a restart forgets them; the events are in the
 * store, and posting the same file again completes or confirms it — imports are idempotent).
 */
@Injectable()
export class ImportJobs {
  private readonly jobs = new Map<string, ImportJobView>();

  /** Starts importing `file` (its temporary folder is deleted afterwards) in the background; answers its id at once. */
  start(store: EventStore, file: string, actorId: string): ImportJobView {
    const importId = randomUUID();
    const job: ImportJobView = {
      importId,
      status: 'running',
      actorId,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      progress: { records: 0, deals: 0, events: 0 },
      report: null,
      error: null,
    };
    this.jobs.set(importId, job);
    const update = (patch: Partial<ImportJobView>): void => {
      this.jobs.set(importId, { ...this.jobs.get(importId)!, ...patch });
    };
    // Not awaited: the import runs in the background. A shutdown interrupts it between or inside one
    // deal's append (each deal is one append: written whole or not at all); posting the file again completes it.
    void runHistoricImport(readCanonicalFiles([file]), {
      store,
      actorId,
      importId,
      onProgress: (progress) => update({ progress }),
    })
      .then((report) =>
        update({
          status: 'done',
          report,
          finishedAt: new Date().toISOString(),
          progress: {
            records: report.records,
            deals: report.deals.imported + report.deals.unchanged + report.deals.refused,
            events: report.events.appended,
          },
        }),
      )
      .catch((error: unknown) =>
        update({
          status: 'failed',
          finishedAt: new Date().toISOString(),
          error:
            error instanceof ImportFormatError
              ? error.message.replace(file, 'body')
              : `stopped: ${error instanceof Error ? error.message : String(error)}; post the same file again to complete it`,
        }),
      )
      .finally(() => rm(dirname(file), { recursive: true, force: true }));
    return job;
  }

  get(importId: string): ImportJobView | undefined {
    return this.jobs.get(importId);
  }
}
