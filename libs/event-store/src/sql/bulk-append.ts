import { hash as oneShotHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { CopyLines, CopyRows, copyRows } from '@dealstream/database';
import { assembleCanonicalForm } from '../hash-chain/event-hash.js';
import { IdempotencyConflictError, WrongExpectedRevisionError } from '../port/event-store.errors.js';
import type { AppendOutcome, ExpectedRevision, PackedEvents, PreparedEvents } from '../port/event-store.types.js';
import type { EventStoreTables } from './event-store.tables.js';
import { BULK_EVENT_COLUMNS, isPacked, packedBytes, packedEventIds } from './prepared-events.js';

/**
 * One append of a bulk batch: its events prepared (`prepareEvents`: lower-case ids, canonical pieces,
 * rows; or those packed into bytes by `PackWriter`).
 */
export interface BulkAppendRequest {
  readonly streamId: string;
  readonly expectedRevision: ExpectedRevision;
  /** Lower-case; read from the rows of packed events when absent (only a refused append needs them). */
  readonly eventIds?: readonly string[];
  readonly prepared: PreparedEvents | PackedEvents;
}

/** A stream's head as the batch moves it. */
export interface BulkHead {
  exists: boolean;
  revision: bigint;
  hash: string | null;
}

/** What deciding a batch's appends against their heads gave: the COPY text and who goes where. */
export interface BulkLines {
  readonly lines: CopyLines;
  /** Streams this batch appends to, and which of them it creates. */
  readonly touched: ReadonlySet<string>;
  readonly created: ReadonlySet<string>;
  /** Appends whose expected revision failed, with the head they saw: replays or conflicts, or truly stale. */
  readonly refused: readonly { index: number; actual: bigint | undefined }[];
  readonly appended: readonly { index: number; revision: bigint }[];
}

/**
 * Step 2 of `bulkAppend`, pure: every append in order against `heads` (moved in place; a stream not in
 * it is new), the hash chain computed and each event's COPY line written as it is hashed (nothing per
 * event outlives the loop). Packed events are hashed and copied as bytes (`hashPacked`): the same
 * canonical form and the same line as their strings give (a unit test holds the two equal).
 */
export function writeBulkLines(
  requests: readonly BulkAppendRequest[],
  heads: Map<string, BulkHead>,
  recorded: string,
): BulkLines {
  const touched = new Set<string>();
  const created = new Set<string>();
  const refused: { index: number; actual: bigint | undefined }[] = [];
  const appended: { index: number; revision: bigint }[] = [];
  const lines = new CopyLines();
  for (const [index, request] of requests.entries()) {
    let head = heads.get(request.streamId);
    if (!head) {
      head = { exists: false, revision: -1n, hash: null };
      heads.set(request.streamId, head);
    }
    if (!expectationHolds(request.expectedRevision, head)) {
      refused.push({ index, actual: head.exists ? head.revision : undefined });
      continue;
    }
    if (!head.exists) created.add(request.streamId);
    touched.add(request.streamId);
    const { prepared } = request;
    if (isPacked(prepared)) {
      const bytes = packedBytes(prepared);
      const { ends } = prepared;
      for (let k = 0; k < prepared.length; k++) {
        const revision = head.revision + 1n;
        const start = k === 0 ? 0 : ends[4 * k - 1];
        const rowEnd = ends[4 * k];
        const hash = hashPacked(
          bytes,
          rowEnd,
          ends[4 * k + 1],
          ends[4 * k + 2],
          ends[4 * k + 3],
          head.hash,
          recorded,
          revision,
        );
        lines.addBytes(bytes, start, rowEnd, `${revision}\t${recorded}\t${head.hash ?? '\\N'}\t${hash}\n`);
        head.revision = revision;
        head.hash = hash;
      }
    } else {
      const { heads: formHeads, middles, tails, rows } = prepared;
      for (let k = 0; k < prepared.length; k++) {
        const revision = head.revision + 1n;
        const form = assembleCanonicalForm(
          { head: formHeads[k], middle: middles[k], tail: tails[k] },
          head.hash,
          recorded,
          revision,
        );
        const hash = oneShotHash('sha256', form, 'hex');
        // BULK_EVENT_COLUMNS: the prepared row, then revision, record time, previous hash, hash.
        lines.add(`${rows[k]}${revision}\t${recorded}\t${head.hash ?? '\\N'}\t${hash}\n`);
        head.revision = revision;
        head.hash = hash;
      }
    }
    head.exists = true;
    appended.push({ index, revision: head.revision });
  }
  return { lines, touched, created, refused, appended };
}

/** Where `hashPacked` puts a canonical form together (grown for a larger one). */
let form = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * SHA-256 (hex) of the canonical form of a packed event — `assembleCanonicalForm` of its pieces, written
 * as UTF-8 into one scratch buffer: the pieces are copied as bytes (their UTF-8 is the form's, piece by
 * piece: each is whole JSON members), the store's members (ASCII) written around them.
 */
function hashPacked(
  bytes: Buffer,
  headStart: number,
  headEnd: number,
  middleEnd: number,
  tailEnd: number,
  previousHash: string | null,
  recorded: string,
  revision: bigint,
): string {
  const most = tailEnd - headStart + 256;
  if (form.length < most) form = Buffer.allocUnsafeSlow(most * 2);
  let at = 0;
  form[at++] = 0x7b; // {
  at += bytes.copy(form, at, headStart, headEnd);
  at += form.write(previousHash === null ? ',"previousHash":null' : `,"previousHash":"${previousHash}"`, at, 'latin1');
  if (middleEnd > headEnd) {
    form[at++] = 0x2c; // ,
    at += bytes.copy(form, at, headEnd, middleEnd);
  }
  at += form.write(`,"recordedAt":"${recorded}","revision":"${revision}",`, at, 'latin1');
  at += bytes.copy(form, at, middleEnd, tailEnd);
  form[at++] = 0x7d; // }
  return oneShotHash('sha256', form.subarray(0, at), 'hex');
}

/** A request's event ids (read from its packed rows when not given). */
function eventIdsOf(request: BulkAppendRequest): readonly string[] {
  return (
    request.eventIds ?? (isPacked(request.prepared) ? packedEventIds(request.prepared) : request.prepared.eventIds)
  );
}

/**
 * The bulk path (docs/event-store.md, "Bulk appends"): a whole batch of appends in one transaction,
 * set-wise instead of event by event in PL/pgSQL —
 * 1. lock the heads of the batch's existing streams in stream-id order (`for update`, waiting), then
 *    read the database clock once (the record time of every event, truncated to milliseconds);
 * 2. decide every append in order against the heads as they stand at that point (expected revision,
 *    revisions, the hash chain: SHA-256 of the canonical form `assembleCanonicalForm` puts together
 *    from the same pieces `append_batch` concatenates, so the hashes are bit-identical);
 *    an append whose expected revision does not hold has its ids looked up: all stored consecutively in
 *    its stream = `replayed` (the original result), some = an idempotency conflict, none = wrong revision;
 * 3. insert the new heads, move the existing ones, COPY every event in append and revision order, read
 *    back the last position of each append, notify once; commit.
 * Throws when the transaction fails as a whole (a unique violation — an id or a stream another
 * transaction stored since, or an id an append re-sends with a passing expected revision —, a value the
 * database refuses, a timeout): the caller answers each append on its own path then.
 */
export async function bulkAppend(
  db: Kysely<EventStoreTables>,
  requests: readonly BulkAppendRequest[],
  notifyChannel: string,
): Promise<AppendOutcome[]> {
  return db.transaction().execute(async (trx) => {
    // Every statement below looks up given stream ids or (stream, revision) pairs by a unique index;
    // without statistics (autovacuum off, PGlite) the planner may price `= any(…)` of a few hundred
    // ids, or a join to `unnest`, as most of the table and scan it whole — per batch, so an import
    // became quadratic. Sequential scans priced out, as for append_batch (docs/event-store.md, "Plans").
    await sql`set local enable_seqscan = off`.execute(trx);
    const streamIds = [...new Set(requests.map((request) => request.streamId))];
    const { rows: headRows } = await sql<{ stream_id: string; revision: string; last_hash: string | null }>`
      select s.stream_id, s.revision::text as revision, s.last_hash from event_store.streams s
       where s.stream_id = any(${streamIds}::text[]) order by s.stream_id for update`.execute(trx);
    const {
      rows: [clock],
    } = await sql<{ recorded: string; tx: string }>`
      select to_char(date_trunc('milliseconds', clock_timestamp()) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as recorded,
             pg_current_xact_id()::text as tx`.execute(trx);
    const heads = new Map<string, BulkHead>(
      headRows.map((row) => [row.stream_id, { exists: true, revision: BigInt(row.revision), hash: row.last_hash }]),
    );
    const outcomes: (AppendOutcome | undefined)[] = new Array<AppendOutcome | undefined>(requests.length);
    const { lines, touched, created, refused, appended } = writeBulkLines(requests, heads, clock.recorded);

    if (refused.length > 0) await answerRefused(trx, requests, refused, outcomes);

    if (appended.length > 0) {
      // New heads in stream-id order, as append_batch inserts them (two writers never wait on each other's in opposite orders).
      const news = [...created].sort(compareText);
      const changed = [...touched].filter((streamId) => !created.has(streamId)).map((s) => [s, heads.get(s)!] as const);
      if (news.length > 0)
        await sql`insert into event_store.streams (stream_id, revision, last_hash)
          select u.s, u.r, u.h from unnest(${news}::text[], ${news.map((s) => heads.get(s)!.revision.toString())}::bigint[],
            ${news.map((s) => heads.get(s)!.hash)}::text[]) as u(s, r, h)`.execute(trx);
      if (changed.length > 0)
        await sql`update event_store.streams t set revision = u.r, last_hash = u.h, updated_at = now()
          from unnest(${changed.map(([s]) => s)}::text[], ${changed.map(([, h]) => h.revision.toString())}::bigint[],
            ${changed.map(([, h]) => h.hash)}::text[]) as u(s, r, h)
         where t.stream_id = u.s`.execute(trx);
      // One COPY per chunk of ~1 MB of lines (CopyLines), not one per batch: the stream guard (migration
      // 0006) gets each statement's rows as a transition table. A 5,000-event batch's (~10 MB) outgrew
      // work_mem and went to a temporary file; held in memory instead, it was freshly allocated (and
      // page-faulted) every batch: ~3 µs of PostgreSQL an event either way, most of what dropping the
      // per-row foreign key saved. A chunk's fits in the default 4 MB and reuses the memory of the last.
      for (const chunk of lines.rows().chunks)
        await copyRows(trx, 'event_store.events', BULK_EVENT_COLUMNS, CopyRows.fromChunks([chunk]));
      const { rows: positions } = await sql<{ a: number; pos: string }>`
        select u.a, e.global_position::text as pos
          from unnest(${appended.map(({ index }) => index)}::int[], ${appended.map(({ index }) => requests[index].streamId)}::text[],
                      ${appended.map(({ revision }) => revision.toString())}::bigint[]) as u(a, s, r)
          join event_store.events e on e.stream_id = u.s and e.stream_revision = u.r`.execute(trx);
      const positionOf = new Map(positions.map((row) => [Number(row.a), row.pos]));
      for (const { index, revision } of appended) {
        outcomes[index] = {
          ok: true,
          value: {
            streamId: requests[index].streamId,
            nextExpectedRevision: revision,
            position: { major: BigInt(clock.tx), minor: BigInt(positionOf.get(index)!) },
            alreadyStored: false,
          },
        };
      }
      // Wakes LISTENers (projection runners) at commit, once for the batch — as append_batch does per call.
      await sql`select pg_notify(${notifyChannel}, '')`.execute(trx);
    }
    return outcomes.map((outcome) => outcome ?? { ok: false, error: new Error('bulk append answered no outcome') });
  });
}

/**
 * Appends whose expected revision did not hold: as `append_batch` answers them — every id stored
 * consecutively in the stream is a retry (the original result), any other overlap an idempotency
 * conflict, no overlap a wrong expected revision with the head the append saw.
 */
async function answerRefused(
  trx: Kysely<EventStoreTables>,
  requests: readonly BulkAppendRequest[],
  refused: readonly { index: number; actual: bigint | undefined }[],
  outcomes: (AppendOutcome | undefined)[],
): Promise<void> {
  const ids = refused.flatMap(({ index }) => eventIdsOf(requests[index]));
  const { rows } = await sql<{ event_id: string; stream_id: string; revision: string; tx: string; pos: string }>`
    select e.event_id::text as event_id, e.stream_id, e.stream_revision::text as revision,
           e.transaction_id::text as tx, e.global_position::text as pos
      from event_store.events e where e.event_id = any(${ids}::uuid[])`.execute(trx);
  const stored = new Map(rows.map((row) => [row.event_id, row]));
  for (const { index, actual } of refused) {
    const request = { ...requests[index], eventIds: eventIdsOf(requests[index]) };
    const found = request.eventIds.filter((id) => stored.has(id));
    if (found.length === 0) {
      outcomes[index] = {
        ok: false,
        error: new WrongExpectedRevisionError(request.streamId, request.expectedRevision, actual),
      };
      continue;
    }
    const first = stored.get(request.eventIds[0]);
    const complete =
      first !== undefined &&
      found.length === request.eventIds.length &&
      request.eventIds.every((id, j) => {
        const row = stored.get(id)!;
        return row.stream_id === request.streamId && BigInt(row.revision) === BigInt(first.revision) + BigInt(j);
      });
    if (complete) {
      const last = stored.get(request.eventIds.at(-1)!)!;
      outcomes[index] = {
        ok: true,
        value: {
          streamId: request.streamId,
          nextExpectedRevision: BigInt(last.revision),
          position: { major: BigInt(last.tx), minor: BigInt(last.pos) },
          alreadyStored: true,
        },
      };
    } else outcomes[index] = { ok: false, error: new IdempotencyConflictError(request.streamId, found) };
  }
}

function expectationHolds(expected: ExpectedRevision, head: BulkHead): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return !head.exists;
  if (expected === 'stream_exists') return head.exists;
  return head.exists && head.revision === expected;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
