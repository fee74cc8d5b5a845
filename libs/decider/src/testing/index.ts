/**
 * `@dealstream/decider/testing`: helpers for specs (DeciderSpec calls Jest's global `expect`).
 * No production file may import it (test/architecture/module-boundaries.unit.spec.ts).
 */
export * from './decider-spec.js';
