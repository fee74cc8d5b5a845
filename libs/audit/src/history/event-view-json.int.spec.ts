import { randomUUID } from 'node:crypto';
import {
  createPGliteTestDatabase,
  createPostgresTestDatabase,
  type TestDatabase,
} from '../../../../test/support/test-database.js';
import { SqlEventStore, migrateEventStore, type NewEvent, type ReadAllOptions } from '@dealstream/event-store';
import { sql } from 'kysely';
import { toEventView } from './event-view.js';

/*
 * GET /events sends the page PostgreSQL serialised (SqlEventStore.readAllJson) instead of building
 * it from readAll's events with toEventView + JSON.stringify. The two must be the same JSON, member
 * for member, for any data a writer can store: escapes, Unicode, numbers, nulls, provenance.
 */

const AWKWARD_DATA: object[] = [
  { quote: 'say "hi"', backslash: 'C:\\temp\\', slash: '</script>', controls: '\n\t\r\b\f\u0001\u001f\u007f' },
  { unicode: 'Déjà vu — 東京 😀', separators: '\u2028\u2029', empty: '', bom: '\ufeff' },
  { numbers: [0, -1, 1.5, -0.25, 123456789012, 1e21, 2 ** 53, 5e-7], flags: [true, false, null] },
  { nested: { a: [{ b: { c: [] } }, {}], z: 'last', a1: 1 }, 'key with "quotes" and \\': 'v' },
  {},
];

function event(data: object, n: number, metadata: Partial<NewEvent['metadata']> = {}): NewEvent {
  return {
    eventId: randomUUID(),
    type: n % 2 === 0 ? 'Awkward' : 'Awkward "typed"',
    data,
    metadata: {
      actorId: n % 3 === 0 ? 'actor "quoted" \\ é' : 'actor',
      occurredAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, n)),
      ...metadata,
    },
  };
}

/** What the route answered before: the events of readAll as toEventView renders them, through JSON. */
async function viaObjects(store: SqlEventStore, options: ReadAllOptions) {
  const batch = await store.readAll(options);
  return {
    events: JSON.parse(JSON.stringify(batch.events.map((e) => toEventView(e)))) as unknown,
    cursor: batch.cursor,
  };
}

/** On a shared server an older transaction anywhere holds new events back (the xmin horizon): wait for them. */
async function readable(store: SqlEventStore, options: ReadAllOptions, count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await store.readAll(options)).events.length < count) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} events readable within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function viaJson(store: SqlEventStore, options: ReadAllOptions) {
  const page = await store.readAllJson(options);
  if (!page) return undefined;
  return { events: JSON.parse(`[${page.eventsJson}]`) as unknown[], cursor: page.cursor, count: page.count };
}

describe.each([
  ['PostgreSQL', createPostgresTestDatabase],
  ['PGlite', createPGliteTestDatabase],
])('SqlEventStore.readAllJson equals readAll + toEventView (%s)', (_name, create) => {
  let database: TestDatabase;
  let store: SqlEventStore;
  beforeAll(async () => {
    database = await create();
    await migrateEventStore(database.db);
    store = new SqlEventStore(database.db);
    await store.appendToStream(
      'deal-json-1',
      AWKWARD_DATA.map((data, n) => event(data, n)),
      {
        expectedRevision: 'no_stream',
      },
    );
    await store.appendToStream(
      'pipeline-json-2',
      [
        event({ imported: true }, 7, {
          commandId: 'cmd-1',
          correlationId: 'corr "1"',
          causationId: 'cause\n1',
          occurredAt: new Date(Date.UTC(1900, 0, 1, 0, 0, 0, 1)),
          provenance: { importId: 'imp-1', sourceSystem: 'hubspot', sourceRecordId: 'row "9"', sourceActor: 'Zoë' },
        }),
        event({ n: 8 }, 8, { commandId: 'cmd-2', occurredAt: new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999)) }),
      ],
      { expectedRevision: 'no_stream' },
    );
    await readable(store, { limit: 100 }, 7);
  }, 60_000);
  afterAll(() => database.drop());

  it('renders every event, page by page, as the same JSON with the same cursor', async () => {
    for (const limit of [1, 3, 100]) {
      let after = undefined as ReadAllOptions['after'];
      let pages = 0;
      for (;;) {
        const options: ReadAllOptions = { limit, ...(after ? { after } : {}) };
        const expected = await viaObjects(store, options);
        const actual = await viaJson(store, options);
        expect(actual).toBeDefined();
        expect(actual!.events).toEqual(expected.events);
        expect(actual!.cursor).toEqual(expected.cursor);
        expect(actual!.count).toBe((expected.events as unknown[]).length);
        if (actual!.count === 0) break;
        after = actual!.cursor;
        pages++;
      }
      expect(pages).toBe(Math.ceil(7 / limit));
    }
  });

  it('is byte for byte the JSON PostgreSQL built for the route before (to_json per string, to_char per instant)', async () => {
    // The route's page SQL until 2026-12-07 e, kept here as the reference of the bytes it sent.
    const { rows } = await sql<{ json: string }>`
      select string_agg('{"eventId":' || to_json(e.event_id::text)::text
        || ',"streamId":' || to_json(e.stream_id)::text
        || ',"revision":"' || e.stream_revision::text
        || '","position":"' || lpad(to_hex(e.transaction_id::text::bigint), 16, '0') || '-' || lpad(to_hex(e.global_position), 16, '0')
        || '","type":' || to_json(e.type)::text
        || ',"data":' || e.data::text
        || ',"actorId":' || to_json(e.actor_id)::text
        || ',"commandId":' || coalesce(to_json(e.command_id)::text, 'null')
        || ',"correlationId":' || coalesce(to_json(e.correlation_id)::text, 'null')
        || ',"causationId":' || coalesce(to_json(e.causation_id)::text, 'null')
        || ',"occurredAt":"' || to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        || '","recordedAt":"' || to_char(e.recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        || '","hash":' || coalesce(to_json(e.hash)::text, 'null')
        || ',"previousHash":' || coalesce(to_json(e.previous_hash)::text, 'null')
        || ',"provenance":' || coalesce(e.provenance::text, 'null') || '}', ',' order by e.transaction_id, e.global_position) as json
      from event_store.events e`.execute(database.db);
    const page = await store.readAllJson({ limit: 100 });
    expect(page!.count).toBe(7);
    expect(page!.eventsJson).toBe(rows[0].json);
  });

  it('applies the same filters, and answers an empty page with the cursor it was given', async () => {
    for (const filter of [
      { eventTypes: ['Awkward "typed"'] },
      { streamCategories: ['pipeline'] },
      { eventTypes: ['None'] },
    ]) {
      const expected = await viaObjects(store, { limit: 100, filter });
      const actual = await viaJson(store, { limit: 100, filter });
      expect(actual!.events).toEqual(expected.events);
      expect(actual!.cursor).toEqual(expected.cursor);
    }
    const { cursor } = await viaObjects(store, { limit: 100 });
    const empty = await store.readAllJson({ after: cursor, limit: 100 });
    expect(empty).toEqual({ eventsJson: '', count: 0, cursor });
  });

  it('keeps null, empty and "="-led text apart in the nullable columns (each is written "=" + text)', async () => {
    const { cursor } = await viaObjects(store, { limit: 100 });
    await store.appendToStream(
      'deal-json-4',
      [
        event({ n: 10 }, 10, { commandId: '', correlationId: '=', causationId: '==x' }),
        event({ n: 11 }, 11, { commandId: '=', correlationId: '' }),
        event({ n: 12 }, 12),
      ],
      { expectedRevision: 'no_stream' },
    );
    await readable(store, { after: cursor, limit: 100 }, 3);
    const expected = await viaObjects(store, { after: cursor, limit: 100 });
    const actual = await viaJson(store, { after: cursor, limit: 100 });
    expect(actual!.events).toEqual(expected.events);
    expect(actual!.cursor).toEqual(expected.cursor);
    expect(
      (actual!.events as { commandId: unknown; correlationId: unknown; causationId: unknown }[]).map((e) => [
        e.commandId,
        e.correlationId,
        e.causationId,
      ]),
    ).toEqual([
      ['', '=', '==x'],
      ['=', '', null],
      [null, null, null],
    ]);
  });

  it('leaves a page whose text column holds U+001F (the field separator) to readAll (undefined)', async () => {
    const { cursor } = await viaObjects(store, { limit: 100 });
    await store.appendToStream('deal-json-5\u001f', [event({ n: 13 }, 13, { actorId: 'a\u001fb' })], {
      expectedRevision: 'no_stream',
    });
    await readable(store, { after: cursor, limit: 100 }, 1);
    expect(await store.readAllJson({ after: cursor, limit: 100 })).toBeUndefined();
    // The pages before it are still written by readAllJson, as readAll + toEventView would (U+001F in
    // `data`, as in AWKWARD_DATA, is jsonb's `\\u001f`, no separator).
    const before = await viaJson(store, { limit: 7 });
    expect(before!.events).toEqual((await viaObjects(store, { limit: 7 })).events);
  });

  it('leaves a page with an instant outside years 1000–9999 to readAll (undefined)', async () => {
    const { cursor } = await viaObjects(store, { limit: 100 });
    await store.appendToStream(
      'deal-json-3',
      [event({ old: true }, 9, { occurredAt: new Date(Date.UTC(999, 5, 1)) })],
      {
        expectedRevision: 'no_stream',
      },
    );
    await readable(store, { after: cursor, limit: 100 }, 1);
    expect(await store.readAllJson({ after: cursor, limit: 100 })).toBeUndefined();
    expect((await store.readAll({ after: cursor, limit: 100 })).events).toHaveLength(1);
  });
});

describe("readAllJson's unfiltered statement (PostgreSQL, one connection)", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPostgresTestDatabase({ poolSize: 1 });
    await migrateEventStore(database.db);
  }, 60_000);
  afterAll(() => database.drop());

  it('is a named prepared statement, parsed once per connection, with the same pages as readAll', async () => {
    const store = new SqlEventStore(database.db);
    await store.appendToStream(
      'deal-prepared-1',
      AWKWARD_DATA.map((data, n) => event(data, n)),
      { expectedRevision: 'no_stream' },
    );
    await readable(store, { limit: 100 }, AWKWARD_DATA.length);
    let after = undefined as ReadAllOptions['after'];
    // More pages than PostgreSQL's five custom plans before it may choose a generic one.
    for (let page = 0; page < 8; page++) {
      const options: ReadAllOptions = { limit: 1, ...(after ? { after } : {}) };
      const actual = await viaJson(store, options);
      const expected = await viaObjects(store, options);
      expect(actual!.events).toEqual(expected.events);
      expect(actual!.cursor).toEqual(expected.cursor);
      after = actual!.cursor;
    }
    // The page's statement, once (the appends that wrote the events have their own named statement).
    const { rows } = await sql<{ name: string; statement: string }>`
      select name, statement from pg_prepared_statements where statement like '%from "event_store"."events"%'`.execute(
      database.db,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].name).toMatch(/^ds_[0-9a-f]{32}$/);
    expect(rows[0].statement).toContain('concat_ws(chr(31)');
  });
});
