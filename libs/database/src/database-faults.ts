/**
 * What kind of database fault an error is, for callers that must answer "retry later" (503) rather
 * than "bug" (500):
 *
 * - `timeout`: a bound passed — statement_timeout (57014), lock_timeout (55P03), no pool connection
 *   within the acquire timeout. The statement was cancelled; its transaction rolled back.
 * - `unavailable`: the server is gone or going — the connection was reset, refused or terminated
 *   (57P01 admin shutdown, 57P02 crash shutdown, 57P03 starting up, class 08 connection exceptions,
 *   ECONNRESET/ECONNREFUSED/EPIPE, "Connection terminated unexpectedly"), too many connections
 *   (53300), a session ended by idle_in_transaction_session_timeout (25P03). An append cut off at
 *   its commit has an unknown outcome: retrying it with the same event ids (Idempotency-Key) is safe.
 *
 * Anything else (constraint violations, syntax errors, bugs) is `undefined`: not a fault of the
 * database's availability.
 */
export type DatabaseFault = 'timeout' | 'unavailable';

const TIMEOUT_SQLSTATES = new Set(['57014', '55P03']);
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '25P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '08007',
  '08P01',
]);
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

const TIMEOUT_MESSAGES = [/^timeout exceeded when trying to connect/i, /^Query read timeout/i];
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/i, // "… unexpectedly", "… due to connection timeout"
  /is not queryable/i, // "Client has encountered a connection error and is not queryable", "Client was closed and is not queryable"
  /^Client network socket disconnected/i,
  /^terminating connection/i,
  /^the database system is (starting up|shutting down|in recovery mode)/i,
];

export function databaseFaultOf(error: unknown): DatabaseFault | undefined {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const fault = ownFault(current);
    if (fault) return fault;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function ownFault(error: { code?: unknown; message?: unknown; errors?: unknown }): DatabaseFault | undefined {
  const code = typeof error.code === 'string' ? error.code : undefined;
  if (code && TIMEOUT_SQLSTATES.has(code)) return 'timeout';
  if (code && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code))) return 'unavailable';
  const message = typeof error.message === 'string' ? error.message : '';
  if (TIMEOUT_MESSAGES.some((pattern) => pattern.test(message))) return 'timeout';
  if (UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return 'unavailable';
  // Node's AggregateError when every address of a host refused (localhost → ::1 and 127.0.0.1).
  if (Array.isArray(error.errors)) {
    for (const inner of error.errors) {
      const fault =
        inner && typeof inner === 'object' ? ownFault(inner as { code?: unknown; message?: unknown }) : undefined;
      if (fault) return fault;
    }
  }
  return undefined;
}
