export * from './database.js';
export * from './pglite-dialect.js';
