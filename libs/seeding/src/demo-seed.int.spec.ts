import { createPGliteTestDatabase, type TestDatabase } from '../../../test/support/test-database.js';
import { SqlEventStore, migrateEventStore } from '@dealstream/event-store';
import { DEMO_PIPELINE_ID, loadDemoData } from './demo-seed.js';
import { countStoredEvents, readAllStored } from '../../../test/support/read-all-written.js';

describe('demo data', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createPGliteTestDatabase();
    await migrateEventStore(database.db);
  });
  afterAll(() => database.drop());

  it('loads a pipeline and eight deals once; loading again changes nothing', async () => {
    const store = new SqlEventStore(database.db);
    expect(await loadDemoData(store)).toBe(true);
    const all = await readAllStored(database.db, store);
    const types = all.map((e) => e.type);
    expect(types.filter((t) => t === 'PipelineDefined')).toHaveLength(1);
    expect(types.filter((t) => t === 'DealCreated')).toHaveLength(8);
    expect(types.filter((t) => t === 'DealWon')).toHaveLength(1);
    expect(types.filter((t) => t === 'DealLost')).toHaveLength(1);
    expect(types.filter((t) => t === 'DealDisqualified')).toHaveLength(1);
    expect((await store.readStream(`pipeline-${DEMO_PIPELINE_ID}`))[0].data).toMatchObject({ currency: 'EUR' });
    expect(await loadDemoData(store)).toBe(false);
    expect(await countStoredEvents(database.db)).toBe(all.length);
  });
});
