import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { sql } from 'kysely';
import type { Database } from '@dealstream/database';
import type { EventStore } from '@dealstream/event-store';
import {
  ImportFormatError,
  runHistoricImport,
  type SourcedLine,
  type ImportProgress,
  type ImportReport,
} from '@dealstream/import';
import { DATABASE } from '../database.provider.js';

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
  /** When failed: why it stopped (not a canonical file, database gone, process stopped, …); whole deals were written up to there. */
  readonly error: string | null;
}

/** A running job's process writes its heartbeat this often … */
const HEARTBEAT_MS = 5_000;
/** … and a job whose heartbeat is older than this (database clock) ran in a process that stopped. */
const STALE_MS = 30_000;
/** Progress is written at most this often (the report when the import ends, always). */
const PROGRESS_WRITE_MS = 500;

const INTERRUPTED =
  'interrupted: the API process running it stopped (restart, crash, scale-in); post the same file again — it completes what was not written and appends nothing twice';

/**
 * The imports of every API process, in `api.import_jobs`: an import runs in the process it was
 * posted to, which writes its progress, heartbeat and report there, so any process answers
 * `GET /imports/:id` and a restart forgets nothing. A job whose process stopped mid-import (its
 * heartbeat older than 30 s) answers `failed` with the reason; its events are in the store, and
 * posting the same file again completes it (imports are idempotent).
 */
@Injectable()
export class ImportJobs implements OnApplicationShutdown {
  private readonly heartbeats = new Set<NodeJS.Timeout>();

  constructor(@Inject(DATABASE) private readonly database: Database) {}

  private get db() {
    return this.database.db;
  }

  /**
   * Starts importing `input.lines` in the background (`input.dir`, its temporary folder, is deleted
   * afterwards); answers once the job is recorded. `input.rename` turns the temporary paths in an error
   * or a refusal into what the client sent (`body`, a part's file name).
   */
  async start(
    store: EventStore,
    input: { dir: string; lines: AsyncIterable<SourcedLine>; rename: (text: string) => string },
    actorId: string,
  ): Promise<ImportJobView> {
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
    await this.db
      .insertInto('api.import_jobs')
      .values({
        import_id: importId,
        status: 'running',
        actor_id: actorId,
        started_at: job.startedAt,
        progress: JSON.stringify(job.progress),
      })
      .execute();
    // One write at a time per job, in order: a late progress write never overwrites the report.
    let writes: Promise<unknown> = Promise.resolve();
    const write = (patch: {
      progress?: ImportProgress;
      status?: 'done' | 'failed';
      report?: ImportReport;
      error?: string;
    }) => {
      writes = writes
        .then(() =>
          this.db
            .updateTable('api.import_jobs')
            .set({
              ...(patch.progress ? { progress: JSON.stringify(patch.progress) } : {}),
              ...(patch.status ? { status: patch.status, finished_at: new Date().toISOString() } : {}),
              ...(patch.report ? { report: JSON.stringify(patch.report) } : {}),
              ...(patch.error !== undefined ? { error: patch.error } : {}),
              // Raw: the database clock (heartbeats are compared with it, never with a process's).
              heartbeat_at: sql<Date>`now()`,
            })
            .where('import_id', '=', importId)
            .execute(),
        )
        // A lost progress write is retried by the next one; the final one the job's reader waits for.
        .catch(() => undefined);
      return writes;
    };
    const heartbeat = setInterval(() => void write({}), HEARTBEAT_MS);
    heartbeat.unref();
    this.heartbeats.add(heartbeat);
    let lastProgress = 0;
    // Not awaited: the import runs in the background. A shutdown interrupts it between or inside one
    // deal's append (each deal is one append: written whole or not at all); posting the file again completes it.
    void runHistoricImport(input.lines, {
      store,
      actorId,
      importId,
      // Always off the main thread, whatever the body's size: this thread serves the API's requests
      // (the worker's ~0.65 s start is invisible behind a 202 and GET /imports/:id).
      worker: true,
      onProgress: (progress) => {
        if (Date.now() - lastProgress < PROGRESS_WRITE_MS) return;
        lastProgress = Date.now();
        void write({ progress });
      },
    })
      .then((report) =>
        write({
          status: 'done',
          report: {
            ...report,
            refusals: report.refusals.map((refusal) => ({ ...refusal, file: input.rename(refusal.file) })),
          },
          progress: {
            records: report.records,
            deals: report.deals.imported + report.deals.unchanged + report.deals.refused,
            events: report.events.appended,
          },
        }),
      )
      .catch((error: unknown) =>
        write({
          status: 'failed',
          error:
            error instanceof ImportFormatError
              ? input.rename(error.message)
              : `stopped: ${error instanceof Error ? error.message : String(error)}; post the same file again to complete it`,
        }),
      )
      .finally(() => {
        clearInterval(heartbeat);
        this.heartbeats.delete(heartbeat);
        return rm(input.dir, { recursive: true, force: true });
      });
    return job;
  }

  async get(importId: string): Promise<ImportJobView | undefined> {
    const row = await this.db
      .selectFrom('api.import_jobs')
      .selectAll()
      // Raw: staleness on the database clock, like the heartbeat.
      .select(sql<boolean>`heartbeat_at < now() - ${STALE_MS}::float8 * interval '1 millisecond'`.as('stale'))
      .where('import_id', '=', importId)
      .executeTakeFirst();
    if (!row) return undefined;
    const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());
    const interrupted = row.status === 'running' && row.stale;
    return {
      importId: row.import_id,
      status: interrupted ? 'failed' : row.status,
      actorId: row.actor_id,
      startedAt: iso(row.started_at)!,
      finishedAt: iso(row.finished_at),
      progress: row.progress as ImportProgress,
      report: (row.report as ImportReport | null) ?? null,
      error: interrupted ? INTERRUPTED : row.error,
    };
  }

  onApplicationShutdown(): void {
    for (const heartbeat of this.heartbeats) clearInterval(heartbeat);
    this.heartbeats.clear();
  }
}
