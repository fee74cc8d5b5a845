import { randomUUID } from 'node:crypto';
import { Migrator, sql, type Kysely, type Migration, type RawBuilder } from 'kysely';
import type { ApiTables } from './api.tables.js';
import type { RequestFingerprint } from './idempotency-key.js';

/**
 * The API's own schema. Idempotency keys record HTTP answers: they cannot be derived from events (so
 * not a read model, whose schema a rebuild drops), and they are not events (so not the event store,
 * which on the EventStoreDB profile is not even in SQL). The SQL database every profile has (PGlite,
 * or the PostgreSQL server that also holds the read models) keeps them.
 */
const API_SCHEMA = 'api';

const migrations: Record<string, Migration> = {
  '0001_idempotency_keys': {
    async up(db: Kysely<unknown>) {
      await sql`create schema if not exists api`.execute(db);
      await sql`
        create table api.idempotency_keys (
          actor_id text not null,
          idempotency_key text not null,
          method text not null,
          route text not null,
          target text not null,
          body_sha256 text not null,
          state text not null check (state in ('in-flight', 'completed')),
          lease_token uuid not null,
          lease_until timestamptz not null,
          response_status int,
          response_headers jsonb,
          response_body text, -- the JSON text as first sent (jsonb would reorder its keys)
          created_at timestamptz not null default now(),
          completed_at timestamptz,
          primary key (actor_id, idempotency_key)
        )`.execute(db);
      await sql`create index idempotency_keys_created on api.idempotency_keys (created_at)`.execute(db);
    },
  },
  // Import jobs outlive the process that ran them: any instance answers GET /imports/:id, a restart forgets nothing.
  '0002_import_jobs': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table api.import_jobs (
          import_id uuid primary key,
          status text not null check (status in ('running', 'done', 'failed')),
          actor_id text not null,
          started_at timestamptz not null,
          finished_at timestamptz,
          progress jsonb not null,
          report jsonb,
          error text,
          heartbeat_at timestamptz not null default now()
        )`.execute(db);
    },
  },
};

/** Creates or updates the API schema; safe from several processes at once (Kysely's migration lock). */
export async function migrateApiSchema<DB>(db: Kysely<DB>): Promise<void> {
  // Two API processes starting at once: `create schema if not exists` alone can still collide.
  await db.transaction().execute(async (trx) => {
    // Raw: pg_advisory_xact_lock returns void, which the builder's result typing has no use for.
    await sql`select pg_advisory_xact_lock(hashtext('dealstream.api.schema'))`.execute(trx);
    await trx.schema.createSchema(API_SCHEMA).ifNotExists().execute();
  });
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: API_SCHEMA,
    migrationTableName: 'migrations',
    migrationLockTableName: 'migrations_lock',
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(JSON.stringify(error));
}

/** The first answer to a keyed request, as it is replayed. */
export interface StoredResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export type Claim =
  /** This request holds the key: execute it, then complete, release or abandon. */
  | { readonly kind: 'owned'; readonly leaseToken: string }
  /** The key's first request completed: answer its response. */
  | { readonly kind: 'completed'; readonly response: StoredResponse }
  /** The key belongs to a different request. */
  | { readonly kind: 'mismatch'; readonly first: { method: string; target: string } }
  /** The same request is being executed right now (its lease has not expired). */
  | { readonly kind: 'in-flight' };

/**
 * `now() ± ms` on the database clock (leases and retention use the database's time, never a
 * process's). Raw: the builder has no interval literal.
 */
function databaseNowPlus(ms: number): RawBuilder<Date> {
  return sql<Date>`now() + ${ms}::float8 * interval '1 millisecond'`;
}
function databaseNowMinus(ms: number): RawBuilder<Date> {
  return sql<Date>`now() - ${ms}::float8 * interval '1 millisecond'`;
}

/** Idempotency keys in `api.idempotency_keys`, scoped by (actor, key). Leases use the database clock. */
export class IdempotencyKeyStore {
  constructor(private readonly db: Kysely<ApiTables>) {}

  /** The row of this request's key, if any. */
  private keyOf(fp: RequestFingerprint) {
    return this.db
      .selectFrom('api.idempotency_keys')
      .where('actor_id', '=', fp.actorId)
      .where('idempotency_key', '=', fp.key);
  }

  /**
   * Claims the key for this request, or says what the key already belongs to. The lease token is the
   * caller's, so that when this call fails with its outcome unknown (the row written, the answer lost)
   * the caller can still give back whatever the token holds.
   */
  async claim(fp: RequestFingerprint, leaseMs: number, leaseToken: string = randomUUID()): Promise<Claim> {
    for (;;) {
      const inserted = await this.db
        .insertInto('api.idempotency_keys')
        .values({
          actor_id: fp.actorId,
          idempotency_key: fp.key,
          method: fp.method,
          route: fp.route,
          target: fp.target,
          body_sha256: fp.bodySha256,
          state: 'in-flight',
          lease_token: leaseToken,
          lease_until: databaseNowPlus(leaseMs),
        })
        .onConflict((oc) => oc.columns(['actor_id', 'idempotency_key']).doNothing())
        .returning('actor_id')
        .execute();
      if (inserted.length > 0) return { kind: 'owned', leaseToken };
      const row = await this.keyOf(fp)
        .select((eb) => [
          'method',
          'route',
          'target',
          'body_sha256',
          'state',
          eb('lease_until', '<=', eb.fn<Date>('now')).as('lease_expired'),
          'response_status',
          'response_headers',
          'response_body',
        ])
        .executeTakeFirst();
      if (!row) continue; // released (its request failed) between the insert and the read: claim again
      if (
        row.method !== fp.method ||
        row.route !== fp.route ||
        row.target !== fp.target ||
        row.body_sha256 !== fp.bodySha256
      ) {
        return { kind: 'mismatch', first: { method: row.method, target: row.target } };
      }
      if (row.state === 'completed') {
        const headers =
          typeof row.response_headers === 'string'
            ? (JSON.parse(row.response_headers) as Record<string, string>)
            : (row.response_headers ?? {});
        const body: unknown = row.response_body === null ? null : JSON.parse(row.response_body);
        return { kind: 'completed', response: { status: row.response_status!, headers, body } };
      }
      if (!row.lease_expired) return { kind: 'in-flight' };
      // The request holding it crashed or outlived its lease: take it over (one taker wins).
      const taken = await this.db
        .updateTable('api.idempotency_keys')
        .set({ lease_token: leaseToken, lease_until: databaseNowPlus(leaseMs) })
        .where('actor_id', '=', fp.actorId)
        .where('idempotency_key', '=', fp.key)
        .where('state', '=', 'in-flight')
        .where((eb) => eb('lease_until', '<=', eb.fn<Date>('now')))
        .returning('actor_id')
        .execute();
      if (taken.length > 0) return { kind: 'owned', leaseToken };
    }
  }

  /** Records the first answer; later requests with the key replay it. False when the lease was lost. */
  async complete(fp: RequestFingerprint, leaseToken: string, response: StoredResponse): Promise<boolean> {
    const rows = await this.db
      .updateTable('api.idempotency_keys')
      .set((eb) => ({
        state: 'completed',
        response_status: response.status,
        response_headers: JSON.stringify(response.headers),
        response_body: JSON.stringify(response.body ?? null),
        completed_at: eb.fn<Date>('now'),
      }))
      .where('actor_id', '=', fp.actorId)
      .where('idempotency_key', '=', fp.key)
      .where('lease_token', '=', leaseToken)
      .where('state', '=', 'in-flight')
      .returning('actor_id')
      .execute();
    return rows.length > 0;
  }

  /** Forgets a key whose request was refused with nothing written: the key may be used again. */
  async release(fp: RequestFingerprint, leaseToken: string): Promise<void> {
    await this.db
      .deleteFrom('api.idempotency_keys')
      .where('actor_id', '=', fp.actorId)
      .where('idempotency_key', '=', fp.key)
      .where('lease_token', '=', leaseToken)
      .where('state', '=', 'in-flight')
      .execute();
  }

  /**
   * Keeps the key bound to its request but lets the next identical request take it over at once: for
   * a failure whose outcome is unknown (the event store timed out, an unexpected error).
   */
  async abandon(fp: RequestFingerprint, leaseToken: string): Promise<void> {
    await this.db
      .updateTable('api.idempotency_keys')
      .set((eb) => ({ lease_until: eb.fn<Date>('now') }))
      .where('actor_id', '=', fp.actorId)
      .where('idempotency_key', '=', fp.key)
      .where('lease_token', '=', leaseToken)
      .where('state', '=', 'in-flight')
      .execute();
  }

  /**
   * Deletes keys first used more than `retentionMs` ago whose request is no longer running (completed,
   * or an expired lease). Returns how many.
   */
  async purge(retentionMs: number): Promise<number> {
    const rows = await this.db
      .deleteFrom('api.idempotency_keys')
      .where('created_at', '<', databaseNowMinus(retentionMs))
      .where((eb) => eb.or([eb('state', '=', 'completed'), eb('lease_until', '<=', eb.fn<Date>('now'))]))
      .returning('actor_id')
      .execute();
    return rows.length;
  }
}
