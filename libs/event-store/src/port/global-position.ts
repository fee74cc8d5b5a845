/**
 * A point in the store's global order.
 *
 * Both adapters order events by a *pair* of 64-bit integers, compared lexicographically:
 * the SQL store by (transaction id, sequence) — see docs/event-store.md for why a bare sequence is
 * not safe to page by — and EventStoreDB by (commit, prepare). Code keeps the pair as bigints; API
 * clients see it only as an opaque string cursor.
 */
export interface GlobalPosition {
  readonly major: bigint;
  readonly minor: bigint;
}

/** Before every event: reading "after START" reads from the beginning. */
export const START: GlobalPosition = Object.freeze({ major: 0n, minor: 0n });

const MAX_U64 = (1n << 64n) - 1n;

/** Negative when a is before b, positive when after, 0 when equal. */
export function comparePositions(a: GlobalPosition, b: GlobalPosition): number {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1;
  return 0;
}

/**
 * Encodes a position as an opaque cursor: two fixed-width hex halves, so cursors also sort correctly
 * as plain strings.
 *
 * @example encodePosition({ major: 1n, minor: 2n }) // '0000000000000001-0000000000000002'
 */
export function encodePosition(position: GlobalPosition): string {
  return `${hex(position.major)}-${hex(position.minor)}`;
}

/** Parses a cursor made by `encodePosition`; returns undefined for anything else. */
export function decodePosition(cursor: string): GlobalPosition | undefined {
  const match = /^([0-9a-f]{16})-([0-9a-f]{16})$/.exec(cursor);
  if (!match) return undefined;
  return { major: BigInt(`0x${match[1]}`), minor: BigInt(`0x${match[2]}`) };
}

/**
 * The largest position part a client may send back: 2^63 − 1. Every position either store produces
 * stays below it (PostgreSQL: a `bigint` sequence and an `xid8` whose epoch would need 2^31
 * wraparounds to reach it; EventStoreDB: log positions are signed 64-bit on the server), and the SQL
 * store compares the minor part as a `bigint`, which refuses anything larger.
 */
export const MAX_CLIENT_POSITION_PART = (1n << 63n) - 1n;

/**
 * Parses a cursor sent by an API client: `decodePosition`, and both parts at most
 * MAX_CLIENT_POSITION_PART. Anything else is undefined (a 400 for the caller, never a store error).
 */
export function parseClientPosition(cursor: unknown): GlobalPosition | undefined {
  const position = typeof cursor === 'string' ? decodePosition(cursor) : undefined;
  if (!position || position.major > MAX_CLIENT_POSITION_PART || position.minor > MAX_CLIENT_POSITION_PART)
    return undefined;
  return position;
}

function hex(value: bigint): string {
  if (value < 0n || value > MAX_U64) throw new RangeError(`position part out of 64-bit range: ${value}`);
  return value.toString(16).padStart(16, '0');
}
