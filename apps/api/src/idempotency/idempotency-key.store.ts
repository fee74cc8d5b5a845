import { randomUUID } from 'node:crypto';
import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import type { RequestFingerprint } from './idempotency-key.js';

/**
 * The API's own schema. Idempotency keys record HTTP answers: they cannot be derived from events (so
 * not a read model, whose schema a rebuild drops), and they are not events (so not the event store,
 * which on the EventStoreDB profile is not even in SQL). The SQL database every profile has (PGlite,
 * or the PostgreSQL server that also holds the read models) keeps them.
 */
export const API_SCHEMA = 'api';

const migrations: Record<string, Migration> = {
  '0001_idempotency_keys': {
    async up(db: Kysely<any>) {
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
};

/** Creates or updates the API schema; safe from several processes at once (Kysely's migration lock). */
export async function migrateApiSchema(db: Kysely<any>): Promise<void> {
  // Two API processes starting at once: `create schema if not exists` alone can still collide.
  await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('dealstream.api.schema'))`.execute(trx);
    await sql`create schema if not exists api`.execute(trx);
  });
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, migrationTableSchema: API_SCHEMA, migrationTableName: 'migrations', migrationLockTableName: 'migrations_lock' });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
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

interface KeyRow {
  method: string;
  route: string;
  target: string;
  body_sha256: string;
  state: 'in-flight' | 'completed';
  lease_expired: boolean;
  response_status: number | null;
  response_headers: Record<string, string> | string | null;
  response_body: string | null;
}

/** Idempotency keys in `api.idempotency_keys`, scoped by (actor, key). Leases use the database clock. */
export class IdempotencyKeyStore {
  constructor(private readonly db: Kysely<any>) {}

  /** Claims the key for this request, or says what the key already belongs to. */
  async claim(fp: RequestFingerprint, leaseMs: number): Promise<Claim> {
    for (;;) {
      const leaseToken = randomUUID();
      const inserted = await sql<{ lease_token: string }>`
        insert into api.idempotency_keys (actor_id, idempotency_key, method, route, target, body_sha256, state, lease_token, lease_until)
        values (${fp.actorId}, ${fp.key}, ${fp.method}, ${fp.route}, ${fp.target}, ${fp.bodySha256}, 'in-flight', ${leaseToken}::uuid,
          now() + ${leaseMs}::float8 * interval '1 millisecond')
        on conflict (actor_id, idempotency_key) do nothing
        returning lease_token::text as lease_token`.execute(this.db);
      if (inserted.rows.length > 0) return { kind: 'owned', leaseToken };
      const { rows } = await sql<KeyRow>`
        select method, route, target, body_sha256, state, lease_until <= now() as lease_expired, response_status, response_headers, response_body
        from api.idempotency_keys where actor_id = ${fp.actorId} and idempotency_key = ${fp.key}`.execute(this.db);
      const row = rows[0];
      if (!row) continue; // released (its request failed) between the insert and the read: claim again
      if (row.method !== fp.method || row.route !== fp.route || row.target !== fp.target || row.body_sha256 !== fp.bodySha256) {
        return { kind: 'mismatch', first: { method: row.method, target: row.target } };
      }
      if (row.state === 'completed') {
        const headers = typeof row.response_headers === 'string' ? (JSON.parse(row.response_headers) as Record<string, string>) : (row.response_headers ?? {});
        const body: unknown = row.response_body === null ? null : JSON.parse(row.response_body);
        return { kind: 'completed', response: { status: row.response_status!, headers, body } };
      }
      if (!row.lease_expired) return { kind: 'in-flight' };
      // The request holding it crashed or outlived its lease: take it over (one taker wins).
      const taken = await sql`
        update api.idempotency_keys set lease_token = ${leaseToken}::uuid, lease_until = now() + ${leaseMs}::float8 * interval '1 millisecond'
        where actor_id = ${fp.actorId} and idempotency_key = ${fp.key} and state = 'in-flight' and lease_until <= now()
        returning 1`.execute(this.db);
      if (taken.rows.length > 0) return { kind: 'owned', leaseToken };
    }
  }

  /** Records the first answer; later requests with the key replay it. False when the lease was lost. */
  async complete(fp: RequestFingerprint, leaseToken: string, response: StoredResponse): Promise<boolean> {
    const { rows } = await sql`
      update api.idempotency_keys set state = 'completed', response_status = ${response.status},
        response_headers = ${JSON.stringify(response.headers)}::jsonb, response_body = ${JSON.stringify(response.body ?? null)}, completed_at = now()
      where actor_id = ${fp.actorId} and idempotency_key = ${fp.key} and lease_token = ${leaseToken}::uuid and state = 'in-flight'
      returning 1`.execute(this.db);
    return rows.length > 0;
  }

  /** Forgets a key whose request was refused with nothing written: the key may be used again. */
  async release(fp: RequestFingerprint, leaseToken: string): Promise<void> {
    await sql`delete from api.idempotency_keys
      where actor_id = ${fp.actorId} and idempotency_key = ${fp.key} and lease_token = ${leaseToken}::uuid and state = 'in-flight'`.execute(this.db);
  }

  /**
   * Keeps the key bound to its request but lets the next identical request take it over at once: for
   * a failure whose outcome is unknown (the event store timed out, an unexpected error).
   */
  async abandon(fp: RequestFingerprint, leaseToken: string): Promise<void> {
    await sql`update api.idempotency_keys set lease_until = now()
      where actor_id = ${fp.actorId} and idempotency_key = ${fp.key} and lease_token = ${leaseToken}::uuid and state = 'in-flight'`.execute(this.db);
  }

  /**
   * Deletes keys first used more than `retentionMs` ago whose request is no longer running (completed,
   * or an expired lease). Returns how many.
   */
  async purge(retentionMs: number): Promise<number> {
    const { rows } = await sql`
      delete from api.idempotency_keys
      where created_at < now() - ${retentionMs}::float8 * interval '1 millisecond' and (state = 'completed' or lease_until <= now())
      returning 1`.execute(this.db);
    return rows.length;
  }
}
