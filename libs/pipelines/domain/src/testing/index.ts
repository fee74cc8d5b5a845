/**
 * `@dealstream/pipelines-domain/testing`: pipeline fixtures for specs. No production file may import
 * it (test/architecture/module-boundaries.unit.spec.ts).
 */
export * from './pipeline.fixtures.js';
