import { randomUUID } from 'node:crypto';
import { SqlEventStore, migrateEventStore, type NewEvent } from '@dealstream/event-store';
import { NotFoundError } from '@dealstream/command-handling';
import {
  createPGliteTestDatabase,
  createPostgresTestDatabase,
  type TestDatabase,
} from '../../../../test/support/test-database.js';
import { DEAL_AUDIT } from '../audited-aggregates/deal-audit.aggregate.js';
import { PIPELINE_AUDIT } from '../audited-aggregates/pipeline-audit.aggregate.js';
import { diffVersions } from './state-diff.query.js';
import { stateAsOf, stateAtVersion } from './state-at.query.js';
import { readHistory } from './stream-history.query.js';

const DEAL = '0d5c7c4e-9b1a-4f4e-8d7e-2b1f0c3a9e11';
const PIPELINE = '6f1d3c2b-1a2b-4c3d-8e4f-5a6b7c8d9e0f';
const [S1, S2] = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
const at = (hhmm: string) => new Date(`2026-03-01T${hhmm}:00.000Z`);
const event = (type: string, data: object, actorId: string, occurredAt: Date): NewEvent => ({
  eventId: randomUUID(),
  type,
  data,
  metadata: { actorId, occurredAt },
});

describe.each([
  ['PostgreSQL', createPostgresTestDatabase],
  ['PGlite', createPGliteTestDatabase],
])('audit history, state and diff (SQL store on %s)', (_name, open) => {
  let database: TestDatabase;
  let store: SqlEventStore;
  beforeAll(async () => {
    database = await open();
    await migrateEventStore(database.db);
    store = new SqlEventStore(database.db);
    // r2 is backdated: logged after r1 but said to have happened before the deal was even created.
    await store.appendToStream(
      `deal-${DEAL}`,
      [
        event(
          'DealCreated',
          {
            dealId: DEAL,
            pipelineId: PIPELINE,
            stageId: S1,
            title: 'T',
            account: 'A',
            amount: 100,
            currency: 'EUR',
            ownerId: 'alice',
            kind: 'new',
          },
          'alice',
          at('10:00'),
        ),
        event('DealValueChanged', { amount: 200, currency: 'EUR', previousAmount: 100 }, 'bob', at('10:05')),
      ],
      { expectedRevision: 'no_stream' },
    );
    await store.appendToStream(
      `deal-${DEAL}`,
      [event('ActivityLogged', { activityId: 'act-1', kind: 'call' }, 'carol', at('09:30'))],
      { expectedRevision: 1n },
    );
    await store.appendToStream(
      `deal-${DEAL}`,
      [event('DealValueChanged', { amount: 300, currency: 'EUR', previousAmount: 200 }, 'bob', at('10:10'))],
      { expectedRevision: 2n },
    );
    await store.appendToStream(
      `pipeline-${PIPELINE}`,
      [
        event(
          'PipelineDefined',
          {
            pipelineId: PIPELINE,
            name: 'P',
            currency: 'EUR',
            stages: [
              { stageId: S1, name: 'One', probability: 10 },
              { stageId: S2, name: 'Two', probability: 50 },
            ],
          },
          'olivia',
          at('08:00'),
        ),
        event('StageProbabilityChanged', { stageId: S2, probability: 60 }, 'olivia', at('08:01')),
        event('StagesReordered', { stageIds: [S2, S1] }, 'olivia', at('08:02')),
      ],
      { expectedRevision: 'no_stream' },
    );
  });
  afterAll(() => database.drop());

  it('pages the history by revision and says where the next page starts', async () => {
    const first = await readHistory(store, DEAL_AUDIT, DEAL, { limit: 3 });
    expect(first.events.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
    expect(first.next).toBe(2n);
    const second = await readHistory(store, DEAL_AUDIT, DEAL, { after: 2n, limit: 3 });
    expect(second.events.map((e) => [e.revision, e.type])).toEqual([[3n, 'DealValueChanged']]);
    expect(second.next).toBeNull();
    expect(await readHistory(store, DEAL_AUDIT, DEAL, { after: 3n, limit: 3 })).toEqual({ events: [], next: null });
    expect((await readHistory(store, DEAL_AUDIT, DEAL, { limit: 4 })).next).toBeNull();
    await expect(readHistory(store, DEAL_AUDIT, randomUUID(), { limit: 3 })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('gives the state after N events, or says how many there are', async () => {
    const two = await stateAtVersion(store, DEAL_AUDIT, DEAL, 2);
    expect(two).toMatchObject({
      found: true,
      at: { state: { amount: 200, version: 2, activityCount: 0 }, lastEvent: { revision: 1n } },
    });
    expect(await stateAtVersion(store, DEAL_AUDIT, DEAL, 5)).toEqual({
      found: false,
      reason: 'version-beyond-end',
      currentVersion: 4,
    });
    await expect(stateAtVersion(store, DEAL_AUDIT, randomUUID(), 1)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('asOf business time folds the run of events that had all happened by then, and counts the backdated rest', async () => {
    // 10:06: r0 10:00, r1 10:05, r2 09:30 all happened; r3 10:10 not yet.
    expect(await stateAsOf(store, DEAL_AUDIT, DEAL, at('10:06'), 'occurred')).toMatchObject({
      found: true,
      excludedBackdatedEvents: 0,
      at: { state: { version: 3, amount: 200, activityCount: 1 } },
    });
    // 10:02: r1 (10:05) had not happened, so the run stops after r0; r2 (09:30) is excluded but counted.
    expect(await stateAsOf(store, DEAL_AUDIT, DEAL, at('10:02'), 'occurred')).toMatchObject({
      found: true,
      excludedBackdatedEvents: 1,
      at: { state: { version: 1, amount: 100, activityCount: 0 }, lastEvent: { revision: 0n } },
    });
    expect(await stateAsOf(store, DEAL_AUDIT, DEAL, at('10:10'), 'occurred')).toMatchObject({
      found: true,
      at: { state: { version: 4, amount: 300 } },
    });
    expect(await stateAsOf(store, DEAL_AUDIT, DEAL, at('09:59'), 'occurred')).toEqual({
      found: false,
      reason: 'before-first-event',
      firstInstant: at('10:00'),
    });
  });

  it('asOf recorded time reads the system clock of the store', async () => {
    const events = await store.readStream(`deal-${DEAL}`);
    const lastRecorded = events.at(-1)!.recordedAt;
    expect(await stateAsOf(store, DEAL_AUDIT, DEAL, lastRecorded, 'recorded')).toMatchObject({
      found: true,
      at: { state: { version: 4 } },
    });
    expect(
      await stateAsOf(store, DEAL_AUDIT, DEAL, new Date(events[0].recordedAt.getTime() - 1), 'recorded'),
    ).toMatchObject({ found: false, reason: 'before-first-event' });
  });

  it('diffs two versions field by field, each change with the event that last set it', async () => {
    const diff = await diffVersions(store, DEAL_AUDIT, DEAL, 1, 4);
    if (!diff.found) throw new Error('expected a diff');
    expect(diff.eventCount).toBe(3);
    expect(
      diff.changes.map((c) => [c.field, c.before, c.after, c.setBy.revision, c.setBy.metadata.actorId, c.changeCount]),
    ).toEqual([
      ['amount', 100, 300, 3n, 'bob', 2],
      ['activityCount', 0, 1, 2n, 'carol', 1],
      ['lastActivity', null, { activityId: 'act-1', kind: 'call' }, 2n, 'carol', 1],
    ]);
    expect(await diffVersions(store, DEAL_AUDIT, DEAL, 2, 2)).toMatchObject({
      found: true,
      changes: [],
      eventCount: 0,
    });
    expect(await diffVersions(store, DEAL_AUDIT, DEAL, 1, 9)).toEqual({
      found: false,
      reason: 'version-beyond-end',
      currentVersion: 4,
    });
  });

  it('diffs a pipeline by stage id and keeps the stage order apart', async () => {
    const diff = await diffVersions(store, PIPELINE_AUDIT, PIPELINE, 1, 3);
    if (!diff.found) throw new Error('expected a diff');
    expect(diff.changes.map((c) => [c.field, c.before, c.after, c.setBy.type])).toEqual([
      ['stageOrder', [S1, S2], [S2, S1], 'StagesReordered'],
      [`stages.${S2}.probability`, 50, 60, 'StageProbabilityChanged'],
    ]);
  });
});
