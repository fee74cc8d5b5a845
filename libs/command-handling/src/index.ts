export * from './application.errors.js';
export * from './command-context.js';
export * from './event-store.token.js';
export * from './aggregate-stream.js';
export * from './handle-command.js';
export * from './command-handling.js';
export * from './stream-state-cache.js';
