import { parseArgs } from 'node:util';
import type { Kysely } from 'kysely';
import type { DatabaseConfig } from '@dealstream/database';
import { encodePosition, type EventStore } from '@dealstream/event-store';
import { LIVE_SCHEMA, projectionLag, projectionLeader, type ProjectionLag, type ProjectionLeader } from '@dealstream/read-models';
import { openStore } from './open-store.js';

/** Exit codes of `projections status`: 0 the live read models are up to date, 1 they are behind. */
export const STATUS_EXIT = { upToDate: 0, behind: 1 } as const;

/**
 * `projections status [--json] [--count-limit 100000]`: the live checkpoint against the store's
 * head — "behind by N events" (and since when) or "up to date" — and which runner leads.
 */
export async function projectionsCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub !== 'status') throw new Error('usage: projections status [--json] [--count-limit 100000]');
  const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean', default: false }, 'count-limit': { type: 'string', default: '100000' } } });
  const { database, store } = await openStore();
  try {
    const report = await projectionsStatus(database.db, database.config, store, Number(values['count-limit']));
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else for (const line of describeStatus(report)) console.log(line);
    process.exitCode = report.behind > 0 ? STATUS_EXIT.behind : STATUS_EXIT.upToDate;
  } finally {
    await database.close();
  }
}

export interface ProjectionsStatus {
  readonly checkpoint: string;
  readonly head: string;
  readonly behind: number;
  readonly behindAtLeast: boolean;
  readonly oldestPendingRecordedAt: string | null;
  /** null on the embedded PGlite: there the API runs the projections in-process. */
  readonly leader: ProjectionLeader | null;
}

export async function projectionsStatus(db: Kysely<any>, config: DatabaseConfig, store: EventStore, countLimit: number): Promise<ProjectionsStatus> {
  const lag: ProjectionLag = await projectionLag(db, store, LIVE_SCHEMA, { countLimit });
  return {
    checkpoint: encodePosition(lag.checkpoint),
    head: encodePosition(lag.head),
    behind: lag.behind,
    behindAtLeast: lag.behindAtLeast,
    oldestPendingRecordedAt: lag.oldestPendingRecordedAt?.toISOString() ?? null,
    leader: config.kind === 'postgres' ? await projectionLeader(db) : null,
  };
}

/** The live read models' lag in one line: "up to date …" or "behind by N events …". */
export function describeLag(status: Pick<ProjectionsStatus, 'checkpoint' | 'head' | 'behind' | 'behindAtLeast' | 'oldestPendingRecordedAt'>, now = new Date()): string {
  if (status.behind === 0) return `up to date (checkpoint ${status.checkpoint} is the store's head)`;
  const age = status.oldestPendingRecordedAt ? `; oldest pending event recorded ${status.oldestPendingRecordedAt}, ${((now.getTime() - Date.parse(status.oldestPendingRecordedAt)) / 1000).toFixed(1)} s ago` : '';
  return `behind by ${status.behindAtLeast ? 'more than ' : ''}${status.behind} events (checkpoint ${status.checkpoint}, store head ${status.head}${age})`;
}

export function describeStatus(status: ProjectionsStatus): string[] {
  const leader = status.leader === null
    ? 'in-process (embedded PGlite: the API runs the projections)'
    : status.leader.held
      ? `pid ${status.leader.pid}${status.leader.applicationName ? ` (${status.leader.applicationName})` : ''}${status.leader.clientAddress ? ` from ${status.leader.clientAddress}` : ''} holds the projection lock`
      : 'none: no runner holds the projection lock — is an API with in-process projections or a projector running?';
  return [`live read models: ${describeLag(status)}`, `leader: ${leader}`];
}
