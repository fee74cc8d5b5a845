import { parseArgs } from 'node:util';
import { listParkedStreams, retryParkedStreams, type ParkedStream } from '@dealstream/read-models';
import { openStore } from './open-store.js';

export interface ProjectionsIo {
  readonly env: NodeJS.ProcessEnv;
  readonly print: (line: string) => void;
}

/** Exit codes: 0 nothing parked (any more), 1 streams are (still) parked, 2 bad usage. */
export const PROJECTIONS_EXIT = { clear: 0, parked: 1, usage: 2 } as const;

const USAGE = 'usage: projections parked [--stream <id>] [--json] | projections retry [--stream <id>] [--json]';

/**
 * `projections parked` lists the streams held back because an event could not be projected (the
 * event, its position and the error); `projections retry [--stream <id>]` applies their waiting
 * events once the cause is fixed (safe while the API and projector run: it takes the live
 * checkpoint's row lock). See docs/read-models.md, "Poison events".
 */
export async function runProjections(args: string[], io: ProjectionsIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'parked' && sub !== 'retry') {
    io.print(USAGE);
    return PROJECTIONS_EXIT.usage;
  }
  const { values } = parseArgs({ args: rest, options: { stream: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const { database, store } = await openStore(io.env);
  try {
    if (sub === 'parked') {
      const parked = await listParkedStreams(database.db, undefined, values.stream);
      if (values.json) io.print(JSON.stringify({ parked: parked.map(parkedJson) }));
      else if (parked.length === 0) io.print('no parked streams: every projection is flowing');
      else for (const line of parkedLines(parked)) io.print(line);
      return parked.length === 0 ? PROJECTIONS_EXIT.clear : PROJECTIONS_EXIT.parked;
    }
    const result = await retryParkedStreams(database.db, store, values.stream !== undefined ? { streamId: values.stream } : {});
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
  process.exitCode = await runProjections(args, { env: process.env, print: (line) => process.stdout.write(`${line}\n`) });
}

function parkedLines(parked: readonly ParkedStream[]): string[] {
  return parked.map(
    (p) =>
      `PARKED ${p.streamId} at revision ${p.revision} (${p.eventType}, event ${p.eventId}) since ${p.parkedAt.toISOString()}, ` +
      `${p.eventsWaiting} later event(s) waiting, ${p.attempts} failed retr${p.attempts === 1 ? 'y' : 'ies'}: [${p.errorCode ?? '?'}] ${p.error}`,
  );
}

function parkedJson(p: ParkedStream) {
  return { ...p, revision: p.revision.toString(), position: { major: p.position.major.toString(), minor: p.position.minor.toString() }, parkedAt: p.parkedAt.toISOString() };
}
