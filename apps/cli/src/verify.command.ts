import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { databaseConfigFromEnv, openDatabase, type DatabaseConfig } from '@dealstream/database';
import { verifyHashChains, type VerificationReport } from '@dealstream/audit';

/** Exit codes: 0 every chain intact, 1 something is broken, 2 nothing to verify or bad usage. */
export const VERIFY_EXIT = { intact: 0, broken: 1, unusable: 2 } as const;

export interface VerifyIo {
  readonly env: NodeJS.ProcessEnv;
  readonly print: (line: string) => void;
}

/**
 * `dealstream verify [--stream <id>] [--json]`: verifies the SQL event store's hash chains in the
 * database the API uses (DATABASE_URL, else the embedded PGlite in DATA_DIR) and prints a report.
 * Reads only. With the embedded default, stop the API first: PGlite is single-process.
 */
export async function runVerify(args: string[], io: VerifyIo): Promise<number> {
  const { values } = parseArgs({ args, options: { stream: { type: 'string' }, json: { type: 'boolean', default: false } } });
  if (io.env.EVENTSTORE_CONNECTION_STRING) {
    io.print('error: events are kept in EventStoreDB (EVENTSTORE_CONNECTION_STRING); only the SQL event store keeps a hash chain');
    return VERIFY_EXIT.unusable;
  }
  const config = databaseConfigFromEnv(io.env);
  // Opening PGlite on a missing folder would create an empty database: a verify must not write.
  if (config.kind === 'pglite' && config.dataDir && !existsSync(config.dataDir)) {
    io.print(`error: no embedded database in ${config.dataDir} (set DATA_DIR or DATABASE_URL)`);
    return VERIFY_EXIT.unusable;
  }
  const database = await openDatabase(config);
  try {
    const { rows } = await sql<{ events: string | null }>`select to_regclass('event_store.events')::text as events`.execute(database.db);
    if (!rows[0]?.events) {
      io.print(`error: ${where(config)} holds no event store`);
      return VERIFY_EXIT.unusable;
    }
    const report = await verifyHashChains(database.db, values.stream !== undefined ? { streamId: values.stream } : {});
    if (!report) {
      io.print(`error: no stream ${values.stream} in ${where(config)}`);
      return VERIFY_EXIT.unusable;
    }
    for (const line of values.json ? [JSON.stringify(reportJson(report))] : reportLines(report, config)) io.print(line);
    return report.ok ? VERIFY_EXIT.intact : VERIFY_EXIT.broken;
  } finally {
    await database.close();
  }
}

/** The CLI entry: prints to stdout and sets the process exit code. */
export async function verifyCommand(args: string[]): Promise<void> {
  process.exitCode = await runVerify(args, { env: process.env, print: (line) => process.stdout.write(`${line}\n`) });
}

function reportLines(report: VerificationReport, config: DatabaseConfig): string[] {
  const scope = report.streamId === undefined ? 'every stream' : `stream ${report.streamId}`;
  const lines = [`verified ${scope} in ${where(config)}: ${plural(report.streamsChecked, "stream")}, ${plural(report.eventsChecked, "event")} checked`];
  for (const b of report.breaks) lines.push(`BROKEN ${b.streamId} at revision ${b.revision}: ${b.reason} — ${b.detail}`);
  if (report.brokenStreams > report.breaks.length) lines.push(`… and ${report.brokenStreams - report.breaks.length} more broken streams`);
  lines.push(report.ok ? 'OK: every hash chain is intact' : `FAILED: ${report.brokenStreams} broken stream(s)`);
  return lines;
}

function reportJson(report: VerificationReport) {
  return { ...report, breaks: report.breaks.map((b) => ({ ...b, revision: b.revision.toString() })) };
}

function where(config: DatabaseConfig): string {
  return config.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
