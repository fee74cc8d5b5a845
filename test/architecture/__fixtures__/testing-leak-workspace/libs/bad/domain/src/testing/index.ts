// Test code may use its own helpers.
export * from './bad.fixtures.js';
