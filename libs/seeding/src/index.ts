export * from './demo-seed.js';
export * from './prng.js';
export * from './synthetic-history.js';
