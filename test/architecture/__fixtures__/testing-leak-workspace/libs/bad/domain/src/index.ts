// A production index re-exporting a test helper: refused.
export * from './testing/bad.fixtures.js';
