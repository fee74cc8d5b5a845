import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { sql, type Kysely } from 'kysely';
import { databaseConfigFromEnv, openDatabase, type DatabaseConfig, type DB } from '@dealstream/database';
import { EsdbEventStore } from '@dealstream/event-store';
import { CLI_TIMEOUT_DEFAULTS } from './cli-timeouts.js';
import {
  checkChainAnchor,
  checkStoreChainAnchor,
  hasValidAnchorSignature,
  parseChainAnchor,
  takeChainAnchor,
  takeStoreChainAnchor,
  verifyHashChains,
  verifyStoreChains,
  type AnchorCheckReport,
  type ChainAnchor,
  type TakeAnchorResult,
  type VerificationReport,
} from '@dealstream/audit';

/** Exit codes: 0 every chain intact, 1 something is broken, 2 nothing to verify or bad usage. */
export const VERIFY_EXIT = { intact: 0, broken: 1, unusable: 2 } as const;

export interface VerifyIo {
  readonly env: NodeJS.ProcessEnv;
  readonly print: (line: string) => void;
}

/**
 * `dealstream verify [--stream <id>] [--anchor <file> [--anchor-public-key <pem>]] [--json]`: verifies the hash chains
 * of the store the API uses (EventStoreDB when EVENTSTORE_CONNECTION_STRING is set, else the SQL event
 * store in DATABASE_URL or the embedded PGlite in DATA_DIR) and prints
 * a report; with `--anchor`, also that every head recorded by `dealstream anchor` is still there with
 * the same hash (which catches a consistent rewrite the chain alone cannot), and with
 * `--anchor-public-key` that the anchor carries a valid Ed25519 signature by that key. Reads only. With the
 * embedded default, stop the API first: PGlite is single-process.
 */
export async function runVerify(args: string[], io: VerifyIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      stream: { type: 'string' },
      anchor: { type: 'string' },
      'anchor-public-key': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  let anchor: ChainAnchor | undefined;
  if (values['anchor-public-key'] !== undefined && values.anchor === undefined) {
    io.print('error: --anchor-public-key checks the signature of an --anchor; give both');
    return VERIFY_EXIT.unusable;
  }
  if (values.anchor !== undefined) {
    try {
      anchor = parseChainAnchor(await readFile(values.anchor, 'utf8'));
      const publicKey = values['anchor-public-key'];
      if (publicKey !== undefined && !hasValidAnchorSignature(anchor, await readFile(publicKey, 'utf8'))) {
        throw new Error(
          anchor.signature === undefined ? 'it is not signed' : `its signature does not verify with ${publicKey}`,
        );
      }
    } catch (error) {
      io.print(
        `error: cannot use the anchor ${values.anchor}: ${error instanceof Error ? error.message : String(error)}`,
      );
      return VERIFY_EXIT.unusable;
    }
  }
  if (anchor !== undefined && values['anchor-public-key'] !== undefined)
    io.print(`anchor ${anchor.digest}: ed25519 signature verified with ${values['anchor-public-key']}`);
  return withStoreToAudit(io, async (target) => {
    const scope = values.stream !== undefined ? { streamId: values.stream } : {};
    const report = await target.verify(scope);
    if (!report) {
      io.print(`error: no stream ${values.stream} in ${target.where}`);
      return VERIFY_EXIT.unusable;
    }
    const against = anchor && (await target.checkAnchor(anchor, scope));
    const lines = values.json
      ? [JSON.stringify(reportJson(report, against))]
      : [...reportLines(report, target.where, against)];
    for (const line of lines) io.print(line);
    return report.ok && (against?.ok ?? true) ? VERIFY_EXIT.intact : VERIFY_EXIT.broken;
  });
}

/** Where the chains are read from, and how: the SQL tables, or the events themselves (EventStoreDB). */
export interface AuditTarget {
  readonly where: string;
  verify(options: { streamId?: string }): Promise<VerificationReport | undefined>;
  checkAnchor(anchor: ChainAnchor, options: { streamId?: string }): Promise<AnchorCheckReport>;
  takeAnchor(): Promise<TakeAnchorResult>;
}

/**
 * Opens the store the API uses, for reading only: EventStoreDB when EVENTSTORE_CONNECTION_STRING is
 * set (the chain is in each event's metadata), else the database after checking there is an SQL
 * event store to audit there; prints why not and answers `unusable` otherwise.
 */
export async function withStoreToAudit(io: VerifyIo, run: (target: AuditTarget) => Promise<number>): Promise<number> {
  const connectionString = io.env.EVENTSTORE_CONNECTION_STRING;
  if (connectionString) {
    let store: EsdbEventStore;
    try {
      const timeoutMs = io.env.EVENTSTORE_TIMEOUT_MS ? Number(io.env.EVENTSTORE_TIMEOUT_MS) : undefined;
      store = new EsdbEventStore(connectionString, timeoutMs ? { timeoutMs } : {});
    } catch (error) {
      io.print(`error: EVENTSTORE_CONNECTION_STRING: ${error instanceof Error ? error.message : String(error)}`);
      return VERIFY_EXIT.unusable;
    }
    try {
      return await run({
        where: 'EventStoreDB (EVENTSTORE_CONNECTION_STRING)',
        verify: (options) => verifyStoreChains(store, options),
        checkAnchor: (anchor, options) => checkStoreChainAnchor(store, anchor, options),
        takeAnchor: () => takeStoreChainAnchor(store),
      });
    } catch (error) {
      io.print(`error: EventStoreDB: ${error instanceof Error ? error.message : String(error)}`);
      return VERIFY_EXIT.unusable;
    } finally {
      await store.close();
    }
  }
  const config = databaseConfigFromEnv(io.env, CLI_TIMEOUT_DEFAULTS);
  // Opening PGlite on a missing folder would create an empty database: an audit must not write.
  if (config.kind === 'pglite' && config.dataDir && !existsSync(config.dataDir)) {
    io.print(`error: no embedded database in ${config.dataDir} (set DATA_DIR or DATABASE_URL)`);
    return VERIFY_EXIT.unusable;
  }
  const database = await openDatabase(config);
  try {
    const row = await database.db
      .selectNoFrom((eb) =>
        eb.cast<string | null>(eb.fn('to_regclass', [sql.lit('event_store.events')]), 'text').as('events'),
      )
      .executeTakeFirst();
    if (!row?.events) {
      io.print(`error: ${where(config)} holds no event store`);
      return VERIFY_EXIT.unusable;
    }
    return await run(sqlTarget(database.db, config));
  } finally {
    await database.close();
  }
}

function sqlTarget(db: Kysely<DB>, config: DatabaseConfig): AuditTarget {
  return {
    where: where(config),
    verify: (options) => verifyHashChains(db, options),
    checkAnchor: (anchor, options) => checkChainAnchor(db, anchor, options),
    takeAnchor: () => takeChainAnchor(db),
  };
}

/** The CLI entry: prints to stdout and sets the process exit code. */
export async function verifyCommand(args: string[]): Promise<void> {
  process.exitCode = await runVerify(args, { env: process.env, print: (line) => process.stdout.write(`${line}\n`) });
}

export function reportLines(report: VerificationReport, place: string, against?: AnchorCheckReport): string[] {
  const scope = report.streamId === undefined ? 'every stream' : `stream ${report.streamId}`;
  const lines = [
    `verified ${scope} in ${place}: ${plural(report.streamsChecked, 'stream')}, ${plural(report.eventsChecked, 'event')} checked`,
  ];
  for (const b of report.breaks)
    lines.push(`BROKEN ${b.streamId} at revision ${b.revision}: ${b.reason} — ${b.detail}`);
  if (report.brokenStreams > report.breaks.length)
    lines.push(`… and ${report.brokenStreams - report.breaks.length} more broken streams`);
  if (against) {
    lines.push(
      `checked ${plural(against.streamsChecked, 'anchored head')} of anchor ${against.digest} (taken ${against.takenAt})`,
    );
    for (const b of against.breaks)
      lines.push(`BROKEN ${b.streamId} at revision ${b.revision}: anchor ${b.reason} — ${b.detail}`);
    if (against.brokenStreams > against.breaks.length)
      lines.push(`… and ${against.brokenStreams - against.breaks.length} more streams that differ from the anchor`);
  }
  if (report.ok && (against?.ok ?? true)) {
    lines.push(
      against ? 'OK: every hash chain is intact and holds every anchored head' : 'OK: every hash chain is intact',
    );
  } else {
    const failures = [
      ...(report.ok ? [] : [`${report.brokenStreams} broken stream(s)`]),
      ...(against && !against.ok ? [`${against.brokenStreams} stream(s) differ from the anchor`] : []),
    ];
    lines.push(`FAILED: ${failures.join(', ')}`);
  }
  return lines;
}

function reportJson(report: VerificationReport, against?: AnchorCheckReport) {
  const revisions = <T extends { revision: bigint }>(breaks: readonly T[]) =>
    breaks.map((b) => ({ ...b, revision: b.revision.toString() }));
  return {
    ...report,
    breaks: revisions(report.breaks),
    ...(against ? { anchor: { ...against, breaks: revisions(against.breaks) } } : {}),
    ok: report.ok && (against?.ok ?? true),
  };
}

function where(config: DatabaseConfig): string {
  return config.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}`;
}

export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
