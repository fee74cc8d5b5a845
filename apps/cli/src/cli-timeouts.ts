import type { PostgresTimeouts } from '@dealstream/database';

/**
 * The CLI is an operator's tool: a rebuild's parity check or a whole-store verify may run one long
 * statement, and the swap may wait for a lock. So unless DB_STATEMENT_TIMEOUT_MS / DB_LOCK_TIMEOUT_MS
 * are set, its statements and lock waits are unbounded (stop it with Ctrl-C); the connect bound holds.
 */
export const CLI_TIMEOUT_DEFAULTS: Partial<PostgresTimeouts> = { statementTimeoutMs: 0, lockTimeoutMs: 0 };
