import { eventStoreContract } from '../contract/event-store.contract.js';
import { createPGliteTestDatabase } from '../../../../test/support/test-database.js';
import { migrateEventStore } from './sql-event-store.migrations.js';
import { SqlEventStore } from './sql-event-store.js';

// PGlite is a single session: transactions run one after another, so the concurrency scenarios
// check correctness under queued writers rather than true parallelism, at a smaller size.
eventStoreContract({
  name: 'SqlEventStore on PGlite',
  async setup() {
    const database = await createPGliteTestDatabase();
    await migrateEventStore(database.db);
    return {
      openStore: async (faults) => new SqlEventStore(database.db, faults),
      teardown: () => database.drop(),
    };
  },
  concurrency: { writers: 16, appendsPerWriter: 10, maxDelayMs: 2, sameRevisionWriters: 50 },
});
