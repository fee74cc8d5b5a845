export * from './decide-all.js';
export * from './decider.js';
export * from './domain-error.js';
export * from './text.rules.js';
