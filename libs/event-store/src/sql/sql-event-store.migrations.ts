import { Migrator, sql, type Kysely, type Migration, type MigrationResultSet } from 'kysely';

export const EVENT_STORE_SCHEMA = 'event_store';

/**
 * Migrations of the SQL event store. Append-only list: never edit a shipped migration, add one.
 * They take `Kysely<unknown>` (no table types: a migration must not follow today's schema types) and
 * import nothing from the application, so they replay forever. Today's shape is `EventStoreTables`.
 */
const migrations: Record<string, Migration> = {
  '0001_events_and_streams': {
    async up(db: Kysely<unknown>) {
      await sql`create schema if not exists event_store`.execute(db);
      // One row per stream: the lock that serialises appends to a stream, its head revision and the
      // head of its hash chain (read under that lock, so concurrent appends cannot fork the chain).
      await sql`
        create table event_store.streams (
          stream_id text primary key,
          revision bigint not null,
          last_hash text,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`.execute(db);
      await sql`
        create table event_store.events (
          global_position bigint generated always as identity primary key,
          transaction_id xid8 not null default pg_current_xact_id(),
          event_id uuid not null,
          stream_id text not null references event_store.streams (stream_id),
          stream_category text not null generated always as (split_part(stream_id, '-', 1)) stored,
          stream_revision bigint not null,
          type text not null,
          data jsonb not null,
          actor_id text not null,
          command_id text,
          correlation_id text,
          causation_id text,
          occurred_at timestamptz not null,
          recorded_at timestamptz not null,
          previous_hash text,
          hash text not null,
          constraint events_event_id_unique unique (event_id),
          constraint events_stream_revision_unique unique (stream_id, stream_revision),
          constraint events_revision_non_negative check (stream_revision >= 0)
        )`.execute(db);
      // The global reading order: (transaction id, position). See docs/event-store.md.
      await sql`create index events_global_order on event_store.events (transaction_id, global_position)`.execute(db);
      await sql`create index events_type on event_store.events (type, transaction_id, global_position)`.execute(db);
      await sql`create index events_category on event_store.events (stream_category, transaction_id, global_position)`.execute(
        db,
      );
    },
  },
  '0002_append_batch_function': {
    async up(db: Kysely<unknown>) {
      // One round trip per group of appends (docs/event-store.md, "Append"): checks the expected
      // revisions, answers retries, chains the hashes, inserts the events, moves the heads and
      // notifies, in one call. The client sends each event's RFC 8785 canonical form without the
      // three members only the database knows (previousHash, recordedAt, revision): `head` holds
      // the members that sort before them, `tail` those after (streamId, type). Concatenating the
      // three in their sorted place gives exactly the form `canonicalEventForm` builds, so the hash
      // computed here is the one `hashEvent` computes (tested against it).
      await appendBatchFunction({ provenance: false }).execute(db);
    },
  },
  '0003_event_provenance': {
    async up(db: Kysely<unknown>) {
      // Where an imported event came from (import id, source system, record id, actor); null on live
      // writes. Covered by the hash when present: append_batch takes it as a third canonical piece.
      await sql`alter table event_store.events add column if not exists provenance jsonb`.execute(db);
      await sql`drop function event_store.append_batch(text[], text[], int[], uuid[], text[], text[], boolean)`.execute(
        db,
      );
      await appendBatchFunction({ provenance: true }).execute(db);
    },
  },
  '0004_append_batch_custom_plans': {
    async up(db: Kysely<unknown>) {
      // PL/pgSQL caches its statements' plans per connection, and after five calls settles on a
      // generic plan. Made while the tables were empty, that plan scans them sequentially, and nothing
      // replans it until the tables are analyzed — never with autovacuum off, never on PGlite (no
      // autovacuum): every append then scanned the whole events table, and a large import became
      // quadratic. A custom plan each call sizes the tables as they are (the planner reads their
      // current size even when they were never analyzed); planning costs a fraction of a millisecond
      // a call, which carries a whole group of appends. Test: sql-event-store.plans.int.spec.ts.
      await sql`alter function event_store.append_batch(text[], text[], int[], uuid[], text[], text[], text[], boolean)
        set plan_cache_mode = force_custom_plan`.execute(db);
    },
  },
  '0005_append_batch_generic_index_plans': {
    async up(db: Kysely<unknown>) {
      // Planning every statement on every call (0004) cost more than the rest of the call at the group
      // sizes the API reaches (a few appends per call: ~0.15–0.2 ms of PostgreSQL CPU per append, half
      // of it). Each connection now plans the function's statements once, generically, and
      // enable_seqscan = off makes that one plan use the indexes whatever the tables' size when it is
      // made (each statement looks up given stream ids or event ids through a unique index; one that
      // had no index path would still scan, the setting only prices scans out). So the plans made on
      // empty tables stay right as they grow, without ANALYZE. Test: sql-event-store.plans.int.spec.ts.
      const fn = sql.raw('event_store.append_batch(text[], text[], int[], uuid[], text[], text[], text[], boolean)');
      await sql`alter function ${fn} set plan_cache_mode = force_generic_plan`.execute(db);
      await sql`alter function ${fn} set enable_seqscan = off`.execute(db);
    },
  },
  '0006_stream_guard_per_statement': {
    async up(db: Kysely<unknown>) {
      // The foreign key events.stream_id → streams checked every inserted row on its own (PostgreSQL's
      // RI trigger: one SPI query and one FOR KEY SHARE row lock per event, ~5 µs of PostgreSQL an
      // event, a quarter of an import's COPY). The same guarantee per statement instead: one anti-join
      // over a statement's (or a COPY's) new rows, and stream rows that are never deleted or renamed —
      // so no lock is needed to keep a stream an event references (docs/event-store.md, "Stream guard").
      //
      // Events side: after every INSERT (COPY included) and UPDATE, each distinct stream id among the
      // new rows must have a streams row, else 23503. Nested-loop probes of streams_pkey only: the plan
      // is made once per connection, maybe on empty tables, and must not become a scan of streams as
      // it grows (as 0005 for append_batch; no parameters, so no setting could replan it).
      await sql`
        create function event_store.events_stream_guard() returns trigger
        language plpgsql
        set enable_seqscan = off set enable_hashjoin = off set enable_mergejoin = off
        as $fn$
        declare
          v_missing text;
        begin
          select n.stream_id into v_missing
            from (select distinct e.stream_id from new_events e) n
           where not exists (select 1 from event_store.streams s where s.stream_id = n.stream_id)
           limit 1;
          if found then
            raise exception 'insert or update on table "events" violates the stream guard: stream "%" has no row in event_store.streams', v_missing
              using errcode = 'foreign_key_violation', schema = 'event_store', table = 'events',
                    column = 'stream_id', constraint = 'events_stream_guard';
          end if;
          return null;
        end
        $fn$`.execute(db);
      // Two triggers: one with a transition table serves one event only.
      await sql`
        create trigger events_stream_guard_insert after insert on event_store.events
        referencing new table as new_events
        for each statement execute function event_store.events_stream_guard()`.execute(db);
      await sql`
        create trigger events_stream_guard_update after update on event_store.events
        referencing new table as new_events
        for each statement execute function event_store.events_stream_guard()`.execute(db);
      // Streams side: the store never deletes a stream row nor changes its id (a stream row is the head
      // of its events): both refused always, whether or not events reference the stream yet, and so is
      // TRUNCATE (the foreign key refused it unless events went with it) — so a stream an inserting
      // statement saw stays, without the row lock the foreign key took. Only a change of stream_id fires
      // the update trigger (the heads' updates do not name that column).
      await sql`
        create function event_store.streams_guard() returns trigger
        language plpgsql
        as $fn$
        begin
          if tg_op = 'TRUNCATE' then
            raise exception 'truncate of table "streams" refused by the stream guard: stream rows are never deleted'
              using errcode = 'foreign_key_violation', schema = 'event_store', table = 'streams',
                    constraint = 'events_stream_guard';
          end if;
          raise exception '% on table "streams" refused by the stream guard: stream "%" is never deleted or renamed',
                lower(tg_op), old.stream_id
            using errcode = 'foreign_key_violation', schema = 'event_store', table = 'streams',
                  column = 'stream_id', constraint = 'events_stream_guard';
        end
        $fn$`.execute(db);
      await sql`
        create trigger streams_guard_delete before delete on event_store.streams
        for each row execute function event_store.streams_guard()`.execute(db);
      await sql`
        create trigger streams_guard_rename before update of stream_id on event_store.streams
        for each row when (old.stream_id is distinct from new.stream_id) execute function event_store.streams_guard()`.execute(
        db,
      );
      await sql`
        create trigger streams_guard_truncate before truncate on event_store.streams
        for each statement execute function event_store.streams_guard()`.execute(db);
      await sql`alter table event_store.events drop constraint if exists events_stream_id_fkey`.execute(db);
    },
  },
};

/** Brings the event store schema up to date; safe to call from several processes at once. */
export async function migrateEventStore<DB>(db: Kysely<DB>): Promise<MigrationResultSet> {
  await db.schema.createSchema(EVENT_STORE_SCHEMA).ifNotExists().execute();
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: EVENT_STORE_SCHEMA,
    migrationTableName: 'migrations',
    migrationLockTableName: 'migrations_lock',
  });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error instanceof Error ? result.error : new Error(JSON.stringify(result.error));
  return result;
}

/**
 * `event_store.append_batch` as migration 0002 created it, and as 0003 re-creates it with the
 * provenance of imported events: `p_middles` holds each event's `"provenance":{…}` piece of the
 * canonical form ('' when it has none), placed between `previousHash` and `recordedAt` where JCS
 * sorts it, and stored in the provenance column. A function of the migrations (it imports nothing),
 * so 0002 keeps creating exactly what it always did.
 */
function appendBatchFunction({ provenance }: { provenance: boolean }) {
  const middleParameter = sql.raw(provenance ? '\n          p_middles text[],' : '');
  const middlePiece = sql.raw(
    provenance ? " || case when p_middles[v_k] = '' then '' else ',' || p_middles[v_k] end" : '',
  );
  const provenanceColumn = sql.raw(provenance ? ', provenance' : '');
  const provenanceValue = sql.raw(
    provenance
      ? ",\n                     case when p_middles[w.k] = '' then null else ('{' || p_middles[w.k] || '}')::jsonb -> 'provenance' end"
      : '',
  );
  return sql`
        create function event_store.append_batch(
          p_streams text[],
          p_expected text[],
          p_counts int[],
          p_ids uuid[],
          p_heads text[],${middleParameter}
          p_tails text[],
          p_wait boolean
        ) returns table (outcome text, next_revision text, tx text, pos text, conflict_ids text[])
        language plpgsql volatile
        as $fn$
        declare
          v_n int := coalesce(array_length(p_streams, 1), 0);
          v_recorded timestamptz := date_trunc('milliseconds', clock_timestamp());
          v_recorded_text text := to_char(v_recorded at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
          v_st_ids uuid[]; v_st_streams text[]; v_st_revs bigint[]; v_st_tx text[]; v_st_pos text[];
          v_h_streams text[]; v_h_revs bigint[]; v_h_hashes text[];
          v_busy text[] := '{}';
          v_outcome text[] := '{}'; v_revision text[] := '{}'; v_tx text[] := '{}'; v_pos text[] := '{}';
          v_conflicts text[] := '{}';
          v_e_k int[] := '{}'; v_e_stream text[] := '{}'; v_e_rev bigint[] := '{}';
          v_e_prev text[] := '{}'; v_e_hash text[] := '{}';
          v_new_streams text[] := '{}'; v_new_revs bigint[] := '{}'; v_new_hashes text[] := '{}';
          v_upd_streams text[] := '{}'; v_upd_revs bigint[] := '{}'; v_upd_hashes text[] := '{}';
          v_ip_streams text[]; v_ip_revs bigint[]; v_ip_pos bigint[];
          v_a int; v_k int; v_j int; v_off int := 0; v_cnt int; v_idx int; v_last int;
          v_s text; v_prev_s text; v_exists boolean; v_was_new boolean; v_changed boolean; v_is_busy boolean;
          v_rev bigint; v_hash text; v_ok boolean; v_complete boolean; v_found text[]; v_base bigint;
          v_form text; v_h text;
        begin
          -- 1. Retries: which of these event ids are stored already (one index lookup for the group).
          select array_agg(e.event_id), array_agg(e.stream_id), array_agg(e.stream_revision),
                 array_agg(e.transaction_id::text), array_agg(e.global_position::text)
            into v_st_ids, v_st_streams, v_st_revs, v_st_tx, v_st_pos
            from event_store.events e
           where e.event_id = any(p_ids);

          -- 2. Lock the heads, in stream id order (every group locks in that order: no lock cycles).
          --    Without p_wait a head another transaction holds is skipped and its appends answer
          --    'busy', so one contended stream never holds up the rest of the group.
          if p_wait then
            select array_agg(h.stream_id), array_agg(h.revision), array_agg(h.last_hash)
              into v_h_streams, v_h_revs, v_h_hashes
              from (select s.stream_id, s.revision, s.last_hash from event_store.streams s
                     where s.stream_id = any(p_streams) order by s.stream_id for update) h;
          else
            select array_agg(h.stream_id), array_agg(h.revision), array_agg(h.last_hash)
              into v_h_streams, v_h_revs, v_h_hashes
              from (select s.stream_id, s.revision, s.last_hash from event_store.streams s
                     where s.stream_id = any(p_streams) order by s.stream_id for update skip locked) h;
            select coalesce(array_agg(s.stream_id), '{}') into v_busy
              from event_store.streams s
             where s.stream_id = any(p_streams) and not (s.stream_id = any(coalesce(v_h_streams, '{}')));
          end if;

          -- 3. Decide every append in order (the caller sorts them by stream, keeping their order
          --    within a stream, so a stream's appends follow each other and see each other's heads).
          for v_a in 1 .. v_n loop
            v_s := p_streams[v_a];
            v_cnt := p_counts[v_a];
            if v_s is distinct from v_prev_s then
              if v_changed then
                if v_was_new then
                  v_new_streams := v_new_streams || v_prev_s; v_new_revs := v_new_revs || v_rev; v_new_hashes := v_new_hashes || v_hash;
                else
                  v_upd_streams := v_upd_streams || v_prev_s; v_upd_revs := v_upd_revs || v_rev; v_upd_hashes := v_upd_hashes || v_hash;
                end if;
              end if;
              v_idx := array_position(v_h_streams, v_s);
              v_exists := v_idx is not null;
              v_was_new := not v_exists;
              v_rev := case when v_exists then v_h_revs[v_idx] else -1 end;
              v_hash := case when v_exists then v_h_hashes[v_idx] end;
              v_is_busy := v_s = any(v_busy);
              v_changed := false;
              v_prev_s := v_s;
            end if;

            v_outcome := v_outcome || null::text; v_revision := v_revision || null::text;
            v_tx := v_tx || null::text; v_pos := v_pos || null::text; v_conflicts := v_conflicts || null::text;

            -- A retry: every id stored consecutively in this stream answers the original result,
            -- any other overlap is an idempotency conflict. Whatever the expected revision says.
            v_found := '{}';
            v_complete := true;
            if v_st_ids is not null then
              for v_j in 0 .. v_cnt - 1 loop
                v_k := v_off + 1 + v_j;
                v_idx := array_position(v_st_ids, p_ids[v_k]);
                if v_idx is null then
                  v_complete := false;
                else
                  v_found := v_found || p_ids[v_k]::text;
                  if v_j = 0 then v_base := v_st_revs[v_idx]; end if;
                  if v_st_streams[v_idx] <> v_s or v_st_revs[v_idx] <> v_base + v_j then
                    v_complete := false;
                  end if;
                  v_last := v_idx;
                end if;
              end loop;
            end if;
            if cardinality(v_found) > 0 then
              if v_complete then
                v_outcome[v_a] := 'replayed';
                v_revision[v_a] := v_st_revs[v_last]::text;
                v_tx[v_a] := v_st_tx[v_last];
                v_pos[v_a] := v_st_pos[v_last];
              else
                v_outcome[v_a] := 'idempotency-conflict';
                v_conflicts[v_a] := array_to_string(v_found, ',');
              end if;
              v_off := v_off + v_cnt;
              continue;
            end if;

            if v_is_busy then
              v_outcome[v_a] := 'busy';
              v_off := v_off + v_cnt;
              continue;
            end if;

            v_ok := case p_expected[v_a]
              when 'any' then true
              when 'no_stream' then not v_exists
              when 'stream_exists' then v_exists
              else v_exists and v_rev = p_expected[v_a]::bigint
            end;
            if not v_ok then
              v_outcome[v_a] := 'wrong-expected-revision';
              v_revision[v_a] := case when v_exists then v_rev::text end;
              v_off := v_off + v_cnt;
              continue;
            end if;

            for v_j in 1 .. v_cnt loop
              v_k := v_off + v_j;
              v_rev := v_rev + 1;
              v_form := '{' || p_heads[v_k]
                || ',"previousHash":' || coalesce('"' || v_hash || '"', 'null')${middlePiece}
                || ',"recordedAt":"' || v_recorded_text
                || '","revision":"' || v_rev::text
                || '",' || p_tails[v_k] || '}';
              v_h := encode(sha256(convert_to(v_form, 'UTF8')), 'hex');
              v_e_k := v_e_k || v_k; v_e_stream := v_e_stream || v_s; v_e_rev := v_e_rev || v_rev;
              v_e_prev := v_e_prev || v_hash; v_e_hash := v_e_hash || v_h;
              v_hash := v_h;
            end loop;
            v_exists := true;
            v_changed := true;
            v_outcome[v_a] := 'appended';
            v_revision[v_a] := v_rev::text;
            v_off := v_off + v_cnt;
          end loop;
          if v_changed then
            if v_was_new then
              v_new_streams := v_new_streams || v_prev_s; v_new_revs := v_new_revs || v_rev; v_new_hashes := v_new_hashes || v_hash;
            else
              v_upd_streams := v_upd_streams || v_prev_s; v_upd_revs := v_upd_revs || v_rev; v_upd_hashes := v_upd_hashes || v_hash;
            end if;
          end if;

          -- 4. Write: new heads, moved heads, the events (positions in stream and revision order).
          --    A stream created or an event id stored by a concurrent transaction since step 1 is a
          --    unique violation here: the caller retries, and the next call sees that commit.
          if cardinality(v_new_streams) > 0 then
            insert into event_store.streams (stream_id, revision, last_hash)
            select u.s, u.r, u.h from unnest(v_new_streams, v_new_revs, v_new_hashes) as u(s, r, h);
          end if;
          if cardinality(v_upd_streams) > 0 then
            update event_store.streams t set revision = u.r, last_hash = u.h, updated_at = now()
              from unnest(v_upd_streams, v_upd_revs, v_upd_hashes) as u(s, r, h)
             where t.stream_id = u.s;
          end if;
          if cardinality(v_e_k) > 0 then
            with inserted as (
              insert into event_store.events (event_id, stream_id, stream_revision, type, data, actor_id,
                command_id, correlation_id, causation_id, occurred_at, recorded_at, previous_hash, hash${provenanceColumn})
              select p_ids[w.k], w.s, w.r, c.j ->> 'type', c.j -> 'data', c.j ->> 'actorId',
                     c.j ->> 'commandId', c.j ->> 'correlationId', c.j ->> 'causationId',
                     (c.j ->> 'occurredAt')::timestamptz, v_recorded, w.p, w.h${provenanceValue}
                from unnest(v_e_k, v_e_stream, v_e_rev, v_e_prev, v_e_hash) with ordinality as w(k, s, r, p, h, o)
                -- offset 0 keeps the subquery from being inlined: inlined, each c.j below parsed the text again.
                cross join lateral (select ('{' || p_heads[w.k] || ',' || p_tails[w.k] || '}')::jsonb as j offset 0) c
               order by w.o
              returning event_store.events.stream_id, event_store.events.stream_revision, event_store.events.global_position
            )
            select array_agg(i.stream_id), array_agg(i.stream_revision), array_agg(i.global_position)
              into v_ip_streams, v_ip_revs, v_ip_pos
              from inserted i;
            -- Wakes LISTENers (projection runners) at commit; a hint, not a delivery. The channel is
            -- EVENTS_NOTIFY_CHANNEL (a migration imports nothing from the application).
            perform pg_notify('dealstream_events', '');
          end if;

          -- 5. One row per append, in the order given.
          return query
            select o.outcome, o.revision,
                   case when o.outcome = 'appended' then pg_current_xact_id()::text else o.tx end,
                   case when o.outcome = 'appended' then
                     (select i.p::text from unnest(v_ip_streams, v_ip_revs, v_ip_pos) as i(s, r, p)
                       where i.s = o.s and i.r = o.revision::bigint)
                   else o.pos end,
                   case when o.conflict is null then null else string_to_array(o.conflict, ',') end
              from unnest(v_outcome, v_revision, v_tx, v_pos, v_conflicts, p_streams)
                   with ordinality as o(outcome, revision, tx, pos, conflict, s, a)
             order by o.a;
        end
        $fn$`;
}
