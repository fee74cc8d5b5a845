import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { SqlEventStore, canonicalEventForm, migrateEventStore } from '@dealstream/event-store';
import {
  createPGliteTestDatabase,
  createPostgresTestDatabase,
  type TestDatabase,
} from '../../../../test/support/test-database.js';
import { verifyHashChains } from './verify-chains.query.js';

const provenance = (n: number) => ({
  importId: 'imp-1',
  sourceSystem: 'acme-crm',
  sourceRecordId: `OH-${n}`,
  sourceActor: 'sam@acme',
});

describe.each([
  ['PostgreSQL', createPostgresTestDatabase],
  ['PGlite', createPGliteTestDatabase],
] as const)('provenance of imported events is stored, read back and covered by the hash chain (%s)', (_, create) => {
  let database: TestDatabase;
  let store: SqlEventStore;

  beforeAll(async () => {
    database = await create();
    await migrateEventStore(database.db);
    store = new SqlEventStore(database.db);
    for (const streamId of ['deal-kept', 'deal-forged', 'deal-stripped']) {
      await store.appendToStream(
        streamId,
        [0, 1, 2].map((n) => ({
          eventId: randomUUID(),
          type: 'ActivityLogged',
          data: { activityId: `a${n}`, kind: 'call' },
          metadata: {
            actorId: 'importer',
            occurredAt: new Date(Date.UTC(2025, 0, 1 + n)),
            ...(n > 0 ? { provenance: provenance(n) } : {}), // revision 0 is a live write
          },
        })),
        { expectedRevision: 'no_stream' },
      );
    }
  });
  afterAll(() => database.drop());

  it('reads provenance back where it was written, and nothing where it was not', async () => {
    const events = await store.readStream('deal-kept');
    expect(events.map((e) => e.metadata.provenance)).toEqual([undefined, provenance(1), provenance(2)]);
    expect((await verifyHashChains(database.db))!.ok).toBe(true);
  });

  it('an event without provenance keeps the canonical form it always had', () => {
    const content = {
      streamId: 's',
      revision: 0n,
      eventId: 'e',
      type: 't',
      data: {},
      actorId: 'a',
      occurredAt: new Date(0),
      recordedAt: new Date(0),
    };
    expect(canonicalEventForm(content, null)).not.toContain('provenance');
    expect(canonicalEventForm({ ...content, provenance: null }, null)).toBe(canonicalEventForm(content, null));
    expect(canonicalEventForm({ ...content, provenance: provenance(1) }, null)).toContain('"sourceRecordId":"OH-1"');
  });

  it('a forged or stripped provenance breaks the chain at its revision', async () => {
    await sql`update event_store.events set provenance = jsonb_set(provenance, '{sourceActor}', '"mallory"') where stream_id = 'deal-forged' and stream_revision = 1`.execute(
      database.db,
    );
    await sql`update event_store.events set provenance = null where stream_id = 'deal-stripped' and stream_revision = 2`.execute(
      database.db,
    );
    const report = (await verifyHashChains(database.db))!;
    expect(report.ok).toBe(false);
    expect(report.breaks.map((b) => [b.streamId, b.revision, b.reason])).toEqual([
      ['deal-forged', 1n, 'hash-mismatch'],
      ['deal-stripped', 2n, 'hash-mismatch'],
    ]);
  });
});
