export * from './application.errors.js';
export * from './command-context.js';
export * from './decide-all.js';
export * from './event-store.token.js';
export * from './execute-command.js';
