import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { CompiledQuery } from 'kysely';

/**
 * Statements sent to PostgreSQL as named prepared statements: parsed, analysed and (after a few
 * custom plans, as PostgreSQL decides) planned once per connection instead of on every call. For a
 * hot read whose text never changes — `GET /events`' page, where parsing and planning were ~0.05 ms
 * of PostgreSQL's ~0.3 ms per page (test/benchmarks/README.md, 2026-12-07 f).
 *
 * Kysely sends a statement as `client.query(text, values)`; a pool client on which
 * `enablePreparedStatements` ran sends a registered text as `{ name, text, values }` instead, the name
 * derived from the text (pg refuses one name for two texts on a connection). PGlite is not touched:
 * there the text runs as before. A named statement lives as long as its connection; PgBouncer in
 * session mode (docs/operations.md) keeps that.
 */
const names = new Map<string, string>();

/** Registers the statement's text to be sent as a named prepared statement; returns it unchanged. */
export function preparedOnServer<R>(compiled: CompiledQuery<R>): CompiledQuery<R> {
  if (!names.has(compiled.sql))
    names.set(compiled.sql, `ds_${createHash('sha256').update(compiled.sql).digest('hex').slice(0, 32)}`);
  return compiled;
}

/** The name a registered text is prepared under, or undefined. */
export function preparedNameOf(text: string): string | undefined {
  return names.get(text);
}

/** Makes the client send registered texts as named prepared statements (see preparedOnServer). */
export function enablePreparedStatements(client: pg.ClientBase): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const [text, values] = args;
    const name = typeof text === 'string' && Array.isArray(values) && args.length === 2 ? names.get(text) : undefined;
    return name === undefined ? query(...args) : query({ name, text, values });
  };
}
