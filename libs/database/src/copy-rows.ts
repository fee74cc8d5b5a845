import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { CompiledQuery } from 'kysely';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * Rows for one `COPY <table> (<columns>) FROM STDIN` in PostgreSQL's text format — the bulk-load path
 * (no statement to parse or plan per row, no parameters): the whole batch travels as one stream.
 * Passed as the single parameter of the COPY statement (`copyRows`); both connections this project
 * opens know what to do with it: a PostgreSQL pool client streams it (pg-copy-streams), PGlite reads
 * it as `/dev/blob`.
 */
export class CopyRows {
  private constructor(
    /** The rows in COPY text format, UTF-8, in chunks of about CHUNK bytes (whole rows). */
    readonly chunks: readonly Buffer[],
  ) {}

  /** Bytes in all. */
  get length(): number {
    return this.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  /** The rows as text (tests, diagnostics). */
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /**
   * Each row an array of column values: null → NULL, Date → ISO instant, object → JSON, else its string.
   * Written row by row into Buffers of about CHUNK bytes, sent one after the other: a text built by `+=`
   * over a whole batch (tens of thousands of values, megabytes) was a rope V8 flattened piece by piece
   * when it was encoded — 8% of the historic import's CPU (test/benchmarks/README.md, 2026-12-07 c) —
   * and one growing Buffer would copy itself at every doubling.
   */
  static of(rows: Iterable<readonly unknown[]>): CopyRows {
    const lines = new CopyLines();
    for (const row of rows) {
      let line = row.length > 0 ? copyText(row[0]) : '';
      for (let i = 1; i < row.length; i++) line += '\t' + copyText(row[i]);
      lines.add(line + '\n');
    }
    return lines.rows();
  }

  /** Rows already in COPY text (`CopyLines`). */
  static fromChunks(chunks: readonly Buffer[]): CopyRows {
    return new CopyRows(chunks);
  }
}

/**
 * COPY text written line by line into Buffers of about CHUNK bytes (whole lines), for a writer that
 * builds its lines itself (escaping each value with `copyText`): nothing per row outlives the row's
 * own line — the bulk event writer adds each event's row as it hashes it (bulk-append.ts).
 */
export class CopyLines {
  private readonly chunks: Buffer[] = [];
  private chunk: Buffer | undefined;
  private length = 0;

  /** One whole line, its values escaped and separated by tabs, ending in '\n'. */
  add(line: string): void {
    const chunk = this.room(line.length * 3); // UTF-8 bytes of a UTF-16 code unit, at most
    this.length += chunk.write(line, this.length, 'utf8');
  }

  /**
   * One whole line whose start is COPY text already in bytes (`bytes[start, end)`, escaped UTF-8) and
   * whose end is `rest` (its last values, the '\n').
   */
  addBytes(bytes: Buffer, start: number, end: number, rest: string): void {
    const chunk = this.room(end - start + rest.length * 3);
    this.length += bytes.copy(chunk, this.length, start, end);
    this.length += chunk.write(rest, this.length, 'utf8');
  }

  /** The chunk with `most` bytes free after `length` (a new one when the current is full). */
  private room(most: number): Buffer {
    if (this.chunk === undefined || this.length + most > this.chunk.length) {
      if (this.chunk !== undefined && this.length > 0) this.chunks.push(this.chunk.subarray(0, this.length));
      this.chunk = Buffer.allocUnsafe(Math.max(CHUNK, most));
      this.length = 0;
    }
    return this.chunk;
  }

  /** The lines added so far, as rows for `copyRows`. */
  rows(): CopyRows {
    const chunks = [...this.chunks];
    if (this.chunk !== undefined && this.length > 0) chunks.push(this.chunk.subarray(0, this.length));
    return CopyRows.fromChunks(chunks);
  }
}

/** Bytes of a CopyRows chunk: large enough for few socket writes, small enough to be allocated whole. */
const CHUNK = 1 << 20;

const SPECIAL = /[\\\n\r\t]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One value in COPY text format (escaped; null → \\N): Date → ISO instant, object → JSON, else its string. */
export function copyText(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const text = textOf(value);
  return SPECIAL.test(text) ? text.replace(/[\\\n\r\t]/g, (c) => ESCAPES[c]) : text;
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return isoInstant(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return `${value}`;
  return JSON.stringify(value);
}

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** 'YYYY-MM-DDT' per day since the epoch, for the days seen lately (cleared when it grows). */
const dayPrefixes = new Map<number, string>();

/**
 * `date.toISOString()`, several times faster: the bulk writers format millions of instants, most of
 * them on a few thousand days, so the date part is looked up and the time of day is built from
 * digit tables. Years outside 0000–9999 (which ISO writes with a sign) go through toISOString.
 */
export function isoInstant(date: Date): string {
  const ms = date.getTime();
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    const iso = date.toISOString();
    if (iso.length !== 24) return iso;
    if (dayPrefixes.size >= 20_000) dayPrefixes.clear();
    prefix = iso.slice(0, 11);
    dayPrefixes.set(day, prefix);
  }
  let rest = ms - day * DAY_MS;
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const second = rest % 60;
  rest = (rest - second) / 60;
  const minute = rest % 60;
  const hour = (rest - minute) / 60;
  return `${prefix}${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[second]}.${THREE_DIGITS[milli]}Z`;
}

/**
 * Loads `rows` into `table` (already quoted, e.g. `"read_models"."deal_versions"`) with COPY, inside
 * whatever transaction `db` is. `columns` are plain column names.
 */
export async function copyRows(
  db: { executeQuery(query: CompiledQuery): Promise<unknown> },
  table: string,
  columns: readonly string[],
  rows: Iterable<readonly unknown[]> | CopyRows,
): Promise<void> {
  const data = rows instanceof CopyRows ? rows : CopyRows.of(rows);
  if (data.chunks.length === 0) return;
  await db.executeQuery(
    CompiledQuery.raw(`copy ${table} (${columns.map((c) => `"${c}"`).join(', ')}) from stdin`, [data]),
  );
}

/** The COPY statement and rows of a query sent with `copyRows`, or undefined for any other query. */
export function copyOf(text: unknown, values: unknown): { text: string; rows: CopyRows } | undefined {
  if (typeof text !== 'string' || !Array.isArray(values) || values.length !== 1) return undefined;
  const [rows] = values as unknown[];
  return rows instanceof CopyRows ? { text, rows } : undefined;
}

/**
 * Teaches a node-postgres client `copyRows`: a query whose single parameter is a CopyRows is run as
 * COPY FROM STDIN on the same connection (so inside the caller's transaction); anything else is
 * passed through untouched.
 */
export function enableCopy(client: pg.ClientBase): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const copy = copyOf(args[0], args[1]);
    return copy ? streamCopy(query, copy.text, copy.rows) : query(...args);
  };
}

async function streamCopy(
  query: (...args: unknown[]) => unknown,
  text: string,
  rows: CopyRows,
): Promise<{ command: string; rowCount: number; rows: never[] }> {
  const stream = query(copyFrom(text)) as ReturnType<typeof copyFrom>;
  await pipeline(Readable.from(rows.chunks), stream);
  return { command: 'COPY', rowCount: stream.rowCount, rows: [] };
}
