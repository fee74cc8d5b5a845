// globalTeardown of the int and e2e tiers: stops the servers postgres-per-worker.js started.
export { teardown as default } from './postgres-per-worker.js';
