export * from './port/event-store.port.js';
export * from './port/event-subscription.js';
export * from './port/event-store.types.js';
export * from './port/event-store.errors.js';
export * from './port/global-position.js';
export * from './hash-chain/event-hash.js';
export * from './sql/sql-event-store.js';
export { DEFAULT_GROUP_COMMIT, groupCommitFromEnv, type GroupCommitOptions } from './sql/group-commit.js';
export * from './sql/event-store.tables.js';
export {
  prepareEvents,
  preparedFrom,
  isPrepared,
  isPacked,
  PackWriter,
  packedHeadsAndMiddles,
} from './sql/prepared-events.js';
export * from './sql/sql-event-store.migrations.js';
export * from './port/append-validation.js';
export * from './esdb/esdb-event-store.js';
export * from './esdb/esdb-mapping.js';
export * from './esdb/esdb-errors.js';
export * from './open-event-store.js';
