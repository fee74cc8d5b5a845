export * from './port/event-store.port.js';
export * from './port/event-store.types.js';
export * from './port/event-store.errors.js';
export * from './port/global-position.js';
export * from './hash-chain/event-hash.js';
export * from './sql/sql-event-store.js';
export * from './sql/sql-event-store.migrations.js';
