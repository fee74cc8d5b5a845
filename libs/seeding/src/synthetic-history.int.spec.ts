import { SqlEventStore, migrateEventStore } from '@dealstream/event-store';
import { createPGliteTestDatabase, type TestDatabase } from '../../../test/support/test-database.js';
import { writeSyntheticHistory } from './synthetic-history.js';
import { countStoredEvents, readAllWritten } from '../../../test/support/read-all-written.js';

describe('synthetic history', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPGliteTestDatabase();
    await migrateEventStore(database.db);
  });
  afterAll(() => database.drop());

  it('is deterministic by seed, varied, backdated, and idempotent when written again', async () => {
    const store = new SqlEventStore(database.db);
    const end = new Date('2026-06-30T00:00:00Z');
    const first = await writeSyntheticHistory(store, { seed: 7, deals: 120, months: 6, end });
    const all = await readAllWritten(store, first.events);
    expect(await countStoredEvents(database.db)).toBe(first.events);
    const types = new Map<string, number>();
    for (const event of all) types.set(event.type, (types.get(event.type) ?? 0) + 1);
    for (const type of ['DealCreated', 'StageAdvanced', 'DealWon', 'DealLost', 'DealDisqualified', 'ActivityLogged'])
      expect(types.get(type) ?? 0).toBeGreaterThan(0);
    const followOns = all.filter((e) => e.type === 'DealCreated' && (e.data as { parentDealId?: string }).parentDealId);
    expect(followOns.length).toBeGreaterThan(0);
    // backward moves exist: a StageAdvanced whose target comes earlier on the board
    const stageOrder = (all[0].data as { stages: { stageId: string }[] }).stages.map((s) => s.stageId);
    expect(
      all.some(
        (e) =>
          e.type === 'StageAdvanced' &&
          stageOrder.indexOf((e.data as { toStageId: string }).toStageId) <
            stageOrder.indexOf((e.data as { fromStageId: string }).fromStageId),
      ),
    ).toBe(true);
    const times = all.map((e) => e.metadata.occurredAt.getTime());
    expect(Math.min(...times)).toBeGreaterThanOrEqual(end.getTime() - 180 * 86_400_000);
    expect(Math.max(...times)).toBeLessThanOrEqual(end.getTime());

    const again = await writeSyntheticHistory(store, { seed: 7, deals: 120, months: 6, end });
    expect(again.events).toBe(first.events);
    expect(await countStoredEvents(database.db)).toBe(first.events); // nothing new appended
  });
});
