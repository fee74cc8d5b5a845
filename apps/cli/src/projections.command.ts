import { parseArgs } from 'node:util';
import type { Kysely } from 'kysely';
import type { DatabaseConfig, DB } from '@dealstream/database';
import { encodePosition, type EventStore } from '@dealstream/event-store';
import {
  LIVE_SCHEMA,
  listParkedStreams,
  projectionLag,
  projectionLeader,
  retryParkedStreams,
  type ParkedStream,
  type ProjectionLag,
  type ProjectionLeader,
} from '@dealstream/read-models';
import { openStore } from './open-store.js';

export interface ProjectionsIo {
  readonly env: NodeJS.ProcessEnv;
  readonly print: (line: string) => void;
}

/** Exit codes of `projections status`: 0 the live read models are up to date, 1 they are behind. */
const STATUS_EXIT = { upToDate: 0, behind: 1 } as const;

/** Exit codes of `projections parked|retry`: 0 nothing parked (any more), 1 streams are (still) parked, 2 bad usage. */
export const PROJECTIONS_EXIT = { clear: 0, parked: 1, usage: 2 } as const;

const USAGE =
  'usage: projections status [--json] [--count-limit 100000] | projections parked [--stream <id>] [--json] | projections retry [--stream <id>] [--json]';

/**
 * - `projections status [--json] [--count-limit 100000]`: the live checkpoint against the store's
 *   head — "behind by N events" (and since when) or "up to date" — and which runner leads.
 * - `projections parked` lists the streams held back because an event could not be projected (the
 *   event, its position and the error); `projections retry [--stream <id>]` applies their waiting
 *   events once the cause is fixed (safe while the API and projector run: it takes the live
 *   checkpoint's row lock). See docs/read-models.md, "Poison events".
 */
export async function runProjections(args: string[], io: ProjectionsIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'status' && sub !== 'parked' && sub !== 'retry') {
    io.print(USAGE);
    return PROJECTIONS_EXIT.usage;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      stream: { type: 'string' },
      json: { type: 'boolean', default: false },
      'count-limit': { type: 'string', default: '100000' },
    },
  });
  const { database, store } = await openStore(io.env);
  try {
    if (sub === 'status') {
      const report = await projectionsStatus(database.db, database.config, store, Number(values['count-limit']));
      if (values.json) io.print(JSON.stringify(report, null, 2));
      else for (const line of describeStatus(report)) io.print(line);
      return report.behind > 0 ? STATUS_EXIT.behind : STATUS_EXIT.upToDate;
    }
    if (sub === 'parked') {
      const parked = await listParkedStreams(database.db, undefined, values.stream);
      if (values.json) io.print(JSON.stringify({ parked: parked.map(parkedJson) }));
      else if (parked.length === 0) io.print('no parked streams: every projection is flowing');
      else for (const line of parkedLines(parked)) io.print(line);
      return parked.length === 0 ? PROJECTIONS_EXIT.clear : PROJECTIONS_EXIT.parked;
    }
    const result = await retryParkedStreams(
      database.db,
      store,
      values.stream !== undefined ? { streamId: values.stream } : {},
    );
    if (values.json) {
      io.print(JSON.stringify({ released: result.released, stillParked: result.stillParked.map(parkedJson) }));
    } else {
      for (const streamId of result.released) io.print(`released ${streamId}: its waiting events are applied`);
      if (result.stillParked.length > 0) io.print('still parked:');
      for (const line of parkedLines(result.stillParked)) io.print(line);
      if (result.released.length === 0 && result.stillParked.length === 0) io.print('no parked streams to retry');
    }
    return result.stillParked.length === 0 ? PROJECTIONS_EXIT.clear : PROJECTIONS_EXIT.parked;
  } finally {
    await database.close();
  }
}

/** The CLI entry: prints to stdout and sets the process exit code. */
export async function projectionsCommand(args: string[]): Promise<void> {
  process.exitCode = await runProjections(args, {
    env: process.env,
    print: (line) => process.stdout.write(`${line}\n`),
  });
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

export async function projectionsStatus(
  db: Kysely<DB>,
  config: DatabaseConfig,
  store: EventStore,
  countLimit: number,
): Promise<ProjectionsStatus> {
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
export function describeLag(
  status: Pick<ProjectionsStatus, 'checkpoint' | 'head' | 'behind' | 'behindAtLeast' | 'oldestPendingRecordedAt'>,
  now = new Date(),
): string {
  if (status.behind === 0) return `up to date (checkpoint ${status.checkpoint} is the store's head)`;
  const age = status.oldestPendingRecordedAt
    ? `; oldest pending event recorded ${status.oldestPendingRecordedAt}, ${((now.getTime() - Date.parse(status.oldestPendingRecordedAt)) / 1000).toFixed(1)} s ago`
    : '';
  return `behind by ${status.behindAtLeast ? 'more than ' : ''}${status.behind} events (checkpoint ${status.checkpoint}, store head ${status.head}${age})`;
}

function describeStatus(status: ProjectionsStatus): string[] {
  const leader =
    status.leader === null
      ? 'in-process (embedded PGlite: the API runs the projections)'
      : status.leader.held
        ? `pid ${status.leader.pid}${status.leader.applicationName ? ` (${status.leader.applicationName})` : ''}${status.leader.clientAddress ? ` from ${status.leader.clientAddress}` : ''} holds the projection lock`
        : 'none: no runner holds the projection lock — is an API with in-process projections or a projector running?';
  return [`live read models: ${describeLag(status)}`, `leader: ${leader}`];
}

function parkedLines(parked: readonly ParkedStream[]): string[] {
  return parked.map(
    (p) =>
      `PARKED ${p.streamId} at revision ${p.revision} (${p.eventType}, event ${p.eventId}) since ${p.parkedAt.toISOString()}, ` +
      `${p.eventsWaiting} later event(s) waiting, ${p.attempts} failed retr${p.attempts === 1 ? 'y' : 'ies'}: [${p.errorCode ?? '?'}] ${p.error}`,
  );
}

function parkedJson(p: ParkedStream) {
  return {
    ...p,
    revision: p.revision.toString(),
    position: { major: p.position.major.toString(), minor: p.position.minor.toString() },
    parkedAt: p.parkedAt.toISOString(),
  };
}
