// globalSetup of the int and e2e tiers: a private PostgreSQL server per jest worker (postgres-per-worker.js).
export { setup as default } from './postgres-per-worker.js';
