export * from './database.js';
export * from './database-faults.js';
export * from './pglite-dialect.js';
export * from './copy-rows.js';
export * from './compiled-once.js';
export { preparedOnServer, preparedNameOf } from './prepared-statements.js';
