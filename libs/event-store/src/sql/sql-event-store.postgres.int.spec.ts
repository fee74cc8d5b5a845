import { eventStoreContract } from '../contract/event-store.contract.js';
import { createPostgresTestDatabase } from '../../../../test/support/test-database.js';
import { migrateEventStore } from './sql-event-store.migrations.js';
import { SqlEventStore } from './sql-event-store.js';

eventStoreContract({
  name: 'SqlEventStore on PostgreSQL',
  async setup() {
    const database = await createPostgresTestDatabase({ poolSize: 60 });
    await migrateEventStore(database.db);
    return {
      openStore: async (faults) => new SqlEventStore(database.db, faults),
      teardown: () => database.drop(),
    };
  },
  concurrency: { writers: 16, appendsPerWriter: 60, maxDelayMs: 8, sameRevisionWriters: 50 },
});
