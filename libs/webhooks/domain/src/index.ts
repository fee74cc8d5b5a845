export * from './webhook.commands.js';
export * from './webhook.decider.js';
export * from './webhook.errors.js';
export * from './webhook.events.js';
export * from './webhook.state.js';
export * from './webhook.stream.js';
