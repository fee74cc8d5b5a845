/**
 * The feed's JSON (`ReadAllJsonPage`) assembled in Node from an event row read as text — what
 * `readAllJson` answers. PostgreSQL only writes each column's text (its raw select's cost) and joins
 * them into one text per event (`EVENT_TEXT_FIELDS`, `FIELD_SEPARATOR`): the driver then decodes one
 * field per event instead of sixteen (test/benchmarks/README.md, 2026-12-07 f). The JSON around the
 * values is fixed text, strings are escaped as `JSON.stringify` escapes them, `data` and `provenance`
 * are jsonb's own text (valid JSON as it is), instants and positions are rewritten from PostgreSQL's
 * text forms. Building the same JSON in SQL (`to_json` per string, `to_char` per instant) cost
 * PostgreSQL ~3× the raw select's CPU per page (test/benchmarks/README.md, 2026-12-07 e).
 */

/** One event as `readAllJson` reads it: every column as text. */
export interface EventTextRow {
  readonly event_id: string;
  readonly stream_id: string;
  readonly stream_revision: string;
  readonly type: string;
  /** jsonb as text. */
  readonly data: string;
  readonly actor_id: string;
  readonly command_id: string | null;
  readonly correlation_id: string | null;
  readonly causation_id: string | null;
  /** `timestamp` text of the instant at time zone UTC, e.g. `2026-01-02 03:04:05.123456`. */
  readonly occurred_at: string;
  /** As occurred_at. */
  readonly recorded_at: string;
  readonly hash: string | null;
  readonly previous_hash: string | null;
  /** jsonb as text. */
  readonly provenance: string | null;
  /** Decimal. */
  readonly transaction_id: string;
  /** Decimal. */
  readonly global_position: string;
}

/**
 * The fields of an event's text, in order: its columns' texts joined by FIELD_SEPARATOR, each nullable
 * one written as `=` + its text, or as nothing for null (so null and `''` stay apart). Every column but
 * the nullable ones is NOT NULL, so the text holds exactly 15 separators plus any inside the values.
 */
export const EVENT_TEXT_FIELDS = [
  'event_id',
  'stream_id',
  'stream_revision',
  'type',
  'data',
  'actor_id',
  'command_id',
  'correlation_id',
  'causation_id',
  'occurred_at',
  'recorded_at',
  'hash',
  'previous_hash',
  'provenance',
  'transaction_id',
  'global_position',
] as const satisfies readonly (keyof EventTextRow)[];

/** The columns written as `=` + text, or nothing for null. */
export const NULLABLE_TEXT_FIELDS: ReadonlySet<keyof EventTextRow> = new Set([
  'command_id',
  'correlation_id',
  'causation_id',
  'previous_hash',
  'provenance',
]);

/**
 * U+001F (unit separator) between the fields of an event's text. jsonb's text never holds it (it
 * writes control characters as `\u001f`), nor do uuids, numbers and instants; a text column may:
 * then the event's text has more fields than EVENT_TEXT_FIELDS and `eventTextRow` says so.
 */
export const FIELD_SEPARATOR = '\u001f';

/** A nullable field's text: nothing for null, else `=` + the value. */
function nullable(field: string): string | null {
  return field === '' ? null : field.slice(1);
}

/**
 * The row of an event's text as `readAllJson` selects it, or undefined when a value held the
 * separator (more fields than EVENT_TEXT_FIELDS): the caller then reads that page with `readAll`.
 */
export function eventTextRow(text: string): EventTextRow | undefined {
  const f = text.split(FIELD_SEPARATOR);
  if (f.length !== EVENT_TEXT_FIELDS.length) return undefined;
  return {
    event_id: f[0],
    stream_id: f[1],
    stream_revision: f[2],
    type: f[3],
    data: f[4],
    actor_id: f[5],
    command_id: nullable(f[6]),
    correlation_id: nullable(f[7]),
    causation_id: nullable(f[8]),
    occurred_at: f[9],
    recorded_at: f[10],
    hash: f[11],
    previous_hash: nullable(f[12]),
    provenance: nullable(f[13]),
    transaction_id: f[14],
    global_position: f[15],
  };
}

/** A code unit `JSON.stringify` writes as an escape: the quote, the backslash, controls, any surrogate (a lone one is escaped). */
// eslint-disable-next-line no-control-regex -- the control characters are what is looked for
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * `JSON.stringify(text)` for a string, `null` for null: strings with nothing to escape (ids, types,
 * hashes — nearly all of them) are quoted as they are, the rest go through `JSON.stringify`.
 */
export function jsonString(text: string | null): string {
  if (text === null) return 'null';
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/**
 * PostgreSQL's `timestamp` output with DateStyle ISO, years 1000–9999 (BC and 5-digit years do not
 * match). Years below 1000 are left to `readAll` as before, whose Dates for them are not to be trusted
 * anyway (year 1 came back as 2001 in a test).
 */
const PG_TIMESTAMP = /^[1-9]\d{3}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?$/;

/**
 * `Date#toISOString()` of the instant whose UTC `timestamp` text PostgreSQL wrote — milliseconds
 * truncated, as node-postgres truncates microseconds when it makes the Date `readAll` returns — or
 * undefined for a year outside 1000–9999 (BC, infinity, another DateStyle included).
 */
export function isoInstant(text: string): string | undefined {
  if (!PG_TIMESTAMP.test(text)) return undefined;
  const date = text.slice(0, 10);
  const time = text.slice(11, 19);
  if (text.length === 19) return `${date}T${time}.000Z`;
  const millis = text.length >= 23 ? text.slice(20, 23) : text.slice(20).padEnd(3, '0');
  return `${date}T${time}.${millis}Z`;
}

/** `encodePosition`'s half for a decimal 64-bit value: 16 hex digits. */
export function hex16(decimal: string): string {
  // Up to 15 digits a double holds the value exactly; longer ones go through BigInt.
  return (decimal.length <= 15 ? Number(decimal) : BigInt(decimal)).toString(16).padStart(16, '0');
}

/**
 * The event as the audit routes' JSON object (`toEventView`'s members in its order, as
 * `JSON.stringify` writes them but for the blanks inside jsonb's text), or undefined when an instant
 * cannot be written as `toISOString` writes it (the caller then reads the page with `readAll`).
 */
export function eventJson(row: EventTextRow): string | undefined {
  const occurredAt = isoInstant(row.occurred_at);
  const recordedAt = isoInstant(row.recorded_at);
  if (occurredAt === undefined || recordedAt === undefined) return undefined;
  return (
    `{"eventId":${jsonString(row.event_id)},"streamId":${jsonString(row.stream_id)}` +
    `,"revision":"${row.stream_revision}","position":"${hex16(row.transaction_id)}-${hex16(row.global_position)}"` +
    `,"type":${jsonString(row.type)},"data":${row.data},"actorId":${jsonString(row.actor_id)}` +
    `,"commandId":${jsonString(row.command_id)},"correlationId":${jsonString(row.correlation_id)}` +
    `,"causationId":${jsonString(row.causation_id)},"occurredAt":"${occurredAt}","recordedAt":"${recordedAt}"` +
    `,"hash":${jsonString(row.hash)},"previousHash":${jsonString(row.previous_hash)}` +
    `,"provenance":${row.provenance ?? 'null'}}`
  );
}

/** The rows' events joined by commas, or undefined when one of them cannot be rendered (see eventJson). */
export function eventsJson(rows: readonly EventTextRow[]): string | undefined {
  let json = '';
  for (let i = 0; i < rows.length; i++) {
    const event = eventJson(rows[i]);
    if (event === undefined) return undefined;
    json += i === 0 ? event : `,${event}`;
  }
  return json;
}
