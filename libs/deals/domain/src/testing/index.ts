/**
 * `@dealstream/deals-domain/testing`: deal fixtures for specs. No production file may import it
 * (test/architecture/module-boundaries.unit.spec.ts).
 */
export * from './deal.fixtures.js';
