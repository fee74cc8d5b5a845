import type { ColumnType, Generated } from 'kysely';

/** `api.idempotency_keys`: one row per (actor, Idempotency-Key), the request it is bound to and its first answer. */
interface IdempotencyKeysTable {
  actor_id: string;
  idempotency_key: string;
  method: string;
  route: string;
  target: string;
  body_sha256: string;
  state: 'in-flight' | 'completed';
  /** uuid */
  lease_token: string;
  /** Set from the database clock (`now() + …`), compared with it. */
  lease_until: Date | string;
  response_status: number | null;
  /** jsonb: an object from the drivers (a string on some paths); written as JSON text. */
  response_headers: ColumnType<Record<string, string> | string | null, string | null, string | null>;
  /** The JSON text as first sent (text, not jsonb, which would reorder its keys). */
  response_body: string | null;
  created_at: Generated<Date | string>;
  completed_at: Date | string | null;
}

/** `api.import_jobs`: one row per `POST /imports`, what `GET /imports/:id` answers from any API process. */
interface ImportJobsTable {
  import_id: string;
  status: 'running' | 'done' | 'failed';
  actor_id: string;
  started_at: Date | string;
  finished_at: Date | string | null;
  /** jsonb ImportProgress; written as JSON text. */
  progress: ColumnType<unknown, string, string>;
  /** jsonb ImportReport when done. */
  report: ColumnType<unknown, string | null, string | null>;
  error: string | null;
  /** Database clock; a running job whose process stopped stops beating. */
  heartbeat_at: ColumnType<Date | string, never, Date | string>;
}

/** The API's own tables, keyed as Kysely sees them (schema-qualified). */
export interface ApiTables {
  'api.idempotency_keys': IdempotencyKeysTable;
  'api.import_jobs': ImportJobsTable;
}

declare module '@dealstream/database' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
  interface DB extends ApiTables {}
}
