export * from './deal.commands.js';
export * from './deal.handlers.js';
export * from './deals-application.module.js';
export * from './stage-relocation.reactor.js';
